import { expect } from 'chai';
import { KubeClient, type RequestArgs } from '../../common/kube/client.js';
import { createLogger } from '../../common/log.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { LeaderElector, microTime, NotLeaderError } from '../../operator/leader.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';

/**
 * A leader frozen past its renew deadline (a stopped process, a long pause, a partition) must not
 * write when it wakes, even before its renewal loop notices the lease is lost: by then a standby
 * may hold it, and two writers would fight over every object. On a real API server.
 */
describe('leader fencing: writes only while the lease is held', function () {
  this.timeout(60_000);
  let env: Envtest;
  let namespace: string;
  const logger = createLogger({ component: 'operator', level: 'silent' });
  const clients: KubeClient[] = [];
  const electors: LeaderElector[] = [];

  before(async () => {
    env = await envtest();
    namespace = await freshNamespace(env.client, 'fence');
  });

  after(async () => {
    for (const e of electors) await e.release();
    for (const c of clients) c.close();
  });

  function replica(
    identity: string,
    monotonicMs: () => number,
    { client = new KubeClient(env.kubeConfig), lease = 'jsm-sso-operator' } = {},
  ) {
    const elector = new LeaderElector({
      client,
      namespace,
      name: lease,
      identity,
      logger,
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1_500,
      retryPeriodMs: 200,
      monotonicMs,
    });
    elector.fence(client);
    clients.push(client);
    electors.push(elector);
    return { client, elector };
  }

  const configMap = (name: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { written: 'yes' },
  });
  const configMaps = () => collectionPath(KINDS.configMap, namespace);

  it("refuses a woken leader's writes once its renew deadline passed, while the new leader writes", async () => {
    let frozenMs = 0;
    const old = replica('old', () => frozenMs);
    expect(await old.elector.acquire()).to.equal(true);
    await old.client.create(configMaps(), configMap('while-leading'));

    // Frozen: no renewal; a standby on a real clock takes the lease once it has seen it unchanged
    // for the lease duration.
    const standby = replica('new', () => performance.now());
    expect(await standby.elector.acquire()).to.equal(true);
    standby.elector.keepRenewing(() => undefined);
    await standby.client.create(configMaps(), configMap('new-leader'));

    // Wakes: its clock has moved past the renew deadline; its renewal loop has not run.
    frozenMs += 1_501;
    expect(old.elector.holds()).to.equal(false);
    const refused = await old.client.create(configMaps(), configMap('after-waking')).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(NotLeaderError);
    expect((refused as NotLeaderError).code).to.equal('OPERATOR_NOT_LEADER');
    expect(await env.client.get(objectPath(KINDS.configMap, namespace, 'after-waking'))).to.equal(undefined);
    // Its lease calls still go out: it learns it lost, and could acquire again as a standby.
    await eventually(async () => standby.elector.holds(), 'the new leader to keep renewing');
    expect(await env.client.get(objectPath(KINDS.configMap, namespace, 'new-leader'))).to.not.equal(
      undefined,
    );
  });

  for (const step of ['acquire', 'renewal'] as const) {
    const sent = step === 'acquire' ? 'the write that took the lease' : 'its renewal';
    it(`stops writing a renew deadline after it sent ${sent}, however late the answer came`, async () => {
      let clockMs = 0;
      const leases = collectionPath(KINDS.lease, namespace);
      // The replica's path to the API server for Lease writes: answered at once; or stored at once
      // and answered a second late on the replica's own clock (a slow or congested path back),
      // after which it is cut (a partition: no renewal gets through).
      let leasePath: 'fast' | 'slow' | 'cut' = step === 'acquire' ? 'slow' : 'fast';
      class LeasePath extends KubeClient {
        override async request<T>(method: string, path: string, args?: RequestArgs): Promise<T> {
          const leaseWrite = method !== 'GET' && path.startsWith(leases);
          if (leaseWrite && leasePath === 'cut') throw new Error('partitioned');
          const answer = await super.request<T>(method, path, args);
          if (leaseWrite && leasePath === 'slow') {
            clockMs += 1_000;
            leasePath = 'cut';
          }
          return answer;
        }
      }
      const lease = `slow-${step}`;
      const old = replica(`slow-${step}`, () => clockMs, { client: new LeasePath(env.kubeConfig), lease });
      expect(await old.elector.acquire()).to.equal(true);
      if (step === 'renewal') {
        leasePath = 'slow';
        old.elector.keepRenewing(() => undefined);
        await eventually(async () => leasePath === 'cut', 'the renewal answered late');
      }
      expect(clockMs).to.equal(1_000);

      // A standby takes the lease once it has seen the record unchanged for the lease duration,
      // so at least that long after the write was sent.
      const standby = replica(`after-slow-${step}`, () => performance.now(), { lease });
      expect(await standby.elector.acquire()).to.equal(true);
      standby.elector.keepRenewing(() => undefined);

      // The old leader's clock at the lease duration after its send: the renew deadline (1.5 s)
      // has passed since the send, though not since the answer (at 1 s).
      clockMs = 2_000;
      expect(old.elector.holds()).to.equal(false);
      const name = `after-slow-${step}`;
      const refused = await old.client.create(configMaps(), configMap(name)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(NotLeaderError);
      expect(await env.client.get(objectPath(KINDS.configMap, namespace, name))).to.equal(undefined);
    });
  }

  it('stops writing, and reports the lease lost, as soon as it reads that another replica holds it', async () => {
    // Its own clock stands still: only what it reads of the Lease can tell it that it lost.
    const lease = 'taken-over';
    const old = replica('supplanted', () => 0, { lease });
    expect(await old.elector.acquire()).to.equal(true);
    let lost = false;
    old.elector.keepRenewing(() => {
      lost = true;
    });
    // Another replica's name written into the Lease, with nothing to wait out: as when the Lease is
    // deleted (`kubectl delete lease`, a namespace cleanup) and a standby's attempt creates it first,
    // or a Lease restored from a backup.
    const leasePath = objectPath(KINDS.lease, namespace, lease);
    await eventually(async () => {
      const record = await env.client.get<{ spec: Record<string, unknown> }>(leasePath);
      if (!record) return false;
      record.spec = { ...record.spec, holderIdentity: 'successor', renewTime: microTime(new Date()) };
      return env.client.request('PUT', leasePath, { body: record }).then(
        () => true,
        () => false,
      );
    }, 'the Lease to name another holder');
    const standby = replica('successor', () => performance.now(), { lease });
    expect(await standby.elector.acquire()).to.equal(true);
    standby.elector.keepRenewing(() => undefined);

    await eventually(async () => lost, 'the old leader to report its lease lost');
    expect(old.elector.holds()).to.equal(false);
    const refused = await old.client.create(configMaps(), configMap('after-supplanted')).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(NotLeaderError);
    expect(await env.client.get(objectPath(KINDS.configMap, namespace, 'after-supplanted'))).to.equal(
      undefined,
    );
    expect(standby.elector.holds()).to.equal(true);
  });

  it('writes nothing before the lease is first acquired', async () => {
    const early = replica('early', () => performance.now());
    const refused = await early.client.create(configMaps(), configMap('before-acquire')).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(NotLeaderError);
  });
});
