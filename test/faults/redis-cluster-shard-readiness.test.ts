// On Redis Cluster each shard's master is reached by a connection of its own. A pod that cannot
// reach the master of some slots while the cluster itself does (a partition of that pod: its node's
// network, a policy) signs in the people whose keys live elsewhere and fails the others: readiness
// must say so, so that Kubernetes sends them to a pod that can. A master the cluster does not hear
// either (stalled, down, failing over) fails every pod alike: no pod is taken out for it (ADR 0310).
// Real redis-server cluster nodes; this pod's way to B through a forwarder the test cuts.
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoError } from '../../common/errors.js';
import { nodesNotHeard } from '../../common/flowstore/cluster-shards.js';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { redisTimeMs } from '../../common/flowstore/redis-time.js';
import { HealthMonitor } from '../../common/http/health.js';
import { partReadiness } from '../../common/runtime.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { cuttableForward } from '../../testkit/cuttable-forward.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalCluster } from '../../testkit/local-cluster.js';
import { stoppedAfterEach, whileStalled } from '../../testkit/local-redis.js';
import { notReadyReason, untilNotReady, untilReady } from '../../testkit/readiness.js';
import { answering, clientLastIn, PATIENT_REPLICA } from '../../testkit/redis.js';
import { silencingProxy } from '../../testkit/silencing-proxy.js';

const codeOf = (step: Promise<unknown>) =>
  step.then(
    () => 'answered',
    (err: JsmSsoError) => err.code,
  );

describe('faults: readiness on Redis Cluster judges every shard (real redis-server cluster nodes)', function () {
  this.timeout(90_000);
  const running = stoppedAfterEach();

  async function clusterStore<Front extends { port: number; close(): Promise<void> }>(
    bFront: ((port: number) => Promise<Front>) | undefined,
    { bReplica = false } = {},
  ) {
    const cluster = await startLocalCluster(running, 'jsm-sso:shards:{on-b}', { bFront, bReplica });
    // B's markers (with its replica) are acknowledged, however late a loaded machine runs it.
    const store = await answering(
      RedisFlowStore.open(parseRedisAddress(cluster.url), 'shards', undefined, PATIENT_REPLICA),
    );
    running.stops.push(() => store.close());
    // `{on-b}` hashes to B's one slot; `on-a` to one of A's.
    await store.put('{on-b}:page', 'on B', 60);
    await store.put('on-a', 'on A', 60);
    return { ...cluster, store };
  }

  it('is not ready while this pod cannot reach the master of some slots the cluster reaches; ready again once it can', async () => {
    const { store, bFronted: bForward } = await clusterStore(cuttableForward);
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const health = partReadiness(store, async () => {}, logger);
    running.stops.push(async () => health.stop());
    await health.start();
    health.assertReady();

    // This pod's way to B is cut (its connections dropped, new ones held unanswered); the cluster bus is not.
    bForward?.cut();
    expect(await codeOf(store.get('{on-b}:page'))).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await store.get('on-a')).to.equal('on A');

    // Not ready at every probe, as the kubelet needs it (3 failures in a row): 10 in a row are said
    // again ("still not ready"). Red before: a probe's PING went to one master picked at random, and
    // none to B once its lost connection had left the cluster client's pool, so readiness flapped.
    const stillNotReady = await eventually(
      async () => logs.find((l) => l['event'] === 'process.readiness' && l['msg'] === 'still not ready'),
      'ten failed probes in a row',
      30_000,
    );
    expect(stillNotReady['cause']).to.equal('FLOW_STORE_UNAVAILABLE');

    bForward?.resume();
    await untilReady(health);
    expect(await store.get('{on-b}:page')).to.equal('on B');
  });

  it("stays ready while a master the cluster does not hear either is stalled, past the socket timeout that drops this pod's connections to it: every pod fails its slots alike", async () => {
    const { store, a, b, bFronted } = await clusterStore(cuttableForward);
    // The markers' connection to B is made too (a marker on B; its shard has no replica to wait for).
    expect(await store.putIfAbsent('{on-b}:before', 'used', 60)).to.equal(true);
    const { probes } = await recordedProbes(store);
    await whileStalled(b, async () => {
      // Once the cluster itself does not hear B (A's ping to it unanswered), B's stall is everyone's.
      await eventually(async () => !heardBy(a.port, bFronted?.port ?? b.port), 'A not hearing B', 20_000);
      expect(await codeOf(store.get('{on-b}:page'))).to.equal('FLOW_STORE_UNAVAILABLE');
      // Eight probes after one under way: past the 2 s socket timeout, which drops this pod's
      // connections to B (their probe PINGs unanswered), and past their being made again to a B that
      // takes the connection and answers nothing. Red before: a probe waited the whole deadline for
      // such a connection before asking whether the cluster heard B, and missed its own deadline.
      const from = probes.length + 1;
      await eventually(async () => probes.length >= from + 8, 'eight probes', 30_000);
      expect(probes.slice(from)).to.deep.equal(Array(probes.length - from).fill(undefined));
      expect(await store.get('on-a')).to.equal('on A');
    });
  });

  it('stays ready while a master the cluster hears answers every client later than the probe deadline', async () => {
    const { store, bFronted } = await clusterStore(silencingProxy, { bReplica: true });
    // The markers' connection to B is made (a marker on B), so it is judged too.
    expect(await store.putIfAbsent('{on-b}:before', 'used', 60)).to.equal(true);
    const { probes, health } = await recordedProbes(store);

    // B answers every client 1 s late: past the probe's 0.5 s deadline, within the 2 s socket
    // timeout. B's pages fail on every pod alike; A's are served. Red before: each probe's PING to
    // B missed its deadline, the cluster heard B, so every pod read not-ready.
    bFronted?.delayAnswers(1000);
    const from = probes.length;
    expect(await codeOf(store.get('{on-b}:page'))).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await store.get('on-a')).to.equal('on A');
    // Six probes, at 1 s apart: longer than the socket timeout, which must not drop B's connections.
    await eventually(async () => probes.length >= from + 6, 'six probes', 30_000);
    expect(probes.slice(from)).to.deep.equal(Array(probes.length - from).fill(undefined));
    expect(notReadyReason(health)).to.equal(undefined);
  });

  /** A readiness monitor of `store` at its 1 s interval, started, and each probe's outcome (undefined: ready). */
  async function recordedProbes(store: RedisFlowStore) {
    const probes: Array<string | undefined> = [];
    const health = new HealthMonitor({
      check: () =>
        store.ping().then(
          () => void probes.push(undefined),
          (err: JsmSsoError) => {
            probes.push(err.code);
            throw err;
          },
        ),
    });
    running.stops.push(async () => health.stop());
    await health.start();
    return { probes, health };
  }

  it("is not ready while the markers' connection to one master is dropped and that master takes no new connection; ready again once it takes one", async () => {
    const { store, b } = await clusterStore(undefined, { bReplica: true });
    const admin = new Redis(b.url);
    running.stops.push(async () => admin.disconnect());
    // The markers' connection to B is made (a marker on B).
    expect(await store.putIfAbsent('{on-b}:before', 'used', 60)).to.equal(true);
    const markers = await clientLastIn(admin, 'wait');
    const { probes, health } = await recordedProbes(store);
    expect(notReadyReason(health)).to.equal(undefined);

    // B takes no new connection (those open stay: this pod's pages' one, the cluster bus), then drops
    // the markers' one: this pod can mark nothing on B, while another pod's markers' connection may.
    await admin.config('SET', 'maxclients', '1');
    await admin.call('client', 'kill', 'id', markers);
    expect(await codeOf(store.putIfAbsent('{on-b}:during', 'used', 60))).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await store.get('{on-b}:page')).to.equal('on B');

    // Not ready at every probe while so (after one under way), as the kubelet needs it (3 failures in a
    // row). Red before: all read ready, the lost connection being out of the markers' cluster client's
    // pool (or one failed, had the drop met a probe's PING).
    const from = probes.length + 1;
    await eventually(async () => probes.length >= from + 4, 'four probes', 30_000);
    expect(probes.slice(from)).to.deep.equal(Array(probes.length - from).fill('FLOW_STORE_UNAVAILABLE'));
    expect(await store.get('{on-b}:page')).to.equal('on B');

    await admin.config('SET', 'maxclients', '10000');
    await untilReady(health);
    expect(await store.putIfAbsent('{on-b}:after', 'used', 60)).to.equal(true);
  });

  it("is not ready while the markers' idle connection to one master is half-open, ready again once it is dropped", async () => {
    const { store, bFronted } = await clusterStore(silencingProxy, { bReplica: true });
    expect(await store.putIfAbsent('{on-b}:before', 'used', 60)).to.equal(true);
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const health = partReadiness(store, async () => {}, logger);
    running.stops.push(async () => health.stop());
    await health.start();
    health.assertReady();

    // The markers' connection to B (the one that sent WAIT through B's proxy), idle, loses its peer unsaid.
    expect(bFronted?.silenceThoseThatSent(/wait/i)).to.equal(1);
    // Red before: ready throughout (the markers' cluster client stayed ready).
    expect(await untilNotReady(health, logs, 10_000)).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await store.get('{on-b}:page')).to.equal('on B');

    await untilReady(health);
    expect(await store.putIfAbsent('{on-b}:after', 'used', 60)).to.equal(true);
  });
});

/** Whether the node on `port` hears the master announced at `masterPort`, as readiness judges it (nodesNotHeard). */
function heardBy(port: number, masterPort: number): boolean {
  const cli = (...args: string[]) =>
    spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
  const clusterNodes = cli('cluster', 'nodes');
  const nowMs = redisTimeMs(cli('time').trim().split('\n'));
  return !nodesNotHeard(clusterNodes, nowMs).has(`127.0.0.1:${masterPort}`);
}
