import type { Cluster, Redis } from 'ioredis';
import { nodesNotHeard } from './cluster-shards.js';
import { answeredWithin } from './command-deadline.js';
import { markersConnectionAnswers } from './markers-connection-health.js';

/**
 * Whether every shard of a Redis Cluster this process needs answers it, as its readiness (ADR 0310).
 * Each master of the slot map gets a PING on its own node connection (a cluster client's PING goes
 * to one node picked at random, and never to one whose lost connection left its pool), and the
 * markers' connection to it, where it has one up, is judged as a standalone one is. A master none of
 * whose answers come is a failure only when the cluster hears it: one that answers first says, from
 * its `CLUSTER NODES`, which nodes it does not hear. A master the cluster does not hear either
 * (stalled, down, failing over) fails its slots on every pod alike, and taking every pod out of its
 * Service would stop the people whose keys live on the other shards too; a master the cluster hears
 * and this process cannot reach is this process's fault, and another pod may serve its slots.
 */
export async function everyHeardShardAnswers(
  cluster: Cluster,
  markers: Cluster | undefined,
  deadlineMs: number,
): Promise<void> {
  const masters = [...new Set(cluster.slots.flatMap(([master]) => (master ? [master] : [])))];
  const shards = new Map(
    masters.map((address) => [address, shardAnswers(cluster, markers, address, deadlineMs)] as const),
  );
  // Those not waited for are settled all the same.
  for (const answer of shards.values()) answer.catch(() => {});
  const view = await Promise.any(
    [...shards.values()].map(async (shard) => {
      const node = await shard;
      return String(await answeredWithin(node.cluster('NODES'), deadlineMs));
    }),
  ).catch(() => Promise.reject(new Error('no Redis Cluster master answered')));
  const notHeard = nodesNotHeard(view);
  await Promise.all(
    masters.filter((address) => !notHeard.has(address)).map((address) => shards.get(address)),
  );
}

/**
 * The master at `address` answers on the cluster's connection, and the markers' one to it can take a
 * marker; answers the cluster's connection to it.
 */
async function shardAnswers(
  cluster: Cluster,
  markers: Cluster | undefined,
  address: string,
  deadlineMs: number,
): Promise<Redis> {
  const node = nodeAt(cluster, address);
  if (!node) {
    // Its connection was lost and left the pool (a cluster client makes it again only when a
    // redirection or a slot refresh names it): made again, lazily, for the next probe.
    cluster.refreshSlotsCache();
    throw new Error(`no connection to the Redis Cluster master ${address}`);
  }
  const marking = markers && nodeAt(markers, address);
  await Promise.all([
    answeredWithin(node.ping(), deadlineMs).catch((err: unknown) => {
      throw new Error(`the Redis Cluster master ${address} did not answer`, { cause: err });
    }),
    // Not made yet, or lost and not yet made again: the next marker for it makes it.
    marking?.status === 'ready' ? markersConnectionAnswers(marking, deadlineMs) : undefined,
  ]);
  return node;
}

function nodeAt(cluster: Cluster, address: string): Redis | undefined {
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}
