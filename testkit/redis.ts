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
