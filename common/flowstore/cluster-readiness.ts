import type { Cluster, Redis } from 'ioredis';
import { nodeAt } from './cluster-connections.js';
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
 * 0310, 0321, 0325). A master fails when this process's pages' or markers' connection to it is down
 * (lost, or being made and not answering within the deadline) or was dropped since the last probe
 * with the probe's PING unanswered. Each probe keeps one PING in flight on each of those connections,
 * which arms the socket timeout (2 s): a half-open connection is dropped by it, and told. A master
 * that answers slower than the probe's deadline is not a failure: the cluster hears it and it answers
 * every pod as late, so failing it would take every pod out of its Service, and stop the people whose
 * keys live on the other shards too (ADR 0302). A failed master counts only when the cluster hears it
 * (from the `CLUSTER NODES` of the first master to answer the probe's PING): one the cluster does not
 * hear either (stalled, down, failing over) fails its slots on every pod alike; one it hears and this
 * process cannot reach is this process's fault, and another pod may serve its slots.
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
  const doubtful = shards.filter(({ failure }) => failure);
  if (doubtful.length === 0) return;
  // Asked at once, not once a failure is known: a connection being made to a master nobody hears (a
  // stalled one, whose dropped connection is made again) is not waited for, which would take the
  // probe past its deadline on every pod alike.
  const notHeard = Promise.any(
    shards.flatMap(({ pages, answer }) =>
      pages && answer
        ? [answeredWithin(answer, deadlineMs).then(() => answeredWithin(viewOf(pages), deadlineMs))]
        : [],
    ),
  ).then(
    (view) => nodesNotHeard(view.clusterNodes, view.nowMs),
    () => Promise.reject(new Error('no Redis Cluster master answered')),
  );
  const failures = await Promise.all(
    doubtful.map(({ address, failure }) => failureHeard(address, failure, notHeard)),
  );
  const failed = failures.find(Boolean);
  if (failed) throw failed;
}

/** `failure` of the master at `address`, unless the cluster does not hear it either; no master answering is the whole Redis unavailable. */
async function failureHeard(
  address: string,
  failure: Promise<Error | undefined> | undefined,
  notHeard: Promise<Set<string>>,
): Promise<Error | undefined> {
  let silent: Set<string>;
  try {
    silent = await notHeard;
  } catch (err) {
    if (await failure) throw err;
    return undefined;
  }
  return silent.has(address) ? undefined : await failure;
}

/** A master's `CLUSTER NODES`, and its `TIME`, the clock that answer's ping times are on. */
async function viewOf(node: Redis): Promise<{ clusterNodes: string; nowMs: number }> {
  const answers = (await node.pipeline().cluster('NODES').time().exec()) ?? [];
  const [[nodesError, clusterNodes] = [], [timeError, time] = []] = answers;
  if (nodesError || timeError) throw nodesError ?? timeError;
  return { clusterNodes: String(clusterNodes), nowMs: redisTimeMs(time as string[]) };
}

/**
 * Why the master at `address`, its pages' connection `pages` answering `answer`, fails this probe, if
 * it may: undefined when both its connections are up and neither was dropped.
 */
function shardFailure(
  cluster: Cluster,
  markers: Cluster | undefined,
  address: string,
  pages: Redis | undefined,
  answer: Promise<void> | undefined,
  deadlineMs: number,
): Promise<Error | undefined> | undefined {
  // Both told now, so neither is left to fail a later probe.
  const dropped = [takeDropped(cluster, address), markers && takeDropped(markers, address)].find(Boolean);
  const connections = [
    pagesFailure(cluster, address, pages, answer, deadlineMs),
    markers && markersFailure(markers, address, deadlineMs),
  ];
  if (dropped) return Promise.resolve(dropped);
  if (!connections.some(Boolean)) return undefined;
  return Promise.all(connections).then((failures) => failures.find(Boolean));
}

/** Why the pages' connection to `address` fails this probe, if it may. */
function pagesFailure(
  cluster: Cluster,
  address: string,
  pages: Redis | undefined,
  answer: Promise<void> | undefined,
  deadlineMs: number,
): Promise<Error | undefined> | undefined {
  if (!pages || !answer) {
    // Its connection was lost and left the pool (a cluster client makes it again only when a
    // redirection or a slot refresh names it): made again, lazily, for the next probe.
    cluster.refreshSlotsCache();
    return Promise.resolve(new Error(`no connection to the Redis Cluster master ${address}`));
  }
  if (pages.status === 'ready') return undefined;
  // Being made (or, lazily, not yet): up once it answers.
  return upWithin(answer, deadlineMs, `the connection to the Redis Cluster master ${address}`, pages);
}

/**
 * Why the one-time markers' connection to `address` fails this probe, if it may. Made by the probe
 * when it is not, as the next marker for that master would make it: a lost one, once out of the
 * markers' client's pool, would otherwise read up until a sign-in needs it, and a master that takes
 * no new connection (at `maxclients`) then refuses every marker of its slots on this pod alone.
 */
function markersFailure(
  markers: Cluster,
  address: string,
  deadlineMs: number,
): Promise<Error | undefined> | undefined {
  const marking = nodeAt(markers, address);
  const what = `the one-time markers' connection to the Redis Cluster master ${address}`;
  if (!marking) return upWithin(madeAgain(markers, address), deadlineMs, what, { status: 'lost' });
  const answer = probePing(markers, address, marking);
  return marking.status === 'ready' ? undefined : upWithin(answer, deadlineMs, what, marking);
}

/**
 * The markers' connection to `address` made again and answering the probe's PING. Its own slot map,
 * not the pages' one, decides which connections its client keeps, and may be older (a master added
 * for a reshard, met by the pages first): so it is refreshed, not judged lost for it.
 */
async function madeAgain(markers: Cluster, address: string): Promise<void> {
  await new Promise<void>((resolve) => markers.refreshSlotsCache(() => resolve()));
  const marking = nodeAt(markers, address);
  if (!marking) throw new Error(`${address} is not in the slot map`);
  await probePing(markers, address, marking);
}

/** No failure once `answer` comes within the deadline; else `what` is down, in the state `connection` is then in. */
function upWithin(
  answer: Promise<void>,
  deadlineMs: number,
  what: string,
  connection: { status: string },
): Promise<Error | undefined> {
  return answeredWithin(answer, deadlineMs).then(
    () => undefined,
    (err: unknown) => new Error(`${what} is ${connection.status}`, { cause: err }),
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
