import { expect } from 'chai';
import { KubeClient } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { LeaderElector, microTime } from '../../operator/leader.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';

/**
 * Leader election with clocks that disagree, on a real API server: expiry is judged by how long a
 * candidate itself has seen the Lease unchanged, so a skewed clock neither lets a standby take a
 * lease that is being renewed nor keeps it waiting for a dead leader's future renewTime.
 */
const HOUR_MS = 3_600_000;
const LEASE_SECONDS = 2;

describe('leader election with skewed clocks', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;
  const logger = createLogger({ component: 'operator', level: 'silent' });
  const electors: LeaderElector[] = [];
  const clients: KubeClient[] = [];

  before(async () => {
    env = await envtest();
  });

  beforeEach(async () => {
    namespace = await freshNamespace(env.client, 'lease');
  });

  afterEach(async () => {
    for (const e of electors.splice(0)) await e.release();
    for (const c of clients.splice(0)) c.close();
  });

  function elector(identity: string, skewMs: number): LeaderElector {
    const client = new KubeClient(env.kubeConfig);
    clients.push(client);
    const e = new LeaderElector({
      client,
      namespace,
      name: 'jsm-sso-operator',
      identity,
      logger,
      leaseDurationSeconds: LEASE_SECONDS,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 300,
      wallClock: () => new Date(Date.now() + skewMs),
    });
    electors.push(e);
    return e;
  }

  async function holder(): Promise<string | undefined> {
    const lease = await env.client.get<{ spec: { holderIdentity?: string } }>(
      objectPath(KINDS.lease, namespace, 'jsm-sso-operator'),
    );
    return lease?.spec.holderIdentity || undefined;
  }

  it('keeps a standby out while a leader whose clock runs an hour behind keeps renewing', async () => {
    const leader = elector('behind', -HOUR_MS);
    expect(await leader.acquire()).to.equal(true);
    let lost = false;
    leader.keepRenewing(() => {
      lost = true;
    });
    const standby = elector('on-time', 0);
    let standbyLeads = false;
    void standby.acquire().then((won) => {
      standbyLeads = won;
    });
    // Four lease durations: by the lagging renewTime, the lease looks an hour stale all along.
    const end = Date.now() + 4 * LEASE_SECONDS * 1000;
    while (Date.now() < end) {
      expect(await holder()).to.equal('behind');
      expect(standbyLeads, 'the standby took a lease that is being renewed').to.equal(false);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lost).to.equal(false);
    // A clean hand-over still works at once.
    await leader.release();
    await eventually(async () => (await holder()) === 'on-time', 'the standby to lead');
  });

  it('replaces a dead leader whose clock ran an hour ahead after one lease duration, not an hour', async function () {
    // "Not an hour" is this test's timeout, far below it: a candidate that believed the future
    // renewTime fails by the timeout, with no bound in ms that a loaded machine could overrun.
    expect(this.timeout()).to.be.below(HOUR_MS);
    const future = new Date(Date.now() + HOUR_MS);
    await env.client.create(collectionPath(KINDS.lease, namespace), {
      apiVersion: KINDS.lease.apiVersion,
      kind: 'Lease',
      metadata: { name: 'jsm-sso-operator', namespace },
      spec: {
        holderIdentity: 'crashed-ahead',
        leaseDurationSeconds: LEASE_SECONDS,
        acquireTime: microTime(future),
        renewTime: microTime(future),
        leaseTransitions: 0,
      },
    });
    const started = performance.now();
    expect(await elector('on-time', 0).acquire()).to.equal(true);
    const waitedMs = performance.now() - started;
    expect(waitedMs, 'waited at least one lease duration').to.be.at.least(LEASE_SECONDS * 1000);
    expect(await holder()).to.equal('on-time');
  });
});
