import { Cluster, type Redis } from 'ioredis';

/** Keys a SCAN step asks for, and so at most unlinked in one round trip. */
export const PURGE_BATCH = 500;

/** SCAN's MATCH pattern for the keys starting with `prefix`, its glob characters taken as themselves. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\*?[\]]/g, '\\$&')}*`;
}

/**
 * Unlinks every key starting with `prefix` (a removed tenant's, ADR 0390): SCAN with MATCH, then each
 * batch found unlinked in one pipeline. On a Cluster every master is scanned: a tenant's keys lie in
 * every slot, the hash tags some carry (`{<idp>:<key>}`) coming after the prefix; and each key is its own
 * UNLINK, since a Cluster refuses one command over keys of several slots. Deleting what is already gone
 * is nothing, so replicas purging the same prefix at once do no harm. The number of keys unlinked.
 */
export async function unlinkKeysStartingWith(redis: Redis | Cluster, prefix: string): Promise<number> {
  let unlinked = 0;
  for await (const { node, keys } of batchesStartingWith(redis, prefix)) {
    const answers = (await node.pipeline(keys.map((key) => ['unlink', key])).exec()) ?? [];
    for (const [err, count] of answers) {
      if (err) throw err;
      unlinked += Number(count);
    }
  }
  return unlinked;
}

/**
 * The number of keys starting with `prefix`, found as unlinkKeysStartingWith finds them (`jsm-sso purge
 * --dry-run`). SCAN may return a key more than once, so they are counted as a set (each key lives on one
 * master).
 */
export async function countKeysStartingWith(redis: Redis | Cluster, prefix: string): Promise<number> {
  const found = new Set<string>();
  for await (const { keys } of batchesStartingWith(redis, prefix)) for (const key of keys) found.add(key);
  return found.size;
}

/** Each SCAN step's keys starting with `prefix`, with the node they are on (every master of a Cluster). */
async function* batchesStartingWith(
  redis: Redis | Cluster,
  prefix: string,
): AsyncGenerator<{ node: Redis; keys: string[] }> {
  const pattern = prefixPattern(prefix);
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', PURGE_BATCH);
      cursor = next;
      if (keys.length > 0) yield { node, keys };
    } while (cursor !== '0');
  }
}
