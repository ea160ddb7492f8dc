// Redis Cluster replicates each shard asynchronously: a one-time marker the shard's master
// acknowledged but had not yet sent to its replica is gone when the replica is promoted. Real
// redis-server cluster nodes; the replica replicates through a relay the test holds, so "written on
// the master, not on the replica" is certain rather than a race.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore, type RedisFlowStoreOptions } from '../../common/flowstore/redis-store.js';
import { useOnce } from '../../common/saml/checks.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalCluster } from '../../testkit/local-cluster.js';
import { type LocalRedis, stoppedAfterEach } from '../../testkit/local-redis.js';
import { answering, PATIENT_REPLICA, untilMarkerStored } from '../../testkit/redis.js';

const outcome = (step: Promise<unknown>) =>
  step.then(
    (value) => (value === undefined ? 'accepted' : value),
    (e: unknown) => (e as { code?: string }).code,
  );

describe('faults: one-time markers across a Redis Cluster failover (real redis-server cluster nodes)', function () {
  this.timeout(90_000);
  const running = stoppedAfterEach();

  /** A store on `url` whose markers wait for a replica up to `budget` (the product's 200 ms when not given). */
  async function storeOn(url: string, budget?: RedisFlowStoreOptions) {
    const store = await answering(RedisFlowStore.open(parseRedisAddress(url), 'markers', undefined, budget));
    running.stops.push(() => store.close());
    return store;
  }

  /**
   * The cluster, and a store on it whose markers wait `budget`: PATIENT_REPLICA where a healthy
   * replica must acknowledge them; the product's where a shard has no replica (its every marker
   * waits the whole budget).
   */
  async function clusterStore({
    bReplica,
    budget,
  }: {
    bReplica?: boolean;
    budget?: RedisFlowStoreOptions;
  } = {}) {
    const cluster = await startLocalCluster(running, `jsm-sso:markers:{on-b}`, { bReplica });
    const store = await storeOn(cluster.url, budget);
    const { key: acknowledged } = await untilMarkerStored(store, 'start');
    /**
     * Promotes A's replica; answers how the first marker after it was answered. Until a marker's
     * redirection makes the store look the slots up again it sends A's slots to A first.
     */
    const failover = async () => {
      await cluster.failover();
      return (await untilMarkerStored(store, 'failover')).first;
    };
    return { ...cluster, store, acknowledged, failover };
  }

  it('does not accept a SAML assertion again after a failover to a replica its replay marker had not reached', async () => {
    const { store, relay, acknowledged, failover } = await clusterStore({ budget: PATIENT_REPLICA });
    relay.hold();
    const use = () => outcome(useOnce(store, 'assertion', 'https://idp.example', '_captured', 300));
    const first = await use();
    // The first marker after the failover went to A, now a replica, which redirected it (MOVED): it
    // follows to the new master (ADR 0291; before, 503), which stores it.
    expect(await failover()).to.equal(true);
    // The captured Response posted again: one of the two uses signs someone in, the second, as a
    // new one, its marker lost with the old master (red before: both accepted).
    const replayed = await use();
    expect(first).to.equal('FLOW_STORE_NOT_REPLICATED');
    expect(replayed).to.equal('accepted');
    // A marker the replica acknowledged survives the failover.
    expect(await store.putIfAbsent(acknowledged, '1', 60)).to.equal(false);
  });

  it('does not hand out a flow twice after a failover to a replica its take had not reached', async () => {
    const { store, relay, replica, failover } = await clusterStore({ budget: PATIENT_REPLICA });
    await store.put('flow:1', 'the flow', 60);
    await eventually(
      async () => replicaHolds(replica.port, 'flow:1') === 'the flow',
      'the flow on the replica',
      10_000,
    );
    relay.hold();
    const taken = await outcome(store.take('flow:1'));
    await failover();
    // The flow is back on the promoted replica; one request of the two was given it, the second
    // (red before: both).
    const takenAgain = await outcome(store.take('flow:1'));
    // Taken on the master, the replica still holding it: refused, not handed to the first request.
    expect(taken).to.equal('FLOW_STORE_NOT_REPLICATED');
    expect(takenAgain).to.equal('the flow');
  });

  it("waits for the replica of the marker's own shard, not another's", async () => {
    const { store, relay, url } = await clusterStore({ bReplica: true, budget: PATIENT_REPLICA });
    // A's markers, which its held replica does not acknowledge, through a store that waits the
    // product's 200 ms for each, not PATIENT_REPLICA's 1.5 s.
    const refusing = await storeOn(url);
    relay.hold();
    // A's replica is held, B's acknowledges: a WAIT sent to the other shard's master would accept
    // A's markers and refuse B's. Ten each, so none passes by luck.
    const onA = Array.from({ length: 10 }, (_, i) => `marker:{on-a}:${i}`);
    const onB = Array.from({ length: 10 }, (_, i) => `marker:{on-b}:${i}`);
    for (const key of onA)
      expect(await outcome(refusing.putIfAbsent(key, '1', 60)), key).to.equal('FLOW_STORE_NOT_REPLICATED');
    for (const key of onB) expect(await store.putIfAbsent(key, '1', 60), key).to.equal(true);
    // A refused marker stays on A's master: a replay finds it there.
    expect(await store.putIfAbsent(onA[0] ?? '', '1', 60)).to.equal(false);
  });

  /**
   * Twenty markers of A's shard, its replica's link held, once each of `forgetting` (nodes of the
   * cluster) has forgotten the replica (CLUSTER FORGET, for 60 s, longer than the test), as a node
   * that has not yet heard of it lists it: how each was answered, through a store that waits the
   * product's 200 ms. Twenty, so none passes by luck.
   */
  async function markersWithReplicaUnknownTo(
    forgetting: (masters: { a: LocalRedis; b: LocalRedis }) => LocalRedis[],
  ) {
    const cluster = await clusterStore();
    const replicaId = cli(cluster.replica.port, 'cluster', 'myid');
    const nodes = forgetting(cluster);
    // Every one has heard of it before any forgets it: a node forgets only a node it knows, and B
    // hears of the replica through A's gossip, which ends once A has forgotten it.
    for (const node of nodes)
      await eventually(
        async () => cli(node.port, 'cluster', 'nodes').includes(replicaId),
        'the replica known',
        20_000,
      );
    for (const node of nodes) {
      expect(cli(node.port, 'cluster', 'forget', replicaId)).to.equal('OK');
      expect(cli(node.port, 'cluster', 'nodes')).not.to.include(replicaId);
    }
    cluster.relay.hold();
    const answers = [];
    for (const key of Array.from({ length: 20 }, (_, i) => `marker:{on-a}:${i}`))
      answers.push(await outcome(cluster.store.putIfAbsent(key, '1', 60)));
    return { ...cluster, answers };
  }

  it("asks the marker's own master whether it has a replica, not a node whose gossip has not told it of one", async () => {
    // Every node but A and the replica (which cannot forget itself) is B; a keyless command goes to
    // a master, A or B.
    const { answers, store } = await markersWithReplicaUnknownTo(({ b }) => [b]);
    // Red before: those whose CLUSTER NODES went to B (about half) accepted, the held replica lacking them.
    expect(answers).to.deep.equal(Array(20).fill('FLOW_STORE_NOT_REPLICATED'));
    // B's own shard, without a replica in its own table, is served as before.
    expect(await store.putIfAbsent('marker:{on-b}:after', '1', 60)).to.equal(true);
  });

  it('counts a replica its master serves before its table lists it (a replica just in sync)', async () => {
    // A replica's master lists it in its table at the replica's next cluster bus ping, 300-500 ms
    // after it is in sync (measured); its ROLE lists it meanwhile. Forgotten by A as well, it is
    // listed by no node's table.
    const { answers } = await markersWithReplicaUnknownTo(({ a, b }) => [a, b]);
    expect(answers).to.deep.equal(Array(20).fill('FLOW_STORE_NOT_REPLICATED'));
  });

  it('accepts the markers of a shard without a replica: no failover can promote one that lacks them', async () => {
    // A Cluster of masters alone (`--cluster-replicas 0`) worked before ADR 0272 and still does.
    const { store } = await clusterStore();
    for (const key of Array.from({ length: 10 }, (_, i) => `marker:{on-b}:${i}`))
      expect(await store.putIfAbsent(key, '1', 60), key).to.equal(true);
    await store.put('flow:{on-b}', 'x', 60);
    expect(await store.take('flow:{on-b}')).to.equal('x');
  });
});

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

/** The store's `key` as the replica on `port` holds it (READONLY: a cluster replica answers reads). */
function replicaHolds(port: number, key: string): string {
  return (
    spawnSync('redis-cli', ['-p', String(port)], {
      input: `READONLY\nGET jsm-sso:markers:${key}\n`,
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n')
      .at(-1) ?? ''
  );
}
