import { randomUUID } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { parse } from 'yaml';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { type RedisFlowStore, tenantKeyPrefix } from '../../common/flowstore/redis-store.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import { TENANT_UID_LABEL } from '../../common/pool/kube-source.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { PURGE_FINALIZER } from '../../operator/redis-purge.js';
import { tenantDocument } from '../../operator/resources/configmap.js';
import { POOL_FINALIZER } from '../../operator/resources/projection.js';
import { desiredPurgeJob, PURGE_DOCUMENT_ANNOTATION } from '../../operator/resources/purge-job.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { runJobPod } from '../../testkit/job-pod.js';
import { endJob } from '../../testkit/job-status.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { answering, redisUrl } from '../../testkit/redis.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
type Described = KubeObject & { status?: { conditions?: Condition[] } };
interface EventObject {
  reason: string;
  type: string;
  note: string;
  regarding: { name: string; uid: string };
}

/**
 * spec.redis.purgeOnDeletion against a real API server and garbage collector (ADR 0427). No kubelet
 * runs the Job's pod and no job controller runs here: the test writes the Job's status as the job
 * controller would, success or failure, and the operator must release the tenant on either.
 */
describe('spec.redis.purgeOnDeletion: a deleted dedicated tenant purges its Redis keys by a Job', function () {
  this.timeout(120_000);
  const DEADLINE_MS = 20_000;
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;
  let pools: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'purge');
    pools = await freshNamespace(env.client, 'purge-p');
    ({ client, controller } = await startTestController(env, {
      namespace,
      moreNamespaces: [pools],
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'redis-purge-test',
      // Far beyond what the tests that finish the Job take (a second or two), short enough to wait out.
      redisPurge: { deadlineMs: DEADLINE_MS, pollMs: 200 },
    }));
    await createPool(env.client, pools, 'shared');
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const tenantPath = (name: string) => objectPath(KINDS.tenant, namespace, name);
  const jobPath = (name: string) => objectPath(KINDS.job, namespace, `${name}-redis-purge`);
  const get = <T = KubeObject>(path: string) => env.client.get<T>(path);

  async function redisTenant(
    name: string,
    spec: Record<string, unknown>,
    url = 'redis://redis.team.svc:6379',
  ): Promise<KubeObject> {
    await createTenantSecrets(env.client, namespace, name);
    await env.client.create(
      collectionPath(KINDS.secret, namespace),
      secretObject(namespace, `${name}-redis`, { url }),
    );
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name, spec));
    return eventually(async () => {
      const tenant = await get<Described>(tenantPath(name));
      const applied = tenant?.status?.conditions?.find((c) => c.type === 'Applied');
      return applied?.status === 'True' && tenant;
    }, `tenant ${name} applied`);
  }
  const purging = (name: string) =>
    redisTenant(name, { redis: { urlSecretRef: { name: `${name}-redis` }, purgeOnDeletion: true } });

  const finish = (name: string, outcome: 'Complete' | 'Failed') => endJob(env.client, jobPath(name), outcome);

  async function eventsOf(uid: string, reason: string): Promise<EventObject[]> {
    const list = await env.client.request<{ items: EventObject[] }>(
      'GET',
      collectionPath(KINDS.event, namespace),
    );
    return list.items.filter((e) => e.regarding.uid === uid && e.reason === reason);
  }

  it('holds the tenant on its finalizer while the Job runs, hardened, with what jsm-sso purge reads of the tenant; releases it when the Job succeeds, and deletes the Job', async () => {
    const tenant = await purging('kept');
    const uid = tenant.metadata.uid!;
    expect(tenant.metadata.finalizers).to.include(PURGE_FINALIZER.name);
    const document = (await get<KubeObject & { data: Record<string, string> }>(
      objectPath(KINDS.configMap, namespace, 'kept-config'),
    ))!.data['tenant.yaml'];

    await env.client.delete(tenantPath('kept'));
    const job = await eventually(() => get<V1Job>(jobPath('kept')), 'the purge Job created');
    expect(job.metadata?.ownerReferences ?? [], 'not collected with the tenant').to.deep.equal([]);
    expect(job.metadata?.labels?.[TENANT_UID_LABEL]).to.equal(uid);
    expect(job.spec?.activeDeadlineSeconds).to.be.a('number');
    expect(job.spec?.ttlSecondsAfterFinished).to.be.a('number');
    expect(job.spec?.backoffLimit).to.be.a('number');
    const pod = job.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.restartPolicy).to.equal('Never');
    expect(pod.securityContext).to.include({ runAsNonRoot: true });
    expect(pod.securityContext?.seccompProfile?.type).to.equal('RuntimeDefault');
    const [container] = pod.containers;
    expect(container!.image).to.equal(TEST_OPERATOR_SETTINGS.image);
    expect(container!.args).to.deep.equal([
      'purge',
      '--config',
      '/etc/jsm-sso/tenant.yaml',
      '--secrets-dir',
      '/var/run/jsm-sso/secrets',
    ]);
    expect(container!.securityContext).to.deep.include({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    expect(container!.securityContext?.capabilities?.drop).to.deep.equal(['ALL']);
    // What jsm-sso purge reads of the tenant, uid included, and nothing else (ADR 0434), as the file it reads.
    expect(parse(job.spec!.template.metadata!.annotations![PURGE_DOCUMENT_ANNOTATION]!)).to.deep.equal({
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoTenant',
      metadata: { name: 'kept', namespace, uid },
      spec: { redis: parse(document!).spec.redis },
    });
    expect(parse(document!).spec.redis).to.deep.equal({
      urlSecretRef: { name: 'kept-redis', key: 'url' },
      purgeOnDeletion: true,
    });
    const config = pod.volumes!.find((v) => v.name === 'config')!;
    expect(config.downwardAPI?.items?.[0]?.path).to.equal('tenant.yaml');
    const redis = pod.volumes!.find((v) => v.secret?.secretName === 'kept-redis')!;
    expect(redis.secret!.items).to.deep.equal([{ key: 'url', path: 'url' }]);
    expect(container!.volumeMounts!.find((m) => m.name === redis.name)?.mountPath).to.equal(
      '/var/run/jsm-sso/secrets/kept-redis',
    );
    // No other Secret of the tenant's reaches the pod.
    expect(pod.volumes!.filter((v) => v.secret).map((v) => v.secret!.secretName)).to.deep.equal([
      'kept-redis',
    ]);
    const policy = await eventually(
      () =>
        get<KubeObject & { spec: Record<string, unknown> }>(
          objectPath(KINDS.networkPolicy, namespace, 'kept-redis-purge'),
        ),
      "the Job's NetworkPolicy",
    );
    expect(policy.metadata.ownerReferences?.[0]).to.include({ kind: 'Job', uid: job.metadata!.uid });
    expect(policy.spec).to.deep.equal({
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'jsm-sso',
          'app.kubernetes.io/instance': 'kept',
          'app.kubernetes.io/component': 'redis-purge',
        },
      },
      policyTypes: ['Ingress'],
    });

    const running = await eventually(async () => {
      const live = await get<Described>(tenantPath('kept'));
      return live?.status?.conditions?.find((c) => c.type === 'RedisKeysPurged' && c.status === 'Unknown');
    }, 'RedisKeysPurged Unknown while the Job runs');
    expect(running.reason).to.equal('PurgeRunning');
    expect((await get(tenantPath('kept')))?.metadata.finalizers).to.include(PURGE_FINALIZER.name);

    await finish('kept', 'Complete');
    await eventually(async () => (await get(tenantPath('kept'))) === undefined, 'the tenant gone');
    await eventually(async () => (await get(jobPath('kept'))) === undefined, 'the Job deleted');
    const [event] = await eventsOf(uid, 'RedisKeysPurged');
    expect(event?.type).to.equal('Normal');
  });

  it('releases the tenant when the Job fails, with a Warning Event saying the keys are left to expire; the failed Job stays for its logs', async () => {
    const tenant = await purging('down');
    const uid = tenant.metadata.uid!;
    await env.client.delete(tenantPath('down'));
    await eventually(() => get(jobPath('down')), 'the purge Job created');
    await finish('down', 'Failed');
    await eventually(async () => (await get(tenantPath('down'))) === undefined, 'the tenant gone');
    const [event] = await eventually(
      async () =>
        (await eventsOf(uid, 'RedisKeysNotPurged')).length > 0 && eventsOf(uid, 'RedisKeysNotPurged'),
      'the Warning Event',
    );
    expect(event!.type).to.equal('Warning');
    expect(event!.note).to.match(/BackoffLimitExceeded/);
    expect(event!.note).to.match(/left to expire/);
    expect(event!.note).to.include(`kubectl -n ${namespace} logs job/down-redis-purge`);
    expect(await get(jobPath('down')), 'kept for kubectl logs until its TTL').to.not.equal(undefined);
  });

  it('releases the tenant at its deadline when the Job never answers (no pod ever ran), and deletes the Job', async () => {
    const tenant = await purging('stuck');
    const uid = tenant.metadata.uid!;
    await env.client.delete(tenantPath('stuck'));
    await eventually(() => get(jobPath('stuck')), 'the purge Job created');
    await eventually(
      async () => (await get(tenantPath('stuck'))) === undefined,
      'the tenant gone at the deadline',
      DEADLINE_MS + 20_000,
    );
    const [event] = await eventsOf(uid, 'RedisKeysNotPurged');
    expect(event!.note).to.match(/had not succeeded 20 s after the deletion/);
    await eventually(async () => (await get(jobPath('stuck'))) === undefined, 'the Job deleted');
  });

  it("purges the keys of a tenant whose document is over the 256 KiB a pod's annotations may hold", async () => {
    const name = 'large';
    // Two SAML IdPs whose inline metadata carries many signing certificates (as a federation's
    // rotating IdP publishes), together over the API server's bound on all of an object's annotations.
    const idps = ['federation-a', 'federation-b'].map((idp) => ({
      name: idp,
      emailDomains: [`${idp}.example`],
      emailTrust: 'asserted',
      saml: { metadataXml: largeMetadata(`https://${idp}.example/idp`, 140 * 1024) },
    }));
    const tenant = await redisTenant(
      name,
      {
        identityProviders: idps,
        redis: { urlSecretRef: { name: `${name}-redis` }, purgeOnDeletion: true },
      },
      redisUrl(),
    );
    const uid = tenant.metadata.uid!;
    expect(JSON.stringify(tenant).length).to.be.above(ANNOTATIONS_LIMIT_BYTES);
    const id = `${namespace}/${name}`;
    const earlier = randomUUID();
    const pool = await answering(createPoolFlowStore({ url: redisUrl() }) as RedisFlowStore);
    const keysOf = (incarnation: string) =>
      (pool.client as Redis).keys(`${tenantKeyPrefix(id, incarnation)}*`);
    try {
      for (const key of ['flow:1', 'session:2']) await pool.view(id, uid).put(key, 'x', 600);
      await pool.view(id, earlier).put('session:1', 'x', 600);

      await env.client.delete(tenantPath(name));
      const job = await eventually(() => get<V1Job>(jobPath(name)), 'the purge Job created');
      const ran = await runJobPod(env.client, job);
      expect(ran, ran.stderr).to.include({ code: 0 });
      expect(ran.stdout).to.include(`${id} (uid ${uid}): 2 keys deleted`);
      expect(await keysOf(uid)).to.deep.equal([]);
      expect(await keysOf(earlier)).to.have.length(1);
    } finally {
      await pool.close();
    }
    await finish(name, 'Complete');
    await eventually(async () => (await get(tenantPath(name))) === undefined, 'the tenant gone');
    expect(await eventsOf(uid, 'RedisKeysPurged')).to.have.length(1);
  });

  it("judges a Job the previous release made (the whole tenant in its pod's annotation) as it is, found at the deletion during an upgrade", async () => {
    const tenant = (await purging('upgraded')) as unknown as JsmSsoTenant;
    const uid = tenant.metadata!.uid!;
    // As the previous release created it: the same Job but for its annotation, the whole tenant.
    const previous = desiredPurgeJob({ tenant, settings: TEST_OPERATOR_SETTINGS, secrets: {} });
    previous.spec!.template.metadata!.annotations = {
      'jsm-sso.io/tenant-document': tenantDocument(tenant, { uid }),
    };
    await env.client.create(collectionPath(KINDS.job, namespace), previous);

    await env.client.delete(tenantPath('upgraded'));
    await eventually(async () => {
      const live = await get<Described>(tenantPath('upgraded'));
      return live?.status?.conditions?.find(
        (c) => c.type === 'RedisKeysPurged' && c.reason === 'PurgeRunning',
      );
    }, 'the Job judged running');
    const job = await get<V1Job>(jobPath('upgraded'));
    expect(Object.keys(job!.spec!.template.metadata!.annotations!), 'not replaced').to.deep.equal([
      'jsm-sso.io/tenant-document',
    ]);
    await finish('upgraded', 'Complete');
    await eventually(async () => (await get(tenantPath('upgraded'))) === undefined, 'the tenant gone');
    expect(await eventsOf(uid, 'RedisKeysPurged')).to.have.length(1);
  });

  it('makes no finalizer and no Job for a tenant that does not ask for it', async () => {
    const tenant = await redisTenant('plain', { redis: { urlSecretRef: { name: 'plain-redis' } } });
    expect(tenant.metadata.finalizers ?? []).to.deep.equal([]);
    await env.client.delete(tenantPath('plain'));
    await eventually(async () => (await get(tenantPath('plain'))) === undefined, 'the tenant gone');
    expect(await get(jobPath('plain'))).to.equal(undefined);
  });

  it('drops its finalizer when the field is unset again', async () => {
    await purging('changed');
    await env.client.request('PATCH', tenantPath('changed'), {
      body: { spec: { redis: { purgeOnDeletion: false } } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(
      async () => !(await get(tenantPath('changed')))?.metadata.finalizers?.includes(PURGE_FINALIZER.name),
      'the purge finalizer released',
    );
  });

  it('leaves a pooled tenant to its pool: no purge finalizer, no Job', async () => {
    await createTenantSecrets(env.client, namespace, 'pooled');
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'pooled', {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
      } as never),
    );
    const tenant = await eventually(async () => {
      const live = await get(tenantPath('pooled'));
      return live?.metadata.finalizers?.includes(POOL_FINALIZER) && live;
    }, 'the pooled tenant placed');
    expect(tenant.metadata.finalizers).to.not.include(PURGE_FINALIZER.name);
    await env.client.delete(tenantPath('pooled'));
    await eventually(async () => (await get(tenantPath('pooled'))) === undefined, 'the tenant gone');
    expect(await get(jobPath('pooled'))).to.equal(undefined);
  });
});

/** The API server's bound on the total size of an object's annotations (256 KiB). */
const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;

/** An IdP's SAML metadata of at least `bytes`: one signing KeyDescriptor after another. */
function largeMetadata(entityId: string, bytes: number): string {
  const certificate = 'MIIC'.padEnd(1_200, 'A');
  const key = `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
  const keys = key.repeat(Math.ceil(bytes / key.length));
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${entityId}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
}
