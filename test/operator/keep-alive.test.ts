// spec.keepAliveTimeoutSeconds (ADR 0205): a load balancer that keeps idle connections longer than
// 60 s needs the parts to keep theirs longer still. On a real kube-apiserver: the CRDs bound it as
// the process does, kubectl explain documents it, and the operator passes it to the dedicated and
// the pool Deployments as --keep-alive-seconds, and leaves the default out (no roll of existing
// pods). A pooled tenant may not set it: test/operator/crd.test.ts, CEL_RULE_CASES.
import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { poolCrd, type SchemaNode, tenantCrd } from '../../common/config/crd-schema.js';
import { checkTenant } from '../../common/config/load.js';
import { ConfigError } from '../../common/errors.js';
import { KEEP_ALIVE_SECONDS } from '../../common/http/server.js';
import type { KubeClient } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

describe('spec.keepAliveTimeoutSeconds against a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: KubeClient;
  let controller: Controller;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'keepalive');
    ({ client, controller } = await startTestController(env, {
      namespace,
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'keep-alive-test',
    }));
  });
  after(async () => {
    await controller?.stop();
    client?.close();
  });

  const admission = (path: string, object: unknown) =>
    env.client.create(path, object, { dryRun: 'All' }).then(
      () => 'admitted',
      (err: Error) => err.message,
    );
  const localVerdict = (spec: Record<string, unknown>) => {
    try {
      checkTenant(structuredClone(tenantObject(namespace, 'acme', spec)));
      return 'admitted';
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
  };
  const pool = (spec: Record<string, unknown>) => ({
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoPool',
    metadata: { name: 'lb', namespace },
    spec,
  });
  const argsOf = async (name: string) =>
    eventually(async () => {
      const deployment = await env.client.get<V1Deployment>(objectPath(KINDS.deployment, namespace, name));
      return deployment?.spec?.template.spec?.containers[0]?.args;
    }, `Deployment ${name}`);
  const flagOf = (args: string[]) => {
    const at = args.indexOf('--keep-alive-seconds');
    return at < 0 ? undefined : args[at + 1];
  };

  it('bounds it in both CRDs as the process does, on the server and offline', async () => {
    for (const crd of [tenantCrd(), poolCrd()]) {
      const field = crd.schema.properties!['spec']!.properties!['keepAliveTimeoutSeconds']!;
      expect([field['minimum'], field['maximum']]).to.deep.equal([
        KEEP_ALIVE_SECONDS.min,
        KEEP_ALIVE_SECONDS.max,
      ]);
    }
    const tenants = collectionPath(KINDS.tenant, namespace);
    for (const seconds of [KEEP_ALIVE_SECONDS.min - 1, KEEP_ALIVE_SECONDS.max + 1]) {
      const spec = { keepAliveTimeoutSeconds: seconds };
      expect(await admission(tenants, tenantObject(namespace, 'acme', spec))).to.include(
        'spec.keepAliveTimeoutSeconds',
      );
      expect(localVerdict(spec)).to.include('keepAliveTimeoutSeconds');
      expect(await admission(collectionPath(KINDS.pool, namespace), pool(spec))).to.include(
        'spec.keepAliveTimeoutSeconds',
      );
    }
    expect(
      await admission(tenants, tenantObject(namespace, 'acme', { keepAliveTimeoutSeconds: 4000 })),
    ).to.equal('admitted');
    // A pool defaults it to the process's own; a tenant leaves it unset (it may be placed in a pool).
    const created = await env.client.create<{ spec: { keepAliveTimeoutSeconds: number } }>(
      collectionPath(KINDS.pool, namespace),
      pool({}),
      { dryRun: 'All' },
    );
    expect(created.spec.keepAliveTimeoutSeconds).to.equal(KEEP_ALIVE_SECONDS.default);
  });

  it('documents it for kubectl explain on both kinds', async () => {
    const published = await env.client.get<{
      components: { schemas: Record<string, { properties?: Record<string, SchemaNode> }> };
    }>('/openapi/v3/apis/jsm-sso.io/v1alpha1');
    for (const kind of ['.JsmSsoTenant', '.JsmSsoPool']) {
      const schema = Object.entries(published!.components.schemas).find(([name]) => name.endsWith(kind))![1];
      expect(schema.properties!['spec']!.properties!['keepAliveTimeoutSeconds']!.description, kind)
        .to.include('idle timeout of the load balancer')
        .and.include('4,000 s');
    }
  });

  it("passes a dedicated tenant's value to its broker and portal, and leaves the default out", async () => {
    await createTenantSecrets(env.client, namespace, 'alb');
    await env.client.create(
      collectionPath(KINDS.tenant, namespace),
      tenantObject(namespace, 'alb', { keepAliveTimeoutSeconds: 4000 }),
    );
    expect(flagOf(await argsOf('alb-broker'))).to.equal('4000');
    expect(flagOf(await argsOf('alb-portal'))).to.equal('4000');
    await createTenantSecrets(env.client, namespace, 'nginx');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'nginx', {}));
    expect(flagOf(await argsOf('nginx-broker')), 'the default is the process own').to.equal(undefined);
  });

  it("passes a pool's value to both of its Deployments", async () => {
    await createPool(env.client, namespace, 'gclb', { keepAliveTimeoutSeconds: 620 });
    expect(flagOf(await argsOf('gclb-broker'))).to.equal('620');
    expect(flagOf(await argsOf('gclb-portal'))).to.equal('620');
  });
});
