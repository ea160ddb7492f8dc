import { expect } from 'chai';
import { KubeClient, type KubeObject, type RequestArgs } from '../../common/kube/client.js';
import { Informer } from '../../common/kube/informer.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { compactEtcd, type Envtest, freshNamespace, separateEnvtest } from '../../testkit/envtest.js';
import { secretObject } from '../../testkit/tenants.js';

/**
 * A list is read 500 objects a page, each page after the first at the first page's resourceVersion
 * (its continue token). A list that takes longer than etcd's compaction interval (5 min by default:
 * a cluster's tens of thousands of Secrets, read under API Priority and Fairness throttling) meets a
 * compacted revision, and the API server answers that page 410 Expired. Starting the paged list over
 * meets the same again. On an API server and etcd of the test's own, compacted after every first
 * page.
 */
describe("an informer's paged list that outlives etcd's compaction", function () {
  this.timeout(120_000);
  let cluster: Envtest & { stop(): void };
  let client: KubeClient | undefined;

  before(async () => {
    cluster = separateEnvtest([]);
  });

  after(() => {
    client?.close();
    cluster?.stop();
  });

  it('reads the rest of the collection whole, as client-go does, instead of paging from the start for ever', async () => {
    const namespace = await freshNamespace(cluster.client, 'expired-list');
    const secrets = collectionPath(KINDS.secret, namespace);
    const count = 520;
    for (let i = 0; i < count; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          cluster.client.create(secrets, secretObject(namespace, `s${i + j}`, { k: 'v' })),
        ),
      );
    let expiredPages = 0;
    // Every first page is followed by a write elsewhere and a compaction past it: the next page's
    // continue token names a revision etcd no longer holds.
    class SlowList extends KubeClient {
      override async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
        const page = args.query?.['continue'] !== undefined;
        try {
          const answer = await super.request<T>(method, path, args);
          const first = method === 'GET' && path === secrets && !page && args.query?.['limit'] !== undefined;
          if (first && (answer as { metadata?: { continue?: string } }).metadata?.continue) {
            await cluster.client.create(collectionPath(KINDS.configMap, namespace), {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { generateName: 'later-' },
            });
            await compactEtcd(cluster.etcdUrl);
          }
          return answer;
        } catch (err) {
          if (page) expiredPages++;
          throw err;
        }
      }
    }
    client = new SlowList(cluster.kubeConfig);
    const { logger, logs } = capturedLogger({ component: 'operator' });
    const informer = new Informer<KubeObject>({
      client,
      path: secrets,
      kind: KINDS.secret,
      metadataOnly: true,
      logger,
      backoff: { initialMs: 50, maxMs: 200 },
      onEvent: () => {},
    });
    informer.start();
    const synced = await Promise.race([
      informer.whenSynced().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    await informer.stop();
    expect(expiredPages, 'continued pages answered 410 Expired').to.be.greaterThan(0);
    expect(synced, 'synced').to.equal(true);
    expect(expiredPages, 'continued pages answered 410 Expired').to.equal(1);
    expect(informer.list()).to.have.length(count);
    // A list that needed a whole read is no failure of the watch: nothing is logged as one.
    expect(logs.filter((l) => l['event'] === 'informer.failed')).to.deep.equal([]);
  });
});
