// A process whose outbound lookup (createHostLookup over the real system resolver) meets two names
// that never answer, run by test/faults/dns-never-answers.test.ts in a mount namespace. Each hanging
// name is asked once and its caller's deadline passes; once the resolver itself has given up on
// both, they are asked again (customers retrying), then the names given in `names` are resolved,
// each timed. Every outcome is a JSON line on stdout, `done` the last.
import { lookup as systemLookup } from 'node:dns';
import { promisify } from 'node:util';
import { createHostLookup, type ResolveAll } from '../common/tls/host-lookup.js';

const [hangingNames, names] = process.argv.slice(2) as [string, string];
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** The system resolver, telling when each of its lookups ends. */
const lookupsEnded = new Map<string, () => void>();
const resolveAll: ResolveAll = (hostname, options, callback) =>
  systemLookup(hostname, options, (err, addresses) => {
    lookupsEnded.get(hostname)?.();
    callback(err, addresses);
  });
const lookupAll = promisify(createHostLookup({ resolveAll })) as unknown as (
  host: string,
  options: { all: true },
) => Promise<{ address: string }[]>;
const outcome = async (name: string) => {
  const started = performance.now();
  const result = await lookupAll(name, { all: true }).then(
    (addresses) => ({ addresses: addresses.map((a) => a.address) }),
    (err: { code?: string }) => ({ addresses: [], error: err.code }),
  );
  return { name, ...result, ms: Math.round(performance.now() - started) };
};

const hanging = hangingNames.split(',');
await Promise.all(
  hanging.map((name) =>
    Promise.all([
      outcome(name).then((first) => say({ event: 'first', ...first })),
      new Promise<void>((resolve) => lookupsEnded.set(name, resolve)),
    ]),
  ),
);
say({ event: 'resolver gave up' });
for (const name of hanging) void outcome(name);
for (const name of names.split(',')) say({ event: 'resolved', ...(await outcome(name)) });
// The test ends this process: its exit would wait for the lookups still under way.
say({ event: 'done' });
