import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { POOL_FINALIZER, placedNameOf } from '../../operator/resources/projection.js';
import { type AdmissionPolicy, admissionPolicy } from '../../testkit/admission-policy.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
type Described = KubeObject & { status?: { conditions?: Condition[] } };

/**
 * Deleting pooled tenants against a real API server, garbage collector and namespace controller:
 * the finalizer that removes what a tenant placed in its pool's namespace never holds the tenant
 * (nor its namespace) for ever: not when the namespace goes, not when the pool went first, and
 * not when the operator is forbidden to remove what it placed (bounded, said in Ready, then an
 * Event) (ADR 0146).
 */
describe('deleting tenants: cascades, and a finalizer that is never stuck', function () {
  this.timeout(180_000);
  const GRACE_MS = 8_000;
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let doomed: string;
  let tenants: string;
  let pools: string;

  before(async () => {
    env = await envtest();
    doomed = await freshNamespace(env.client, 'del-ns');
    tenants = await freshNamespace(env.client, 'del-t');
    pools = await freshNamespace(env.client, 'del-p');
    ({ client, controller } = await startOperator());
    await createPool(env.client, pools, 'shared');
  });

  /** The operator watching the tenants', the doomed and the pools' namespaces (started again by a test). */
  const startOperator = () =>
    startTestController(env, {
      namespace: tenants,
      moreNamespaces: [doomed, pools],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'deletion-test',
      level: 'info',
      cleanupForbiddenGraceMs: GRACE_MS,
    });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const get = <T = KubeObject>(path: string) => env.client.get<T>(path);
  const projectionPath = (namespace: string, name: string) =>
    objectPath(KINDS.secret, pools, placedNameOf(namespace, name));

  async function placedTenant(namespace: string, name: string, pool = 'shared'): Promise<void> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, name, { placement: { mode: 'pool', pool: { name: pool, namespace: pools } } }),
    );
    await eventually(async () => {
      const tenant = await get<KubeObject>(objectPath(KINDS.tenant, namespace, name));
      return (
        tenant?.metadata.finalizers?.includes(POOL_FINALIZER) &&
        (await get(projectionPath(namespace, name))) !== undefined
      );
    }, `tenant ${namespace}/${name} placed, with its finalizer`);
  }

  /** Deletes the tenant and waits for its Ready to say DeletionBlocked (False); returns that condition. */
  async function deletedAndBlocked(tenantPath: string): Promise<Condition> {
    await env.client.delete(tenantPath);
    const blocked = await eventually(async () => {
      const ready = (await get<Described>(tenantPath))?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === 'DeletionBlocked' && ready;
    }, 'Ready=False DeletionBlocked on the deleted tenant');
    expect(blocked.status).to.equal('False');
    return blocked;
  }

  async function dedicatedTenant(name: string): Promise<void> {
    await createTenantSecrets(env.client, tenants, name);
    await env.client.create(collectionPath(KINDS.tenant, tenants), tenantObject(tenants, name));
    await eventually(async () => {
      const ready = (await get<Described>(objectPath(KINDS.tenant, tenants, name)))?.status?.conditions;
      return ready?.find((c) => c.type === 'Applied')?.status === 'True';
    }, `tenant ${name} applied`);
  }
  const owned = (name: string) =>
    [
      objectPath(KINDS.deployment, tenants, `${name}-broker`),
      objectPath(KINDS.service, tenants, `${name}-portal`),
      objectPath(KINDS.configMap, tenants, `${name}-config`),
    ] as const;
  const deleteWith = (name: string, propagationPolicy: string) =>
    env.client.delete(objectPath(KINDS.tenant, tenants, name), { propagationPolicy });

  it("deletes a dedicated tenant's objects with it in the foreground: they go first, then the tenant", async () => {
    await dedicatedTenant('fore');
    // One of its objects held by a finalizer of the test's: the garbage collector deletes it and cannot
    // finish, so the tenant must be seen waiting for it. Read after the fact, a collector that already
    // knows the kind could have removed every object and the tenant before the test looked.
    const configMap = objectPath(KINDS.configMap, tenants, 'fore-config');
    const mergePatch = (path: string, body: unknown) =>
      env.client.request('PATCH', path, { body, contentType: 'application/merge-patch+json' });
    await mergePatch(configMap, { metadata: { finalizers: ['jsm-sso.test/hold'] } });
    const tenant = objectPath(KINDS.tenant, tenants, 'fore');
    const answer = await env.client.request<KubeObject>('DELETE', tenant, {
      query: { propagationPolicy: 'Foreground' },
    });
    expect(answer.metadata.finalizers ?? [], 'held by the garbage collector').to.include(
      'foregroundDeletion',
    );
    await eventually(
      async () => (await get<KubeObject>(configMap))?.metadata.deletionTimestamp !== undefined,
      'its ConfigMap deleted first',
      // The garbage collector acts on a foreground deletion once it watches the owner's kind, which
      // it finds by discovery every 30 s: on an API server started for this run, that may be now.
      120_000,
    );
    const held = await get<KubeObject>(tenant);
    expect(held?.metadata.finalizers ?? [], 'the tenant waits for its objects').to.include(
      'foregroundDeletion',
    );
    await mergePatch(configMap, { metadata: { finalizers: null } });
    await eventually(
      async () => (await get(tenant)) === undefined,
      'the tenant gone after its objects',
      120_000,
    );
    // The ConfigMap above showed the order. The others are gone too, or going: an object the collector's
    // graph had not yet listed under the tenant (its informers lag on a loaded machine, CI run 116) is
    // collected as one whose owner is gone, moments later.
    for (const path of owned('fore'))
      await eventually(async () => (await get(path)) === undefined, `${path} gone`, 60_000);
  });

  it('leaves the objects of a tenant deleted with propagationPolicy Orphan, and never adopts them for a new tenant of that name', async () => {
    await dedicatedTenant('kept');
    await deleteWith('kept', 'Orphan');
    await eventually(
      async () => (await get(objectPath(KINDS.tenant, tenants, 'kept'))) === undefined,
      'the tenant gone',
    );
    for (const path of owned('kept')) {
      const object = await eventually(async () => {
        const o = await get<KubeObject>(path);
        return o && !o.metadata.ownerReferences?.length && o;
      }, `${path} orphaned`);
      expect(object.metadata.ownerReferences ?? []).to.deep.equal([]);
    }
    await env.client.create(collectionPath(KINDS.tenant, tenants), tenantObject(tenants, 'kept'));
    const applied = await eventually(async () => {
      const c = (await get<Described>(objectPath(KINDS.tenant, tenants, 'kept')))?.status?.conditions;
      return c?.find((x) => x.type === 'Applied' && x.status === 'False');
    }, 'Applied=False on the new tenant');
    expect(applied.reason).to.equal('ObjectConflict');
    for (const path of owned('kept'))
      expect((await get<KubeObject>(path))?.metadata.ownerReferences ?? [], path).to.deep.equal([]);
  });

  it("lets a pooled tenant's namespace be deleted: the projection goes, then the finalizer, then the namespace", async () => {
    await placedTenant(doomed, 'acme');
    await env.client.delete(`/api/v1/namespaces/${doomed}`);
    await eventually(
      async () => (await get(`/api/v1/namespaces/${doomed}`)) === undefined,
      `namespace ${doomed} gone`,
      60_000,
    );
    expect(await get(projectionPath(doomed, 'acme'))).to.equal(undefined);
  });

  it('deletes a tenant whose pool was deleted first', async () => {
    await createPool(env.client, pools, 'brief');
    await placedTenant(tenants, 'orphan', 'brief');
    await env.client.delete(objectPath(KINDS.pool, pools, 'brief'));
    await eventually(
      async () => (await get(objectPath(KINDS.pool, pools, 'brief'))) === undefined,
      'the pool gone',
    );
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'orphan'));
    await eventually(
      async () => (await get(objectPath(KINDS.tenant, tenants, 'orphan'))) === undefined,
      'the tenant gone',
    );
    expect(await get(projectionPath(tenants, 'orphan'))).to.equal(undefined);
  });

  it('removes a pooled tenant deleted while the operator was stopped, once it starts: its projection, then the finalizer', async () => {
    await placedTenant(tenants, 'asleep');
    await controller.stop();
    client.close();
    const tenant = objectPath(KINDS.tenant, tenants, 'asleep');
    await env.client.delete(tenant);
    const held = await get<KubeObject>(tenant);
    expect(held?.metadata.deletionTimestamp, 'held by its finalizer').to.be.a('string');
    ({ client, controller } = await startOperator());
    await eventually(async () => (await get(tenant)) === undefined, 'the tenant gone');
    expect(await get(projectionPath(tenants, 'asleep'))).to.equal(undefined);
  });

  it('deletes a pooled tenant whose manifest carried the finalizer (an export applied again), whoever owns the entry', async () => {
    await createTenantSecrets(env.client, tenants, 'restored');
    const tenant = tenantObject(tenants, 'restored', {
      placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
    });
    // As `kubectl get -o yaml` writes it: the finalizer is then the creator's field too.
    tenant.metadata!['finalizers'] = [POOL_FINALIZER, 'example.com/audit'];
    await env.client.create(collectionPath(KINDS.tenant, tenants), tenant);
    await eventually(
      async () => (await get(projectionPath(tenants, 'restored'))) !== undefined,
      'the restored tenant placed',
    );
    const path = objectPath(KINDS.tenant, tenants, 'restored');
    await env.client.delete(path);
    const held = await eventually(async () => {
      const live = await get<KubeObject>(path);
      return live && !live.metadata.finalizers?.includes(POOL_FINALIZER) && live;
    }, 'the pool finalizer removed');
    expect(held.metadata.finalizers, "another controller's finalizer stays").to.deep.equal([
      'example.com/audit',
    ]);
    expect(await get(projectionPath(tenants, 'restored'))).to.equal(undefined);
    await env.client.request('PATCH', path, {
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(async () => (await get(path)) === undefined, 'the tenant gone');
  });

  /**
   * As when the tenant's stored spec fails a rule the CRD gained since it was written, on an API
   * server without validation ratcheting (Kubernetes 1.28, 1.29): every update of the tenant but
   * its status is 422. Here a policy refuses only the finalizer's removal.
   */
  const refuseFinalizerRemoval = (name: string, tenantPath: string) =>
    admissionPolicy(env.client, {
      name: `${name}-${process.pid}`,
      namespace: tenants,
      rule: { apiGroups: ['jsm-sso.io'], resources: ['jsmssotenants'], operations: ['UPDATE'] },
      expression: `!oldObject.metadata.finalizers.exists(f, f == '${POOL_FINALIZER}') || (has(object.metadata.finalizers) && object.metadata.finalizers.exists(f, f == '${POOL_FINALIZER}'))`,
      message: 'this tenant no longer passes validation',
      refused: () =>
        env.client.request('PATCH', tenantPath, {
          body: { metadata: { finalizers: null } },
          contentType: 'application/merge-patch+json',
          query: { dryRun: 'All' },
        }),
    });

  /** As when the operator's Role in the pool's namespace is gone: every Secret deletion there is 403. */
  async function forbidSecretDeletion(name: string): Promise<AdmissionPolicy> {
    const probe = objectPath(KINDS.secret, pools, `${name}-probe`);
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, `${name}-probe`, { a: 'b' }),
    );
    return admissionPolicy(env.client, {
      name: `${name}-${process.pid}`,
      namespace: pools,
      rule: { apiGroups: [''], resources: ['secrets'], operations: ['DELETE'] },
      expression: 'false',
      message: 'Secrets here are not deleted',
      reason: 'Forbidden',
      refused: () => env.client.delete(probe, { dryRun: 'All' }),
    });
  }

  it('says DeletionBlocked in Ready while the API server refuses to remove the finalizer itself, and lets the tenant go once it may', async () => {
    await placedTenant(tenants, 'refused');
    const tenantPath = objectPath(KINDS.tenant, tenants, 'refused');
    const policy = await refuseFinalizerRemoval('keep-pool-finalizer', tenantPath);
    try {
      const blocked = await deletedAndBlocked(tenantPath);
      expect(blocked.message).to.include(`finalizer ${POOL_FINALIZER}`);
      expect(blocked.message).to.include('this tenant no longer passes validation');
      expect(await get(projectionPath(tenants, 'refused')), 'what it placed is gone').to.equal(undefined);
    } finally {
      await policy.remove();
    }
    await eventually(
      async () => (await get(tenantPath)) === undefined,
      'the tenant gone once allowed',
      60_000,
    );
  });

  it('says once, as one Event and its series, that it abandoned the cleanup while the finalizer removal is refused too', async () => {
    await placedTenant(tenants, 'abandoned');
    const tenantPath = objectPath(KINDS.tenant, tenants, 'abandoned');
    const { uid } = (await get<KubeObject>(tenantPath))!.metadata;
    // Forbidden to remove the projection past the grace, and refused the finalizer's removal: every
    // retry abandons the cleanup again. Its note said how many seconds ago the tenant was deleted, so
    // each retry was a new Event object instead of a repeat counted in the first one's series.
    const noDeletion = await forbidSecretDeletion('no-secret-deletion-abandon');
    const keepFinalizer = await refuseFinalizerRemoval('keep-pool-finalizer-abandon', tenantPath);
    // The queue retries with a backoff that doubles to minutes: retried sooner, but never twice in
    // the same second, which the note named (so the old note did differ from one retry to the next).
    let retriedAt = 0;
    const retry = () => {
      if (Date.now() - retriedAt < 1_500) return;
      retriedAt = Date.now();
      controller.queue.add(`${tenants}/abandoned`);
    };
    try {
      await env.client.delete(tenantPath);
      const abandonedEvents = async () =>
        (
          await env.client.list<
            KubeObject & { reason: string; series?: { count: number }; regarding: { uid: string } }
          >(collectionPath(KINDS.event, tenants))
        ).items.filter((e) => e.regarding.uid === uid && e.reason === 'CleanupAbandoned');
      // Two abandons recorded (the first repeat is written at once), however they were written.
      const events = await eventually(
        async () => {
          retry();
          const found = await abandonedEvents();
          return found.reduce((sum, e) => sum + (e.series?.count ?? 1), 0) >= 2 && found;
        },
        'the cleanup abandoned twice',
        90_000,
      );
      expect(events, 'one Event, its repeats in its series').to.have.length(1);
    } finally {
      await keepFinalizer.remove();
      await noDeletion.remove();
    }
    await eventually(
      async () => {
        retry();
        return (await get(tenantPath)) === undefined;
      },
      'the tenant gone once allowed',
      60_000,
    );
  });

  it('says DeletionBlocked in Ready while forbidden to remove the projection, releases the finalizer after the grace with a Warning Event naming what is left, and the pool removes it once allowed', async () => {
    await placedTenant(tenants, 'stuck');
    const policy = await forbidSecretDeletion('no-secret-deletion');
    try {
      const tenantPath = objectPath(KINDS.tenant, tenants, 'stuck');
      const { uid } = (await get<KubeObject>(tenantPath))!.metadata;
      const blocked = await deletedAndBlocked(tenantPath);
      expect(blocked.message).to.include(
        `Secret ${pools}/${placedNameOf(tenants, 'stuck')} could not be deleted`,
      );
      expect(blocked.message).to.include('Secrets here are not deleted');

      await eventually(
        async () => (await get(tenantPath)) === undefined,
        'the tenant gone after the grace',
        60_000,
      );
      const events = await env.client.list<
        KubeObject & { reason: string; type: string; note: string; regarding: { uid: string } }
      >(collectionPath(KINDS.event, tenants));
      const abandoned = events.items.find((e) => e.regarding.uid === uid && e.reason === 'CleanupAbandoned');
      expect(abandoned?.type).to.equal('Warning');
      expect(abandoned?.note).to.include(`Secret ${pools}/${placedNameOf(tenants, 'stuck')}`);
      expect(await get(projectionPath(tenants, 'stuck')), 'left while forbidden').to.not.equal(undefined);
    } finally {
      await policy.remove();
    }
    await eventually(
      async () => (await get(projectionPath(tenants, 'stuck'))) === undefined,
      'the pool to remove the projection whose tenant is gone, once allowed',
      60_000,
    );
  });
});
