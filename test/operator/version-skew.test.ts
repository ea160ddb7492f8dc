import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import type { SchemaNode } from '../../common/config/crd-schema.js';
import type { KubeClient, KubeObject } from '../../common/kube/client.js';
import { CRD_PATH } from '../../common/paths.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { ROLLED_OUT, reportDeploymentStatus } from '../../testkit/deployment-status.js';
import { type Envtest, envtest, eventually, freshNamespace, installCrd } from '../../testkit/envtest.js';
import { startTestController } from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

// During `helm upgrade` the new CRD is applied before the new operator takes over: the old operator
// then reads tenants carrying a defaulted field it does not know. It must keep them Ready.
const NEW_FIELD = 'signatureAlgorithmNext';

interface TenantLike extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

/** This version's CRD plus one defaulted spec field, as the next release's CRD would add. */
function newerCrd(): CrdDocument {
  const crd = parse(readFileSync(CRD_PATH, 'utf8')) as CrdDocument;
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!['spec']!;
  spec.properties![NEW_FIELD] = { type: 'string', default: 'rsa-sha512' } as SchemaNode;
  return crd;
}

interface CrdDocument {
  metadata: { name: string };
  spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
}

describe('operator with a CRD newer than itself (version skew during an upgrade)', function () {
  this.timeout(90_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;
  const logLines: Record<string, unknown>[] = [];

  /** Whether the API server, for a tenant created now, stores the newer CRD's default. */
  async function servesNewField(): Promise<boolean> {
    const probe = await env.client.create<TenantLike>(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'probe'),
      { dryRun: 'All' },
    );
    return probe.spec?.[NEW_FIELD] !== undefined;
  }

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'skew');
    const crd = newerCrd();
    await env.client.apply(objectPath(KINDS.crd, undefined, crd.metadata.name), crd, {
      fieldManager: 'jsm-sso-tests',
    });
    await eventually(servesNewField, 'the API server to serve the newer CRD');
    ({ client, controller } = await startTestController(env, {
      namespace,
      settings: { image: 'jsm-sso:test', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} },
      instance: 'skew',
      logDestination: { write: (line: string) => void logLines.push(JSON.parse(line)) },
    }));
  });

  after(async () => {
    await controller?.stop();
    client?.close();
    // Back to this version's CRD (same field manager: the extra field goes), for the tests after.
    await installCrd(env.client);
    await eventually(async () => !(await servesNewField()), 'the API server to serve the CRD again');
  });

  /** Marks the tenant's Deployments rolled out, as the controller-manager would once pods run. */
  async function podsAvailable(name: string): Promise<void> {
    const done = { replicas: 1, updatedReplicas: 1, availableReplicas: 1 };
    for (const part of ['broker', 'portal'])
      await reportDeploymentStatus(env.client, namespace, `${name}-${part}`, done, ROLLED_OUT);
  }

  it('keeps a tenant with a field it does not know Ready, and logs the ignored field once', async () => {
    await createTenantSecrets(env.client, namespace, 'acme');
    const created = await env.client.create<TenantLike>(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'acme'),
    );
    expect(created.spec?.[NEW_FIELD]).to.equal('rsa-sha512'); // the API server defaulted it

    const ready = await eventually(async () => {
      await podsAvailable('acme');
      const t = await env.client.get<TenantLike>(objectPath(KINDS.tenant, namespace, 'acme'));
      return t?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? t : undefined;
    }, 'tenant acme to become Ready');

    const configValid = ready.status?.conditions?.find((c) => c.type === 'ConfigValid');
    expect(configValid?.status).to.equal('True');
    expect(configValid?.message).to.contain(`spec.${NEW_FIELD}`);
    const ignored = logLines.filter((l) => l['event'] === 'operator.unknown_fields_ignored');
    expect(ignored).to.have.length(1); // once per generation, though reconciled many times
    expect(ignored[0]).to.include({
      reason: 'UnknownFieldsIgnored',
      tenant: `${namespace}/acme`,
      generation: 1,
    });
    expect(ignored[0]?.['fields']).to.deep.equal([`spec.${NEW_FIELD}`]);
    expect(logLines.filter((l) => l['event'] === 'operator.reconcile_failed')).to.deep.equal([]);
    const metric = await controller.metrics.unknownFieldsIgnored.get();
    expect(metric.values[0]?.value).to.equal(1);
  });

  it('still refuses an invalid value of a field it knows next to the unknown one', async () => {
    // A claim expression that does not compile: the API server stores it, the operator's check refuses it.
    const bad = tenantObject(namespace, 'bad');
    bad.spec.identityProviders[0]!.attributeMapping = { email: 'claims.email +' };
    await env.client.create(collectionPath(KINDS.tenant, namespace), bad);
    const invalid = await eventually(async () => {
      const t = await env.client.get<TenantLike>(objectPath(KINDS.tenant, namespace, 'bad'));
      const c = t?.status?.conditions?.find((x) => x.type === 'ConfigValid');
      return c?.status === 'False' ? c : undefined;
    }, 'tenant bad to be ConfigValid=False');
    expect(invalid.reason).to.equal('MappingInvalid');
    expect(invalid.message).to.contain('spec.identityProviders[0].attributeMapping.email');
    expect(invalid.message).to.not.contain(NEW_FIELD);
  });
});
