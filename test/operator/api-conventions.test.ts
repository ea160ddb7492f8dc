// The Kubernetes API conventions a user meets with kubectl, pinned on a real API server and the real
// kubectl (ADR 0422): `kubectl get <category>`, `kubectl wait --for=condition=Ready` (which reads
// the condition's observedGeneration), a status someone edited put right, and a spec the operator
// never writes. What the other operator tests pin is listed in ADR 0422.
import { expect } from 'chai';
import type { TenantCondition } from '../../common/config/tenant.generated.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { loadHashKey } from '../../operator/hash-key.js';
import { collectionPath, KINDS, objectPath, type ResourceKind } from '../../operator/kube/kinds.js';
import { ROLLED_OUT, reportDeploymentStatus } from '../../testkit/deployment-status.js';
import { type Envtest, envtest, eventually, freshNamespace, runScript } from '../../testkit/envtest.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

type Owner = KubeObject & {
  metadata: {
    generation?: number;
    managedFields?: { manager: string; subresource?: string; fieldsV1?: Record<string, unknown> }[];
  };
  status?: { observedGeneration?: number; conditions?: TenantCondition[]; portalUrl?: string };
};

describe('the API conventions as kubectl meets them (real API server, real kubectl)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let namespace: string;
  let operator: { client: KubeClient; controller: Controller } | undefined;

  async function startOperator(): Promise<void> {
    operator = await startTestController(env, { namespace, instance: 'api-conventions', resyncMs: 1_000 });
  }

  async function stopOperator(): Promise<void> {
    await operator?.controller.stop();
    operator?.client.close();
    operator = undefined;
  }

  const ready = (owner: Owner | undefined) => owner?.status?.conditions?.find((c) => c.type === 'Ready');

  /** Reports the owner's Deployments rolled out until its Ready is True at its current generation. */
  async function readyAtGeneration(kind: ResourceKind, name: string): Promise<Owner> {
    const path = objectPath(kind, namespace, name);
    return eventually(
      async () => {
        for (const part of ['broker', 'portal'])
          await reportDeploymentStatus(env.client, namespace, `${name}-${part}`, ROLLED_DONE, ROLLED_OUT);
        const owner = await env.client.get<Owner>(path);
        const condition = ready(owner);
        return condition?.status === 'True' && condition.observedGeneration === owner?.metadata.generation
          ? owner
          : undefined;
      },
      `${kind.kind} ${name} Ready at its generation`,
      60_000,
    );
  }
  const ROLLED_DONE = { replicas: 1, updatedReplicas: 1, availableReplicas: 1 };

  const kubectl = (args: string) => runScript(env, `kubectl -n ${namespace} ${args}`);

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'conventions');
    await createPool(env.client, namespace, 'shared');
    await createTenantSecrets(env.client, namespace, 'acme');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
    await startOperator();
    await readyAtGeneration(KINDS.tenant, 'acme');
    await readyAtGeneration(KINDS.pool, 'shared');
  });

  after(stopOperator);

  it('lists tenants and pools under their category: kubectl get jsm-sso', () => {
    const listed = kubectl('get jsm-sso -o name');
    expect(listed.stderr).to.equal('');
    expect(listed.stdout.trim().split('\n').sort()).to.deep.equal([
      'jsmssopool.jsm-sso.io/shared',
      'jsmssotenant.jsm-sso.io/acme',
    ]);
  });

  it('passes kubectl wait --for=condition=Ready for a tenant and a pool, and not after a spec change the operator has not observed', async () => {
    for (const [resource, kind, name, change] of [
      ['jsmssotenant', KINDS.tenant, 'acme', { spec: { portal: { title: 'Acme help' } } }],
      ['jsmssopool', KINDS.pool, 'shared', { spec: { keepAliveTimeoutSeconds: 61 } }],
    ] as const) {
      const waited = kubectl(`wait ${resource}/${name} --for=condition=Ready --timeout=10s`);
      expect(waited.status, waited.stderr).to.equal(0);
      await stopOperator();
      await env.client.request('PATCH', objectPath(kind, namespace, name), {
        body: change,
        contentType: 'application/merge-patch+json',
      });
      // Ready is still True, but for the generation before: kubectl wait does not take it.
      const early = kubectl(`wait ${resource}/${name} --for=condition=Ready --timeout=2s`);
      expect(early.status, `${resource}: ${early.stdout}`).to.not.equal(0);
      expect(early.stderr).to.include('timed out');
      await startOperator();
      await readyAtGeneration(kind, name);
      const after = kubectl(`wait ${resource}/${name} --for=condition=Ready --timeout=10s`);
      expect(after.status, after.stderr).to.equal(0);
    }
  });

  it("puts right a tenant's and a pool's status someone edited, at the next resync", async () => {
    for (const [kind, name] of [
      [KINDS.tenant, 'acme'],
      [KINDS.pool, 'shared'],
    ] as const) {
      const path = objectPath(kind, namespace, name);
      const before = await readyAtGeneration(kind, name);
      const truth = ready(before)!;
      // What `kubectl edit --subresource=status` sends for a custom resource: a merge patch, so the
      // list of conditions is replaced whole.
      const conditions = before.status!.conditions!.map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False', reason: 'EditedByHand', message: 'edited' } : c,
      );
      await env.client.request('PATCH', `${path}/status`, {
        body: {
          status: { conditions, ...(kind === KINDS.tenant ? { portalUrl: 'https://forged.example' } : {}) },
        },
        contentType: 'application/merge-patch+json',
      });
      const restored = await eventually(async () => {
        const owner = await env.client.get<Owner>(path);
        return ready(owner)?.reason === truth.reason ? owner : undefined;
      }, `${kind.kind} ${name}'s Ready put right`);
      expect(ready(restored)).to.include({ status: 'True', reason: truth.reason, message: truth.message });
      if (kind === KINDS.tenant) expect(restored.status?.portalUrl).to.equal(before.status?.portalUrl);
    }
  });

  it("owns no field of a tenant's or a pool's spec, only their status", async () => {
    for (const [kind, name] of [
      [KINDS.tenant, 'acme'],
      [KINDS.pool, 'shared'],
    ] as const) {
      const owner = await env.client.get<Owner>(objectPath(kind, namespace, name));
      const ours = (owner?.metadata.managedFields ?? []).filter((m) =>
        (m.manager ?? '').startsWith('jsm-sso-operator'),
      );
      expect(
        ours.map((m) => m.subresource),
        kind.kind,
      ).to.include('status');
      for (const entry of ours)
        expect(Object.keys(entry.fieldsV1 ?? {}), `${kind.kind} ${entry.manager}`).to.not.include('f:spec');
    }
  });

  it('gives the hash-key Secret it makes the recommended labels, so that it is found with the rest of jsm-sso', async () => {
    const where = { namespace, name: 'conventions-hash-key' };
    await loadHashKey(env.client, where);
    const secret = await env.client.get<KubeObject>(objectPath(KINDS.secret, namespace, where.name));
    expect(secret?.metadata.labels).to.deep.equal({
      'app.kubernetes.io/name': 'jsm-sso',
      'app.kubernetes.io/component': 'hash-key',
      'app.kubernetes.io/part-of': 'jsm-sso',
      'app.kubernetes.io/managed-by': 'jsm-sso-operator',
    });
    const found = kubectl('get secrets -l app.kubernetes.io/part-of=jsm-sso -o name');
    expect(found.stdout.trim().split('\n')).to.include(`secret/${where.name}`);
  });
});
