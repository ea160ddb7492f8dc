import type { Redis } from 'ioredis';
import type { FlowStore } from '../common/flowstore/flow-store.js';
import { RedisFlowStore, type RedisFlowStoreOptions } from '../common/flowstore/redis-store.js';
/**
 * The Redis server tests use. `npm test` (test/run.ts) starts a private redis-server and exports
 * REDIS_URL; there is no fallback to an in-memory fake, and a missing server fails the tests.
 */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: run the suite with `npm test`, which starts redis-server (apt-get install redis-server)',
    );
  }
  return url;
}

/**
 * `store` once a ping succeeds. A store waits for a connection attempt under way only up to that
 * attempt's deadlines (by design: a down Redis must fail fast), and on a loaded machine a first
 * attempt can miss them and be retried, so tests that need the store up wait for it rather than
 * race it. A store that never answers (a wrong certificate, a wrong address) fails with its cause.
 */
export async function answering<S extends FlowStore>(store: S): Promise<S> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      await store.ping();
      return store;
    } catch (err) {
      if (Date.now() > end) {
        await store.close();
        throw err;
      }
      // A refused attempt fails at once: poll, do not spin.
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * RedisFlowStore.open's options for a store whose one-time markers a healthy replica must acknowledge:
 * a budget no load reaches (three command deadlines; the most is 1.7 s, below the socket timeout). With
 * the product's 200 ms, a loaded machine that runs the replica later refuses the marker
 * FLOW_STORE_NOT_REPLICATED, and the test fails on the load, not on the code. Tests of a lagging or held
 * replica keep the product's budget, or give this one to each marker the replica does not acknowledge.
 */
export const PATIENT_REPLICA = { replicaAckTimeoutMs: 1_500 } as const satisfies RedisFlowStoreOptions;

/** A flow store connected to the test Redis, returned once it answers. */
export function connectedFlowStore(tenant: string, url = redisUrl()): Promise<RedisFlowStore> {
  return answering(RedisFlowStore.connect(url, tenant));
}

/**
 * Until `store` stores a fresh one-time marker: after a failover, until it reaches the new primary, and
 * on a connection whose markers wait for a replica (ADRs 0261, 0272), until one acknowledges it. Answers
 * how the first probe was answered (true, or the error's code) and the key stored. Each probe is its
 * own key, so one refused while the link warms up leaves nothing another probe meets.
 */
export async function untilMarkerStored(
  store: FlowStore,
  name: string,
): Promise<{ first: boolean | string | undefined; key: string }> {
  const end = Date.now() + 20_000;
  let first: boolean | string | undefined;
  for (let probe = 0; ; probe++) {
    const key = `probe:${name}:${probe}`;
    const answer = await store.putIfAbsent(key, '1', 60).then(
      (stored) => stored,
      (e: unknown) => (e as { code?: string }).code,
    );
    if (probe === 0) first = answer;
    if (answer === true) return { first, key };
    if (Date.now() > end) throw new Error(`no marker stored (${name}): ${String(answer)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `ms` pass for the write claim (portal/write-claims.ts) of the form whose write key is `writeKey`
 * and whose scope starts with `scope` (`create:`, `transition:<KEY>:`): its TTL runs down by them
 * (gone when shorter) and a give-up it records moves that far back. So a test sends the same form
 * "later" without waiting on the clock.
 */
export async function passOnWriteClaim(
  redis: Redis,
  scope: string,
  writeKey: string,
  ms: number,
): Promise<void> {
  const [key, ...more] = await redis.keys(`*write:{claims}:${scope}*${writeKey}`);
  if (key === undefined || more.length > 0) throw new Error(`not one write claim for ${scope}…${writeKey}`);
  const held = (await redis.get(key)) ?? '';
  const since = /^unconfirmed:(\d+)$/.exec(held)?.[1];
  await runDown(redis, key, ms, since ? `unconfirmed:${Number(since) - ms}` : held);
}

/**
 * `ms` pass for the witness of write claims (common/flowstore/redis-store.ts CLAIM_LUA) of every group:
 * the time from which a server that took over holds every claim moves that far back. So a test sends a
 * form after the window in which a restarted store vouches for no claim, without waiting on the clock.
 */
export async function passOnClaimsWitness(redis: Redis, ms: number): Promise<void> {
  const witnesses = await redis.keys('*claims-server*');
  if (witnesses.length === 0) throw new Error('no witness of write claims');
  for (const key of witnesses) {
    const [server, holdsAllFrom] = ((await redis.get(key)) ?? '').split(' ');
    await redis.set(key, `${server} ${Number(holdsAllFrom) - Math.ceil(ms / 1000)}`, 'KEEPTTL');
  }
}

/**
 * `ms` pass for the requests the tenant's sessions raised lately (portal/session.ts
 * `rememberWrite`, which their searches reconcile): each write's time moves that far back and the
 * list's TTL runs down by them (gone when shorter), as passOnWriteClaim does for a claim.
 */
export async function passOnRecentWrites(redis: Redis, keyPrefix: string, ms: number): Promise<void> {
  const keys = await redis.keys(`${keyPrefix}portal:session-writes:*`);
  if (keys.length === 0) throw new Error('no session has written lately');
  for (const key of keys) {
    const writes = JSON.parse((await redis.get(key)) ?? '[]') as { at: number }[];
    await runDown(redis, key, ms, JSON.stringify(writes.map((w) => ({ ...w, at: w.at - ms }))));
  }
}

/** GETs the Redis server has answered so far: a post waiting for its twin's write claim reads it every 200 ms. */
export async function readsServed(redis: Redis): Promise<number> {
  return Number(/cmdstat_get:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
}

/** `key`, `ms` later: removed when its TTL is shorter, else `value` with what is left of it. */
async function runDown(redis: Redis, key: string, ms: number, value: string): Promise<void> {
  const left = await redis.pttl(key);
  if (left <= ms) await redis.del(key);
  else await redis.set(key, value, 'PX', left - ms);
}

/** The id of the connection whose last command was `command`: the markers' one after a marker (WAIT). */
export async function clientLastIn(admin: Redis, command: string): Promise<string> {
  const clients = String(await admin.call('client', 'list', 'type', 'normal')).split('\n');
  const id = clients.find((line) => line.includes(` cmd=${command} `))?.match(/^id=(\d+)/)?.[1];
  if (id === undefined) throw new Error(`no client whose last command was ${command}`);
  return id;
}
