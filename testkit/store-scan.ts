import { Redis } from 'ioredis';
import { personalDataIn } from './personal-data.js';

/**
 * What the run's Redis holds at rest, checked for what no log line may hold either (ADR 0255): every
 * key's name and value, whatever its type. The flows the test files ran leave their keys behind
 * (until their TTL), so a scan after each file reads what that file's flows stored. A key is
 * reported once, by the first scan that finds it: later files did not put it there.
 */
const reported = new Set<string>();

/** The findings, one line each (`<what>: <key> = <value>`), of a scan of the Redis at `url`. */
export async function personalDataAtRest(url: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const findings: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      const values = await valuesOf(redis, keys);
      keys.forEach((key, i) => {
        const text = `${key} = ${values[i]}`;
        const found = personalDataIn(text);
        if (found.length === 0 || reported.has(key)) return;
        reported.add(key);
        findings.push(`${found.join(', ')}: ${text}`);
      });
    } while (cursor !== '0');
    return findings;
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
