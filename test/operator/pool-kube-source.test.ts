import { Writable } from 'node:stream';
import { expect } from 'chai';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import { isConflict, type KubeClient, type KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { HOST_CLAIMS_ANNOTATION } from '../../common/pool/claims.js';
import { KubeTenantSource } from '../../common/pool/kube-source.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { placedNameOf } from '../../operator/resources/projection.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { TenantRecorder } from '../../testkit/projections.js';
import { checkLogLine } from '../../testkit/recent-logs.js';
import {
  createTenantSecrets,
  secretObject,
  TENANT_SECRET_VALUES,
  TENANTS_OF_ANY_NAMESPACE,
  tenantObject,
} from '../../testkit/tenants.js';

/**
 * The pool process's side of the projection format (common/pool/kube-source.ts) against a real
 * API server, reading as the pool's own ServiceAccount (impersonated) what the operator wrote.
 */
describe('pool Kubernetes tenant source against a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let tenants: string;
  let pools: string;
  const sources: KubeTenantSource[] = [];

  /** The tests' cluster access acting as `user` (the API server's impersonation), so RBAC applies as in a pod. */
  async function actingAs(user: string): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    return {
      getCurrentCluster: () => admin.getCurrentCluster(),
      applyToHTTPSOptions: async (options) => {
        await admin.applyToHTTPSOptions(options);
        options.headers = { ...options.headers, 'Impersonate-User': user };
      },
    };
  }

  async function source(user: string, pool = 'shared', logs?: string[]): Promise<KubeTenantSource> {
    const made = new KubeTenantSource({
      access: await actingAs(user),
      namespace: pools,
      pool,
      backoff: { initialMs: 100, maxMs: 500 },
      // Every line is checked for personal data and secrets, as a pool process's output is (ADR 0340).
      logger: createLogger({
        component: 'pool',
        level: 'info',
        destination: new Writable({
          write(chunk, _encoding, done) {
            checkLogLine(String(chunk), "the pool's tenant source log");
            logs?.push(String(chunk));
            done();
          },
        }),
      }),
    });
    sources.push(made);
    return made;
  }

  /** Rotates a tenant's OIDC client secret and waits until the pool's source delivered it. */
  async function rotateClientSecret(recorder: TenantRecorder, tenant: string, value: string): Promise<void> {
    await env.client.apply(
      objectPath(KINDS.secret, tenants, `${tenant}-oidc`),
      secretObject(tenants, `${tenant}-oidc`, { clientSecret: value }),
      { fieldManager: 'tests' },
    );
    await eventually(
      async () =>
        recorder.bundles.get(`${tenants}/${tenant}`)?.secrets.read(`${tenant}-oidc`, 'clientSecret') ===
        value,
      `${tenant}'s rotated client secret in the pool`,
    );
  }

  before(async () => {
    env = await envtest();
    tenants = await freshNamespace(env.client, 'kst');
    pools = await freshNamespace(env.client, 'ksp');
    ({ client, controller } = await startTestController(env, {
      namespace: tenants,
      moreNamespaces: [pools],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'kube-source-test',
      level: 'silent',
    }));
    await env.client.create(collectionPath(KINDS.pool, pools), {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'shared', namespace: pools },
      spec: { tenants: TENANTS_OF_ANY_NAMESPACE },
    });
    for (const name of ['acme', 'globex']) {
      await createTenantSecrets(env.client, tenants, name);
      await env.client.create(
        collectionPath(KINDS.tenant, tenants),
        tenantObject(tenants, name, {
          placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
        }),
      );
      await eventually(
        async () => env.client.get(objectPath(KINDS.secret, pools, placedNameOf(tenants, name))),
        `the projection of ${name}`,
      );
    }
  });

  after(async () => {
    for (const each of sources) await each.close();
    await controller?.stop();
    client?.close();
  });

  it("delivers every projection of its pool, read as the pool's ServiceAccount, before start resolves", async () => {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    expect([...recorder.bundles.keys()].sort()).to.deep.equal([`${tenants}/acme`, `${tenants}/globex`]);
    const acme = recorder.bundles.get(`${tenants}/acme`)!;
    expect(acme.tenant.spec.portal.url).to.equal('https://help.acme.example');
    expect(acme.tenant.spec.placement?.mode).to.equal('pool');
    expect(acme.secrets.read('acme-oidc', 'clientSecret')).to.equal(TENANT_SECRET_VALUES.clientSecret);
    expect(acme.secrets.read('acme-atlassian', 'apiToken')).to.equal(TENANT_SECRET_VALUES.apiToken);
    expect(acme.secrets.read('acme-broker-signing', 'tls.key')).to.include('PRIVATE KEY');
    // Each host as the operator claimed it for the tenant, on the projection every replica reads (ADR 0230).
    expect(acme.hostClaims?.portal?.host).to.equal('help.acme.example');
    expect(acme.hostClaims?.broker?.host).to.equal('sso.acme.example');
    expect(acme.hostClaims?.portal?.claimedAt).to.be.closeTo(acme.claimedAt!, 5000);
    // Another tenant's keys are not in this tenant's reader, whatever name is asked for.
    expect(() => acme.secrets.read('globex-oidc', 'clientSecret'))
      .to.throw()
      .with.property('code', 'SECRET_MISSING');
    expect(acme.secrets.readOptional('acme-broker-signing', 'next.key')).to.equal(undefined);
    expect(() => acme.secrets.read('acme_oidc', 'x'))
      .to.throw()
      .with.property('code', 'SECRET_REF_INVALID');
    expect(recorder.invalids.size).to.equal(0);
  });

  it("gives the pool's broker the portal's next certificate during a rotation of the portal's key (ADR 0285)", async () => {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    const path = objectPath(KINDS.secret, tenants, 'acme-portal-signing');
    const secret = (await env.client.get<KubeObject & { data: Record<string, string> }>(path))!;
    const next = makeKeyPair('pooled acme portal next');
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    secret.data = { ...secret.data, 'next.crt': base64(next.certPem), 'next.key': base64(next.keyPem) };
    await env.client.request('PUT', path, { body: secret });
    await eventually(
      async () =>
        recorder.bundles.get(`${tenants}/acme`)?.secrets.readOptional('acme-portal-signing', 'next.crt'),
      "the portal's next certificate in the pool",
    );
    const acme = recorder.bundles.get(`${tenants}/acme`)!;
    expect(resolveBrokerSettings(acme.tenant, acme.secrets).sp.certificatesPem).to.deep.equal([
      Buffer.from(secret.data['tls.crt']!, 'base64').toString(),
      next.certPem,
    ]);
    // The pool's portal signs with tls.key only, and opens with next.key what it sealed before a swap (ADR 0298).
    expect(acme.secrets.readOptional('acme-portal-signing', 'next.key')).to.equal(next.keyPem);
  });

  it('delivers a rotated key as an upsert and a deleted tenant as a removal that says it is gone, without a restart', async () => {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    await rotateClientSecret(recorder, 'globex', 'rotated');
    const uid = recorder.bundles.get(`${tenants}/globex`)?.uid;
    expect(uid).to.be.a('string');
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'globex'));
    await eventually(async () => recorder.removed.includes(`${tenants}/globex`), 'the tenant removed');
    // The pool purges the deleted incarnation's keys on this (ADR 0390).
    expect(recorder.gone.get(`${tenants}/globex`), 'the deleted incarnation').to.equal(uid);
    expect(recorder.bundles.has(`${tenants}/acme`)).to.equal(true);
  });

  /** Tenant `name` created in the pool 'shared', once a started source delivered it: its recorder and key. */
  async function pooledTenantSeen(name: string): Promise<{ recorder: TenantRecorder; key: string }> {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    const key = `${tenants}/${name}`;
    await createTenantSecrets(env.client, tenants, name);
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, name, {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
      }),
    );
    await eventually(async () => recorder.bundles.has(key), `${name} in the pool`);
    return { recorder, key };
  }

  it('delivers a tenant that left the pool alive (its own pods now) as a removal that does not say it is gone (ADR 0390)', async () => {
    const { recorder, key } = await pooledTenantSeen('hooli');
    // Its keys may go on in a Redis the pool shares: the tenant lives on, under its uid.
    await eventually(async () => {
      const live = await env.client.get<KubeObject & { spec: Record<string, unknown> }>(
        objectPath(KINDS.tenant, tenants, 'hooli'),
      );
      try {
        await env.client.request('PUT', objectPath(KINDS.tenant, tenants, 'hooli'), {
          body: { ...live, spec: { ...live!.spec, placement: { mode: 'dedicated' } } },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }, 'hooli moved to its own pods');
    await eventually(async () => recorder.removed.includes(key), 'hooli removed from the pool');
    expect(recorder.gone.has(key), 'a removal saying hooli is gone').to.equal(false);
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'hooli'));
  });

  it('delivers a projection whose tenant went without its finalizer as a removal that says it is gone (ADR 0390)', async () => {
    const { recorder, key } = await pooledTenantSeen('forced');
    const uid = recorder.bundles.get(key)?.uid;
    await eventually(async () => {
      const live = await env.client.get<KubeObject>(objectPath(KINDS.tenant, tenants, 'forced'));
      if (!live?.metadata.finalizers?.length) return false;
      await env.client.request('PATCH', objectPath(KINDS.tenant, tenants, 'forced'), {
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: live.metadata.resourceVersion },
          { op: 'remove', path: '/metadata/finalizers' },
        ],
        contentType: 'application/json-patch+json',
      });
      return true;
    }, "forced's finalizer removed by hand");
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'forced'));
    await eventually(async () => recorder.removed.includes(key), 'forced removed by the pool reconcile');
    expect(recorder.gone.get(key), 'the deleted incarnation').to.equal(uid);
  });

  it('delivers a tenant deleted and re-created under its name as another incarnation: the new uid (ADR 0371)', async () => {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    const key = `${tenants}/initech`;
    const uidOf = async () =>
      (await env.client.get<KubeObject>(objectPath(KINDS.tenant, tenants, 'initech')))?.metadata.uid;
    const create = async () => {
      await env.client.create(
        collectionPath(KINDS.tenant, tenants),
        tenantObject(tenants, 'initech', {
          placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
        }),
      );
      const uid = await uidOf();
      await eventually(
        async () => recorder.bundles.get(key)?.uid === uid,
        'initech in the pool, with its uid',
      );
      return uid;
    };
    await createTenantSecrets(env.client, tenants, 'initech');
    const first = await create();
    expect(first).to.be.a('string').and.not.equal('');
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'initech'));
    await eventually(async () => recorder.removed.includes(key), 'initech removed');
    await eventually(async () => (await uidOf()) === undefined, 'initech gone from the API server');
    const second = await create();
    expect(second).to.not.equal(first);
  });

  it("caches each projection's metadata only, and still delivers a changed Secret decoded", async () => {
    const recorder = new TenantRecorder();
    const watching = await source(`system:serviceaccount:${pools}:shared-pool`);
    await watching.start(recorder);
    const noData = (cached: readonly KubeObject[]) =>
      cached.every((secret) => Object.keys(secret).join() === 'metadata' && secret['data'] === undefined);
    expect(watching.cached()).to.have.length(recorder.bundles.size).and.not.be.empty;
    expect(noData(watching.cached())).to.equal(true);
    const acme = watching.cached().find((secret) => secret.metadata.name === placedNameOf(tenants, 'acme'))!;
    const acmeTenant = await env.client.get<KubeObject>(objectPath(KINDS.tenant, tenants, 'acme'));
    expect(acme.metadata.labels).to.deep.equal({
      'jsm-sso.io/tenant-namespace': tenants,
      'jsm-sso.io/tenant-name': 'acme',
      'jsm-sso.io/tenant-uid': acmeTenant!.metadata.uid,
    });
    expect(Object.keys(acme.metadata.annotations ?? {})).to.deep.equal([HOST_CLAIMS_ANNOTATION]);
    const before = acme.metadata.resourceVersion;
    await rotateClientSecret(recorder, 'acme', 'watched');
    const changed = watching
      .cached()
      .find((secret) => secret.metadata.name === placedNameOf(tenants, 'acme'));
    expect(changed?.metadata?.resourceVersion).to.not.equal(before);
    expect(noData(watching.cached())).to.equal(true);
    expect(JSON.stringify(watching.cached())).to.not.include(Buffer.from('watched').toString('base64'));
  });

  it('reports a projection with a broken tenant.yaml, or one naming another tenant, as invalid and keeps the others', async () => {
    const recorder = new TenantRecorder();
    await (await source(`system:serviceaccount:${pools}:shared-pool`)).start(recorder);
    const forged = (name: string, document: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: pools,
        labels: {
          'jsm-sso.io/pool': 'shared',
          'jsm-sso.io/tenant-namespace': tenants,
          'jsm-sso.io/tenant-name': name,
        },
      },
      stringData: { 'tenant.yaml': document },
    });
    await env.client.create(collectionPath(KINDS.secret, pools), forged('broken', 'spec: [unclosed'));
    const impostor = {
      ...tenantObject(tenants, 'acme'),
      spec: { ...tenantObject(tenants, 'acme').spec, portal: { url: 'https://evil.example' } },
    };
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      forged('impostor', JSON.stringify(impostor)),
    );
    await eventually(async () => recorder.invalids.size === 2, 'both reported invalid');
    expect(recorder.invalids.get(`${tenants}/broken`)?.code).to.equal('CONFIG_INVALID');
    expect(recorder.invalids.get(`${tenants}/impostor`)?.message).to.include(`names ${tenants}/acme`);
    expect(recorder.bundles.get(`${tenants}/acme`)?.tenant.spec.portal.url).to.equal(
      'https://help.acme.example',
    );
    expect(recorder.bundles.has(`${tenants}/impostor`)).to.equal(false);
  });

  it('retries a refused list with backoff (POOL_TENANT_WATCH_FAILED) and delivers once RBAC allows it', async () => {
    const logs: string[] = [];
    const recorder = new TenantRecorder();
    let started = false;
    const starting = (await source(`system:serviceaccount:${pools}:latecomer`, 'shared', logs))
      .start(recorder)
      .then(() => {
        started = true;
      });
    await eventually(async () => logs.some((l) => l.includes('POOL_TENANT_WATCH_FAILED')), 'the warning');
    expect(started).to.equal(false);
    expect(logs.join('')).to.not.include(TENANT_SECRET_VALUES.clientSecret);
    await env.client.create(collectionPath(KINDS.roleBinding, pools), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'latecomer', namespace: pools },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'shared-pool' },
      subjects: [{ kind: 'ServiceAccount', name: 'latecomer', namespace: pools }],
    });
    await starting;
    expect(recorder.bundles.has(`${tenants}/acme`)).to.equal(true);
  });
});
