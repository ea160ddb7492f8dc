import { expect } from 'chai';
import { KubeClient, type KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { operatorIdle, TEST_HASH_KEY, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { createSharedTenantSecrets, tenantOnSharedSecrets } from '../../testkit/tenants.js';

/**
 * Many tenants against a real API server, judged by counts, never by time (speed is the bench's
 * job): every tenant converges, each costs one apply per owned object plus one status write and
 * one Event, and neither a restart nor a resync of an idle operator writes anything.
 */
const TENANTS = 200;
/** ConfigMap, two Deployments, two Services, two NetworkPolicies (one replica: no PDB, no Ingress). */
const OWNED_PER_TENANT = 7;
const WRITES_PER_TENANT = OWNED_PER_TENANT + 2;

const SETTINGS = TEST_OPERATOR_SETTINGS;

describe('operator with many tenants against a real API server', function () {
  // Above the waits' own budgets (200 s to converge, 60 s to go idle), so a slow run ends with
  // what it was waiting for rather than mocha's bare timeout.
  this.timeout(300_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;
  const writes: string[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'scale');
    // Shared Secrets: the test is about reconciling, not about 2N key generations.
    await createSharedTenantSecrets(env.client, namespace);
    await startController();
  });

  /**
   * An operator writing through a client of its own (its writes are counted apart from the
   * test's). `resyncMs` undefined is the operator's default: while 200 tenants converge, a short
   * resync would requeue all of them every few seconds and, on a loaded machine, keep the queue
   * from ever draining.
   */
  async function startController(resyncMs?: number): Promise<void> {
    client = new KubeClient(env.kubeConfig);
    client.onWrite = (method, path) => writes.push(`${method} ${path}`);
    controller = new Controller({
      client,
      settings: SETTINGS,
      logger: createLogger({ component: 'operator', level: 'error' }),
      registry: createMetricsRegistry(),
      namespaces: [namespace],
      workers: 8,
      ...(resyncMs ? { resyncMs } : {}),
      instance: 'scale-test',
      hashKey: TEST_HASH_KEY,
    });
    await controller.start();
  }

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const tenants = () => collectionPath(KINDS.tenant, namespace);

  async function convergedCount(): Promise<number> {
    const list = await env.client.list<KubeObject>(tenants());
    return list.items.filter((t) =>
      (t['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some(
        (c) => c.type === 'ConfigValid' && c.status === 'True',
      ),
    ).length;
  }

  async function reconciles(): Promise<number> {
    const metric = await controller.metrics.reconcileTotal.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  }

  const quiet = () => operatorIdle(controller, 60_000);

  async function expectNoReconcileErrors(): Promise<void> {
    const errors = await controller.metrics.reconcileErrors.get();
    expect(
      errors.values.map((v) => v.labels),
      'reconcile errors',
    ).to.deep.equal([]);
  }

  it(`converges ${TENANTS} tenants (${2 * TENANTS} Services) with one apply per owned object, one status write and one Event each`, async () => {
    const names = Array.from({ length: TENANTS }, (_, i) => `t${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names
          .slice(i, i + 20)
          .map((name) => env.client.create(tenants(), tenantOnSharedSecrets(namespace, name))),
      );
    }
    await eventually(async () => (await convergedCount()) === TENANTS, `all ${TENANTS} tenants`, 200_000);
    await quiet();
    await expectNoReconcileErrors();
    const applies = writes.filter((w) => w.startsWith('PATCH') && !w.endsWith('/status'));
    const statusWrites = writes.filter((w) => w.endsWith('/status'));
    expect(applies).to.have.length(OWNED_PER_TENANT * TENANTS);
    expect(statusWrites).to.have.length(TENANTS);
    expect(writes).to.have.length(WRITES_PER_TENANT * TENANTS);
  });

  it('writes nothing when restarted on converged tenants, nor while every tenant is reconciled again by resyncs', async () => {
    await quiet();
    const before = writes.length;
    await controller.stop();
    client.close();
    // Short, so that this test sees resyncs of every collection (Secrets included).
    await startController(5_000);
    // The first round from the initial list, then two resyncs, so at least one replay of the
    // tenants, Secrets and owned objects lies between reconciles.
    await eventually(
      async () => (await reconciles()) >= 3 * TENANTS,
      'every tenant reconciled at start and twice by resyncs',
      120_000,
    );
    // Stopped, not waited idle: a 5 s resync of 200 tenants on a loaded machine may keep the queue
    // from ever draining for a second (CI run of stop 41 timed out there). stop() lets every
    // reconcile under way finish, so each write one of them makes is counted.
    await controller.stop();
    await expectNoReconcileErrors();
    expect(writes.slice(before)).to.deep.equal([]);
  });
});
