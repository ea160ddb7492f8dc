import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { eventually, freshNamespace, installCrd, separateEnvtest } from '../../testkit/envtest.js';
import {
  operatorIdle,
  reconcileErrors,
  startTestController,
  type TestController,
} from '../../testkit/operator-controller.js';
import type { TenantEvent, TenantWithStatus } from '../../testkit/pool-ready.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

type CoreEvent = KubeObject & { reason: string; count?: number; involvedObject: { kind: string } };

/**
 * A cluster that refuses the pods of a tenant's or pool's Deployment: a ResourceQuota they exceed, a
 * LimitRange, PodSecurity, a policy on pods. The Deployment is stored; its ReplicaSet's pods are
 * refused when the ReplicaSet controller creates them, which it reports on the Deployment as
 * ReplicaFailure True `FailedCreate` with the API server's answer, and retries with its backoff. An
 * API server of the test's own with the Deployment, ReplicaSet and ResourceQuota controllers (no
 * scheduler, no kubelet: pods made are stored and never run).
 */
describe('pods the cluster refuses to a tenant’s or pool’s Deployment (real API server, Deployment, ReplicaSet and quota controllers)', function () {
  this.timeout(240_000);
  let env: ReturnType<typeof separateEnvtest>;
  let test: TestController;
  // A namespace for each test, both watched by one operator.
  let quotaNamespace: string;
  let limitsNamespace: string;

  before(async () => {
    env = separateEnvtest([], ['deployment-controller', 'replicaset-controller', 'resourcequota-controller']);
    await installCrd(env.client);
    quotaNamespace = await freshNamespace(env.client, 'quota');
    limitsNamespace = await freshNamespace(env.client, 'limits');
    test = await startTestController(env, {
      namespace: quotaNamespace,
      moreNamespaces: [limitsNamespace],
      instance: 'pods-refused',
    });
  });

  after(async () => {
    await test?.controller.stop();
    test?.client.close();
    env?.stop();
  });

  const conditionOf = (object: TenantWithStatus | undefined, type: string) =>
    object?.status?.conditions?.find((c) => c.type === type);

  /** Waits until `path`'s `type` condition has `reason`, and returns the object. */
  function conditionWith(path: string, type: string, reason: string, timeoutMs = 60_000) {
    return eventually(
      async () => {
        const owner = await env.client.get<TenantWithStatus>(path);
        return conditionOf(owner, type)?.reason === reason ? owner : undefined;
      },
      `${type} ${reason} on ${path}`,
      timeoutMs,
    );
  }

  async function warningEvents(namespace: string, name: string): Promise<TenantEvent[]> {
    const events = await env.client.list<TenantEvent>(collectionPath(KINDS.event, namespace));
    return events.items.filter((e) => e.regarding.name === name && e.type === 'Warning');
  }

  /** How often the ReplicaSet controller has been refused a pod in `namespace` (its FailedCreate Events). */
  async function podsRefused(namespace: string): Promise<number> {
    const events = await env.client.list<CoreEvent>(`/api/v1/namespaces/${namespace}/events`);
    return events.items
      .filter((e) => e.involvedObject.kind === 'ReplicaSet' && e.reason === 'FailedCreate')
      .reduce((sum, e) => sum + (e.count ?? 1), 0);
  }

  /** The pods made for `deployment` (by its ReplicaSet's name prefix). */
  async function podsOf(namespace: string, deployment: string): Promise<number> {
    const pods = await env.client.list<KubeObject>(`/api/v1/namespaces/${namespace}/pods`);
    return pods.items.filter((p) => p.metadata.name?.startsWith(`${deployment}-`)).length;
  }

  /**
   * No hot loop while the pods stay refused: the ReplicaSet controller is refused once more (it
   * retries with its own backoff), and the operator, idle, wrote nothing and failed no reconcile.
   */
  async function quietWhileRefused(namespace: string): Promise<void> {
    await operatorIdle(test.controller);
    const writes: string[] = [];
    test.client.onWrite = (method, path) => writes.push(`${method} ${path}`);
    const errors = await reconcileErrors(test.registry);
    const refused = await podsRefused(namespace);
    await eventually(
      async () => (await podsRefused(namespace)) > refused,
      'the ReplicaSet controller refused again',
      // Its backoff doubles from 5 ms: the next attempt comes within about the time since the first.
      120_000,
    );
    await operatorIdle(test.controller);
    expect(writes, 'the operator’s writes while the pods stay refused').to.deep.equal([]);
    expect(await reconcileErrors(test.registry)).to.deep.equal(errors);
  }

  it('says on a dedicated tenant, with the API server’s answer, that a ResourceQuota refuses its pods, and recovers once it is lifted', async () => {
    const namespace = quotaNamespace;
    const quotaPath = `/api/v1/namespaces/${namespace}/resourcequotas/tenant-quota`;
    // Each pod asks for a 512Mi memory limit (the operator's default): none fits.
    await env.client.create(`/api/v1/namespaces/${namespace}/resourcequotas`, {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'tenant-quota' },
      spec: { hard: { 'limits.memory': '256Mi' } },
    });
    // The quota controller's first count: until then the quota refuses every pod as "status unknown".
    await eventually(
      async () => (await env.client.get<{ status?: { used?: object } }>(quotaPath))?.status?.used,
      'the quota counted',
    );
    await createTenantSecrets(env.client, namespace, 'acme');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
    const path = objectPath(KINDS.tenant, namespace, 'acme');

    await conditionWith(path, 'BrokerAvailable', 'FailedCreate');
    const tenant = await conditionWith(path, 'PortalAvailable', 'FailedCreate');
    for (const part of ['Broker', 'Portal']) {
      const condition = conditionOf(tenant, `${part}Available`)!;
      expect(condition.status).to.equal('False');
      // The API server's words: which quota, what was asked, what is left.
      expect(condition.message)
        .to.include('exceeded quota: tenant-quota')
        .and.include('limits.memory=512Mi')
        .and.include(`kubectl -n ${namespace}`);
    }
    // Nothing of the tenant's configuration is at fault, and everything was applied.
    expect(conditionOf(tenant, 'ConfigValid')?.status).to.equal('True');
    expect(conditionOf(tenant, 'Applied')?.status).to.equal('True');
    expect(conditionOf(tenant, 'Ready')).to.include({ status: 'False', reason: 'ComponentsUnavailable' });
    // One for each part, naming the quota.
    await eventually(async () => {
      const notes = (await warningEvents(namespace, 'acme'))
        .filter((e) => e.reason === 'FailedCreate' && e.note.includes('exceeded quota: tenant-quota'))
        .map((e) => e.note.split(':')[0]);
      return notes.includes('BrokerAvailable') && notes.includes('PortalAvailable');
    }, 'a Warning Event FailedCreate for each part');
    await quietWhileRefused(namespace);

    await env.client.delete(quotaPath);
    // The ReplicaSet controller's next attempt makes the pods (stored only: no kubelet runs them).
    await conditionWith(path, 'BrokerAvailable', 'PodsUnavailable', 120_000);
    await conditionWith(path, 'PortalAvailable', 'PodsUnavailable', 120_000);
    expect(await podsOf(namespace, 'acme-broker')).to.equal(1);
  });

  it('says on a pool, and in its Ready, that a LimitRange refuses its pods, and recovers once it is lifted', async () => {
    const namespace = limitsNamespace;
    const limitPath = `/api/v1/namespaces/${namespace}/limitranges/small-containers`;
    await env.client.create(`/api/v1/namespaces/${namespace}/limitranges`, {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'small-containers' },
      spec: { limits: [{ type: 'Container', max: { memory: '256Mi' } }] },
    });
    await createPool(env.client, namespace, 'shared');
    const path = objectPath(KINDS.pool, namespace, 'shared');

    const pool = await conditionWith(path, 'PortalAvailable', 'FailedCreate');
    expect(conditionOf(pool, 'PortalAvailable')?.message).to.include(
      'maximum memory usage per Container is 256Mi, but limit is 512Mi',
    );
    const ready = conditionOf(await conditionWith(path, 'Ready', 'FailedCreate'), 'Ready');
    expect(ready?.status).to.equal('False');
    await eventually(
      async () => (await warningEvents(namespace, 'shared')).some((e) => e.reason === 'FailedCreate'),
      'a Warning Event FailedCreate on the pool',
    );
    await quietWhileRefused(namespace);

    await env.client.delete(limitPath);
    await conditionWith(path, 'PortalAvailable', 'PodsUnavailable', 120_000);
    await conditionWith(path, 'BrokerAvailable', 'PodsUnavailable', 120_000);
  });
});
