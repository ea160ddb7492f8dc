// A process making two tenants' outbound calls with the product's outbound client, run by
// test/faults/dns-never-answers.test.ts under a resolver that swallows queries for one name.
// Tenant A's IdP (`hangingHost`) is asked `calls` times at once; once the test says "go" (on stdin,
// when the name server has seen A's name asked), tenant B's Atlassian site (`siteUrl`, a name in
// /etc/hosts) is asked for an attachment and a local file is read, each timed; then the names
// given in `names` are resolved by the outbound lookup, and A's IdP is asked once more (`again`).
// Every outcome is a JSON line on stdout, `done` the last.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createTlsFetch, hostLookup } from '../common/tls/index.js';

const [hangingHost, siteUrl, file, calls, names] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
/** A reason code, else Node's error code, else the error's name (a DOMException's numeric `code` is no reason). */
const codeOf = (err: unknown): string => {
  const e = err as {
    code?: unknown;
    name?: string;
    cause?: { code?: unknown };
  };
  for (const code of [e.code, e.cause?.code]) if (typeof code === 'string') return code;
  return e.name ?? 'unknown';
};
const timed = async <T>(work: () => Promise<T>): Promise<T & { ms: number }> => {
  const started = performance.now();
  const outcome = await work();
  return { ...outcome, ms: Math.round(performance.now() - started) };
};

const idpOfA = createTlsFetch();
const siteOfB = createTlsFetch();
const askA = () =>
  timed(() =>
    idpOfA(`https://${hangingHost}/.well-known/openid-configuration`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    }).then(
      (response) => ({ outcome: `answered ${response.status}` }),
      (err: unknown) => ({ outcome: codeOf(err) }),
    ),
  );
const hanging = Array.from({ length: Number(calls) }, askA);
say({ event: 'asked' });

const go = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => go.once('line', () => resolve()));
go.close();

say({
  event: 'download',
  ...(await timed(() =>
    // As the portal streams a download on: no bound on its size, a deadline of its own.
    siteOfB(siteUrl, {
      signal: AbortSignal.timeout(5_000),
      maxResponseBytes: Infinity,
    }).then(
      async (response) => ({
        outcome: `${response.status}`,
        bytes: (await response.arrayBuffer()).byteLength,
      }),
      (err: unknown) => ({ outcome: codeOf(err), bytes: 0 }),
    ),
  )),
});
say({
  event: 'file',
  ...(await timed(async () => ({ bytes: (await readFile(file)).byteLength }))),
});
const lookupAll = promisify(hostLookup) as unknown as (
  host: string,
  options: { all: true },
) => Promise<{ address: string }[]>;
for (const name of names.split(','))
  say({
    event: 'resolved',
    name,
    ...(await timed(() =>
      lookupAll(name, { all: true }).then(
        (addresses) => ({ addresses: addresses.map((a) => a.address) }),
        (err: unknown) => ({ addresses: [], error: codeOf(err) }),
      ),
    )),
  });
// A's name asked once more now that B's work is done: it shares A's lookup while that still holds
// its thread, so the name server sees none of A's queries twice. The test's witness that B's work
// went on during A's lookup, not after it (no bound in ms on how long B's work took).
const again = askA();
for (const call of await Promise.all(hanging)) say({ event: 'hanging', ...call });
say({ event: 'again', ...(await again) });
// The test ends this process: its exit would wait for the lookup still under way (libuv joins its
// threads at exit).
say({ event: 'done' });
