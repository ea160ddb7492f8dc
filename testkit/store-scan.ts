import { Redis, type RedisOptions } from 'ioredis';
import { personalDataIn } from './personal-data.js';
import { checkLogLine } from './recent-logs.js';

/**
 * What the run's Redis holds at rest, checked for what no log line may hold either (ADR 0255): every
 * key's name and value, whatever its type. The flows the test files ran leave their keys behind
 * (until their TTL), so a scan after each file reads what that file's flows stored. A key is
 * reported once, by the first scan that finds it: later files did not put it there.
 */
const reported = new Set<string>();

/** The findings, one line each (`<what>: <key> = <value>`), of a scan of the Redis at `url`. */
export async function personalDataAtRest(url: string): Promise<string[]> {
  const findings: string[] = [];
  for (const { key, text } of await keysAtRest(url)) {
    const found = personalDataIn(text);
    if (found.length === 0 || reported.has(key)) continue;
    reported.add(key);
    findings.push(`${found.join(', ')}: ${text}`);
  }
  return findings;
}

/**
 * Checks what a test's own Redis holds as it stops (testkit/local-redis.ts, ADR 0278): what the
 * product processes the test ran against it stored. A finding fails the test, as a log line's does.
 * `options` are its client's (TLS, a client certificate).
 */
export async function checkStoreAtRest(url: string, options: RedisOptions = {}): Promise<void> {
  for (const { text } of await keysAtRest(url, '*', options))
    checkLogLine(text, `the Redis at ${url}, at rest`);
}

/** A key at rest: its name, `<key> = <value>`, and its TTL in seconds (-1: kept without an expiry). */
export interface KeyAtRest {
  key: string;
  text: string;
  ttl: number;
}

/**
 * Every key of the Redis at `url` that `match` (a SCAN pattern) finds, with its text and TTL: SCAN,
 * then TYPE and TTL, then the value by type.
 */
export async function keysAtRest(url: string, match = '*', options: RedisOptions = {}): Promise<KeyAtRest[]> {
  const redis = new Redis(url, { ...options, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const found: KeyAtRest[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      const ttls = ((await keys.reduce((p, key) => p.ttl(key), redis.pipeline()).exec()) ?? []).map(
        ([, ttl]) => Number(ttl),
      );
      const values = await valuesOf(redis, keys);
      for (const [i, key] of keys.entries())
        found.push({ key, text: `${key} = ${values[i]}`, ttl: ttls[i] ?? -2 });
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}
/** Each key's value as text (a hash's, list's, set's or sorted set's members as JSON), in one round trip each way. */
async function valuesOf(redis: Redis, keys: string[]): Promise<string[]> {
  const types = (await keys.reduce((p, key) => p.type(key), redis.pipeline()).exec()) ?? [];
  const reads = keys.reduce((p, key, i) => {
    switch (types[i]?.[1]) {
      case 'string':
        return p.get(key);
      case 'hash':
        return p.hgetall(key);
      case 'list':
        return p.lrange(key, 0, -1);
      case 'set':
        return p.smembers(key);
      case 'zset':
        return p.zrange(key, '0', '-1');
      default:
        // Gone since the SCAN (expired), or a type no part stores: the key's name is still read.
        return p.echo('');
    }
  }, redis.pipeline());
  return ((await reads.exec()) ?? []).map(([, value]) =>
    typeof value === 'string' ? value : JSON.stringify(value),
  );
}
