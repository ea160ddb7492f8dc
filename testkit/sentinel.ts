// Steps of a Sentinel failover with real redis-server and redis-sentinel processes, for the fault tests.
import { spawnSync } from 'node:child_process';
import { eventually } from './envtest.js';
import { type LocalRedis, SENTINEL_TIMERS } from './local-redis.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
const roleOf = (redis: LocalRedis) => cli(redis.port, 'role').split('\n')[0];

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
      const fields = cli(sentinel.port, 'sentinel', 'replicas', name).split('\n');
      const value = (field: string) => fields[fields.indexOf(field) + 1];
      return (
        fields.includes(String(replica.port)) &&
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
 * period. Twice that, for a loaded machine's late timers and polls.
 */
const ROLES_SWAP_BUDGET =
  2 *
  (SENTINEL_TIMERS.failoverTimeout +
    4 * SENTINEL_TIMERS.publishPeriod +
    SENTINEL_TIMERS.infoPeriod +
    2 * SENTINEL_TIMERS.tiltPeriod);

/** Fails group `name` over from `master` to `replica` (SENTINEL FAILOVER) and waits for the roles to swap. */
export async function failOver(
  sentinel: LocalRedis,
  name: string,
  master: LocalRedis,
  replica: LocalRedis,
): Promise<void> {
  // A replica whose INFO the sentinel has not refreshed lately is still refused (NOGOODSLAVE): ask again.
  await eventually(
    async () => cli(sentinel.port, 'sentinel', 'failover', name) === 'OK',
    'the sentinel starting the failover',
    20_000,
  );
  await eventually(
    async () => roleOf(replica) === 'master' && roleOf(master) === 'slave',
    'the roles swapped',
    ROLES_SWAP_BUDGET,
  );
}
