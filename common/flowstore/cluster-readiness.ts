import type { Cluster, Redis } from 'ioredis';
import { nodesNotHeard } from './cluster-shards.js';
import { answeredWithin } from './command-deadline.js';
import { redisTimeMs } from './redis-time.js';

/** A node connection's probe PING while unanswered: later probes wait on it rather than queue more. */
const pingsInFlight = new WeakMap<Redis, Promise<void>>();

/**
 * Per cluster client, the masters whose node connection failed with a probe's PING unanswered (the
 * socket timeout dropped it, half-open or its master gone), told by the next probe. A cluster client
 * does not make a lost node connection again by itself, so without this a dropped markers' one, or a
 * pages' one made again before the next probe, would leave no trace.
 */
const droppedConnections = new WeakMap<Cluster, Map<string, Error>>();

/**
 * Whether every shard of a Redis Cluster this process needs can be reached, as its readiness (ADRs
 * 0310, 0321). A master fails when this process's connection to it is down (missing from the cluster
 * client's pool, or being made and not answering within the deadline) or was dropped since the last
 * probe with the probe's PING unanswered; the markers' connection to it, where one was made, when it
 * was dropped so. Each probe keeps one PING in flight on each of those connections, which arms the
 * socket timeout (2 s): a half-open connection is dropped by it, and told. A master that answers
 * slower than the probe's deadline is not a failure: the cluster hears it and it answers every pod
 * as late, so failing it would take every pod out of its Service, and stop the people whose keys
 * live on the other shards too (ADR 0302). A failed master counts only when the cluster hears it
 * (from the `CLUSTER NODES` of the first master to answer the probe's PING): one the cluster does
 * not hear either (stalled, down, failing over) fails its slots on every pod alike; one it hears
 * and this process cannot reach is this process's fault, and another pod may serve its slots.
 */
export async function everyHeardShardAnswers(
  cluster: Cluster,
  markers: Cluster | undefined,
  deadlineMs: number,
): Promise<void> {
  const masters = [...new Set(cluster.slots.flatMap(([master]) => (master ? [master] : [])))];
  const shards = masters.map((address) => {
    const pages = nodeAt(cluster, address);
    const answer = pages && probePing(cluster, address, pages);
    return {
      address,
      pages,
      answer,
      failure: shardFailure(cluster, markers, address, pages, answer, deadlineMs),
    };
  });
  const failed = (
    await Promise.all(shards.map(async ({ address, failure }) => ({ address, failure: await failure })))
  ).filter(({ failure }) => failure);
  if (failed.length === 0) return;
  const view = await Promise.any(
    shards.flatMap(({ pages, answer }) =>
      pages && answer
        ? [answeredWithin(answer, deadlineMs).then(() => answeredWithin(viewOf(pages), deadlineMs))]
        : [],
    ),
  ).catch(() => Promise.reject(new Error('no Redis Cluster master answered')));
  const notHeard = nodesNotHeard(view.clusterNodes, view.nowMs);
  const heard = failed.find(({ address }) => !notHeard.has(address));
  if (heard) throw heard.failure;
}

/** A master's `CLUSTER NODES`, and its `TIME`, the clock that answer's ping times are on. */
async function viewOf(node: Redis): Promise<{ clusterNodes: string; nowMs: number }> {
  const answers = (await node.pipeline().cluster('NODES').time().exec()) ?? [];
  const [[nodesError, clusterNodes] = [], [timeError, time] = []] = answers;
  if (nodesError || timeError) throw nodesError ?? timeError;
  return { clusterNodes: String(clusterNodes), nowMs: redisTimeMs(time as string[]) };
}

/** Why the master at `address`, its pages' connection `pages` answering `answer`, fails this probe, if it does. */
async function shardFailure(
  cluster: Cluster,
  markers: Cluster | undefined,
  address: string,
  pages: Redis | undefined,
  answer: Promise<void> | undefined,
  deadlineMs: number,
): Promise<Error | undefined> {
  // Both told now, so neither is left to fail a later probe.
  const dropped = [takeDropped(cluster, address), markers && takeDropped(markers, address)].find(Boolean);
  const marking = markers && nodeAt(markers, address);
  // Not made yet, or lost and not yet made again: the next marker for it makes it.
  if (markers && marking?.status === 'ready') probePing(markers, address, marking);
  if (!pages || !answer) {
    // Its connection was lost and left the pool (a cluster client makes it again only when a
    // redirection or a slot refresh names it): made again, lazily, for the next probe.
    cluster.refreshSlotsCache();
    return dropped ?? new Error(`no connection to the Redis Cluster master ${address}`);
  }
  if (dropped || pages.status === 'ready') return dropped;
  // Being made (or, lazily, not yet): up once it answers.
  return answeredWithin(answer, deadlineMs).then(
    () => undefined,
    (err: unknown) =>
      new Error(`the connection to the Redis Cluster master ${address} is ${pages.status}`, { cause: err }),
  );
}

/** The probe's PING on `node`, or the one a previous probe left unanswered. */
function probePing(client: Cluster, address: string, node: Redis): Promise<void> {
  const inFlight = pingsInFlight.get(node);
  if (inFlight) return inFlight;
  const ping = node.ping().then(
    () => {
      pingsInFlight.delete(node);
    },
    (err: unknown) => {
      pingsInFlight.delete(node);
      droppedOf(client).set(
        address,
        new Error(
          `the connection to the Redis Cluster master ${address} failed with a probe's PING unanswered`,
          {
            cause: err,
          },
        ),
      );
      throw err;
    },
  );
  // Those not waited for are settled all the same.
  ping.catch(() => {});
  pingsInFlight.set(node, ping);
  return ping;
}

function droppedOf(client: Cluster): Map<string, Error> {
  let dropped = droppedConnections.get(client);
  if (!dropped) {
    dropped = new Map();
    droppedConnections.set(client, dropped);
  }
  return dropped;
}

/** The failure a dropped connection to `address` left for this probe, told once. */
function takeDropped(client: Cluster, address: string): Error | undefined {
  const dropped = droppedConnections.get(client)?.get(address);
  droppedConnections.get(client)?.delete(address);
  return dropped;
}

function nodeAt(cluster: Cluster, address: string): Redis | undefined {
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}
