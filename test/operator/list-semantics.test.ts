import { expect } from 'chai';
import { LIST_SEMANTICS } from '../../operator/kube/list-semantics.js';
import { envtest } from '../../testkit/envtest.js';
import { listSemanticsOf } from '../../testkit/list-semantics.js';

// operator/drift.ts judges drift by how server-side apply merges each list and map; the table it reads is
// the API server's own OpenAPI, and must stay so (ADR 0374).
describe('the merge of lists and maps the drift check follows', function () {
  this.timeout(90_000);

  it("is the test API server's OpenAPI v3 (x-kubernetes-list-type, -list-map-keys, -map-type) for every kind the operator applies", async () => {
    const env = await envtest();
    expect(LIST_SEMANTICS, 'run npx tsx scripts/gen-list-semantics.ts').to.deep.equal(
      await listSemanticsOf(env.client),
    );
  });

  it("names a container's ports by containerPort and protocol (TCP when left out), and a ServiceAccount's imagePullSecrets atomic though a pod's are keyed", () => {
    expect(LIST_SEMANTICS['Deployment.spec.template.spec.containers[].ports']).to.deep.equal({
      list: 'map',
      keys: { containerPort: null, protocol: 'TCP' },
    });
    expect(LIST_SEMANTICS['Deployment.spec.template.spec.imagePullSecrets']).to.deep.equal({
      list: 'map',
      keys: { name: null },
    });
    expect(LIST_SEMANTICS['ServiceAccount.imagePullSecrets']).to.equal(undefined);
    expect(LIST_SEMANTICS['Deployment.spec.template.spec.tolerations']).to.equal(undefined);
  });
});
