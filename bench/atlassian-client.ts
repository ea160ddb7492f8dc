// The portal's Atlassian client alone (part of `npm run bench -- portal`): what its calls cost the
// process that makes them, beyond Atlassian's time (ADR 0163). The emulator runs as a process of its
// own, so the CPU, heap and collector time measured here are the client's. A live set of small
// objects stands in for what a portal (a pool of them above all) keeps in memory, which the
// collector walks on every major collection: garbage a call leaves behind costs more the larger
// that is. Then the deadline alone, both ways, side by side in this process: a whole call's cost
// moves with the machine's load by more than the deadline's share of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exchangeSignal } from '../common/exchange-signal.js';
import { freePort } from '../common/net.js';
import { packageRoot } from '../common/paths.js';
import { createTlsFetch } from '../common/tls/index.js';
import { AtlassianClient } from '../portal/atlassian/client.js';
import { waitReady } from '../testkit/portal-process.js';

const CALLS = Number(process.env['BENCH_ATLASSIAN_CALLS'] ?? 10_000);
const CONCURRENCY = 8;
const LIVE_OBJECTS = 300_000;
/** The transport's default deadline. */
const DEADLINE_MS = 10_000;
const DEADLINES_PER_ROUND = 100_000;
const DEADLINE_ROUNDS = 3;

export async function atlassianClientCost(): Promise<Record<string, number>> {
  const live = Array.from({ length: LIVE_OBJECTS }, (_, i) => ({ id: i, name: `object-${i}` }));
  const gc = collectorTime();
  try {
    return {
      ...(await callCost(gc)),
      ...(await deadlineCost(gc)),
      // Read last, so the live set is live throughout.
      'Atlassian client alone: small objects kept live meanwhile': live.length,
    };
  } finally {
    gc.stop();
  }
}

async function callCost(gc: CollectorTime): Promise<Record<string, number>> {
  const port = await freePort();
  const emulator: ChildProcess = spawn(
    process.execPath,
    ['--import=tsx', join(packageRoot(), 'cli', 'main.ts'), 'dev', 'jsm-emulator', '--port', String(port)],
    { stdio: 'ignore' },
  );
  const fetch = createTlsFetch({ maxResponseBytes: 8 * 1024 * 1024 });
  try {
    const siteUrl = `http://127.0.0.1:${port}`;
    await waitReady(`${siteUrl}/__emulator/faults`);
    const client = new AtlassianClient({
      siteUrl,
      email: 'portal-bot@acme.test',
      apiToken: 'dev-api-token',
      fetch,
      // The bulkhead's rate limit would measure the wait, not the client.
      limits: { maxConcurrent: CONCURRENCY, perSecond: 1_000_000 },
    });
    const run = async (calls: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next++ < calls) await client.serviceDesks();
        }),
      );
    };
    await run(500); // connections, JIT
    const heldBefore = heapAfterFullCollection();
    const { cpuMicros, gcMs } = await gc.measure(() => run(CALLS));
    return {
      [`Atlassian client alone: GETs, ${CONCURRENCY} concurrent, emulator in its own process`]: CALLS,
      'Atlassian client alone: CPU per call (µs, user + system)': cpuMicros / CALLS,
      'Atlassian client alone: GC time over the calls (ms)': gcMs,
      'Atlassian client alone: heap still held after the calls, fully collected (MB)':
        (heapAfterFullCollection() - heldBefore) / 1024 / 1024,
    };
  } finally {
    await fetch.close();
    emulator.kill('SIGTERM');
    if (emulator.exitCode === null) await new Promise((resolve) => emulator.once('exit', resolve));
  }
}

/**
 * A deadline per call as main had it (`AbortSignal.timeout`) and as the transport makes it now (an
 * exchange signal released after the call), each with the one abort listener fetch adds, in
 * alternating rounds; the median round of each. The exchange signal's rounds run first and after
 * the timeouts' earlier rounds, whose garbage outlives them: what they measure is, if anything, too
 * much.
 */
async function deadlineCost(gc: CollectorTime): Promise<Record<string, number>> {
  const onAbort = () => {};
  const ways = {
    'exchange signal': () => {
      const exchange = exchangeSignal([], DEADLINE_MS);
      exchange.signal.addEventListener('abort', onAbort);
      exchange.release();
    },
    'AbortSignal.timeout': () => AbortSignal.timeout(DEADLINE_MS).addEventListener('abort', onAbort),
  };
  const names = Object.keys(ways) as (keyof typeof ways)[];
  const cpu = new Map(names.map((name) => [name, [] as number[]]));
  const collector = new Map(names.map((name) => [name, [] as number[]]));
  for (let round = 0; round < DEADLINE_ROUNDS; round++) {
    for (const name of names) {
      const deadline = ways[name];
      const { cpuMicros, gcMs } = await gc.measure(async () => {
        for (let i = 0; i < DEADLINES_PER_ROUND; i++) {
          deadline();
          // A turn of the event loop now and then, as calls have: timers and finalizers run there.
          if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
        }
      });
      cpu.get(name)!.push(cpuMicros / DEADLINES_PER_ROUND);
      collector.get(name)!.push((gcMs * 1000) / DEADLINES_PER_ROUND);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const figures: Record<string, number> = {};
  for (const name of names) {
    // The process's CPU includes the collector's work; its time is shown apart as well.
    figures[`deadline alone, ${name}: CPU per call (µs, median of ${DEADLINE_ROUNDS} rounds)`] = median(
      cpu.get(name)!,
    );
    figures[`deadline alone, ${name}: GC time per call (µs, median of ${DEADLINE_ROUNDS} rounds)`] = median(
      collector.get(name)!,
    );
  }
  return figures;
}

interface CollectorTime {
  /** The process's CPU and the collector's time while `work` runs. */
  measure(work: () => Promise<unknown>): Promise<{ cpuMicros: number; gcMs: number }>;
  stop(): void;
}

function collectorTime(): CollectorTime {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async measure(work) {
      // The collector's entries are delivered a turn of the event loop after it ran.
      await new Promise((resolve) => setImmediate(resolve));
      const gcBefore = gcMs;
      const cpu = process.cpuUsage();
      await work();
      const used = process.cpuUsage(cpu);
      await new Promise((resolve) => setImmediate(resolve));
      return { cpuMicros: used.user + used.system, gcMs: gcMs - gcBefore };
    },
    stop: () => observer.disconnect(),
  };
}

/**
 * The heap in use once everything collectable is collected: what the calls still hold (a timer left
 * pending holds its callback and what that reaches). `gc` is exposed for this alone.
 */
function heapAfterFullCollection(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}
