import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import type { KubeObject } from '../../common/kube/client.js';
import { needsApply } from '../../operator/drift.js';
import { KINDS, objectPath } from '../../operator/kube/kinds.js';
import { FIELD_MANAGER } from '../../operator/resources/common.js';
import { desiredObjects } from '../../operator/resources/index.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * The drift check against what a real API server stores for a NetworkPolicy whose namespace
 * selectors have no labels (the operator flags left empty): applying it once must be enough.
 */
describe('NetworkPolicy with empty namespace selector labels against a real API server', function () {
  this.timeout(90_000);
  let env: Envtest;
  let namespace: string;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'np');
  });

  it('needs no second apply once the server has stored it', async () => {
    const tenant = checkTenant(tenantObject(namespace, 'acme'));
    tenant.metadata!.uid = '6f1c1a34-0b1e-4c8f-9d6e-0a4b5c6d7e8f';
    const settings = { image: 'img:1', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
    const policies = desiredObjects({ tenant, settings, secrets: {} }).filter(
      (o) => o.kind === 'NetworkPolicy',
    );
    expect(policies).to.have.length(2);
    for (const desired of policies) {
      // No owner: the tenant uid above names no stored object, and kube-controller-manager's
      // garbage collector deletes an object whose only owner is missing, racing the read below.
      delete desired.metadata.ownerReferences;
      const name = desired.metadata.name!;
      const stored = await env.client.apply<KubeObject>(
        objectPath(KINDS.networkPolicy, namespace, name),
        desired,
        {
          fieldManager: FIELD_MANAGER,
          force: true,
        },
      );
      const live = await env.client.get<KubeObject>(objectPath(KINDS.networkPolicy, namespace, name));
      expect(needsApply(desired, stored), `${name} as the apply returned it`).to.equal(false);
      expect(needsApply(desired, live), `${name} as a later read returns it`).to.equal(false);
    }
  });
});
