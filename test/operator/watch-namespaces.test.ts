import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/**
 * `--watch-namespaces` (the chart's watchNamespaces) with several namespaces: the operator holds
 * one watch per kind and namespace, 13 per namespace (and one of Namespaces), more than the client's 32 sockets for
 * requests. Each watch holds its socket while it runs; on the request agent the watches beyond
 * 32, and every request after them, waited for ever: an operator watching three namespaces
 * reconciled nothing.
 */
describe('the operator watching several namespaces', function () {
  this.timeout(90_000);
  let env: Envtest;
  let controller: Controller | undefined;
  const namespaces: string[] = [];

  before(async () => {
    env = await envtest();
    for (let i = 0; i < 4; i++) namespaces.push(await freshNamespace(env.client, `watch-${i}`));
  });

  after(async () => {
    await controller?.stop();
  });

  it('reconciles a tenant in each of four watched namespaces (53 watches)', async () => {
    const started = await startTestController(env, {
      namespace: namespaces[0]!,
      moreNamespaces: namespaces.slice(1),
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'watch-namespaces',
    });
    controller = started.controller;
    for (const namespace of namespaces) {
      await createTenantSecrets(env.client, namespace, 'acme');
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'acme'));
    }
    for (const namespace of namespaces) {
      const applied = await eventually(async () => {
        const tenant = await env.client.get<
          KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
        >(objectPath(KINDS.tenant, namespace, 'acme'));
        return tenant?.status?.conditions?.find((c) => c.type === 'Applied' && c.status === 'True');
      }, `the tenant in ${namespace} applied`);
      expect(applied.status).to.equal('True');
    }
  });
});
