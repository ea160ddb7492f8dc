import { expect } from 'chai';
import { KubeClient, type KubeObject, type RequestArgs } from '../../common/kube/client.js';
import { Informer } from '../../common/kube/informer.js';
import { createLogger } from '../../common/log.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';
import { secretObject } from '../../testkit/tenants.js';

/** Counts the pages of `collection` the client has read (GETs that are no watch). */
class PageCountingClient extends KubeClient {
  pages = 0;
  collection = '';

  override request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    if (method === 'GET' && path === this.collection && !args.query?.['watch']) this.pages++;
    return super.request<T>(method, path, args);
  }
}

/**
 * An informer's list is read 500 objects a page; each page is shrunk to what the cache keeps before
 * the next is read. Holding every page whole until the end made the operator's memory at start
 * follow the whole collection: Secrets' metadata alone carries kubectl's last-applied copy of their
 * data (up to 256 KiB each), and a cluster-wide Secret list is tens of thousands of them.
 */
describe("an informer's list on a real API server", function () {
  this.timeout(120_000);
  let env: Envtest;
  let client: PageCountingClient | undefined;

  before(async () => {
    env = await envtest();
  });

  after(async () => {
    client?.close();
  });

  it('shrinks each page of a list to what it caches before it reads the next', async () => {
    const namespace = await freshNamespace(env.client, 'pages');
    const secrets = collectionPath(KINDS.secret, namespace);
    const count = 520;
    for (let i = 0; i < count; i += 20)
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          env.client.create(secrets, secretObject(namespace, `s${i + j}`, { k: 'v' })),
        ),
      );
    client = new PageCountingClient(env.kubeConfig);
    client.collection = secrets;
    const pagesReadWhenShrunk: number[] = [];
    const informer = new Informer<KubeObject>({
      client,
      path: secrets,
      kind: KINDS.secret,
      metadataOnly: true,
      logger: createLogger({ component: 'test', level: 'error' }),
      transform: (secret) => {
        pagesReadWhenShrunk.push(client!.pages);
        return secret;
      },
      onEvent: () => {},
    });
    informer.start();
    await informer.whenSynced();
    await informer.stop();
    expect(client.pages, 'pages read').to.equal(2);
    expect(informer.list()).to.have.length(count);
    expect(
      pagesReadWhenShrunk.slice(0, 500).every((pages) => pages === 1),
      'first page shrunk before the second was read',
    ).to.equal(true);
  });
});
