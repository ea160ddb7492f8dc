import { expect } from 'chai';
import { kubeconfigAccess } from '../../common/kube/access.js';
import {
  KubeTenantSource,
  TENANT_DELETED_ANNOTATION,
  TENANT_UID_LABEL,
} from '../../common/pool/kube-source.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import {
  brokerProjection,
  projectionName,
  TENANTS_NAMESPACE,
  TenantRecorder,
} from '../../testkit/projections.js';

/**
 * The mark that makes a pool purge a deleted tenant's keys (ADR 0390) is the operator's `"true"` and
 * nothing else: a projection deleted with the annotation set to any other value (a hand edit, a tool
 * that writes "false" to undo it) is a removal that says nothing of a deletion, and purges nothing.
 */
describe('pool kube source: the tenant-deleted mark (real API server)', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;
  let pki: Pki;
  let source: KubeTenantSource | undefined;

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'mark');
    pki = createPki();
  });
  after(async () => {
    await source?.close();
    pki?.cleanup();
  });

  it('reports a removal as gone only for the mark "true", with the uid of its label', async () => {
    const marks: Record<string, string> = { marked: 'true', unmarked: 'false', blank: '' };
    for (const [name, mark] of Object.entries(marks)) {
      const projection = brokerProjection({
        namespace,
        pool: 'shared',
        name,
        url: `https://sso.${name}.example`,
        pki,
      });
      projection.metadata.labels = { ...projection.metadata.labels, [TENANT_UID_LABEL]: `uid-${name}` };
      projection.metadata.annotations = { [TENANT_DELETED_ANNOTATION]: mark };
      await env.client.create(collectionPath(KINDS.secret, namespace), projection);
    }
    const recorder = new TenantRecorder();
    source = new KubeTenantSource({
      access: await kubeconfigAccess(env.kubeconfigPath),
      namespace,
      pool: 'shared',
      logger: capturedLogger({ component: 'pool' }).logger,
    });
    await source.start(recorder);
    for (const name of Object.keys(marks)) {
      await env.client.delete(objectPath(KINDS.secret, namespace, projectionName(name)));
    }
    const key = (name: string) => `${TENANTS_NAMESPACE}/${name}`;
    await eventually(
      async () => Object.keys(marks).every((name) => recorder.removed.includes(key(name))),
      'all three removed',
    );
    expect(recorder.gone.get(key('marked')), 'the marked incarnation').to.equal('uid-marked');
    expect(recorder.gone.has(key('unmarked')), 'a removal marked "false" said gone').to.equal(false);
    expect(recorder.gone.has(key('blank')), 'a removal marked "" said gone').to.equal(false);
  });
});
