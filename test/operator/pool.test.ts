import type { V1Deployment, V1Ingress, V1Role } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse } from 'yaml';
import { isConflict, type KubeClient, type KubeObject } from '../../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION } from '../../common/pool/claims.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, MANAGED_KINDS, objectPath } from '../../operator/kube/kinds.js';
import { POOL_FINALIZER, placedNameOf } from '../../operator/resources/projection.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  operatorIdle,
  startTestController,
  TEST_OPERATOR_SETTINGS,
} from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * JsmSsoPool and pooled tenants against a real kube-apiserver, etcd and garbage collector: the
 * pool's objects, the projection of only the referenced keys into the pool's namespace, rotation,
 * moving between placements, cleanup across namespaces, ownership, and idle resyncs.
 */
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Status extends KubeObject {
  status?: {
    conditions?: Condition[];
    placement?: string;
    tenantCount?: number;
    observedGeneration?: number;
  };
}
interface SecretLike extends KubeObject {
  data?: Record<string, string>;
}

const SETTINGS = TEST_OPERATOR_SETTINGS;

describe('JsmSsoPool and pooled tenants against a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let tenants: string;
  let pools: string;
  const writes: string[] = [];

  before(async () => {
    env = await envtest();
    tenants = await freshNamespace(env.client, 'pt');
    pools = await freshNamespace(env.client, 'pp');
    ({ client, controller } = await startTestController(env, {
      namespace: tenants,
      moreNamespaces: [pools],
      settings: SETTINGS,
      instance: 'pool-test',
      onWrite: (method, path) => writes.push(`${method} ${path}`),
    }));
    await createPool(env.client, pools, 'shared', {
      broker: { autoscaling: { minReplicas: 2, maxReplicas: 4 } },
      portal: { replicas: 2 },
      builtTenants: { idleSeconds: 600 },
    });
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const get = <T = KubeObject>(kind: (typeof KINDS)[keyof typeof KINDS], ns: string, name: string) =>
    env.client.get<T>(objectPath(kind, ns, name));
  const condition = (o: Status | undefined, type: string) =>
    o?.status?.conditions?.find((c) => c.type === type);
  const decoded = (secret: SecretLike | undefined) =>
    Object.fromEntries(
      Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );

  const quiet = () => operatorIdle(controller);

  async function pooledTenant(name: string, spec: Record<string, unknown> = {}): Promise<Status> {
    await createTenantSecrets(env.client, tenants, name);
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, name, {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
        ...spec,
      }),
    );
    return eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, name);
      return condition(t, 'Applied')?.status === 'True' && condition(t, 'PoolReady') ? t : undefined;
    }, `tenant ${name} placed in the pool`);
  }

  it('reconciles a pool into broker and portal Deployments, Services, disruption budgets, an autoscaler and a ServiceAccount that reads Secrets of its namespace only', async () => {
    const pool = await eventually(async () => {
      const p = await get<Status>(KINDS.pool, pools, 'shared');
      return condition(p, 'Applied')?.status === 'True' ? p : undefined;
    }, 'the pool to be applied');
    expect(pool.status?.tenantCount).to.equal(0);
    expect(pool.status?.observedGeneration).to.equal(pool.metadata.generation);
    expect(condition(pool, 'Ready')?.status).to.equal('False'); // no kubelet here: pods never run
    const made: string[] = [];
    for (const kind of MANAGED_KINDS) {
      for (const item of (await env.client.list<KubeObject>(collectionPath(kind, pools))).items) {
        if (item.metadata.labels?.['app.kubernetes.io/managed-by'] !== 'jsm-sso-operator') continue;
        made.push(`${kind.kind}/${item.metadata.name}`);
        expect(item.metadata.ownerReferences?.[0]).to.include({
          kind: 'JsmSsoPool',
          uid: pool.metadata.uid,
          controller: true,
        });
      }
    }
    expect(made.sort()).to.deep.equal(
      [
        'Deployment/shared-broker',
        'Deployment/shared-portal',
        'HorizontalPodAutoscaler/shared-broker',
        'NetworkPolicy/shared-broker',
        'NetworkPolicy/shared-portal',
        'PodDisruptionBudget/shared-broker',
        'PodDisruptionBudget/shared-portal',
        'Role/shared-pool',
        'RoleBinding/shared-pool',
        'Service/shared-broker',
        'Service/shared-portal',
        'ServiceAccount/shared-pool',
      ].sort(),
    );
    const broker = await get<V1Deployment>(KINDS.deployment, pools, 'shared-broker');
    const pod = broker!.spec!.template.spec!;
    expect(broker!.spec!.replicas).to.equal(1); // the autoscaler's, not ours: applied without replicas
    expect(pod.serviceAccountName).to.equal('shared-pool');
    expect(pod.automountServiceAccountToken).to.equal(true);
    expect(pod.containers[0]!.args).to.include.ordered.members([
      'broker',
      '--pool',
      'shared',
      '--pool-namespace',
      pools,
    ]);
    expect(pod.containers[0]!.args).to.include('--redis-url-file');
    // No tenant URL may aim at the pod's own ports or sidecars over plain http (ADR 0217).
    expect(pod.containers[0]!.args).to.include('--outbound-https-only');
    // Nor at any address that is not public: a pool's tenants are other teams' (ADR 0219).
    expect(pod.containers[0]!.args).to.include('--outbound-public-only');
    // spec.builtTenants as the pool process's flags, max from the CRD's default.
    const args = pod.containers[0]!.args!;
    expect(args.slice(args.indexOf('--tenant-idle-seconds'))).to.include.ordered.members([
      '--tenant-idle-seconds',
      '600',
      '--max-built-tenants',
      '1000',
    ]);
    expect(pod.volumes?.filter((v) => v.secret).map((v) => v.secret!.secretName)).to.deep.equal([
      'shared-redis',
    ]);
    const portal = (await get<V1Deployment>(KINDS.deployment, pools, 'shared-portal'))!;
    expect(portal.spec!.replicas).to.equal(2);
    // The pool's upload spool (ADR 0165), the CRD's default: the process's bound and its /tmp from one number.
    const portalPod = portal.spec!.template.spec!;
    const portalArgs = portalPod.containers[0]!.args!;
    expect(portalArgs.slice(portalArgs.indexOf('--upload-spool-mib'))).to.include.ordered.members([
      '--upload-spool-mib',
      '1024',
    ]);
    expect(portalPod.volumes!.find((v) => v.name === 'tmp')!.emptyDir!.sizeLimit).to.equal('1088Mi');
    expect(portalPod.containers[0]!.resources!.requests!).to.not.have.property('ephemeral-storage');
    expect(pod.containers[0]!.args).to.not.include('--upload-spool-mib');
    const role = await get<V1Role>(KINDS.role, pools, 'shared-pool');
    expect(role!.rules).to.deep.equal([
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
    ]);

    // What the API server's RBAC actually grants the pool's ServiceAccount.
    const may = async (namespace: string, verb: string, resource: string) => {
      const review = await env.client.create<{ status: { allowed: boolean } }>(
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: `system:serviceaccount:${pools}:shared-pool`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${pools}`, 'system:authenticated'],
            resourceAttributes: { namespace, verb, resource },
          },
        },
      );
      return review.status.allowed;
    };
    expect(await may(pools, 'watch', 'secrets')).to.equal(true);
    expect(await may(pools, 'list', 'secrets')).to.equal(true);
    expect(await may(tenants, 'get', 'secrets')).to.equal(false);
    expect(await may(pools, 'update', 'secrets')).to.equal(false);
    expect(await may(pools, 'list', 'configmaps')).to.equal(false);
  });

  it("projects only the keys a pooled tenant's spec references into the pool's namespace, with its Ingress to the pool's Services", async () => {
    // A key and a Secret nobody references: they must stay where they are.
    await env.client.create(
      collectionPath(KINDS.secret, tenants),
      secretObject(tenants, 'unrelated', { password: 'not-for-the-pool' }),
    );
    await env.client.create(
      collectionPath(KINDS.secret, tenants),
      secretObject(tenants, 'acme-oidc', { clientSecret: 'oidc-secret', extra: 'not-referenced' }),
    );
    await env.client.create(
      collectionPath(KINDS.secret, tenants),
      secretObject(tenants, 'acme-atlassian', { email: 'svc@acme.example', apiToken: 'token' }),
    );
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, 'acme', {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
        ingress: { className: 'nginx' },
      }),
    );
    const tenant = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'acme');
      return condition(t, 'Applied')?.status === 'True' && condition(t, 'PoolReady') ? t : undefined;
    }, 'tenant acme placed in the pool');
    expect(tenant.status?.placement).to.equal(`pool ${pools}/shared`);
    expect(condition(tenant, 'PoolReady')).to.include({ status: 'False', reason: 'PoolNotReady' });
    expect(condition(tenant, 'BrokerAvailable')).to.equal(undefined);
    expect(tenant.metadata.finalizers).to.include(POOL_FINALIZER);

    const projection = await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'acme'));
    const data = decoded(projection);
    expect(Object.keys(data).sort()).to.deep.equal(
      [
        'tenant.yaml',
        'acme-oidc_clientSecret',
        'acme-atlassian_email',
        'acme-atlassian_apiToken',
        'acme-broker-signing_tls.crt',
        'acme-broker-signing_tls.key',
        'acme-portal-signing_tls.crt',
        'acme-portal-signing_tls.key',
      ].sort(),
    );
    expect(data['acme-oidc_clientSecret']).to.equal('oidc-secret');
    expect(JSON.stringify(data)).to.not.include('not-referenced').and.not.include('not-for-the-pool');
    const signing = decoded(await get<SecretLike>(KINDS.secret, tenants, 'acme-broker-signing'));
    expect(data['acme-broker-signing_tls.key']).to.equal(signing['tls.key']);
    const document = parse(data['tenant.yaml']!);
    expect(document.metadata).to.deep.equal({ name: 'acme', namespace: tenants });
    expect(document.spec.portal.url).to.equal('https://help.acme.example');
    expect(projection!.metadata.labels).to.include({
      'jsm-sso.io/pool': 'shared',
      'jsm-sso.io/tenant-namespace': tenants,
      'jsm-sso.io/tenant-name': 'acme',
      'jsm-sso.io/tenant-uid': tenant.metadata.uid,
    });

    const ingress = await get<V1Ingress>(KINDS.ingress, pools, placedNameOf(tenants, 'acme'));
    const backends = ingress!.spec!.rules!.map((r) => [r.host, r.http!.paths[0]!.backend.service!.name]);
    expect(backends).to.deep.equal([
      ['help.acme.example', 'shared-portal'],
      ['sso.acme.example', 'shared-broker'],
    ]);
    // No workloads of its own.
    for (const kind of [KINDS.deployment, KINDS.service, KINDS.configMap, KINDS.ingress]) {
      const own = (await env.client.list<KubeObject>(collectionPath(kind, tenants))).items;
      expect(
        own.map((o) => o.metadata.name),
        kind.kind,
      ).to.deep.equal([]);
    }
    await eventually(
      async () => (await get<Status>(KINDS.pool, pools, 'shared'))?.status?.tenantCount === 1,
      'the pool to count its tenant',
    );
  });

  it('updates the projection when a referenced Secret is rotated, keeping when its hosts were claimed', async () => {
    const claims = async () =>
      (await get(KINDS.secret, pools, placedNameOf(tenants, 'acme')))?.metadata.annotations?.[
        HOST_CLAIMS_ANNOTATION
      ];
    const claimed = await claims();
    expect(JSON.parse(claimed ?? '{}')).to.have.nested.property('portal.host', 'help.acme.example');
    await env.client.apply(
      objectPath(KINDS.secret, tenants, 'acme-atlassian'),
      secretObject(tenants, 'acme-atlassian', { email: 'svc@acme.example', apiToken: 'rotated-token' }),
      { fieldManager: 'tests' },
    );
    await eventually(
      async () =>
        decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'acme')))[
          'acme-atlassian_apiToken'
        ] === 'rotated-token',
      'the projection to carry the rotated token',
    );
    expect(await claims()).to.equal(claimed);
  });

  it('projects no decryption key the broker would refuse: EncryptionKeyInvalid, the projection left with the last good pair (ADR 0352)', async () => {
    const good = makeKeyPair('pooled-decryption');
    const decryption = (pair: { certPem: string; keyPem: string }) =>
      secretObject(tenants, 'pooledenc-decryption', { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem });
    await env.client.create(collectionPath(KINDS.secret, tenants), decryption(good));
    const broker = {
      ...tenantObject(tenants, 'pooledenc').spec.broker,
      encryptionSecretRef: { name: 'pooledenc-decryption' },
    };
    await pooledTenant('pooledenc', { broker });
    const projectedKey = async () =>
      decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'pooledenc')))[
        'pooledenc-decryption_tls.key'
      ];
    expect(await projectedKey()).to.equal(good.keyPem);
    /** Puts `pair` in the decryption Secret and waits for the tenant's ConfigValid to read `reason`. */
    const judged = async (pair: { certPem: string; keyPem: string }, reason: string) => {
      await env.client.apply(objectPath(KINDS.secret, tenants, 'pooledenc-decryption'), decryption(pair), {
        fieldManager: 'tests',
      });
      await eventually(async () => {
        const t = await get<Status>(KINDS.tenant, tenants, 'pooledenc');
        return condition(t, 'ConfigValid')?.reason === reason ? t : undefined;
      }, `ConfigValid ${reason} on the pooled tenant`);
    };
    await judged(makeKeyPair('pooled-decryption', 'ec'), 'EncryptionKeyInvalid');
    // The pool's brokers would refuse the tenant at its reload: the projection keeps the good pair.
    expect(await projectedKey()).to.equal(good.keyPem);
    await judged(good, 'Valid');
  });

  it('projects no signing pair the parts would refuse: SigningKeyInvalid, the projection left with the last good pair (ADR 0354)', async () => {
    await pooledTenant('pooledsign');
    const projectedCertificate = async () =>
      decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'pooledsign')))[
        'pooledsign-broker-signing_tls.crt'
      ];
    const good = await projectedCertificate();
    expect(good).to.contain('BEGIN CERTIFICATE');
    const renew = (certPem: string) =>
      env.client.request('PATCH', objectPath(KINDS.secret, tenants, 'pooledsign-broker-signing'), {
        body: { stringData: { 'tls.crt': certPem } },
        contentType: 'application/merge-patch+json',
      });
    await renew(makeKeyPair('pooledsign-renewed').certPem);
    const refused = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'pooledsign');
      return condition(t, 'ConfigValid')?.reason === 'SigningKeyInvalid' ? t : undefined;
    }, 'ConfigValid SigningKeyInvalid on the pooled tenant');
    expect(condition(refused, 'ConfigValid')?.message).to.match(
      /^pooledsign-broker-signing\/tls\.key is not the key of pooledsign-broker-signing\/tls\.crt/,
    );
    // The pool's parts would refuse the tenant when they build it: the projection keeps the good pair.
    expect(await projectedCertificate()).to.equal(good);
    await renew(good!);
    await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'pooledsign');
      return condition(t, 'ConfigValid')?.reason === 'Valid' ? t : undefined;
    }, 'ConfigValid Valid once the pair is whole again');
  });

  it('undoes an edit of the projection', async () => {
    await quiet();
    await env.client.request('PATCH', objectPath(KINDS.secret, pools, placedNameOf(tenants, 'acme')), {
      body: { stringData: { 'acme-oidc_clientSecret': 'tampered', injected: 'x' } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(async () => {
      const data = decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'acme')));
      return data['acme-oidc_clientSecret'] === 'oidc-secret' && data['injected'] === undefined;
    }, 'the projection to be restored');
  });

  it("undoes an edit of a pooled tenant's Ingress", async () => {
    await quiet();
    const path = objectPath(KINDS.ingress, pools, placedNameOf(tenants, 'acme'));
    await env.client.request('PATCH', path, {
      body: [{ op: 'replace', path: '/spec/rules/0/host', value: 'evil.example' }],
      contentType: 'application/json-patch+json',
    });
    await eventually(async () => {
      const hosts = (
        await get<V1Ingress>(KINDS.ingress, pools, placedNameOf(tenants, 'acme'))
      )?.spec?.rules?.map((r) => r.host);
      return JSON.stringify(hosts) === JSON.stringify(['help.acme.example', 'sso.acme.example']);
    }, 'the Ingress to be restored');
  });

  /** The operator's writes while it reconciles the pool and its tenant acme again, as a resync does. */
  async function writesOfAResync(): Promise<string[]> {
    await quiet();
    const before = writes.length;
    controller.queue.add(`${tenants}/acme`);
    controller.queue.add(`pool:${pools}/shared`);
    await quiet();
    return writes.slice(before);
  }

  it('writes nothing during an idle resync of pools and pooled tenants', async () => {
    expect(await writesOfAResync()).to.deep.equal([]);
  });

  it('writes nothing during an idle resync when another controller added a condition of its own to a pool and a tenant', async () => {
    // The API conventions let other components add condition types of their own (a policy engine's
    // verdict): the operator's apply leaves them to their manager, and they are no change of ours.
    const foreign = {
      type: 'policy.example.com/Compliant',
      status: 'True',
      reason: 'PoliciesPassed',
      message: 'every policy passed',
      lastTransitionTime: '2026-12-03T12:00:00Z',
    };
    const both = [
      [KINDS.pool, pools, 'shared'],
      [KINDS.tenant, tenants, 'acme'],
    ] as const;
    for (const [kind, namespace, name] of both) {
      const written = await env.client.apply<Status>(
        `${objectPath(kind, namespace, name)}/status`,
        {
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          metadata: { name, namespace },
          status: { conditions: [foreign] },
        },
        { fieldManager: 'policy-engine' },
      );
      await eventually(
        async () =>
          BigInt(
            (kind === KINDS.pool ? controller.pool(namespace, name) : controller.tenant(namespace, name))
              ?.metadata?.resourceVersion ?? 0,
          ) >= BigInt(written.metadata.resourceVersion ?? 0),
        `the cache to hold the ${kind.kind}'s foreign condition`,
      );
    }
    expect(await writesOfAResync()).to.deep.equal([]);
    for (const [kind, namespace, name] of both)
      expect(condition(await get<Status>(kind, namespace, name), foreign.type), kind.kind).to.include({
        status: 'True',
        reason: 'PoliciesPassed',
      });
  });

  it("caches a pooled tenant without the labels and annotations it never reads (kubectl's last-applied copy); editing them writes nothing", async () => {
    await quiet();
    const before = writes.length;
    const live = await get<Status>(KINDS.tenant, tenants, 'acme');
    const edited = await env.client.request<Status>('PATCH', objectPath(KINDS.tenant, tenants, 'acme'), {
      body: {
        metadata: {
          labels: { team: 'identity' },
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(live) },
        },
      },
      contentType: 'application/merge-patch+json',
    });
    const cached = await eventually(async () => {
      const t = controller.tenant(tenants, 'acme');
      return t?.metadata?.resourceVersion === edited.metadata.resourceVersion ? t : undefined;
    }, 'the cache to hold the edited tenant');
    expect(Object.keys(cached.metadata ?? {}).sort()).to.deep.equal([
      'finalizers',
      'generation',
      'name',
      'namespace',
      'resourceVersion',
      'uid',
    ]);
    expect(cached.spec).to.deep.equal(live?.['spec']);
    expect(cached.status).to.deep.equal(live?.status);
    await quiet();
    expect(writes.slice(before)).to.deep.equal([]);
  });

  it("never takes over a Secret of the projection's name that it did not make", async () => {
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, placedNameOf(tenants, 'squatter'), { owner: 'another-team' }),
    );
    await createTenantSecrets(env.client, tenants, 'squatter');
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, 'squatter', {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
      }),
    );
    const tenant = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'squatter');
      return condition(t, 'Applied')?.status === 'False' ? t : undefined;
    }, 'Applied=False on the squatted tenant');
    expect(condition(tenant, 'Applied')?.reason).to.equal('ObjectConflict');
    expect(condition(tenant, 'Applied')?.message).to.include(
      `Secret ${pools}/${placedNameOf(tenants, 'squatter')}`,
    );
    const theirs = await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'squatter'));
    expect(decoded(theirs)).to.deep.equal({ owner: 'another-team' });
    expect(theirs!.metadata.labels).to.equal(undefined);
    // Deleting the tenant leaves the other team's Secret alone.
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'squatter'));
    await eventually(async () => !(await get(KINDS.tenant, tenants, 'squatter')), 'the tenant to go');
    expect(
      decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'squatter'))),
    ).to.deep.equal({
      owner: 'another-team',
    });
  });

  it("moves a tenant from dedicated to pool and back, removing the other placement's objects each time", async () => {
    await createTenantSecrets(env.client, tenants, 'mover');
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, 'mover', { ingress: { className: 'nginx' } }),
    );
    await eventually(async () => get(KINDS.deployment, tenants, 'mover-broker'), 'dedicated Deployments');
    // The operator writes the tenant's status meanwhile: a PUT of what was read may answer 409
    // Conflict (a newer resourceVersion), so read again and retry, as any client of the API would.
    const moved = (placement: Record<string, unknown>) =>
      eventually(async () => {
        const live = await get<KubeObject & { spec: Record<string, unknown> }>(
          KINDS.tenant,
          tenants,
          'mover',
        );
        try {
          await env.client.request('PUT', objectPath(KINDS.tenant, tenants, 'mover'), {
            body: { ...live, spec: { ...live!.spec, placement } },
          });
          return true;
        } catch (err) {
          if (isConflict(err)) return false;
          throw err;
        }
      }, `the placement change to ${placement['mode']}`);
    await moved({ mode: 'pool', pool: { name: 'shared', namespace: pools } });
    await eventually(async () => get(KINDS.secret, pools, placedNameOf(tenants, 'mover')), 'the projection');
    await eventually(async () => {
      for (const [kind, name] of [
        [KINDS.deployment, 'mover-broker'],
        [KINDS.deployment, 'mover-portal'],
        [KINDS.service, 'mover-portal'],
        [KINDS.configMap, 'mover-config'],
        [KINDS.ingress, 'mover-ingress'],
      ] as const)
        if (await get(kind, tenants, name)) return false;
      return true;
    }, 'the dedicated workloads to be removed');
    expect(await get(KINDS.ingress, pools, placedNameOf(tenants, 'mover'))).to.not.equal(undefined);

    await moved({ mode: 'dedicated' });
    await eventually(
      async () => get(KINDS.deployment, tenants, 'mover-broker'),
      'dedicated Deployments again',
    );
    await eventually(
      async () =>
        !(await get(KINDS.secret, pools, placedNameOf(tenants, 'mover'))) &&
        !(await get(KINDS.ingress, pools, placedNameOf(tenants, 'mover'))),
      "the pool namespace's objects of the tenant to be removed",
    );
    const tenant = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'mover');
      return t?.status?.placement === 'dedicated' && !t.metadata.finalizers?.length ? t : undefined;
    }, 'status dedicated and the finalizer released');
    expect(condition(tenant, 'PoolReady')).to.equal(undefined);
  });

  it("removes a deleted pooled tenant's projection and Ingress from the pool's namespace (finalizer)", async () => {
    await pooledTenant('gone', { ingress: { className: 'nginx' } });
    await eventually(async () => get(KINDS.ingress, pools, placedNameOf(tenants, 'gone')), 'the Ingress');
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'gone'));
    await eventually(async () => !(await get(KINDS.tenant, tenants, 'gone')), 'the tenant to be deleted');
    expect(await get(KINDS.secret, pools, placedNameOf(tenants, 'gone'))).to.equal(undefined);
    expect(await get(KINDS.ingress, pools, placedNameOf(tenants, 'gone'))).to.equal(undefined);
  });

  it('removes projections whose tenant is gone without its finalizer (removed by hand)', async () => {
    await pooledTenant('forced');
    await quiet();
    await env.client.request('PATCH', objectPath(KINDS.tenant, tenants, 'forced'), {
      body: [{ op: 'remove', path: '/metadata/finalizers' }],
      contentType: 'application/json-patch+json',
    });
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'forced'));
    await eventually(
      async () => !(await get(KINDS.secret, pools, placedNameOf(tenants, 'forced'))),
      'the orphaned projection to be removed by the pool',
    );
  });

  it('refuses at admission a pool of several replicas without Redis, and documents both kinds for kubectl explain', async () => {
    const refusal = await env.client
      .create(
        collectionPath(KINDS.pool, pools),
        {
          apiVersion: 'jsm-sso.io/v1alpha1',
          kind: 'JsmSsoPool',
          metadata: { name: 'memory', namespace: pools },
          spec: { portal: { replicas: 2 } },
        },
        { dryRun: 'All' },
      )
      .then(
        () => 'admitted',
        (error: Error) => error.message,
      );
    expect(refusal).to.include('spec.redis').and.include('only one replica');
    // What kubectl explain reads: the published OpenAPI v3 schema with its descriptions.
    const published = await env.client.get<{
      components: {
        schemas: Record<
          string,
          {
            properties?: Record<
              string,
              { description?: string; properties?: Record<string, { description?: string }> }
            >;
          }
        >;
      };
    }>('/openapi/v3/apis/jsm-sso.io/v1alpha1');
    const schemas = published!.components.schemas;
    const pool = Object.entries(schemas).find(([name]) => name.endsWith('.JsmSsoPool'))![1];
    expect(pool.properties!['spec']!.properties!['redis']!.description).to.include('flow and session state');
    const tenant = Object.entries(schemas).find(([name]) => name.endsWith('.JsmSsoTenant'))![1];
    expect(tenant.properties!['spec']!.properties!['placement']!.description).to.include('dedicated');
  });

  it("admits only CIDRs in spec.egress.allowedNetworks, passes them to the pool's pods, and applies nothing of a pool with one the schema cannot judge (SpecInvalid)", async () => {
    const poolWith = (name: string, allowedNetworks: string[]) => ({
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name, namespace: pools },
      spec: { egress: { allowedNetworks } },
    });
    for (const entry of [
      '10.0.0.0',
      '10.0.0.256/24',
      '10.0.0.0/33',
      'idp.example/8',
      'fd00::/129',
      '10.0.0.0/8,10.1.0.0/16',
    ]) {
      const refusal = await env.client
        .create(collectionPath(KINDS.pool, pools), poolWith('refused', [entry]), { dryRun: 'All' })
        .then(
          () => 'admitted',
          (error: Error) => error.message,
        );
      expect(refusal, entry).to.include('spec.egress.allowedNetworks');
    }
    await env.client.create(
      collectionPath(KINDS.pool, pools),
      poolWith('peered', ['10.20.0.0/16', 'fd00:1::/64']),
    );
    const deployment = await eventually(
      async () => get<V1Deployment>(KINDS.deployment, pools, 'peered-portal'),
      'the pool with allowed networks to be applied',
    );
    const args = deployment.spec!.template.spec!.containers[0]!.args!;
    expect(args.slice(args.indexOf('--outbound-public-only'))).to.include.ordered.members([
      '--outbound-public-only',
      '--outbound-allowed-networks',
      '10.20.0.0/16,fd00:1::/64',
    ]);
    // Through the pattern, not a network: the pods would refuse it at start and crash-loop.
    await env.client.create(collectionPath(KINDS.pool, pools), poolWith('malformed', ['fd00:::1/64']));
    const malformed = await eventually(async () => {
      const p = await get<Status>(KINDS.pool, pools, 'malformed');
      return condition(p, 'Applied')?.status === 'False' ? p : undefined;
    }, 'Applied=False on the pool');
    expect(condition(malformed, 'Applied')).to.include({ reason: 'SpecInvalid' });
    expect(condition(malformed, 'Applied')?.message)
      .to.include('spec.egress.allowedNetworks')
      .and.include('fd00:::1/64');
    expect(await get(KINDS.deployment, pools, 'malformed-broker')).to.equal(undefined);
  });

  it('applies nothing of a pool whose Redis Secret is missing, and says so (SecretMissing)', async () => {
    await env.client.create(collectionPath(KINDS.pool, pools), {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'unready', namespace: pools },
      spec: { redis: { urlSecretRef: { name: 'unready-redis' } } },
    });
    const pool = await eventually(async () => {
      const p = await get<Status>(KINDS.pool, pools, 'unready');
      return condition(p, 'Applied')?.status === 'False' ? p : undefined;
    }, 'Applied=False on the pool');
    expect(condition(pool, 'Applied')).to.include({ reason: 'SecretMissing' });
    expect(condition(pool, 'Applied')?.message).to.include(
      `create Secret unready-redis in namespace ${pools}`,
    );
    expect(await get(KINDS.deployment, pools, 'unready-broker')).to.equal(undefined);
    // Creating the Secret heals it without an edit of the pool.
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, 'unready-redis', { url: 'rediss://redis.pools.svc:6379' }),
    );
    await eventually(async () => get(KINDS.deployment, pools, 'unready-broker'), 'the pool to be applied');
  });

  it("mounts the pool's Redis client certificate into both Deployments, and says SecretMissing / SecretKeyMissing as for a dedicated tenant until it is complete", async () => {
    await env.client.create(collectionPath(KINDS.pool, pools), {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoPool',
      metadata: { name: 'mtls', namespace: pools },
      spec: {
        redis: {
          urlSecretRef: { name: 'mtls-redis' },
          caBundleSecretRef: { name: 'mtls-redis-ca' },
          clientCertSecretRef: { name: 'mtls-redis-client' },
        },
      },
    });
    // The pool's Applied condition once it says `reason` with `words` in its message.
    const applied = async (reason: string, words: string) =>
      eventually(async () => {
        const c = condition(await get<Status>(KINDS.pool, pools, 'mtls'), 'Applied');
        return c?.reason === reason && c.message.includes(words) ? c : undefined;
      }, `Applied reason ${reason} saying ${words}`);
    const secrets = collectionPath(KINDS.secret, pools);
    await env.client.create(
      secrets,
      secretObject(pools, 'mtls-redis', { url: 'rediss://redis.pools.svc:6380' }),
    );
    await env.client.create(secrets, secretObject(pools, 'mtls-redis-ca', { 'ca.crt': 'CA' }));
    await applied('SecretMissing', `create Secret mtls-redis-client in namespace ${pools}`);
    // A client certificate Secret without its key: the key is named, nothing is applied.
    await env.client.create(secrets, secretObject(pools, 'mtls-redis-client', { 'tls.crt': 'CERT' }));
    await applied('SecretKeyMissing', 'mtls-redis-client has no key tls.key');
    expect(await get(KINDS.deployment, pools, 'mtls-broker')).to.equal(undefined);

    await env.client.request('PATCH', objectPath(KINDS.secret, pools, 'mtls-redis-client'), {
      body: { stringData: { 'tls.key': 'KEY' } },
      contentType: 'application/merge-patch+json',
    });
    const file = (secret: string, key: string) => `/var/run/jsm-sso/secrets/${secret}/${key}`;
    for (const part of ['broker', 'portal']) {
      const deployment = await eventually(
        async () => get<V1Deployment>(KINDS.deployment, pools, `mtls-${part}`),
        `the pool's ${part} Deployment`,
      );
      const pod = deployment.spec!.template.spec!;
      const container = pod.containers[0]!;
      const args = container.args ?? [];
      const at = args.indexOf('--redis-client-cert-file');
      expect(args.slice(at, at + 4), part).to.deep.equal([
        '--redis-client-cert-file',
        file('mtls-redis-client', 'tls.crt'),
        '--redis-client-key-file',
        file('mtls-redis-client', 'tls.key'),
      ]);
      const volume = pod.volumes?.find((v) => v.secret?.secretName === 'mtls-redis-client');
      expect(volume?.secret?.items?.map((item) => item.key).sort(), part).to.deep.equal([
        'tls.crt',
        'tls.key',
      ]);
      const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
      expect(mount, part).to.include({
        mountPath: '/var/run/jsm-sso/secrets/mtls-redis-client',
        readOnly: true,
      });
    }
    await applied('ObjectsApplied', 'every owned object');
  });

  /** A tenant in pool `pool` whose broker names its listener certificate, Secret `<name>-tls` with `data`. */
  async function tenantWithListenerTls(
    name: string,
    pool: string,
    data: Record<string, string>,
  ): Promise<void> {
    await createTenantSecrets(env.client, tenants, name);
    await env.client.create(
      collectionPath(KINDS.secret, tenants),
      secretObject(tenants, `${name}-tls`, data),
    );
    const base = tenantObject(tenants, name);
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, name, {
        placement: { mode: 'pool', pool: { name: pool, namespace: pools } },
        broker: { ...base.spec.broker, tlsSecretRef: { name: `${name}-tls` } },
        ingress: { className: 'nginx' },
      }),
    );
  }

  it("serves HTTPS from a pool part with spec.<part>.tls: --tenant-tls, the default certificate mounted, the Service on https, and a pooled tenant's tlsSecretRef admitted and projected", async () => {
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      secretObject(pools, 'sni-wildcard', { 'tls.crt': 'CERT', 'tls.key': 'KEY' }),
    );
    await createPool(env.client, pools, 'sni', {
      broker: { tls: { defaultSecretRef: { name: 'sni-wildcard' } } },
      portal: { tls: {} },
    });
    const file = (key: string) => `/var/run/jsm-sso/secrets/sni-wildcard/${key}`;
    const broker = await eventually(
      async () => get<V1Deployment>(KINDS.deployment, pools, 'sni-broker'),
      "the pool's broker Deployment",
    );
    const brokerPod = broker.spec!.template.spec!;
    const args = brokerPod.containers[0]!.args ?? [];
    expect(args.slice(args.indexOf('--tenant-tls'))).to.deep.equal([
      '--tenant-tls',
      '--tls-cert',
      file('tls.crt'),
      '--tls-key',
      file('tls.key'),
    ]);
    expect(brokerPod.volumes?.some((v) => v.secret?.secretName === 'sni-wildcard')).to.equal(true);
    const portal = await eventually(
      async () => get<V1Deployment>(KINDS.deployment, pools, 'sni-portal'),
      "the pool's portal Deployment",
    );
    const portalPod = portal.spec!.template.spec!;
    expect(portalPod.containers[0]!.args).to.include('--tenant-tls').and.not.include('--tls-cert');
    expect(portalPod.volumes?.some((v) => v.secret?.secretName === 'sni-wildcard')).to.equal(false);
    for (const part of ['broker', 'portal']) {
      // Applied after the Deployments, which is all the waits above guarantee.
      const service = await eventually(
        async () =>
          get<{ spec: { ports: { name: string; port: number }[] } }>(KINDS.service, pools, `sni-${part}`),
        `the pool's ${part} Service`,
      );
      expect(
        service.spec.ports.map((p) => `${p.name}:${p.port}`),
        part,
      ).to.include('https:443');
    }

    // A pooled tenant may now name its own listener certificate: it is projected with its other keys.
    await tenantWithListenerTls('sni-tenant', 'sni', {
      'tls.crt': 'TENANT-CERT',
      'tls.key': 'TENANT-KEY',
      other: 'x',
    });
    const projection = await eventually(
      async () => get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'sni-tenant')),
      'the projection of the TLS tenant',
    );
    const data = decoded(projection);
    expect(data['sni-tenant-tls_tls.crt']).to.equal('TENANT-CERT');
    expect(data['sni-tenant-tls_tls.key']).to.equal('TENANT-KEY');
    expect(data['sni-tenant-tls_other']).to.equal(undefined);
    // Its Ingress reaches the pool's https port.
    const ingress = await eventually(
      async () => get<V1Ingress>(KINDS.ingress, pools, placedNameOf(tenants, 'sni-tenant')),
      'the Ingress of the TLS tenant',
    );
    const ports = ingress.spec!.rules!.flatMap((r) =>
      r.http!.paths.map((p) => p.backend.service!.port!.name),
    );
    expect(ports).to.deep.equal(['https', 'https']);

    // In a pool part that does not serve TLS, the tenant's listener key is not copied, and PoolReady says so.
    await tenantWithListenerTls('plain-tls', 'shared', { 'tls.crt': 'PLAIN-CERT', 'tls.key': 'PLAIN-KEY' });
    const noted = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'plain-tls');
      return condition(t, 'PoolReady')?.message.includes('not served')
        ? condition(t, 'PoolReady')
        : undefined;
    }, 'PoolReady noting the certificate not served');
    expect(noted.message).to.include('spec.broker.tlsSecretRef not served: the pool has no spec.broker.tls');
    const plainProjection = decoded(
      await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'plain-tls')),
    );
    expect(plainProjection['plain-tls-broker-signing_tls.crt']).to.not.equal(undefined);
    expect(Object.keys(plainProjection).filter((key) => key.startsWith('plain-tls-tls_'))).to.deep.equal([]);

    // The pool's broker starts serving TLS: the tenant's pair follows into its projection, the note goes.
    await env.client.request('PATCH', objectPath(KINDS.pool, pools, 'shared'), {
      body: { spec: { broker: { tls: {} } } },
      contentType: 'application/merge-patch+json',
    });
    await eventually(async () => {
      const data = decoded(await get<SecretLike>(KINDS.secret, pools, placedNameOf(tenants, 'plain-tls')));
      return data['plain-tls-tls_tls.key'] === 'PLAIN-KEY';
    }, 'the pair projected once the pool serves TLS');
    await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'plain-tls');
      return condition(t, 'PoolReady')?.message.includes('not served') === false;
    }, 'the note gone from PoolReady');
  });

  it('says PoolNotFound for a tenant placed in a pool that does not exist, and writes nothing there', async () => {
    await createTenantSecrets(env.client, tenants, 'lost');
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, 'lost', {
        placement: { mode: 'pool', pool: { name: 'nowhere', namespace: pools } },
      }),
    );
    const tenant = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'lost');
      return condition(t, 'PoolReady')?.reason === 'PoolNotFound' ? t : undefined;
    }, 'PoolNotFound');
    expect(condition(tenant, 'Ready')).to.include({ status: 'False', reason: 'PoolNotFound' });
    expect(condition(tenant, 'PoolReady')?.message).to.include('does not exist');
    expect(await get(KINDS.secret, pools, placedNameOf(tenants, 'lost'))).to.equal(undefined);
    // A pool in a namespace the operator does not watch: the message says so, not "does not exist".
    const live = await get<KubeObject & { spec: Record<string, unknown> }>(KINDS.tenant, tenants, 'lost');
    await env.client.request('PUT', objectPath(KINDS.tenant, tenants, 'lost'), {
      body: {
        ...live,
        spec: {
          ...live!.spec,
          placement: { mode: 'pool', pool: { name: 'shared', namespace: 'unwatched' } },
        },
      },
    });
    await eventually(
      async () =>
        condition(await get<Status>(KINDS.tenant, tenants, 'lost'), 'PoolReady')?.message.includes(
          'does not watch namespace unwatched',
        ),
      'the unwatched namespace named',
    );
  });

  it('checks no pool for a pooled tenant whose configuration is invalid: PoolReady Unknown, PoolNotChecked', async () => {
    // No Secrets: ConfigValid is False (SecretMissing), so nothing is placed.
    await env.client.create(
      collectionPath(KINDS.tenant, tenants),
      tenantObject(tenants, 'unchecked', {
        placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
      }),
    );
    const refused = await eventually(async () => {
      const t = await get<Status>(KINDS.tenant, tenants, 'unchecked');
      return condition(t, 'PoolReady') ? t : undefined;
    }, 'PoolReady on the invalid pooled tenant');
    expect(condition(refused, 'ConfigValid')).to.include({ status: 'False', reason: 'SecretMissing' });
    expect(condition(refused, 'PoolReady')).to.include({ status: 'Unknown', reason: 'PoolNotChecked' });
    await env.client.delete(objectPath(KINDS.tenant, tenants, 'unchecked'));
  });
});
