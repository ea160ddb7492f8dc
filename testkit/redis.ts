import { RedisFlowStore } from '../common/flowstore/redis-store.js';
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
 * A flow store connected to the test Redis, returned once a ping succeeds. A store answers
 * "unavailable" when its connection is not up within half a second (by design: a down Redis must
 * fail fast), and on a loaded machine a first connection can take longer, so tests wait for it
 * rather than race it.
 */
export async function connectedFlowStore(tenant: string, url = redisUrl()): Promise<RedisFlowStore> {
  const store = RedisFlowStore.connect(url, tenant);
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
    }
  }
}
