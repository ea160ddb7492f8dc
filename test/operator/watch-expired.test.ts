import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import { KubeClient } from '../../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { capturingDestination } from '../../testkit/captured-logs.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import {
  compactEtcd,
  eventually,
  freshNamespace,
  installCrd,
  separateEnvtest,
} from '../../testkit/envtest.js';
import { operatorIdle, startTestController, type TestController } from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/**
 * Every watch of the operator expired at once (ADR 0251, 0395): its connection to the API server
 * cut, a tenant changed meanwhile and etcd compacted past what the operator had seen, so each
 * informer's watch reopened from its resourceVersion is answered 410 Gone and it lists its kind
 * again. An API server of the test's own without a watch cache, so that etcd answers the 410 at
 * once (a watch cache keeps serving a window of history after a compaction). The relist must apply
 * what changed and write nothing for what did not: a relist of every kind after an API server
 * restart must not become a rewrite of every tenant.
 */
describe("the operator's watches expired together (410 Gone after a compaction, real API server)", function () {
  this.timeout(180_000);
  let env: ReturnType<typeof separateEnvtest>;
  let forward: CuttableForward;
  let test: TestController | undefined;

  before(async () => {
    env = separateEnvtest(['--watch-cache=false']);
    await installCrd(env.client);
    forward = await cuttableForward(Number(new URL(env.client.server).port));
  });

  after(async () => {
    await test?.controller.stop();
    test?.client.close();
    await forward?.close();
    env?.stop();
  });

  /** The cluster's admin credentials, its server reached through the forwarder. */
  async function throughForward(): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    return {
      getCurrentCluster: () => ({ server: `https://127.0.0.1:${forward.port}` }),
      applyToHTTPSOptions: (options) => admin.applyToHTTPSOptions(options),
    };
  }

  const applied = (namespace: string, name: string, generation?: number) => async () => {
    const tenant = await env.client.get<JsmSsoTenant>(objectPath(KINDS.tenant, namespace, name));
    const condition = tenant?.status?.conditions?.find((c) => c.type === 'Applied');
    return (
      condition?.status === 'True' &&
      (generation === undefined || condition.observedGeneration === generation)
    );
  };

  it('lists every kind again, applies the tenant that changed and writes nothing for the one that did not', async () => {
    const namespace = await freshNamespace(env.client, 'expired');
    for (const name of ['steady', 'moved']) {
      await createTenantSecrets(env.client, namespace, name);
      await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, name));
    }
    const logs: Array<Record<string, unknown>> = [];
    const writes: string[] = [];
    test = await startTestController(env, {
      namespace,
      instance: 'watch-expired-test',
      level: 'info',
      logDestination: capturingDestination(logs),
      client: new KubeClient(await throughForward()),
      onWrite: (method, path) => writes.push(`${method} ${path}`),
    });
    for (const name of ['steady', 'moved']) await eventually(applied(namespace, name), `${name} applied`);
    await operatorIdle(test.controller);
    writes.length = 0;
    const lines = (event: string) =>
      new Set(logs.filter((l) => l['event'] === event).map((l) => String(l['path'])));

    forward.cut();
    await eventually(async () => forward.held() > 0, 'the operator opening its watches again');
    const moved = await env.client.request<JsmSsoTenant>(
      'PATCH',
      objectPath(KINDS.tenant, namespace, 'moved'),
      {
        body: { spec: { atlassian: { siteUrl: 'https://moved.atlassian.net' } } },
        contentType: 'application/merge-patch+json',
      },
    );
    await compactEtcd(env.etcdUrl);
    forward.resume();

    // Each informer whose watch the cut ended meets 410 Gone and lists again.
    await eventually(async () => {
      const failed = lines('informer.failed');
      const expired = lines('informer.expired');
      return failed.size > 0 && [...failed].every((path) => expired.has(path));
    }, 'every informer relisted');
    await eventually(applied(namespace, 'moved', moved.metadata!.generation), 'the change applied');
    await operatorIdle(test.controller);
    const relisted = lines('informer.expired');
    expect(relisted).to.include(collectionPath(KINDS.tenant, namespace));
    expect(relisted).to.include(collectionPath(KINDS.deployment, namespace));
    expect(writes.length, 'the moved tenant applied').to.be.greaterThan(0);
    expect(
      writes.filter((w) => w.includes('steady')),
      'writes for the tenant that did not change',
    ).to.deep.equal([]);
  });
});
