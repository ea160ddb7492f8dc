// A process whose flow store's Redis name never resolves, run by test/faults/dns-never-answers.test.ts
// under a resolver that swallows queries for that name. The store reconnects on its own schedule;
// once it has begun `attempts` connection attempts (each a lookup of the name, unless they share
// one), the names given in `names` are resolved by the outbound lookup, each timed. Every outcome is
// a JSON line on stdout, `done` the last.
import { promisify } from 'node:util';
import { parseRedisAddress, RedisFlowStore } from '../common/flowstore/index.js';
import { hostLookup } from '../common/tls/index.js';

const [redisUrl, attempts, names] = process.argv.slice(2) as [string, string, string];
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const store = RedisFlowStore.open(parseRedisAddress(redisUrl), 'acme');
let begun = 1;
await new Promise<void>((resolve) => {
  store.client.on('reconnecting', () => {
    begun += 1;
    if (begun === Number(attempts)) resolve();
  });
});
say({ event: 'attempts', begun });

const lookupAll = promisify(hostLookup) as unknown as (
  host: string,
  options: { all: true },
) => Promise<{ address: string }[]>;
for (const name of names.split(',')) {
  const started = performance.now();
  const outcome = await lookupAll(name, { all: true }).then(
    (addresses) => ({ addresses: addresses.map((a) => a.address) }),
    (err: { code?: string }) => ({ addresses: [], error: err.code }),
  );
  say({ event: 'resolved', name, ...outcome, ms: Math.round(performance.now() - started) });
}
// The test ends this process: its exit would wait for the lookup still under way.
say({ event: 'done' });
