import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Role } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import type { KubeObject } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { KubeTenantSource, POOL_LABEL } from '../../common/pool/kube-source.js';
import { collectionPath, KINDS, kindByName, objectPath } from '../../operator/kube/kinds.js';
import { desiredPoolObjects, poolContext, poolReaderName } from '../../operator/resources/pool.js';
import { type Envtest, eventually, separateEnvtest } from '../../testkit/envtest.js';
import { TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { TenantRecorder } from '../../testkit/projections.js';
import { secretObject } from '../../testkit/tenants.js';

/**
 * The Role the operator makes for a pool's pods grants exactly the calls a pool process makes, as
 * the API server's audit log records them: a grant no call uses is a grant too many (ADR 0258).
 * The pool process here is the real kube source, acting as the pool's ServiceAccount (the API
 * server's impersonation, so the Role is what authorizes it, as in a pod).
 */
describe("a pool's Role: exactly the calls its pods make", function () {
  this.timeout(120_000);
  let dir: string;
  let auditLog: string;
  let env: Envtest & { stop(): void };
  const namespace = 'pools';
  const pool = {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoPool',
    metadata: { name: 'shared', namespace, uid: 'uid-pool' },
    spec: {},
  } as JsmSsoPool & KubeObject;
  const serviceAccount = `system:serviceaccount:${namespace}:${poolReaderName(pool)}`;
  const objects = desiredPoolObjects(poolContext(pool, TEST_OPERATOR_SETTINGS, {}));
  let source: KubeTenantSource | undefined;

  before(() => {
    // An API server of its own, writing every request's verb and user to its audit log.
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-role-'));
    auditLog = join(dir, 'audit.log');
    writeFileSync(
      join(dir, 'policy.yaml'),
      ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'rules:', '  - level: Metadata', ''].join('\n'),
    );
    env = separateEnvtest([
      `--audit-policy-file=${join(dir, 'policy.yaml')}`,
      `--audit-log-path=${auditLog}`,
    ]);
  });

  after(async () => {
    await source?.close();
    env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The tests' cluster access acting as the pool's ServiceAccount. */
  async function actingAsPool(): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    return {
      getCurrentCluster: () => admin.getCurrentCluster(),
      applyToHTTPSOptions: async (options) => {
        await admin.applyToHTTPSOptions(options);
        options.headers = { ...options.headers, 'Impersonate-User': serviceAccount };
      },
    };
  }

  /** `verb resource` of every request the pool's ServiceAccount made, as the audit log has them. */
  function callsMade(): string[] {
    const calls = new Set<string>();
    for (const line of readFileSync(auditLog, 'utf8').split('\n')) {
      if (!line) continue;
      const event = JSON.parse(line) as {
        verb: string;
        user: { username: string };
        impersonatedUser?: { username: string };
        objectRef?: { resource?: string; namespace?: string };
      };
      if ((event.impersonatedUser ?? event.user).username !== serviceAccount) continue;
      calls.add(`${event.verb} ${event.objectRef?.resource}`);
    }
    return [...calls].sort();
  }

  it('grants get, list or watch on Secrets only as the pool process calls them, and the process reads its tenants with it', async () => {
    await env.client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const rbac = objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind!));
    expect(rbac.map((o) => o.kind)).to.deep.equal(['ServiceAccount', 'Role', 'RoleBinding']);
    for (const o of rbac)
      await env.client.apply(objectPath(kindByName(o.kind!)!, namespace, o.metadata.name!), o, {
        fieldManager: 'pool-role-test',
      });

    const recorder = new TenantRecorder();
    source = new KubeTenantSource({
      access: await actingAsPool(),
      namespace,
      pool: 'shared',
      backoff: { initialMs: 100, maxMs: 500 },
      logger: createLogger({ component: 'pool', level: 'silent' }),
    });
    // The first list (retried until the RBAC authorizer has seen the binding), then the watch
    // delivers a projection made afterwards (not a valid one: delivered as invalid, all the same).
    await source.start(recorder);
    const projection = secretObject(namespace, 'shared-tenant-x', { 'tenant.yaml': 'not: a tenant' });
    await env.client.create(collectionPath(KINDS.secret, namespace), {
      ...projection,
      metadata: { ...projection.metadata, labels: { [POOL_LABEL]: 'shared' } },
    });
    await eventually(async () => recorder.invalids.size === 1, 'the projection delivered by the watch');
    await source.close();
    source = undefined;

    const role = objects.find((o) => o.kind === 'Role') as V1Role & KubeObject;
    expect(role.rules).to.have.length(1);
    const [rule] = role.rules!;
    expect(rule!.resources).to.deep.equal(['secrets']);
    expect(rule!.resourceNames).to.equal(undefined);
    const granted = rule!.verbs.map((verb) => `${verb} secrets`).sort();
    await eventually(async () => callsMade().length >= 2, 'the list and the watch in the audit log');
    expect(callsMade(), 'the calls the pool process made, as granted').to.deep.equal(granted);
  });
});
