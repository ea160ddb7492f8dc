import { expect } from 'chai';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/**
 * Ownership with the garbage collector running (kube-controller-manager): deleting a tenant removes
 * what it owns and nothing else, another team's object of a name the tenant wanted survives
 * untouched, and the generated signing keys outlive the tenant unless it asked for their deletion.
 */
interface TenantLike extends KubeObject {
  status?: {
    conditions?: { type: string; status: string; reason: string; message: string }[];
    signingCertificateFingerprint?: string;
  };
}

describe('ownership and garbage collection against a real control plane', function () {
  this.timeout(180_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'gc');
    ({ client, controller } = await startTestController(env, {
      namespace,
      settings: {
        image: 'jsm-sso:test',
        ingressNamespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' },
        metricsNamespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
      },
      instance: 'gc-test',
      level: 'silent',
    }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const tenantPath = (name: string) => objectPath(KINDS.tenant, namespace, name);
  const applied = (t: TenantLike | undefined) => t?.status?.conditions?.find((c) => c.type === 'Applied');
  const exists = async (kind: (typeof KINDS)[keyof typeof KINDS], name: string) =>
    (await env.client.get(objectPath(kind, namespace, name))) !== undefined;

  async function convergedTenant(name: string): Promise<TenantLike> {
    return eventually(
      async () => {
        const t = await env.client.get<TenantLike>(tenantPath(name));
        return applied(t)?.status === 'True' && t?.status?.signingCertificateFingerprint ? t : undefined;
      },
      `tenant ${name} Applied=True`,
      60_000,
    );
  }

  it("deletes what the tenant owns, never another team's object, and keeps its signing keys for the next tenant of that name", async () => {
    const legacyIngress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'gc-ingress', namespace },
      spec: {
        rules: [
          {
            host: 'legacy.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'legacy', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const ingressPath = objectPath(KINDS.ingress, namespace, 'gc-ingress');
    const theirs = await env.client.apply<KubeObject>(ingressPath, legacyIngress, {
      fieldManager: 'other-team',
    });
    await createTenantSecrets(env.client, namespace, 'gc');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'gc'));
    const first = await convergedTenant('gc');

    // The tenant now wants an Ingress of the name the other team uses.
    await env.client.request('PATCH', tenantPath('gc'), {
      body: { spec: { ingress: { className: 'nginx' } } },
      contentType: 'application/merge-patch+json',
    });
    const conflict = await eventually(async () => {
      const c = applied(await env.client.get<TenantLike>(tenantPath('gc')));
      return c?.reason === 'ObjectConflict' ? c : undefined;
    }, 'Applied=False/ObjectConflict');
    expect(conflict.message).to.include('Ingress gc-ingress').and.include('other-team');

    await env.client.delete(tenantPath('gc'));
    await eventually(
      async () =>
        !(await exists(KINDS.deployment, 'gc-broker')) &&
        !(await exists(KINDS.service, 'gc-portal')) &&
        !(await exists(KINDS.configMap, 'gc-config')),
      'the garbage collector to delete what the tenant owned',
      90_000,
    );
    const survivor = await env.client.get<KubeObject>(ingressPath);
    expect(survivor?.metadata.resourceVersion).to.equal(theirs.metadata.resourceVersion);
    expect(survivor?.metadata.ownerReferences).to.equal(undefined);
    for (const part of ['broker', 'portal'])
      expect(await exists(KINDS.secret, `gc-${part}-signing`), part).to.equal(true);

    // Created again: same keys, so IdPs that pinned the broker's certificate keep working.
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'gc'));
    const second = await convergedTenant('gc');
    expect(second.metadata.uid).to.not.equal(first.metadata.uid);
    expect(second.status?.signingCertificateFingerprint).to.equal(
      first.status?.signingCertificateFingerprint,
    );
  });

  it('deletes the generated signing Secrets with the tenant when spec.signingSecretDeletionPolicy is Delete', async () => {
    await createTenantSecrets(env.client, namespace, 'tidy');
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'tidy', { signingSecretDeletionPolicy: 'Delete' } as never),
    );
    const tenant = await convergedTenant('tidy');
    const signing = await env.client.get<KubeObject>(
      objectPath(KINDS.secret, namespace, 'tidy-broker-signing'),
    );
    expect(signing?.metadata.ownerReferences?.[0]?.uid).to.equal(tenant.metadata.uid);
    await env.client.delete(tenantPath('tidy'));
    await eventually(
      async () =>
        !(await exists(KINDS.secret, 'tidy-broker-signing')) &&
        !(await exists(KINDS.secret, 'tidy-portal-signing')),
      'the signing Secrets to be garbage-collected',
      90_000,
    );
    // The Secrets the tenant only referenced are not its own: they stay.
    expect(await exists(KINDS.secret, 'tidy-oidc')).to.equal(true);
  });
});
