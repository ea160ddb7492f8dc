import { expect } from 'chai';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import { KubeTenantSource } from '../../common/pool/kube-source.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import {
  compactEtcd,
  type Envtest,
  eventually,
  freshNamespace,
  separateEnvtest,
} from '../../testkit/envtest.js';
import {
  brokerProjection,
  projectionName,
  TENANTS_NAMESPACE,
  TenantRecorder,
} from '../../testkit/projections.js';

/**
 * The pool's kube source when its watch cannot resume (ADR 0136): the connection drops, the
 * projections change meanwhile and etcd compacts their history, so the watch reopened from the
 * source's resourceVersion gets 410 Gone from a real kube-apiserver and etcd. The source must list
 * again and deliver every change it missed. The API server here serves Secrets straight from etcd
 * (no watch cache): a watch cache keeps serving a window of history after etcd compacts, and leaves
 * it only as it fills or ages, which a test cannot bring about promptly; etcd answers at once.
 */
describe('pool kube source after its watch expired (410 Gone, etcd compacted)', function () {
  this.timeout(120_000);
  let cluster: Envtest & { stop(): void };
  let forward: CuttableForward;
  let namespace: string;
  let pki: Pki;

  before(async () => {
    cluster = separateEnvtest(['--watch-cache-sizes=secrets#0']);
    namespace = await freshNamespace(cluster.client, 'expired');
    forward = await cuttableForward(Number(new URL(cluster.client.server).port));
    pki = createPki();
  });
  after(async () => {
    await forward?.close();
    cluster?.client.close();
    cluster?.stop();
    pki?.cleanup();
  });

  const secrets = () => collectionPath(KINDS.secret, namespace);
  const project = (name: string) =>
    cluster.client.create(
      secrets(),
      brokerProjection({ namespace, pool: 'shared', name, url: `https://sso.${name}.example`, pki }),
    );
  const key = (name: string) => `${TENANTS_NAMESPACE}/${name}`;

  /** The cluster's admin credentials, its server reached through the forwarder. */
  async function throughForward(): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(cluster.kubeconfigPath);
    return {
      getCurrentCluster: () => ({ server: `https://127.0.0.1:${forward.port}` }),
      applyToHTTPSOptions: (options) => admin.applyToHTTPSOptions(options),
    };
  }

  it('lists again once, and delivers the tenants added, changed and removed while it could not watch', async () => {
    for (const name of ['acme', 'globex']) await project(name);
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const source = new KubeTenantSource({
      access: await throughForward(),
      namespace,
      pool: 'shared',
      logger,
      // The relist after the 410 waits the second step of this backoff (the cut was the first).
      backoff: { initialMs: 1_000, maxMs: 2_000 },
    });
    const removedAt: number[] = [];
    const recorder = new (class extends TenantRecorder {
      override remove(key: string): void {
        removedAt.push(Date.now());
        super.remove(key);
      }
    })();
    try {
      await source.start(recorder);
      expect([...recorder.bundles.keys()].sort()).to.deep.equal([key('acme'), key('globex')]);
      // Delivered by the watch: it is open when the connection is cut.
      await project('initech');
      await eventually(async () => recorder.bundles.has(key('initech')), 'initech, watched');

      forward.cut();
      await eventually(async () => forward.held() > 0, 'the source opening its watch again');
      await project('umbrella');
      await cluster.client.request('PATCH', objectPath(KINDS.secret, namespace, projectionName('globex')), {
        body: { data: { 'idp-client_clientSecret': Buffer.from('rotated').toString('base64') } },
        contentType: 'application/merge-patch+json',
      });
      await cluster.client.delete(objectPath(KINDS.secret, namespace, projectionName('acme')));
      await compactEtcd(cluster.etcdUrl);
      forward.resume();

      await eventually(
        async () =>
          recorder.bundles.get(key('globex'))?.secrets.read('idp-client', 'clientSecret') === 'rotated',
        'the change of globex',
      );
      expect([...recorder.bundles.keys()].sort()).to.deep.equal([
        key('globex'),
        key('initech'),
        key('umbrella'),
      ]);
      expect(recorder.removed).to.deep.equal([key('acme')]);
      expect(recorder.invalids.size).to.equal(0);
      // The dropped connection is a failed watch, retried after a backoff; the 410 it then meets is
      // one line of its own, with its reason code.
      expect(logs.map((line) => line['reason'])).to.deep.equal([
        'POOL_TENANT_WATCH_FAILED',
        'POOL_TENANT_WATCH_EXPIRED',
      ]);
      expect(logs[1]).to.include({
        level: 'info',
        event: 'pool.tenant_watch_expired',
        namespace,
        pool: 'shared',
      });
      // Relisted after a backoff, not at once: every informer's watch expires together after a
      // compaction or an API server restart, and would all list together (2 s, less 20% jitter).
      expect(logs[1]!['relistInMs']).to.be.within(1_600, 2_400);
      expect(
        removedAt[0]! - Date.parse(logs[1]!['time'] as string),
        'the relist after the 410',
      ).to.be.at.least(1_600);
    } finally {
      await source.close();
    }
  });
});
