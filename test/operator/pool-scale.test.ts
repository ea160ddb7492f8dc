import { expect } from 'chai';
import type { Controller } from '../../operator/controller.js';
import type { KubeClient, KubeObject } from '../../operator/kube/client.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { createPool, createSharedTenantSecrets, pooledOnSharedSecrets } from '../../testkit/tenants.js';

/**
 * A pool's work must not grow with the square of its tenants: placing one more tenant changes the
 * pool's status.tenantCount, which no tenant reads, so it must not reconcile every tenant of the
 * pool again. It once did, and 300 pooled tenants took 6.6 reconciles each to converge (the
 * operator bench, issue 16); at 10,000 every placement cost a pass over the whole pool.
 */
const TENANTS = 40;

describe('a pool with many tenants against a real API server', function () {
  this.timeout(180_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let tenantNs: string;
  let poolNs: string;
  const writes: string[] = [];

  before(async () => {
    env = await envtest();
    tenantNs = await freshNamespace(env.client, 'pst');
    poolNs = await freshNamespace(env.client, 'psp');
    await createSharedTenantSecrets(env.client, tenantNs);
    await createPool(env.client, poolNs, 'shared');
    ({ client, controller } = await startTestController(env, {
      namespace: tenantNs,
      moreNamespaces: [poolNs],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'pool-scale-test',
      onWrite: (method, path) => writes.push(`${method} ${path}`),
    }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const pooled = (name: string) => pooledOnSharedSecrets(tenantNs, name, poolNs, 'shared');

  async function tenantCount(): Promise<number | undefined> {
    const pools = await env.client.list<KubeObject & { status?: { tenantCount?: number } }>(
      collectionPath(KINDS.pool, poolNs),
    );
    return pools.items[0]?.status?.tenantCount;
  }

  async function reconciles(): Promise<number> {
    const metric = await controller.metrics.reconcileTotal.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  }

  it(`places ${TENANTS} tenants, then one more without reconciling the others again`, async () => {
    for (let i = 0; i < TENANTS; i++)
      await env.client.create(collectionPath(KINDS.tenant, tenantNs), pooled(`t${i}`));
    await eventually(async () => (await tenantCount()) === TENANTS, `tenantCount ${TENANTS}`, 120_000);
    await operatorIdle(controller, 60_000);

    const before = await reconciles();
    const writesBefore = writes.length;
    await env.client.create(collectionPath(KINDS.tenant, tenantNs), pooled('late'));
    await eventually(async () => (await tenantCount()) === TENANTS + 1, `tenantCount ${TENANTS + 1}`);
    await operatorIdle(controller, 60_000);

    // The new tenant (its create, then the echo of its finalizer and projection) and the pool
    // (the projection placed in it): a handful, never one per tenant already placed.
    const ran = (await reconciles()) - before;
    expect(ran, 'reconciles after placing one more tenant').to.be.below(TENANTS / 4);
    const placedWrites = writes.slice(writesBefore);
    expect(placedWrites.filter((w) => w.includes('/jsmssopools/')).length, 'pool status writes').to.equal(1);
    expect(
      placedWrites.filter((w) => /\/jsmssotenants\/t\d+/.test(w)),
      'writes to other tenants',
    ).to.deep.equal([]);
  });
});
