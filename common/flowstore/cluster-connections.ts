import { type Cluster, Command, type Redis } from 'ioredis';

/**
 * The client's connection to the node at `address`, whatever its role in the client's slot map: the
 * markers' map may be older than the pages' one, which names a replica promoted since as a master.
 */
export function nodeAt(cluster: Cluster, address: string): Redis | undefined {
  return cluster.nodes('all').find((node) => `${node.options.host}:${node.options.port}` === address);
}

/**
 * The connection `cluster` sends `key`'s commands to: its slot's master in the client's slot map, as
 * ioredis routes a command (or a pipeline) when it is sent. Read just before sending one, it names
 * the node that runs it (unless that node redirects it).
 */
export function connectionFor(cluster: Cluster, key: string): Redis | undefined {
  const address = cluster.slots[new Command('get', [key]).getSlot()]?.[0];
  return address === undefined ? undefined : nodeAt(cluster, address);
}
