import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { childName } from '../../operator/resources/common.js';
import { placedNameOf } from '../../operator/resources/projection.js';
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
 * operator bench, issue 16); at 10,000 every placement cost a pass over the whole pool. Nor may
 * the pool's changing message (its pods counted) cost a status write per tenant, nor a tenant's
 * status alone a reconcile.
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

  interface Condition {
    type: string;
    status: string;
    reason: string;
    message: string;
  }
  type WithConditions = KubeObject & { status?: { conditions?: Condition[] } };
  const readyOf = (object: WithConditions | undefined, type = 'Ready') =>
    object?.status?.conditions?.find((c) => c.type === type);

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

  it('places a new tenant in 4 writes, its Secrets read side by side and its projection created unread', async () => {
    await operatorIdle(controller, 60_000);
    // Every call of the operator's client, with how many were in flight when it was made.
    const calls: { method: string; path: string; inFlight: number }[] = [];
    let inFlight = 0;
    const request = client.request.bind(client);
    client.request = async <T>(method: string, path: string, args?: Parameters<typeof request>[2]) => {
      calls.push({ method, path, inFlight: inFlight++ });
      try {
        return await request<T>(method, path, args);
      } finally {
        inFlight--;
      }
    };
    try {
      await env.client.create(collectionPath(KINDS.tenant, tenantNs), pooled('fresh'));
      await eventually(async () => (await tenantCount()) === TENANTS + 2, `tenantCount ${TENANTS + 2}`);
      await operatorIdle(controller, 60_000);
    } finally {
      client.request = request;
    }
    const projection = objectPath(KINDS.secret, poolNs, placedNameOf(tenantNs, 'fresh'));
    const writes = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path.split('?')[0]}`);
    expect(writes.filter((w) => !w.includes('/jsmssopools/')).sort()).to.deep.equal(
      [
        `PATCH ${objectPath(KINDS.tenant, tenantNs, 'fresh')}`,
        `PATCH ${objectPath(KINDS.tenant, tenantNs, 'fresh')}/status`,
        `POST ${collectionPath(KINDS.event, tenantNs)}`,
        `POST ${collectionPath(KINDS.secret, poolNs)}`,
      ].sort(),
    );
    expect(
      calls.filter((c) => c.method === 'GET' && c.path === projection),
      'reads of the projection',
    ).to.deep.equal([]);
    const secretReads = calls.filter(
      (c) => c.method === 'GET' && c.path.startsWith(`${collectionPath(KINDS.secret, tenantNs)}/`),
    );
    expect(secretReads.map((c) => c.path.split('/').pop()).sort()).to.deep.equal([
      'atlassian',
      'broker-signing',
      'oidc',
      'portal-signing',
    ]);
    expect(Math.max(...secretReads.map((c) => c.inFlight)), 'Secret reads in flight at once').to.be.at.least(
      3,
    );
  });

  it("writes no tenant's status when only the pool's message changes, and leaves the pool's Events to the pool", async () => {
    // No kubelet and no Deployment controller here: the broker Deployment's status is written by hand.
    const broker = objectPath(
      KINDS.deployment,
      poolNs,
      childName({ metadata: { name: 'shared', namespace: poolNs } }, 'broker'),
    );
    const poolReady = async () =>
      readyOf(await env.client.get<WithConditions>(objectPath(KINDS.pool, poolNs, 'shared')));
    const brokerPods = async (available: number) => {
      const deployment = await env.client.get<KubeObject>(broker);
      await env.client.request('PATCH', `${broker}/status`, {
        body: {
          status: {
            observedGeneration: deployment?.metadata.generation,
            replicas: 1,
            readyReplicas: available,
            availableReplicas: available,
            conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
          },
        },
        contentType: 'application/merge-patch+json',
      });
      await eventually(
        async () => (await poolReady())?.message.startsWith(`${available}/1 broker pods`),
        `the pool to count ${available} broker pods`,
      );
      await operatorIdle(controller, 60_000);
    };
    // The pool's Ready reason moves from RolloutPending to PodsUnavailable: news to every tenant.
    await brokerPods(1);
    const podsUnavailable = (await poolReady())?.message;
    const tenant = await env.client.get<WithConditions>(objectPath(KINDS.tenant, tenantNs, 't0'));
    expect(readyOf(tenant, 'PoolReady')).to.include({ status: 'False', reason: 'PoolNotReady' });
    expect(readyOf(tenant, 'PoolReady')?.message).to.include('(PodsUnavailable)').and.not.include('1/1');

    // Only the count moves: the pool's status changes, no tenant's.
    const writesBefore = writes.length;
    await brokerPods(0);
    const written = writes.slice(writesBefore);
    expect(
      written.filter((w) => w.includes('/jsmssopools/shared/status')),
      'pool status writes',
    ).to.have.length(1);
    expect(
      written.filter((w) => w.includes('/jsmssotenants/')),
      'tenant writes',
    ).to.deep.equal([]);

    // The pool records its Ready transitions; its tenants record none of the pool's.
    const events = await env.client.list<KubeObject & { type: string; reason: string; note: string }>(
      collectionPath(KINDS.event, tenantNs),
    );
    expect(
      events.items.filter((e) => e.reason === 'PoolNotReady'),
      'PoolReady Events on tenants',
    ).to.deep.equal([]);
    const poolEvents = await env.client.list<KubeObject & { type: string; reason: string; note: string }>(
      collectionPath(KINDS.event, poolNs),
    );
    expect(
      poolEvents.items
        .filter((e) => e.type === 'Warning' && e.reason === 'PodsUnavailable')
        .map((e) => e.note),
    ).to.deep.equal([`Ready: ${podsUnavailable}`]);
  });

  it("reconciles nothing for a change of a tenant's status, labels or annotations, and reconciles a finalizer's", async () => {
    await operatorIdle(controller, 60_000);
    const before = await reconciles();
    const path = objectPath(KINDS.tenant, tenantNs, 't0');
    const tenant = await env.client.get<WithConditions>(path);
    const conditions = (tenant?.status?.conditions ?? []).map((c) =>
      c.type === 'ConfigValid' ? { ...c, message: 'written by someone else' } : c,
    );
    const patch = (at: string, body: unknown) =>
      env.client.request('PATCH', at, { body, contentType: 'application/merge-patch+json' });
    await patch(`${path}/status`, { status: { conditions } });
    // Labels and annotations are no input of a reconcile either.
    await patch(path, { metadata: { labels: { team: 'blue' }, annotations: { note: 'x' } } });
    // Then a finalizer on another tenant, which is: its event comes after the others on the same
    // watch, so once it has been reconciled, they have been seen too.
    const other = objectPath(KINDS.tenant, tenantNs, 't1');
    const finalizers = (await env.client.get<KubeObject>(other))?.metadata.finalizers ?? [];
    await patch(other, { metadata: { finalizers: [...finalizers, 'example.com/hold'] } });
    await eventually(async () => (await reconciles()) > before, 'the other tenant to be reconciled');
    await operatorIdle(controller, 60_000);
    expect((await reconciles()) - before, 'reconciles').to.equal(1);
    await patch(other, { metadata: { finalizers } });
    // Left as written until the periodic resync, which reconciles every tenant.
    expect(readyOf(await env.client.get<WithConditions>(path), 'ConfigValid')?.message).to.equal(
      'written by someone else',
    );
    controller.queue.add(`${tenantNs}/t0`);
    await eventually(
      async () =>
        readyOf(await env.client.get<WithConditions>(path), 'ConfigValid')?.message !==
        'written by someone else',
      'the resync to put the status right',
    );
  });
});
