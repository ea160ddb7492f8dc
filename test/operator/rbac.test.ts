import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../common/kube/client.js';
import { packageRoot } from '../../common/paths.js';
import type { Controller } from '../../operator/controller.js';
import { loadHashKey } from '../../operator/hash-key.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { LeaderElector } from '../../operator/leader.js';
import { PURGE_FINALIZER } from '../../operator/redis-purge.js';
import { POOL_FINALIZER, placedNameOf } from '../../operator/resources/projection.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import {
  clientFor,
  type Envtest,
  eventually,
  freshNamespace,
  installCrd,
  separateEnvtest,
} from '../../testkit/envtest.js';
import { endJob } from '../../testkit/job-status.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { RacingClient } from '../../testkit/racing-client.js';
import { createPool, createTenantSecrets, secretObject, tenantObject } from '../../testkit/tenants.js';

/**
 * The chart's RBAC against a real API server: what `kubectl auth can-i --list` says the operator's
 * ServiceAccount may do is exactly the set below (nothing more: no update where server-side apply
 * patches, no wildcard, Secrets cluster-wide only without watchNamespaces), and the operator, run
 * with that ServiceAccount's own token, does all its work with it (ADR 0146), a write met by a
 * conflict and read again included (ADR 0258).
 */

/** Verbs per resource the operator calls in a namespace holding tenants or pools. */
const OWNED = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
const TENANT_GRANTS: Record<string, string[]> = {
  'jsmssotenants.jsm-sso.io': ['get', 'list', 'watch', 'patch'],
  'jsmssopools.jsm-sso.io': ['get', 'list', 'watch'],
  'jsmssotenants.jsm-sso.io/status': ['patch'],
  'jsmssopools.jsm-sso.io/status': ['patch'],
  // blockOwnerDeletion on owned objects, under OwnerReferencesPermissionEnforcement.
  'jsmssotenants.jsm-sso.io/finalizers': ['update'],
  'jsmssopools.jsm-sso.io/finalizers': ['update'],
  'deployments.apps': OWNED,
  services: OWNED,
  configmaps: OWNED,
  serviceaccounts: OWNED,
  'roles.rbac.authorization.k8s.io': OWNED,
  'rolebindings.rbac.authorization.k8s.io': OWNED,
  'ingresses.networking.k8s.io': OWNED,
  'networkpolicies.networking.k8s.io': OWNED,
  'poddisruptionbudgets.policy': OWNED,
  'horizontalpodautoscalers.autoscaling': OWNED,
  // Read as metadata; created for generated signing keys; update, patch (the deletion mark, ADR 0390)
  // and delete for pool projections.
  secrets: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  'events.events.k8s.io': ['create', 'patch'],
  // A deleted tenant's Redis purge Job (spec.redis.purgeOnDeletion, ADR 0427): no list or watch, it is polled.
  'jobs.batch': ['get', 'create', 'delete'],
};
/**
 * Cluster-wide in both modes: the namespaces' labels, for a pool that takes the tenants of the
 * namespaces a selector matches (ADR 0213). `can-i --list` shows it in every namespace.
 */
const NAMESPACE_GRANTS: Record<string, string[]> = { namespaces: ['list', 'watch'] };
/**
 * In the release namespace only: the leader election Lease, named after the release's fullname
 * (`--leader-election-id`). Create cannot be limited by name; reading and renewing can, so another
 * controller's Lease in that namespace is not the operator's to take.
 */
const leaseGrants = (fullname: string): Record<string, string[]> => ({
  'leases.coordination.k8s.io': ['create'],
  [`leases.coordination.k8s.io [${fullname}]`]: ['get', 'update'],
});
/** In the release namespace only: the key Secret values are hashed under (`--hash-key-secret`, ADR 0315). */
const hashKeyGrants = (fullname: string): Record<string, string[]> => ({
  secrets: ['create'],
  [`secrets [${fullname}-hash-key]`]: ['get'],
});

describe("the chart's RBAC: exactly what the operator needs", function () {
  this.timeout(180_000);
  let env: Envtest & { stop(): void };
  let release: string;
  let tenants: string;
  let pools: string;
  let elsewhere: string;
  let dir: string;
  const clusterWide = `jsm-sso-rbac-${process.pid}`;
  const namespaced = `jsm-sso-rbac-ns-${process.pid}`;
  const kubectl = (...args: string[]) =>
    execFileSync(join(env.toolsDir, 'kubectl'), ['--kubeconfig', env.kubeconfigPath, ...args], {
      encoding: 'utf8',
    });

  before(async () => {
    // Its own API server with OwnerReferencesPermissionEnforcement (off by default, on in OpenShift
    // and hardened clusters): an ownerReference with blockOwnerDeletion, which every owned object
    // carries, then needs update on the owner's finalizers.
    env = separateEnvtest(['--enable-admission-plugins=OwnerReferencesPermissionEnforcement']);
    await installCrd(env.client);
    release = await freshNamespace(env.client, 'rbac');
    tenants = await freshNamespace(env.client, 'rbac-t');
    pools = await freshNamespace(env.client, 'rbac-p');
    elsewhere = await freshNamespace(env.client, 'rbac-x');
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-rbac-'));
    await install(render(clusterWide));
    await install(render(namespaced, `watchNamespaces={${tenants},${pools}}`));
    // The authorizer learns of new RBAC objects through its own watch, a moment after they are
    // stored: the checks below start once both installs' last bindings are in effect.
    await eventually(
      async () =>
        can(clusterWide, 'create', 'leases', '-n', release) &&
        can(namespaced, 'create', 'leases', '-n', release) &&
        can(namespaced, 'list', 'jsmssotenants', '-n', pools),
      "the chart's roles in effect",
    );
  });

  after(async () => {
    for (const kind of ['clusterroles', 'clusterrolebindings'])
      for (const name of [clusterWide, `${clusterWide}-namespaces`, `${namespaced}-namespaces`])
        await env.client.delete(`/apis/rbac.authorization.k8s.io/v1/${kind}/${name}`);
    rmSync(dir, { recursive: true, force: true });
    env?.stop();
  });

  /** The chart's ServiceAccount and RBAC objects, the release named `fullname`. */
  function render(fullname: string, ...set: string[]): KubeObject[] {
    const out = execFileSync(
      join(env.toolsDir, 'helm'),
      [
        'template',
        'jsm-sso',
        join(packageRoot(), 'charts/jsm-sso'),
        '--namespace',
        release,
        '--set',
        `fullnameOverride=${fullname}`,
        ...set.flatMap((s) => ['--set', s]),
      ],
      { encoding: 'utf8' },
    );
    return parseAllDocuments(out)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null)
      .filter((o) =>
        ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind!),
      );
  }

  async function install(objects: KubeObject[]): Promise<void> {
    for (const o of objects) {
      const ns = o.metadata.namespace ?? release;
      const path =
        o.kind === 'ServiceAccount'
          ? objectPath(KINDS.serviceAccount, ns, o.metadata.name!)
          : o.kind!.startsWith('Cluster')
            ? `/apis/rbac.authorization.k8s.io/v1/${o.kind!.toLowerCase()}s/${o.metadata.name}`
            : `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${o.kind!.toLowerCase()}s/${o.metadata.name}`;
      await env.client.apply(path, o, { fieldManager: 'rbac-test', force: true });
    }
  }

  /**
   * `kubectl auth can-i --list` for a ServiceAccount of the release namespace, as resource → verbs;
   * a grant limited to resource names is keyed `<resource> [<names>]`.
   */
  function canList(serviceAccount: string, namespace: string): Map<string, string[]> {
    const out = kubectl(
      'auth',
      'can-i',
      '--list',
      '--no-headers',
      `--as=system:serviceaccount:${release}:${serviceAccount}`,
      '-n',
      namespace,
    );
    const grants = new Map<string, string[]>();
    for (const line of out.split('\n')) {
      const match = /^(\S+)\s+\[.*?\]\s+\[(.*?)\]\s+\[(.*)\]\s*$/.exec(line);
      if (match)
        grants.set(
          match[2] ? `${match[1]} [${match[2]}]` : match[1]!,
          match[3]!.split(' ').filter(Boolean).sort(),
        );
    }
    return grants;
  }

  /** What the chart grants the ServiceAccount in `namespace`: its list less that of one nobody bound. */
  function chartGrants(serviceAccount: string, namespace: string): Record<string, string[]> {
    const everyone = canList('nobody-bound-this', namespace);
    const granted: Record<string, string[]> = {};
    for (const [resource, verbs] of canList(serviceAccount, namespace)) {
      const extra = verbs.filter((v) => !everyone.get(resource)?.includes(v));
      if (extra.length > 0) granted[resource] = extra;
    }
    return granted;
  }

  const sorted = (grants: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(grants).map(([r, v]) => [r, [...v].sort()]));

  /** `kubectl auth can-i` for the ServiceAccount: it answers yes (exit 0) or no (exit 1). */
  const can = (serviceAccount: string, ...args: string[]) => {
    const run = spawnSync(
      join(env.toolsDir, 'kubectl'),
      [
        '--kubeconfig',
        env.kubeconfigPath,
        'auth',
        'can-i',
        ...args,
        `--as=system:serviceaccount:${release}:${serviceAccount}`,
      ],
      { encoding: 'utf8' },
    );
    if (run.stdout.trim() !== (run.status === 0 ? 'yes' : 'no')) throw new Error(`kubectl: ${run.stderr}`);
    return run.status === 0;
  };

  it('grants exactly the listed verbs in every namespace by default, the Lease only in the release namespace, and no wildcard', () => {
    expect(chartGrants(clusterWide, tenants)).to.deep.equal(
      sorted({ ...TENANT_GRANTS, ...NAMESPACE_GRANTS }),
    );
    expect(chartGrants(clusterWide, release)).to.deep.equal(
      // TENANT_GRANTS' secrets (every verb) includes the key's create.
      sorted({
        ...hashKeyGrants(clusterWide),
        ...TENANT_GRANTS,
        ...NAMESPACE_GRANTS,
        ...leaseGrants(clusterWide),
      }),
    );
    expect(can(clusterWide, '*', '*', '--all-namespaces')).to.equal(false);
    expect(can(clusterWide, 'update', 'deployments', '-n', tenants)).to.equal(false);
    expect(can(clusterWide, 'get', 'pods', '-n', tenants)).to.equal(false);
    // The one cluster-wide read of Secrets, documented (docs/production.md section 1, ADR 0146).
    expect(can(clusterWide, 'list', 'secrets', '--all-namespaces')).to.equal(true);
  });

  it("with watchNamespaces grants them only in those namespaces, and nothing cluster-wide but the namespaces' labels", () => {
    for (const namespace of [tenants, pools])
      expect(chartGrants(namespaced, namespace), namespace).to.deep.equal(
        sorted({ ...TENANT_GRANTS, ...NAMESPACE_GRANTS }),
      );
    expect(chartGrants(namespaced, elsewhere)).to.deep.equal(sorted(NAMESPACE_GRANTS));
    expect(chartGrants(namespaced, release)).to.deep.equal(
      sorted({ ...NAMESPACE_GRANTS, ...leaseGrants(namespaced), ...hashKeyGrants(namespaced) }),
    );
    expect(can(namespaced, 'get', 'namespaces', '--all-namespaces')).to.equal(false);
    expect(can(namespaced, 'list', 'secrets', '--all-namespaces')).to.equal(false);
    expect(can(namespaced, 'list', 'jsmssotenants', '--all-namespaces')).to.equal(false);
  });

  describe('the operator, run with the ServiceAccount token of a watchNamespaces install', () => {
    let client: RacingClient;
    let controller: Controller;
    let hashKey: Buffer;
    const hashKeySecret = () => ({ namespace: release, name: `${namespaced}-hash-key` });
    const captured = capturedLogger({ component: 'operator', level: 'warn' });

    before(async () => {
      const { status } = await env.client.create<{ status: { token: string } }>(
        `/api/v1/namespaces/${release}/serviceaccounts/${namespaced}/token`,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      );
      const kubeconfig = parse(readFileSync(env.kubeconfigPath, 'utf8')) as {
        users: { user: Record<string, unknown> }[];
      };
      kubeconfig.users[0]!.user = { token: status.token };
      const file = join(dir, 'service-account.kubeconfig');
      writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
      // Its writes can be held at a hook (a conflict made on demand); the token is the chart's ServiceAccount's.
      client = new RacingClient(clientFor(file).kubeConfig);
      // As cli.ts does at start, with the chart's --hash-key-secret: created here, by this ServiceAccount.
      hashKey = await loadHashKey(client, hashKeySecret());
      ({ controller } = await startTestController(env, {
        namespace: tenants,
        moreNamespaces: [pools],
        settings: TEST_OPERATOR_SETTINGS,
        instance: 'rbac-test',
        client,
        hashKey,
        logDestination: { write: (line: string) => captured.logs.push(JSON.parse(line)) },
      }));
    });

    after(async () => {
      await controller?.stop();
      client?.close();
    });

    const conditionOf = async (kind: typeof KINDS.tenant, namespace: string, name: string, type: string) => {
      const o = await env.client.get<
        KubeObject & { status?: { conditions?: { type: string; status: string; reason: string }[] } }
      >(objectPath(kind, namespace, name));
      return o?.status?.conditions?.find((c) => c.type === type);
    };

    it('creates its hash key Secret in the release namespace, reads it back, and may read no other Secret there', async () => {
      expect((await loadHashKey(client, hashKeySecret())).equals(hashKey)).to.equal(true);
      expect(can(namespaced, 'get', `secrets/${namespaced}-hash-key`, '-n', release)).to.equal(true);
      expect(can(namespaced, 'get', 'secrets/another-secret', '-n', release)).to.equal(false);
    });

    it("holds its leader Lease in the release namespace, and may not renew another controller's there", async () => {
      // The chart's --leader-election-id is the release's fullname.
      const own = new LeaderElector({
        client,
        namespace: release,
        name: namespaced,
        identity: 'rbac-test-1',
        logger: captured.logger,
      });
      try {
        expect(await own.acquire()).to.equal(true);
      } finally {
        await own.release();
      }
      // Another controller's Lease, expired: a grant on every Lease of the namespace let the
      // operator take it over.
      const other = 'another-controller';
      await env.client.create(`/apis/coordination.k8s.io/v1/namespaces/${release}/leases`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: other, namespace: release },
        spec: {
          holderIdentity: 'another-controller-0',
          leaseDurationSeconds: 1,
          renewTime: '2026-01-01T00:00:00.000000Z',
        },
      });
      expect(can(namespaced, 'update', `leases/${other}`, '-n', release)).to.equal(false);
      expect(can(clusterWide, 'get', `leases/${other}`, '-n', release)).to.equal(false);
      // What the elector would send to take it: read it, then write it back as its holder.
      const path = objectPath(KINDS.lease, release, other);
      const refusal = (request: Promise<unknown>) =>
        request.then(
          () => 'allowed',
          (err: { status?: number }) => err.status,
        );
      expect(await refusal(client.get(path)), 'GET').to.equal(403);
      const lease = await env.client.get<KubeObject>(path);
      expect(await refusal(client.request('PUT', path, { body: lease })), 'PUT').to.equal(403);
    });

    it('reconciles a pool, a dedicated tenant with generated keys, moves it into the pool and deletes it, all without a refusal', async () => {
      await createPool(env.client, pools, 'shared');
      await eventually(
        async () => (await conditionOf(KINDS.pool, pools, 'shared', 'Applied'))?.status === 'True',
        'the pool applied',
      );
      await createTenantSecrets(env.client, tenants, 'acme');
      await env.client.create(collectionPath(KINDS.tenant, tenants), tenantObject(tenants, 'acme'));
      await eventually(
        async () => (await conditionOf(KINDS.tenant, tenants, 'acme', 'Applied'))?.status === 'True',
        'the dedicated tenant applied',
      );
      expect(await env.client.get(objectPath(KINDS.secret, tenants, 'acme-broker-signing'))).to.not.equal(
        undefined,
      );
      await env.client.apply(
        objectPath(KINDS.tenant, tenants, 'acme'),
        {
          apiVersion: KINDS.tenant.apiVersion,
          kind: KINDS.tenant.kind,
          metadata: { name: 'acme', namespace: tenants },
          spec: { placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } } },
        },
        { fieldManager: 'rbac-test' },
      );
      const projection = objectPath(KINDS.secret, pools, placedNameOf(tenants, 'acme'));
      await eventually(async () => {
        const tenant = await env.client.get<KubeObject>(objectPath(KINDS.tenant, tenants, 'acme'));
        return (
          tenant?.metadata.finalizers?.includes(POOL_FINALIZER) &&
          (await env.client.get(projection)) !== undefined &&
          (await env.client.get(objectPath(KINDS.deployment, tenants, 'acme-broker'))) === undefined
        );
      }, 'the tenant placed in the pool, its own Deployments gone');
      await env.client.delete(objectPath(KINDS.tenant, tenants, 'acme'));
      await eventually(
        async () => (await env.client.get(objectPath(KINDS.tenant, tenants, 'acme'))) === undefined,
        'the tenant gone (finalizer released)',
      );
      expect(await env.client.get(projection)).to.equal(undefined);
      const refused = captured.logs.filter((l) => /forbidden|403/i.test(JSON.stringify(l)));
      expect(refused, JSON.stringify(refused)).to.deep.equal([]);
    });

    it("purges a deleted tenant's Redis keys by a Job (spec.redis.purgeOnDeletion): made, read, deleted, without a refusal", async () => {
      await createTenantSecrets(env.client, tenants, 'erased');
      await env.client.create(
        collectionPath(KINDS.secret, tenants),
        secretObject(tenants, 'erased-redis', { url: 'redis://redis.team.svc:6379' }),
      );
      await env.client.create(
        collectionPath(KINDS.tenant, tenants),
        tenantObject(tenants, 'erased', {
          redis: { urlSecretRef: { name: 'erased-redis', key: 'url' }, purgeOnDeletion: true },
        }),
      );
      const tenantPath = objectPath(KINDS.tenant, tenants, 'erased');
      await eventually(
        async () => (await env.client.get(tenantPath))?.metadata.finalizers?.includes(PURGE_FINALIZER.name),
        'the purge finalizer added',
      );
      await env.client.delete(tenantPath);
      const job = objectPath(KINDS.job, tenants, 'erased-redis-purge');
      await eventually(
        async () =>
          (await env.client.get(job)) !== undefined &&
          (await env.client.get(objectPath(KINDS.networkPolicy, tenants, 'erased-redis-purge'))) !==
            undefined,
        'the purge Job and its NetworkPolicy made',
      );
      await endJob(env.client, job, 'Complete');
      await eventually(
        async () =>
          (await env.client.get(tenantPath)) === undefined && (await env.client.get(job)) === undefined,
        'the tenant gone and its Job deleted',
      );
      const refused = captured.logs.filter((l) => /forbidden|403/i.test(JSON.stringify(l)));
      expect(refused, JSON.stringify(refused)).to.deep.equal([]);
    });

    it("writes a tenant's status over a change made since its read, re-reading the tenant with its own grants", async () => {
      await createTenantSecrets(env.client, tenants, 'raced');
      const path = objectPath(KINDS.tenant, tenants, 'raced');
      const before = captured.logs.length;
      // Another field manager labels the tenant between the operator's read and its status write:
      // the write, conditional on the version read, is refused 409 and the tenant is read again.
      const held = client.hold('PATCH', `${path}/status`, async () => {
        await env.client.apply(
          path,
          {
            apiVersion: KINDS.tenant.apiVersion,
            kind: KINDS.tenant.kind,
            metadata: { name: 'raced', namespace: tenants, labels: { 'team.example/touched': 'yes' } },
          },
          { fieldManager: 'another-team' },
        );
      });
      await env.client.create(collectionPath(KINDS.tenant, tenants), tenantObject(tenants, 'raced'));
      expect(await held).to.have.nested.property('refused.status', 409);
      await eventually(
        async () => (await conditionOf(KINDS.tenant, tenants, 'raced', 'Applied'))?.status === 'True',
        'the raced tenant applied',
      );
      const events = await env.client.get<{ items: { reason?: string; note?: string }[] }>(
        collectionPath(KINDS.event, tenants),
      );
      expect(events!.items.filter((e) => e.reason === 'StatusWriteFailed').map((e) => e.note)).to.deep.equal(
        [],
      );
      const refused = captured.logs.slice(before).filter((l) => /forbidden|403/i.test(JSON.stringify(l)));
      expect(refused, JSON.stringify(refused)).to.deep.equal([]);
      await env.client.delete(path);
    });
  });
});
