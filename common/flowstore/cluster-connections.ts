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

/** ioredis's pool of a cluster client's node connections: not in its typings (ioredis 6). */
interface ConnectionPool {
  findOrCreate(node: { host: string; port: number }): Redis;
}

/**
 * The client's connection to the master at `address` (`host:port`, as a redirection names it), made
 * when the client has none, as ioredis follows a lone command's redirection: a master added for a
 * reshard owns no slot, so no slot map lists it, and a replica promoted since the map was read is
 * listed as a replica (its connection is told to take writes again). Made here rather than by sending
 * a command there through the client: that goes first to the node that redirected the marker, whose
 * connection may be held by the marker's WAIT for its whole budget (ADR 0356). Undefined when ioredis
 * no longer offers its pool.
 */
export function masterConnectionAt(cluster: Cluster, address: string): Redis | undefined {
  const pool = (cluster as unknown as { connectionPool?: Partial<ConnectionPool> }).connectionPool;
  const split = address.lastIndexOf(':');
  const port = Number(address.slice(split + 1));
  if (typeof pool?.findOrCreate !== 'function' || split < 1 || !Number.isInteger(port)) return undefined;
  return pool.findOrCreate({ host: address.slice(0, split), port });
}
