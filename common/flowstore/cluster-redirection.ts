import { redisErrorKind } from './redis-refusals.js';

/**
 * Where a Redis Cluster node sent a command it did not run: `MOVED <slot> <host>:<port>` (the slot
 * has a new owner) or `ASK <slot> <host>:<port>` (the slot is migrating and the key is not here: ask
 * the importing node, this command only, after ASKING). Either way the command was not run, so
 * sending it where it is sent is no second run (the Cluster specification, "Redirection and
 * resharding"). Undefined for any other answer.
 */
export interface ClusterRedirection {
  ask: boolean;
  /** `host:port`, as ioredis names a cluster node's connection. */
  node: string;
}

export function clusterRedirection(err: unknown): ClusterRedirection | undefined {
  const kind = redisErrorKind(err);
  if (kind !== 'MOVED' && kind !== 'ASK') return undefined;
  const node = (err as Error).message.split(' ')[2];
  return node ? { ask: kind === 'ASK', node } : undefined;
}
