// Steps of a Sentinel failover with real redis-server and redis-sentinel processes, for the fault tests.
import { eventually } from './envtest.js';
import { type LocalRedis, redisCli, SENTINEL_TIMERS } from './local-redis.js';

// Asked asynchronously, with a deadline (redisCli): a synchronous redis-cli to a stalled Redis would
// block the test's event loop, and with it whatever was to resume that Redis.
const cli = async (port: number, ...args: string[]) => (await redisCli(['-p', String(port), ...args])).trim();
const roleOf = async (redis: LocalRedis) => (await cli(redis.port, 'role')).split('\n')[0];

/**
 * A sentinel's answer to `command`, field and value lines (SENTINEL MASTER; SENTINEL REPLICAS of a
 * group of one replica), read by field.
 */
async function fieldsOf(sentinel: LocalRedis, ...command: string[]) {
  const lines = (await cli(sentinel.port, ...command)).split('\n');
  return (field: string): string | undefined => {
    const at = lines.indexOf(field);
    return at < 0 ? undefined : lines[at + 1];
  };
}

/**
 * Until `sentinel` could promote `replica` of group `name`. Listed is not enough: the sentinel learns
 * of the replica from the master's INFO, and picks it for a failover only once it has the replica's
 * own INFO and a live link (else NOGOODSLAVE).
 */
export async function untilPromotable(
  sentinel: LocalRedis,
  name: string,
  replica: LocalRedis,
): Promise<void> {
  await eventually(
    async () => {
      const value = await fieldsOf(sentinel, 'sentinel', 'replicas', name);
      return (
        value('port') === String(replica.port) &&
        value('flags') === 'slave' &&
        value('master-link-status') === 'ok'
      );
    },
    'the sentinel knowing the replica, its link up',
    20_000,
  );
}

/**
 * What the sentinel's timers let the roles swap take: the promotion (bounded by the failover
 * timeout: the sentinel gives up past it), then the old master listed as a replica for 4 publish
 * periods and turned into one on the next INFO; a TILT at either step (a stalled sentinel) adds its
 * period. Twice that, for a loaded machine's late timers and polls, or a failover given up at the
 * failover timeout and asked again (failOver), whose promotion then takes about a second.
 */
const ROLES_SWAP_BUDGET =
  2 *
  (SENTINEL_TIMERS.failoverTimeout +
    4 * SENTINEL_TIMERS.publishPeriod +
    SENTINEL_TIMERS.infoPeriod +
    2 * SENTINEL_TIMERS.tiltPeriod);

/**
 * Fails group `name` over from `master` to `replica` (SENTINEL FAILOVER) and waits for the roles to
 * swap. A failover the sentinel gave up (the replica not seen promoted within the failover timeout: a
 * machine stalled past it, or the sentinel in TILT meanwhile) leaves the roles as they were: once the
 * sentinel has none in progress and still names `master`, it is asked again, within the same budget.
 */
export async function failOver(
  sentinel: LocalRedis,
  name: string,
  master: LocalRedis,
  replica: LocalRedis,
): Promise<void> {
  await startFailover(sentinel, name);
  await eventually(
    async () => {
      if ((await roleOf(replica)) === 'master' && (await roleOf(master)) === 'slave') return true;
      const group = await fieldsOf(sentinel, 'sentinel', 'master', name);
      // NOGOODSLAVE while the replica, stalled, is not yet seen healthy again: asked at the next poll.
      if (!group('flags')?.includes('failover_in_progress') && group('port') === String(master.port))
        await cli(sentinel.port, 'sentinel', 'failover', name);
      return false;
    },
    'the roles swapped',
    ROLES_SWAP_BUDGET,
  );
}

/** SENTINEL FAILOVER, asked until the sentinel starts one. */
async function startFailover(sentinel: LocalRedis, name: string): Promise<void> {
  // A replica whose INFO the sentinel has not refreshed lately is still refused (NOGOODSLAVE): ask again.
  await eventually(
    async () => (await cli(sentinel.port, 'sentinel', 'failover', name)) === 'OK',
    'the sentinel starting the failover',
    20_000,
  );
}
