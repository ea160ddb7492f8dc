import { expect } from 'chai';
import type { TenantCondition } from '../../common/config/tenant.generated.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import { type Controller, POOL_KEY_PREFIX } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath, type ResourceKind } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

type WithConditions = KubeObject & { status?: { conditions?: TenantCondition[] } };

/**
 * Another team's objects of the names a tenant or a pool wants, for the kinds operator.test.ts
 * (ConfigMap, Service, Deployment) and ownership.test.ts (Ingress) leave out: a tenant's
 * NetworkPolicy, PodDisruptionBudget and HorizontalPodAutoscaler, a pool's ServiceAccount, Role and
 * RoleBinding. Each is left as it is, the owner says ObjectConflict naming it, and deleting the owner
 * leaves it (operator30's review: every kind the operator writes; the code path is one,
 * apply.ts:claimNames, and this shows it for each).
 */
describe("another team's objects of every kind the operator writes (real API server)", function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;
  const other = { fieldManager: 'other-team' };

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'foreign');
    ({ client, controller } = await startTestController(env, { namespace, instance: 'foreign-names' }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  /** Creates the other team's objects; returns each path with the object as stored. */
  async function theirs(objects: [ResourceKind, KubeObject][]): Promise<Map<string, KubeObject>> {
    const stored = new Map<string, KubeObject>();
    for (const [kind, object] of objects) {
      const path = objectPath(kind, namespace, object.metadata.name!);
      stored.set(path, await env.client.apply<KubeObject>(path, object, other));
    }
    return stored;
  }

  async function conflictOn(path: string): Promise<TenantCondition> {
    return eventually(async () => {
      const owner = await env.client.get<WithConditions>(path);
      const applied = owner?.status?.conditions?.find((c) => c.type === 'Applied');
      return applied?.reason === 'ObjectConflict' ? applied : undefined;
    }, `Applied ObjectConflict on ${path}`);
  }

  /** After a few of the owner's retries and its deletion, each object is as the other team left it. */
  async function untouchedThroughDeletion(
    ownerPath: string,
    retriesKey: string,
    stored: Map<string, KubeObject>,
  ): Promise<void> {
    const failures = controller.queue.failuresOf(retriesKey);
    await eventually(
      async () => controller.queue.failuresOf(retriesKey) >= failures + 2,
      'two more failed retries',
    );
    await env.client.delete(ownerPath);
    await eventually(async () => (await env.client.get(ownerPath)) === undefined, `${ownerPath} gone`);
    await eventually(async () => controller.busy === 0 && controller.queue.depth === 0, 'the operator idle');
    for (const [path, was] of stored) {
      const now = await env.client.get<KubeObject>(path);
      expect(now?.metadata.resourceVersion, path).to.equal(was.metadata.resourceVersion);
      expect(now?.metadata.ownerReferences, path).to.equal(undefined);
    }
  }

  it("leaves a tenant's NetworkPolicy, PodDisruptionBudget and HorizontalPodAutoscaler names to their team", async () => {
    const selector = { matchLabels: { app: 'legacy-blue' } };
    const stored = await theirs([
      [
        KINDS.networkPolicy,
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'blue-portal', namespace },
          spec: { podSelector: selector, policyTypes: ['Ingress'] },
        },
      ],
      [
        KINDS.podDisruptionBudget,
        {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: { name: 'blue-broker', namespace },
          spec: { selector, maxUnavailable: 1 },
        },
      ],
      [
        KINDS.horizontalPodAutoscaler,
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'blue-broker', namespace },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'legacy-blue' },
            minReplicas: 1,
            maxReplicas: 3,
          },
        },
      ],
    ]);
    await createTenantSecrets(env.client, namespace, 'blue');
    await env.client.create(
      collectionPath(KINDS.secret, namespace),
      secretObject(namespace, 'blue-redis', { url: 'redis://redis.example:6379' }),
    );
    const base = tenantObject(namespace, 'blue');
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'blue', {
        redis: { urlSecretRef: { name: 'blue-redis' } },
        broker: { ...base.spec.broker, autoscaling: { minReplicas: 2, maxReplicas: 4 } },
      } as never),
    );
    const tenantPath = objectPath(KINDS.tenant, namespace, 'blue');
    const applied = await conflictOn(tenantPath);
    for (const name of [
      'NetworkPolicy blue-portal',
      'PodDisruptionBudget blue-broker',
      'HorizontalPodAutoscaler blue-broker',
    ])
      expect(applied.message).to.include(name);
    expect(applied.message).to.include('other-team');
    await untouchedThroughDeletion(tenantPath, `${namespace}/blue`, stored);
  });

  it("leaves a pool's ServiceAccount, Role and RoleBinding names to their team", async () => {
    const stored = await theirs([
      [
        KINDS.serviceAccount,
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'teal-pool', namespace } },
      ],
      [
        KINDS.role,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'teal-pool', namespace },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
        },
      ],
      [
        KINDS.roleBinding,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'teal-pool', namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'teal-pool' },
          subjects: [{ kind: 'ServiceAccount', name: 'teal-pool', namespace }],
        },
      ],
    ]);
    await createPool(env.client, namespace, 'teal');
    const poolPath = objectPath(KINDS.pool, namespace, 'teal');
    const applied = await conflictOn(poolPath);
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding'])
      expect(applied.message).to.include(`${kind} teal-pool`);
    expect(await env.client.get(objectPath(KINDS.deployment, namespace, 'teal-broker'))).to.equal(undefined);
    await untouchedThroughDeletion(poolPath, `${POOL_KEY_PREFIX}${namespace}/teal`, stored);
  });
});
