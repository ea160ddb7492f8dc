import { type Cluster, Command, Redis } from 'ioredis';

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

/**
 * Connections of the store's own to masters its markers' client has none to, by client and address:
 * ioredis makes its pool's connections only for what its slot map lists (or for a lone command's
 * redirection), and offers no public way to ask it for one (ADR 0396).
 */
const ownConnections = new WeakMap<Cluster, Map<string, Redis>>();

/**
 * A connection to the master at `address` (`host:port`, as a redirection names it): the client's own
 * when it has one (whatever its role in the slot map: a replica promoted since the map was read is
 * listed as a replica, and a write reaches it all the same), else one the store makes with the
 * client's node options (a master added for a reshard owns no slot, so no slot map lists it), kept for
 * the next marker redirected there until the store closes or the connection ends: one per node at
 * most. Made here rather than by sending a command there through the client: that goes first to the
 * node that redirected the marker, whose connection may be held by the marker's WAIT for its whole
 * budget (ADR 0356). Only ioredis's public API (ADR 0396). Undefined for an address without a port.
 */
export function masterConnectionAt(cluster: Cluster, address: string): Redis | undefined {
  const known = nodeAt(cluster, address);
  if (known) return known;
  const split = address.lastIndexOf(':');
  const port = Number(address.slice(split + 1));
  if (split < 1 || !Number.isInteger(port)) return undefined;
  const owned = ownConnections.get(cluster) ?? new Map<string, Redis>();
  ownConnections.set(cluster, owned);
  const existing = owned.get(address);
  if (existing) return existing;
  const made = new Redis({
    ...cluster.options.redisOptions,
    host: address.slice(0, split),
    port,
    // As ioredis makes its pool's: a lost connection is not made again (the next redirection there
    // makes a new one), and a command sent while it connects is sent once it is up.
    retryStrategy: () => null,
    enableOfflineQueue: true,
  });
  // Its failures reach the command sent on it; ioredis would otherwise print them.
  made.on('error', () => undefined);
  made.once('end', () => {
    if (owned.get(address) === made) owned.delete(address);
  });
  owned.set(address, made);
  return made;
}

/** Ends the connections the store made for `cluster` (masterConnectionAt). */
export function closeOwnConnections(cluster: Cluster): void {
  for (const connection of ownConnections.get(cluster)?.values() ?? []) connection.disconnect();
  ownConnections.delete(cluster);
}
