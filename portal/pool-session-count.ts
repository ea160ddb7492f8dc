import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { answeredWithin } from '../common/flowstore/command-deadline.js';
import { FlowStoreTenantFullError } from '../common/flowstore/index.js';

/**
 * Adds one session, scored with its absolute end, drops those past theirs, and keeps the set until
 * the last one's end: the set's expiry follows its latest score, not the session just added (a
 * tenant's absolute timeout may have been shortened since the others were counted).
 */
const ADD_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
`;

/**
 * The sessions a pool tenant holds in the pool's Redis, counted over every replica (ADR 0220): one
 * member of a sorted set under the tenant's own key prefix per portal session, scored with the time it
 * ends at the latest (its absolute timeout). A session that ends sooner (a sign-out, the idle timeout)
 * is counted until then: the count never falls below what the Redis may still hold. Its members are
 * random and name no session, so nothing links them to a customer.
 */
export class PoolSessionCount {
  readonly #client: Redis | Cluster;
  readonly #key: string;
  readonly #deadlineMs: number;
  readonly #share: number;

  constructor(
    redis: { client: Redis | Cluster; keyPrefix: string; commandDeadlineMs: number },
    share: number,
  ) {
    this.#client = redis.client;
    this.#key = `${redis.keyPrefix}portal:pool:sessions`;
    this.#deadlineMs = redis.commandDeadlineMs;
    this.#share = share;
  }

  /**
   * Throws FlowStoreTenantFullError while the tenant holds its share. A Redis that does not answer
   * refuses nothing here: the sign-in's own write to it meets the outage and says so.
   */
  async refuseWhenHeld(now = Date.now()): Promise<void> {
    const held = await answeredWithin(this.#client.zcount(this.#key, now, '+inf'), this.#deadlineMs).catch(
      () => 0,
    );
    if (held >= this.#share) throw new FlowStoreTenantFullError(`${this.#share} sessions held`);
  }

  /**
   * Counts a session that ends by `endsAt` (ms since the epoch) at the latest. The session is written
   * already; a count Redis did not take is one session fewer counted, not a reason to fail its sign-in.
   */
  async add(endsAt: number, now = Date.now()): Promise<void> {
    await answeredWithin(
      this.#client.eval(ADD_LUA, 1, this.#key, String(now), String(endsAt), randomUUID()),
      this.#deadlineMs,
    ).catch(() => undefined);
  }
}
