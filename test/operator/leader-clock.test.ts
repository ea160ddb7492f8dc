import { expect } from 'chai';
import { KubeClient } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type LeaderElectionOptions, LeaderElector, microTime } from '../../operator/leader.js';
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

  function elector(
    identity: string,
    skewMs: number,
    options: Partial<LeaderElectionOptions> & { client?: KubeClient } = {},
  ): LeaderElector {
    const client = options.client ?? new KubeClient(env.kubeConfig);
    clients.push(client);
    const e = new LeaderElector({
      namespace,
      name: 'jsm-sso-operator',
      identity,
      logger,
      leaseDurationSeconds: LEASE_SECONDS,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 300,
      wallClock: () => new Date(Date.now() + skewMs),
      ...options,
      client,
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

  async function renewTime(): Promise<string | undefined> {
    const lease = await env.client.get<Lease>(objectPath(KINDS.lease, namespace, 'jsm-sso-operator'));
    return lease?.spec.renewTime;
  }

  it('keeps a standby out while a leader whose clock runs an hour behind keeps renewing', async () => {
    // The product's own durations (a 15 s lease, a 10 s renew deadline), so that a loaded machine
    // does not make the leader miss a renewal; the standby's clock is the test's, so no one waits them out.
    const durations = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000 };
    const leader = elector('behind', -HOUR_MS, durations);
    expect(await leader.acquire()).to.equal(true);
    let lost = false;
    leader.keepRenewing(() => {
      lost = true;
    });
    const standbyClient = new KubeClient(env.kubeConfig);
    const reads = holdReads(standbyClient);
    let standbyMs = 0;
    const standby = elector('on-time', 0, {
      ...durations,
      client: standbyClient,
      monotonicMs: () => standbyMs,
    });
    let standbyLeads = false;
    const acquiring = standby.acquire().then((won) => {
      standbyLeads = won;
    });
    try {
      // Each of the standby's looks comes a whole lease duration after its last on its own clock,
      // and after the leader renewed (by the lagging renewTime the lease looks an hour stale all
      // along): only a lease seen unchanged for that long may be taken. The wait for a renewal is
      // what makes the look a test: a record unchanged across a lease duration the standby may take.
      for (let look = 0; look < 3; look++) {
        await reads.asked();
        standbyMs += durations.leaseDurationSeconds * 1000 + 1;
        const seen = reads.lastRenewTime;
        if (seen !== undefined)
          await eventually(
            async () => (await renewTime()) !== seen,
            'the leader to renew after the standby looked',
          );
        reads.letOneThrough();
        // The look is over when the standby asks again (it stayed out) or has taken the lease.
        await Promise.race([reads.asked(), acquiring]);
        expect(standbyLeads, `look ${look + 1}: the standby took a lease being renewed`).to.equal(false);
      }
      expect(await holder()).to.equal('behind');
      expect(lost).to.equal(false);
    } finally {
      reads.open();
    }
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

interface Lease {
  spec: { holderIdentity?: string; renewTime?: string };
}

/**
 * `client`'s reads held, each until the test lets it through: the standby looks at the Lease only
 * when the test has set the scene (its clock moved, the leader renewed), whatever its retry timer
 * says. `open` lets every read through from then on (a release must read).
 */
function holdReads(client: KubeClient) {
  const read = client.get.bind(client);
  const held: (() => void)[] = [];
  let onAsked: (() => void) | undefined;
  let open = false;
  const reads = {
    /** The renewTime of the Lease as the client last read it. */
    lastRenewTime: undefined as string | undefined,
    /** Resolves once a read is held (at once if one is). */
    asked: (): Promise<void> =>
      held.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => (onAsked = resolve)),
    letOneThrough: () => held.shift()?.(),
    open: () => {
      open = true;
      for (const pass of held.splice(0)) pass();
    },
  };
  client.get = async <T>(path: string, args?: Parameters<KubeClient['get']>[1]): Promise<T | undefined> => {
    if (!open) {
      await new Promise<void>((pass) => {
        held.push(pass);
        onAsked?.();
        onAsked = undefined;
      });
    }
    const object = await read<T>(path, args);
    reads.lastRenewTime = (object as Lease | undefined)?.spec.renewTime;
    return object;
  };
  return reads;
}
