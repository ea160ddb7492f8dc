import { expect } from 'chai';
import { type ClusterAccess, kubeconfigAccess } from '../../common/kube/access.js';
import { KubeClient } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { collectionPath, KINDS } from '../../operator/kube/kinds.js';
import { LeaderElector } from '../../operator/leader.js';
import { type CuttableForward, cuttableForward } from '../../testkit/cuttable-forward.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';

/**
 * An API server that stops answering without closing the connection (a control-plane node lost, a
 * load balancer dropping its flows): the real kube-apiserver behind a forwarder that drops every
 * connection and holds the new ones open, unanswered. Nothing the operator asks may wait for ever.
 */
describe('the API server stops answering', function () {
  this.timeout(60_000);
  let env: Envtest;
  let forward: CuttableForward;
  let namespace: string;
  const logger = createLogger({ component: 'operator', level: 'silent' });
  const closers: (() => unknown)[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'unanswered');
  });
  beforeEach(async () => {
    forward = await cuttableForward(Number(new URL(env.client.server).port));
    closers.push(() => forward.close());
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** The test cluster's credentials, its server reached through the forwarder. */
  async function throughForward(): Promise<ClusterAccess> {
    const admin = await kubeconfigAccess(env.kubeconfigPath);
    return {
      getCurrentCluster: () => ({ server: `https://127.0.0.1:${forward.port}` }),
      applyToHTTPSOptions: (options) => admin.applyToHTTPSOptions(options),
    };
  }

  it('a leader gives its lease up after the renew deadline, instead of waiting on the renewal for ever', async () => {
    const client = new KubeClient(await throughForward());
    const elector = new LeaderElector({
      client,
      namespace,
      name: 'unanswered-leader',
      identity: 'leader',
      logger,
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 200,
    });
    closers.push(() => client.close());
    expect(await elector.acquire()).to.equal(true);
    let lost = false;
    elector.keepRenewing(() => {
      lost = true;
    });
    forward.cut();
    await eventually(async () => forward.held() > 0, 'a renewal waiting on an unanswered connection');
    // The operator exits here (onLeaseLost), so Kubernetes restarts it as a standby.
    await eventually(async () => lost, 'the lease to be given up');
    expect(elector.holds()).to.equal(false);
  });

  it('a request fails once the request timeout passes, and the client serves the next one', async () => {
    const client = new KubeClient(await throughForward(), { requestTimeoutMs: 1_000 });
    closers.push(() => client.close());
    const configMaps = collectionPath(KINDS.configMap, namespace);
    forward.cut();
    const unanswered = await client.list(configMaps).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(forward.held(), 'the request waited on an unanswered connection').to.be.greaterThan(0);
    // Node's http aborts the exchange with an AbortError whose cause is the timeout's reason.
    expect((unanswered?.cause as Error | undefined)?.name, String(unanswered)).to.equal('TimeoutError');
    forward.resume();
    expect((await client.list(configMaps)).items).to.be.an('array');
  });
});
