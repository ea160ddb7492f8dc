import { expect } from 'chai';
import { KubeClient, type KubeList } from '../../common/kube/client.js';
import type { Controller } from '../../operator/controller.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { startTestController, TEST_OPERATOR_SETTINGS } from '../../testkit/operator-controller.js';
import { createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

/** The operator's client, counting the collection lists it sends (a watch is no list). */
class ListCountingClient extends KubeClient {
  readonly lists: string[] = [];

  override list<T, R = T>(
    path: string,
    query: Record<string, string | undefined> = {},
    accept?: string,
    each?: (item: T) => R,
  ): Promise<KubeList<R>> {
    this.lists.push(path);
    return super.list<T, R>(path, query, accept, each);
  }
}

/**
 * The periodic resync reconciles every tenant again from the caches, as client-go's resync does,
 * without listing the collections again: a list with no resourceVersion is read from etcd (every
 * Secret of the cluster whole, before the API server strips it to metadata), and the watches,
 * resumed from their resourceVersion, miss no event. Lists happen at start and after 410 Gone.
 */
describe('the periodic resync on a real API server', function () {
  this.timeout(120_000);
  let env: Envtest;
  let controller: Controller | undefined;
  let client: ListCountingClient | undefined;

  before(async () => {
    env = await envtest();
  });

  after(async () => {
    await controller?.stop();
    client?.close();
  });

  it('reconciles every tenant again without listing any collection again', async () => {
    const namespace = await freshNamespace(env.client, 'resync');
    await createTenantSecrets(env.client, namespace, 'steady');
    await env.client.create(collectionPath(KINDS.tenant, namespace), tenantObject(namespace, 'steady'));
    client = new ListCountingClient(env.kubeConfig);
    let metrics: Awaited<ReturnType<typeof startTestController>>['registry'];
    ({ controller, registry: metrics } = await startTestController(env, {
      namespace,
      settings: TEST_OPERATOR_SETTINGS,
      instance: 'resync',
      client,
      resyncMs: 1_000,
    }));
    const listsAtStart = [...client.lists];
    expect(listsAtStart, 'each collection listed once at start').to.include(
      collectionPath(KINDS.secret, namespace),
    );
    const reconciles = async () =>
      (await metrics.getSingleMetric('jsm_sso_operator_reconcile_total')?.get())?.values.reduce(
        (sum, v) => sum + v.value,
        0,
      ) ?? 0;
    // Once by the initial list, then by at least three resyncs.
    await eventually(async () => (await reconciles()) >= 4, 'the tenant reconciled by resyncs', 60_000);
    expect(client.lists.slice(listsAtStart.length), 'collections listed again').to.deep.equal([]);
  });
});
