// Redis replicates asynchronously: a one-time marker the master acknowledged but had not yet sent to
// its replica is gone when Sentinel promotes that replica. Real redis-server and redis-sentinel; the
// replica replicates through a TCP relay the test holds, so "written on the master, not on the
// replica" is certain rather than a race.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { useOnce } from '../../common/saml/checks.js';
import { eventually } from '../../testkit/envtest.js';
import { startFaultProxy } from '../../testkit/fault-proxy.js';
import { startLocalRedis, startLocalSentinel, stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering, PATIENT_REPLICA, untilMarkerStored } from '../../testkit/redis.js';
import { replicationRelay } from '../../testkit/replication-relay.js';
import { failOver, untilPromotable } from '../../testkit/sentinel.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

/** A master and its replica, which replicates through a relay the test can hold; once in sync. */
async function relayedReplica(
  started: ReturnType<typeof stoppedAfterEach>['started'],
  stops: ReturnType<typeof stoppedAfterEach>['stops'],
) {
  const master = await started(startLocalRedis());
  const replica = await started(startLocalRedis(['--replicaof', '127.0.0.1', '0']));
  const relay = await replicationRelay(master.port);
  stops.push(() => relay.close());
  expect(cli(replica.port, 'replicaof', '127.0.0.1', String(relay.port))).to.equal('OK');
  await eventually(
    async () => cli(replica.port, 'info', 'replication').includes('master_link_status:up'),
    'the replica in sync',
    10_000,
  );
  return { master, replica, relay };
}

describe('faults: one-time markers across a Sentinel failover (real redis-server and sentinel)', function () {
  this.timeout(90_000);
  const { started, stops } = stoppedAfterEach();

  /** A master, its replica (through a relay), a sentinel that can promote the replica, and a store on the sentinel. */
  async function sentinelGroup(name: string) {
    const { master, replica, relay } = await relayedReplica(started, stops);
    const sentinel = await started(startLocalSentinel({ masterPort: master.port, name }));
    await untilPromotable(sentinel, name, replica);
    // Markers a healthy replica acknowledges are stored however late a loaded machine runs it; a
    // held one's are refused once the budget is spent.
    const store = await answering(
      RedisFlowStore.open(parseRedisAddress(sentinel.url), 'markers', undefined, PATIENT_REPLICA),
    );
    stops.push(() => store.close());
    const failover = async () => {
      await failOver(sentinel, name, master, replica);
      // Until the old master has synced from the new one, no replica can acknowledge a marker.
      await eventually(
        async () => cli(master.port, 'info', 'replication').includes('master_link_status:up'),
        'the old master a replica in sync',
        20_000,
      );
      // Until a replica acknowledges a fresh marker: the new pair's link is at work.
      await untilMarkerStored(store, 'failover');
    };
    return { store, relay, replica, failover };
  }

  it('does not accept a SAML assertion again after a failover to a replica its replay marker had not reached', async () => {
    const { store, relay, failover } = await sentinelGroup('assertions');
    await useOnce(store, 'assertion', 'https://idp.example', '_first', 300);
    relay.hold();
    const use = () =>
      useOnce(store, 'assertion', 'https://idp.example', '_captured', 300).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      );
    const first = await use();
    await failover();
    // The captured Response posted again: at most one of the two uses may sign anyone in. The
    // first is refused, since no replica holds its marker; the second is accepted as a new one (its
    // marker was lost with the old master), never twice (red before: both accepted).
    const replayed = await use();
    expect(first).to.equal('FLOW_STORE_NOT_REPLICATED');
    expect(replayed).to.equal('accepted');
    // A marker the replica acknowledged survives the failover.
    expect(
      await useOnce(store, 'assertion', 'https://idp.example', '_first', 300).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      ),
    ).to.equal('SAML_REPLAY');
  });

  it('does not hand out a flow twice after a failover to a replica its take had not reached', async () => {
    const { store, relay, replica, failover } = await sentinelGroup('flows');
    await store.put('flow:1', 'the flow', 60);
    await eventually(
      async () => cli(replica.port, 'get', 'jsm-sso:markers:flow:1') === 'the flow',
      'the flow on the replica',
      10_000,
    );
    relay.hold();
    const taken = await store.take('flow:1').then(
      (value) => value,
      (e: unknown) => (e as { code?: string }).code,
    );
    // Taken on the master, the replica still holding it: refused, not handed to this request.
    expect(taken).to.equal('FLOW_STORE_NOT_REPLICATED');
    await failover();
    // The flow is back on the promoted replica; one request of the two was given it, the second.
    expect(
      await store.take('flow:1').then(
        (value) => value,
        (e: unknown) => (e as { code?: string }).code,
      ),
    ).to.equal('the flow');
  });
});

describe('faults: one-time markers behind a managed primary endpoint (one URL, a failover behind it)', function () {
  this.timeout(60_000);
  const { started, stops } = stoppedAfterEach();

  it('does not accept an assertion again after the endpoint moves to a replica, with ?waitForReplica=yes (ADR 0272); without it, does', async () => {
    const { master, replica, relay } = await relayedReplica(started, stops);
    // The endpoint's name (a TCP proxy standing in for its DNS record) points at the primary.
    const endpoint = await startFaultProxy();
    stops.push(() => endpoint.close());
    endpoint.target = { host: '127.0.0.1', port: master.port };
    const open = async (url: string, tenant: string) => {
      const store = await answering(
        RedisFlowStore.open(parseRedisAddress(url), tenant, undefined, PATIENT_REPLICA),
      );
      stops.push(() => store.close());
      return store;
    };
    const url = `redis://127.0.0.1:${new URL(endpoint.url).port}`;
    const waiting = await open(`${url}?waitForReplica=yes`, 'waiting');
    const plain = await open(url, 'plain');
    await untilMarkerStored(waiting, 'start');
    relay.hold();
    const use = (store: RedisFlowStore) =>
      useOnce(store, 'assertion', 'https://idp.example', '_captured', 300).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      );
    const first = { waiting: await use(waiting), plain: await use(plain) };
    // The managed failover: the replica promoted, the old primary made its replica (resyncing from
    // it), the name moved.
    expect(cli(replica.port, 'replicaof', 'no', 'one')).to.equal('OK');
    expect(cli(master.port, 'replicaof', '127.0.0.1', String(replica.port))).to.equal('OK');
    endpoint.target = { host: '127.0.0.1', port: replica.port };
    await eventually(
      async () => cli(master.port, 'info', 'replication').includes('master_link_status:up'),
      'the old primary a replica in sync',
      20_000,
    );
    await untilMarkerStored(waiting, 'failover');
    // The plain store's first write after the failover meets READONLY and reconnects through the name.
    await untilMarkerStored(plain, 'failover');
    const replayed = { waiting: await use(waiting), plain: await use(plain) };
    // With the option: refused while unreplicated, so one use signs someone in: the one after the
    // failover.
    expect(first.waiting).to.equal('FLOW_STORE_NOT_REPLICATED');
    expect(replayed.waiting).to.equal('accepted');
    // Without it a standalone URL is unchanged, and the failover undoes the marker: the limit the
    // option is for.
    expect([first.plain, replayed.plain]).to.deep.equal(['accepted', 'accepted']);
  });
});

describe('faults: a replica lagging past the WAIT budget while people are signed in', function () {
  this.timeout(60_000);
  const { started, stops } = stoppedAfterEach();

  it('refuses the sign-ins’ markers and still reads the sessions: a WAIT does not hold up the pages (ADR 0291)', async () => {
    const { master, relay } = await relayedReplica(started, stops);
    const store = await answering(
      RedisFlowStore.open(
        parseRedisAddress(`redis://127.0.0.1:${master.port}?waitForReplica=yes`),
        'lagging',
      ),
    );
    stops.push(() => store.close());
    await untilMarkerStored(store, 'start');
    await store.put('session', 'signed in', 600);
    relay.hold();
    // Four sign-ins' markers at once, each waiting 200 ms for a replica that does not answer, and
    // three page views' session reads sent with them. Red before: the reads queued behind the WAITs
    // on the one connection and answered FLOW_STORE_UNAVAILABLE.
    const markers = Array.from({ length: 4 }, (_, i) => outcomeOf(store.putIfAbsent(`marker:${i}`, '1', 60)));
    const reads = Array.from({ length: 3 }, () => outcomeOf(store.get('session')));
    // Readiness too: the markers' connection is up, only busy; a PING queued behind the WAITs would
    // miss the probe's deadline on every pod at once and take the pages down with the sign-ins.
    const readiness = outcomeOf(store.ping().then(() => 'ready'));
    expect(await Promise.all(reads)).to.deep.equal(['signed in', 'signed in', 'signed in']);
    expect(await readiness, 'readiness while the markers wait').to.equal('ready');
    // No marker is accepted unreplicated; those past the deadline behind the others are 503 too.
    for (const marker of await Promise.all(markers))
      expect(marker).to.be.oneOf(['FLOW_STORE_NOT_REPLICATED', 'FLOW_STORE_UNAVAILABLE']);
  });
});

const outcomeOf = (step: Promise<unknown>) =>
  step.then(
    (value) => value,
    (e: unknown) => (e as { code?: string }).code,
  );
