// A small Redis Cluster of real redis-server processes on loopback, for the failover fault tests.
import { spawnSync } from 'node:child_process';
import { eventually } from './envtest.js';
import { freePort, type LocalRedis, startLocalRedis, type stoppedAfterEach } from './local-redis.js';
import { replicationRelay } from './replication-relay.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

/** A cluster node; its bus port is chosen too (the default, port + 10000, may be past 65535). */
async function clusterNode(
  started: ReturnType<typeof stoppedAfterEach>['started'],
): Promise<LocalRedis & { busPort: number }> {
  const busPort = await freePort();
  const node = await started(
    startLocalRedis([
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-port',
      String(busPort),
      // A lone node does not know its own address until it meets a peer, so it is told.
      '--cluster-announce-ip',
      '127.0.0.1',
    ]),
  );
  return { ...node, busPort };
}

/**
 * Two shards. Shard A: a master and its replica, which replicates through a relay the test can hold
 * (A announces the relay's port, so the replica and clients reach A through it; only the replication
 * link is held). Shard B: a master that owns one slot, `bKey`'s (keys with its hash tag), without a
 * replica, or with one replicating directly when `bReplica`; A owns the rest. With `bFront` (a TCP
 * forwarder or proxy started in front of B's port), B announces it, so clients reach B through it and
 * the test can cut or silence this client's way to B while the cluster bus between the nodes stays up
 * (a partition of one pod); it is returned as `bFronted`.
 * `addMaster()` adds a master without slots, with a replica (or without: `{ replica: false }`). `failover()` promotes A's replica (CLUSTER FAILOVER TAKEOVER: no vote, no handshake with A, so a
 * held link cannot stop it) and returns once A has resynced as its replica. Call inside a mocha
 * `describe`, with its stoppedAfterEach.
 */
export async function startLocalCluster<Front extends { port: number; close(): Promise<void> }>(
  { started, stops }: ReturnType<typeof stoppedAfterEach>,
  bKey: string,
  { bReplica = false, bFront }: { bReplica?: boolean; bFront?: (port: number) => Promise<Front> } = {},
) {
  const a = await clusterNode(started);
  const relay = await replicationRelay(a.port);
  stops.push(() => relay.close());
  ok(cli(a.port, 'config', 'set', 'cluster-announce-port', String(relay.port)), 'announce');
  const b = await clusterNode(started);
  const bFronted = bFront ? await bFront(b.port) : undefined;
  if (bFronted) {
    stops.push(() => bFronted.close());
    ok(cli(b.port, 'config', 'set', 'cluster-announce-port', String(bFronted.port)), 'announce');
  }
  const replica = await clusterNode(started);
  const bFollower = bReplica ? await clusterNode(started) : undefined;
  for (const node of [b, replica, ...(bFollower ? [bFollower] : [])])
    ok(cli(a.port, 'cluster', 'meet', '127.0.0.1', String(node.port), String(node.busPort)), 'meet');
  const bSlot = Number(cli(a.port, 'cluster', 'keyslot', bKey));
  for (const [from, to] of [
    [0, bSlot - 1],
    [bSlot + 1, 16383],
  ] as const)
    if (from <= to) ok(cli(a.port, 'cluster', 'addslotsrange', String(from), String(to)), 'addslots');
  ok(cli(b.port, 'cluster', 'addslots', String(bSlot)), 'addslots');
  const follow = [
    { follower: replica, master: a },
    ...(bFollower ? [{ follower: bFollower, master: b }] : []),
  ];
  for (const { follower, master } of follow) await replicating(follower, master);
  const nodes = [a, b, replica, ...(bFollower ? [bFollower] : [])];
  for (const { follower, master } of follow) await replicaKnownTo(nodes, follower, master);
  for (const node of nodes)
    await eventually(
      async () => cli(node.port, 'cluster', 'info').includes('cluster_state:ok'),
      'the cluster ok',
      20_000,
    );
  return {
    url: `cluster://127.0.0.1:${b.port}`,
    relay,
    a,
    b,
    bFronted,
    replica,
    /**
     * A master that joins the cluster owning no slot, with its replica unless `replica` is false, as a
     * shard added before a reshard; once it and every master know it.
     */
    async addMaster({ replica: withReplica = true }: { replica?: boolean } = {}) {
      const added = await clusterNode(started);
      const follower = withReplica ? await clusterNode(started) : undefined;
      for (const node of [added, ...(follower ? [follower] : [])])
        ok(cli(a.port, 'cluster', 'meet', '127.0.0.1', String(node.port), String(node.busPort)), 'meet');
      if (follower) await replicating(follower, added);
      const addedId = cli(added.port, 'cluster', 'myid');
      for (const node of [a, b])
        await eventually(
          async () => cli(node.port, 'cluster', 'nodes').includes(`${addedId} 127.0.0.1:${added.port}`),
          'the new master known',
          20_000,
        );
      await eventually(
        async () => cli(added.port, 'cluster', 'info').includes('cluster_state:ok'),
        'the new master seeing the cluster ok',
        20_000,
      );
      return added;
    },
    async failover() {
      ok(cli(replica.port, 'cluster', 'failover', 'takeover'), 'takeover');
      // A learns it lost its slots, follows the replica and resyncs from it (dropping what only it held).
      await eventually(
        async () => cli(a.port, 'info', 'replication').includes('role:slave') && inSync(a),
        'A resynced as the new master replica',
        20_000,
      );
    },
  };
}

const inSync = (node: LocalRedis) => cli(node.port, 'info', 'replication').includes('master_link_status:up');

/**
 * Until every node lists `follower` as `master`'s replica: a cluster whose gossip has settled. A node
 * that has not heard of the replica names the old master for its slots after a failover, and ioredis,
 * refreshing its slot map from that node, drops its connection to the promoted replica, so the first
 * marker after the failover cannot follow its MOVED there (CI run 116: 503 FLOW_STORE_UNAVAILABLE).
 * The store no longer asks any node but the marker's master whether a shard has a replica (ADR 0353):
 * the tests of that make a node forget the replica themselves.
 */
async function replicaKnownTo(nodes: LocalRedis[], follower: LocalRedis, master: LocalRedis): Promise<void> {
  const followerId = cli(follower.port, 'cluster', 'myid');
  const masterId = cli(master.port, 'cluster', 'myid');
  for (const node of nodes)
    await eventually(
      async () =>
        cli(node.port, 'cluster', 'nodes')
          .split('\n')
          .some((line) => {
            const fields = line.split(' ');
            return fields[0] === followerId && fields[2]?.includes('slave') && fields[3] === masterId;
          }),
      'every node knowing the replica',
      20_000,
    );
}

/** Makes `follower` `master`'s replica; returns once it is in sync. */
async function replicating(follower: LocalRedis, master: LocalRedis): Promise<void> {
  const masterId = cli(master.port, 'cluster', 'myid');
  // A replica can follow its master once it has heard of it.
  await eventually(
    async () => cli(follower.port, 'cluster', 'replicate', masterId) === 'OK',
    'the replica following its master',
    20_000,
  );
  await eventually(async () => inSync(follower), 'the replica in sync', 20_000);
}

function ok(answer: string, what: string): void {
  if (answer !== 'OK') throw new Error(`cluster ${what}: ${answer}`);
}
