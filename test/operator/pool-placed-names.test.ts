import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION } from '../../common/pool/claims.js';
import type { KubeTenantSource } from '../../common/pool/kube-source.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { FIELD_MANAGER } from '../../operator/resources/common.js';
import { withAppliedHash } from '../../operator/resources/index.js';
import {
  desiredPooledIngress,
  desiredProjection,
  legacyPlacedName,
  placedName,
  placedNameOf,
  TENANT_UID_LABEL,
} from '../../operator/resources/projection.js';
import { allSecretKeys } from '../../operator/resources/secret-refs.js';
import { secretFacts } from '../../operator/secret-facts.js';
import { TenantVerdicts } from '../../operator/tenant-verdicts.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  operatorIdle,
  startTestController,
  TEST_HASH_KEY,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { startPoolSource, TenantRecorder } from '../../testkit/projections.js';
import {
  createPool,
  createSharedTenantSecrets,
  createTenantSecrets,
  pooledOnSharedSecrets,
  secretObject,
  tenantObject,
} from '../../testkit/tenants.js';

/**
 * What a pooled tenant places in its pool's namespace (projection Secret, Ingress) is named after the
 * exact pair `<namespace>/<name>` (ADR 0231). It was `jsmsso-<namespace>-<name>`: tenant `x-acme` of
 * namespace `team` and tenant `acme` of namespace `team-x` had one name, and whichever team placed
 * first kept the other out of the pool (ObjectConflict) for as long as its tenant lived. Objects
 * placed under the old name before the upgrade are kept under it.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
type Status = KubeObject & { status?: { conditions?: Condition[] } };
type SecretLike = KubeObject & { data?: Record<string, string> };

describe("the names of a pooled tenant's objects in its pool's namespace", function () {
  this.timeout(120_000);

  it('gives tenants of different namespaces whose namespace and name read alike different names', () => {
    for (const alike of [
      [
        ['team', 'x-acme'],
        ['team-x', 'acme'],
      ],
      [
        ['a', 'b-c-d'],
        ['a-b', 'c-d'],
        ['a-b-c', 'd'],
      ],
    ]) {
      const tenants = alike.map(([namespace, name]) => tenantObject(namespace!, name!));
      // The defect: one name for all of them.
      expect(new Set(tenants.map(legacyPlacedName)).size).to.equal(1);
      expect(new Set(tenants.map(placedName)).size).to.equal(alike.length);
    }
  });

  it('names within a DNS label, readable and the same in every release', () => {
    expect(placedNameOf('team', 'x-acme')).to.equal('jsmsso-team-x-acme-c52f66725fb96127');
    expect(placedNameOf('team-x', 'acme')).to.equal('jsmsso-team-x-acme-85ee86717686f323');
    // The longest a namespace (63) and a tenant name (48, the CRD's bound) can be.
    const longest = placedNameOf(`n${'a'.repeat(62)}`, `t${'b'.repeat(47)}`);
    expect(longest)
      .to.have.length(63)
      .and.match(DNS_LABEL)
      .and.match(/^jsmsso-naaa/);
    // Cut where a `-` ends the readable part: no `--` before the hash.
    const cut = placedNameOf('a'.repeat(38), 'acme');
    expect(cut).to.match(DNS_LABEL).and.not.include('--');
    expect(cut).to.match(/^jsmsso-a{38}-[0-9a-f]{16}$/);
    // Two tenants that differ only past the cut.
    expect(placedNameOf('team', `${'c'.repeat(40)}-one`)).to.not.equal(
      placedNameOf('team', `${'c'.repeat(40)}-two`),
    );
  });

  describe('against a real API server', () => {
    let env: Envtest;
    let client: KubeClient;
    let controller: Controller;
    let team: string;
    let teamX: string;
    let pools: string;
    let pool: JsmSsoPool & KubeObject;
    const writes: string[] = [];
    const recorder = new TenantRecorder();
    let source: KubeTenantSource;
    /** What the earlier operator placed for tenant `kept`, as the API server stored it. */
    let kept: { projection: KubeObject; ingress: KubeObject };

    const get = <T = KubeObject>(kind: (typeof KINDS)[keyof typeof KINDS], ns: string, name: string) =>
      env.client.get<T>(objectPath(kind, ns, name));
    const condition = (o: Status | undefined, type: string) =>
      o?.status?.conditions?.find((c) => c.type === type);
    const applied = (ns: string, name: string) =>
      eventually(async () => {
        const t = await get<Status>(KINDS.tenant, ns, name);
        return condition(t, 'Applied') && condition(t, 'PoolReady') ? t : undefined;
      }, `tenant ${ns}/${name} judged`);

    async function createTenant(tenant: JsmSsoTenant): Promise<JsmSsoTenant & KubeObject> {
      const { namespace } = tenant.metadata!;
      return env.client.create<JsmSsoTenant & KubeObject>(collectionPath(KINDS.tenant, namespace), tenant);
    }

    /**
     * The projection and Ingress the last release placed for `live`: the same builders, the name
     * `jsmsso-<namespace>-<name>`, no host claims (ADR 0230 came with this release too); created here
     * before this operator starts.
     */
    async function placedBeforeTheUpgrade(
      live: JsmSsoTenant & KubeObject,
      labels: Record<string, string> = {},
    ): Promise<{ projection: KubeObject; ingress: KubeObject }> {
      const validation = new TenantVerdicts(TEST_HASH_KEY).validate(live);
      const tenant = validation.tenant!;
      const namespace = tenant.metadata!.namespace!;
      const read = new Map<string, SecretLike>();
      for (const secret of new Set(allSecretKeys(tenant).map((use) => use.secret)))
        read.set(secret, (await get<SecretLike>(KINDS.secret, namespace, secret))!);
      const secrets = Object.fromEntries(
        [...read].map(([name, secret]) => [name, secretFacts(secret, TEST_HASH_KEY)]),
      );
      const name = legacyPlacedName(tenant);
      const projection = desiredProjection(
        tenant,
        pool,
        { secrets, document: validation.document, documentHash: validation.documentHash },
        (use) => read.get(use.secret)?.data?.[use.key] ?? '',
        {},
        name,
      ) as KubeObject;
      delete projection.metadata.annotations?.[HOST_CLAIMS_ANNOTATION];
      const ingress = withAppliedHash(
        desiredPooledIngress(tenant, pool, TEST_OPERATOR_SETTINGS, name, ['portal', 'broker']) as KubeObject,
      );
      for (const object of [projection, ingress])
        object.metadata.labels = { ...object.metadata.labels, ...labels };
      return {
        projection: await env.client.create(collectionPath(KINDS.secret, pools), projection, {
          fieldManager: FIELD_MANAGER,
        }),
        ingress: await env.client.create(collectionPath(KINDS.ingress, pools), ingress, {
          fieldManager: FIELD_MANAGER,
        }),
      };
    }

    before(async () => {
      env = await envtest();
      team = await freshNamespace(env.client, 'pn');
      teamX = `${team}-x`;
      await env.client.create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: teamX },
      });
      pools = await freshNamespace(env.client, 'pnp');
      await createPool(env.client, pools, 'shared');
      pool = (await get<JsmSsoPool & KubeObject>(KINDS.pool, pools, 'shared'))!;
      await createSharedTenantSecrets(env.client, team);
      const ingress = { ingress: { className: 'nginx' } };

      // Placed by the earlier operator: `kept` and what it placed.
      const keptTenant = pooledOnSharedSecrets(team, 'kept', pools, 'shared');
      Object.assign(keptTenant.spec, ingress);
      kept = await placedBeforeTheUpgrade(await createTenant(keptTenant));
      // A former `reborn` (deleted, its finalizer removed by hand) left its projection and Ingress
      // under the old name; the `reborn` of today is another tenant (another uid).
      const rebornTenant = pooledOnSharedSecrets(team, 'reborn', pools, 'shared');
      Object.assign(rebornTenant.spec, ingress);
      await placedBeforeTheUpgrade(await createTenant(rebornTenant), {
        [TENANT_UID_LABEL]: 'uid-of-a-former-reborn',
      });

      // A pool process reading the pool's projections all along.
      source = await startPoolSource(env.kubeconfigPath, pools, 'shared', recorder);

      // The upgraded operator.
      ({ client, controller } = await startTestController(env, {
        namespace: team,
        moreNamespaces: [teamX, pools],
        instance: 'placed-names-test',
        level: 'error',
        onWrite: (method, path) => writes.push(`${method} ${path}`),
      }));
    });

    after(async () => {
      await controller?.stop();
      client?.close();
      await source?.close();
    });

    it("does not let another namespace's tenant placed first keep this tenant out of the pool", async () => {
      const place = async (namespace: string, name: string) => {
        await createTenantSecrets(env.client, namespace, name);
        await createTenant(
          tenantObject(namespace, name, {
            placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
            ingress: { className: 'nginx' },
          }),
        );
        return applied(namespace, name);
      };
      // Another team places `acme` in `<team>-x` first; then `team` places `x-acme`.
      expect(condition(await place(teamX, 'acme'), 'Applied')?.status).to.equal('True');
      const later = await place(team, 'x-acme');
      expect(condition(later, 'Applied'), condition(later, 'Applied')?.message).to.include({
        status: 'True',
      });
      for (const [namespace, name] of [
        [teamX, 'acme'],
        [team, 'x-acme'],
      ] as const) {
        const placed = placedNameOf(namespace, name);
        for (const kind of [KINDS.secret, KINDS.ingress])
          expect((await get(kind, pools, placed))?.metadata.labels, `${kind.kind} ${placed}`).to.include({
            'jsm-sso.io/tenant-namespace': namespace,
            'jsm-sso.io/tenant-name': name,
          });
        await eventually(async () => recorder.bundles.has(`${namespace}/${name}`), `${name} in the pool`);
      }
    });

    it('places a tenant under its new name once the pool has collected what a former tenant of its name left under the old one, and the pool serves it', async () => {
      const tenant = await eventually(async () => {
        const t = await get<Status>(KINDS.tenant, team, 'reborn');
        return condition(t, 'Applied')?.status === 'True' ? t : undefined;
      }, 'reborn placed');
      expect(condition(tenant, 'PoolReady')).to.not.equal(undefined);
      const legacy = `jsmsso-${team}-reborn`;
      expect(await get(KINDS.secret, pools, legacy)).to.equal(undefined);
      expect(await get(KINDS.ingress, pools, legacy)).to.equal(undefined);
      const projection = await get(KINDS.secret, pools, placedNameOf(team, 'reborn'));
      expect(projection?.metadata.labels?.[TENANT_UID_LABEL]).to.equal(tenant.metadata.uid);
      // Never two projections of one tenant: the former one's deletion would have taken it out.
      await operatorIdle(controller);
      await eventually(async () => recorder.bundles.has(`${team}/reborn`), 'reborn served by the pool');
    });

    it('keeps what the last release placed under the old name: nothing re-created, renamed or taken out of the running pool', async () => {
      const tenant = await applied(team, 'kept');
      expect(condition(tenant, 'Applied')?.status).to.equal('True');
      await operatorIdle(controller);
      const legacy = kept.projection.metadata.name!;
      expect(legacy).to.equal(`jsmsso-${team}-kept`);
      // One write: the projection rewritten in place with the host claims ADR 0230 seeds from its
      // creation. The Ingress is not written; nothing is created under the new name or deleted.
      const touched = writes
        .filter((w) => w.includes(`/namespaces/${pools}/`) && w.includes(legacy))
        .map((w) => w.split('?')[0]);
      expect(touched).to.deep.equal([`PUT /api/v1/namespaces/${pools}/secrets/${legacy}`]);
      const projection = await get(KINDS.secret, pools, legacy);
      expect(projection?.metadata).to.include({
        uid: kept.projection.metadata.uid,
        creationTimestamp: kept.projection.metadata.creationTimestamp,
      });
      const since = new Date(String(kept.projection.metadata.creationTimestamp)).toISOString();
      expect(JSON.parse(projection?.metadata.annotations?.[HOST_CLAIMS_ANNOTATION] ?? '{}')).to.deep.equal({
        broker: { host: 'kept.sso.example', since },
        portal: { host: 'kept.help.example', since },
      });
      expect((await get(KINDS.ingress, pools, legacy))?.metadata).to.include({
        uid: kept.ingress.metadata.uid,
        resourceVersion: kept.ingress.metadata.resourceVersion,
      });
      for (const kind of [KINDS.secret, KINDS.ingress])
        expect(await get(kind, pools, placedNameOf(team, 'kept')), kind.kind).to.equal(undefined);
      // The pool kept serving it, with its hosts claimed since the projection was made.
      expect(recorder.removed).to.not.include(`${team}/kept`);
      await eventually(
        async () => recorder.bundles.get(`${team}/kept`)?.hostClaims?.portal?.claimedAt === Date.parse(since),
        'the seeded host claims in the pool',
      );
      // An idle resync writes nothing.
      const before = writes.length;
      controller.queue.add(`${team}/kept`);
      controller.queue.add(`pool:${pools}/shared`);
      await operatorIdle(controller);
      expect(writes.slice(before)).to.deep.equal([]);
    });

    it('updates the kept projection in place, and removes it and its Ingress with the tenant', async () => {
      const legacy = kept.projection.metadata.name!;
      await env.client.apply(
        objectPath(KINDS.secret, team, 'oidc'),
        secretObject(team, 'oidc', { clientSecret: 'rotated' }),
        { fieldManager: 'tests' },
      );
      await eventually(
        async () => recorder.bundles.get(`${team}/kept`)?.secrets.read('oidc', 'clientSecret') === 'rotated',
        'the rotated secret in the pool',
      );
      expect((await get(KINDS.secret, pools, legacy))?.metadata.uid).to.equal(kept.projection.metadata.uid);
      await env.client.delete(objectPath(KINDS.tenant, team, 'kept'));
      await eventually(async () => !(await get(KINDS.tenant, team, 'kept')), 'kept deleted');
      expect(await get(KINDS.secret, pools, legacy)).to.equal(undefined);
      expect(await get(KINDS.ingress, pools, legacy)).to.equal(undefined);
    });
  });
});
