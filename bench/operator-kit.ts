import type { ChildProcess } from 'node:child_process';
import type { KubeClient } from '../common/kube/client.js';
import { freePort } from '../common/net.js';
import { DEFAULT_RATE_PER_SECOND } from '../operator/queue.js';
import { type Envtest, enableAuditLog, envtest, stopEnvtest } from '../testkit/envtest.js';
import { cpuSecondsOf, memoryOf, spawnOperator } from '../testkit/operator-process.js';
import { BROKER_ENTRY } from './broker.js';

/**
 * What the operator benches share: a real kube-apiserver + etcd with an audit log, the operator as
 * its own process (`jsm-sso operator`, so its RSS is its own), its figures from /metrics, and the
 * guarantee that every process started (the operator, etcd, kube-apiserver,
 * kube-controller-manager) is stopped, on failure and on Ctrl-C too.
 */
export interface OperatorFigures {
  writes: number;
  reconcileCount: number;
  queueDepth: number;
  p50: string;
  p99: string;
  /** V8 heap in use (garbage not yet collected included) and reserved, and memory outside it, in MiB. */
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

/** The operator's memory at one moment: RSS from /proc, the heap from its /metrics. */
export interface MemorySample {
  rssMb: number;
  peakRssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

export interface BenchOperator {
  readonly pid: number;
  /** The exit code or signal once the process has exited (e.g. out of heap). */
  exited(): string | undefined;
  metrics(): Promise<OperatorFigures>;
  memory(): { rssMb: number; peakRssMb: number };
  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds(): number;
  /** RSS and heap together, so a per-tenant difference compares one moment with another. */
  memorySample(): Promise<MemorySample>;
  /** Waits until the queue is empty and no reconcile ran for two samples in a row. */
  /** Resolves once the queue is empty and no reconcile ran for 2 s; throws after `timeoutMs`. */
  quiet(timeoutMs?: number): Promise<OperatorFigures>;
}

export interface OperatorBenchContext {
  env: Envtest;
  startOperator(namespaces: string[], args: string[], nodeOptions?: string): Promise<BenchOperator>;
}

export async function withOperatorBench<T>(body: (context: OperatorBenchContext) => Promise<T>): Promise<T> {
  let operator: ChildProcess | undefined;
  const killOperator = () => operator?.kill('SIGKILL');
  // Ctrl-C or a timeout's SIGTERM must not leave the operator, etcd and kube-apiserver behind:
  // exiting runs the 'exit' handlers (this one and envtest's stop).
  const exitOnSignal = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('exit', killOperator);
  process.once('SIGINT', exitOnSignal);
  process.once('SIGTERM', exitOnSignal);
  try {
    enableAuditLog();
    const env = await envtest();
    return await body({
      env,
      startOperator: async (namespaces, args, nodeOptions) => {
        if (operator) throw new Error('one operator per bench');
        const port = await freePort();
        const started = spawnOperator({
          kubeconfig: env.kubeconfigPath,
          namespace: namespaces.join(','),
          port,
          args,
          // As installed: the compiled entry, not the TypeScript source under tsx.
          entry: BROKER_ENTRY.args,
          ...(nodeOptions ? { nodeOptions } : {}),
        });
        operator = started;
        const metrics = async () =>
          parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        await until(
          async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
          60_000,
          'operator ready',
        );
        return {
          pid: started.pid!,
          exited: () =>
            started.exitCode !== null || started.signalCode !== null
              ? String(started.exitCode ?? started.signalCode)
              : undefined,
          metrics,
          memory: () => memoryOf(started.pid!),
          cpuSeconds: () => cpuSecondsOf(started.pid!),
          memorySample: async () => {
            const { heapUsedMb, heapTotalMb, externalMb } = await metrics();
            return { ...memoryOf(started.pid!), heapUsedMb, heapTotalMb, externalMb };
          },
          quiet: async (timeoutMs = QUIET_TIMEOUT_MS) => {
            const end = Date.now() + timeoutMs;
            let last = -1;
            while (Date.now() < end) {
              const m = await metrics();
              if (m.reconcileCount === last && m.queueDepth === 0) return m;
              last = m.reconcileCount;
              await sleep(2000);
            }
            throw new Error(
              `the operator was not quiet for 2 s within ${timeoutMs / 1000} s (a resync period shorter than one resync keeps it busy: idleResyncSeconds)`,
            );
          },
        };
      },
    });
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      killOperator();
    }
    process.removeListener('exit', killOperator);
    process.removeListener('SIGINT', exitOnSignal);
    process.removeListener('SIGTERM', exitOnSignal);
    stopEnvtest();
  }
}

/** How long `quiet()` waits by default: longer than any bench's resync of its tenants. */
const QUIET_TIMEOUT_MS = 15 * 60_000;

/**
 * A resync period (s) that leaves the operator idle between resyncs of `tenants`: one resync holds
 * the work queue tenants / DEFAULT_RATE_PER_SECOND seconds, so with a shorter period a resync is
 * always due, the operator is never quiet and a bench waiting for it never ends (1,000 tenants at a
 * 20 s period did not).
 */
export function idleResyncSeconds(tenants: number, atLeast: number): number {
  return Math.max(atLeast, Math.ceil((tenants / DEFAULT_RATE_PER_SECOND) * 1.5));
}

/**
 * Prints, every 30 s, how many of `n` tenants are done, so a long bench is not silent for minutes.
 * Returns a function to call with the count at each check.
 */
export function progressReporter(n: number, done: string): (count: number) => void {
  const started = Date.now();
  let lastPrinted = started;
  return (count) => {
    if (Date.now() - lastPrinted < 30_000) return;
    lastPrinted = Date.now();
    console.error(`  … ${count}/${n} tenants ${done} after ${Math.round((lastPrinted - started) / 1000)} s`);
  };
}

/**
 * API writes the operator makes while it reconciles `keys` more keys than `settled` (a quiet()
 * result) counted, i.e. during one idle resync of every tenant (target 0), by its own metric.
 */
export async function idleResyncWrites(
  operator: BenchOperator,
  settled: OperatorFigures,
  keys: number,
  timeoutMs: number,
): Promise<number> {
  await until(
    async () => (await operator.metrics()).reconcileCount >= settled.reconcileCount + keys,
    timeoutMs,
    'an idle resync of every tenant',
  );
  return (await operator.quiet()).writes - settled.writes;
}

/** How a bench's N tenants converged, in the words both operator benches print. */
export interface Convergence {
  n: number;
  /** Tenants that reached the bench's goal, and the goal's participle ("converged", "placed"). */
  converged: number;
  done: string;
  budgetMs: number;
  createSeconds: number;
  convergeSeconds: number;
}

export function convergenceFigures(c: Convergence): Record<string, number | string> {
  return {
    result:
      c.converged === c.n
        ? `all ${c.n} ${c.done}`
        : `only ${c.converged} of ${c.n} ${c.done} within the ${c.budgetMs / 1000} s budget`,
    'create N tenants (s, bench client)': c.createSeconds,
    'converge time (s, from first create)': c.convergeSeconds,
    'converge time per tenant (ms)': (c.convergeSeconds * 1000) / Math.max(1, c.converged),
  };
}

/**
 * What N tenants cost in memory: RSS and heap before them and at N, and the difference per tenant.
 * RSS is the heap V8 has reserved (live objects, garbage not yet collected, room to grow) plus code
 * and buffers outside it: the heap figures say which part grows with the tenants. Heap used counts
 * garbage not yet collected, so one run's per-tenant figure is within a few MB / N of the live one.
 */
export function memoryFigures(
  before: MemorySample,
  atN: MemorySample,
  n: number,
  targets: { peakRssMb?: number; rssAtNMb?: number } = {},
): Record<string, number | string> {
  const perTenantKb = (beforeMb: number, afterMb: number) => ((afterMb - beforeMb) * 1024) / n;
  const target = (mb: number | undefined) => (mb ? `, target < ${mb}` : '');
  return {
    'operator RSS before tenants (MB)': before.rssMb,
    [`operator peak RSS (MB${target(targets.peakRssMb)})`]: atN.peakRssMb,
    [`operator RSS at N tenants (MB${target(targets.rssAtNMb)})`]: atN.rssMb,
    'operator RSS per tenant (KB, over before tenants)': perTenantKb(before.rssMb, atN.rssMb),
    'operator heap used / reserved before tenants (MB)': `${before.heapUsedMb.toFixed(1)} / ${before.heapTotalMb.toFixed(1)}`,
    'operator heap used / reserved at N tenants (MB)': `${atN.heapUsedMb.toFixed(1)} / ${atN.heapTotalMb.toFixed(1)}`,
    'operator heap used per tenant (KB, over before tenants)': perTenantKb(before.heapUsedMb, atN.heapUsedMb),
    'operator memory outside the heap at N tenants (MB, external)': atN.externalMb,
  };
}

/** Creates the objects 20 at a time, as a client applying a batch of manifests would. */
export async function createInBatches(client: KubeClient, path: string, objects: unknown[]): Promise<void> {
  for (let i = 0; i < objects.length; i += 20) {
    await Promise.all(objects.slice(i, i + 20).map((object) => client.create(path, object)));
  }
}

export function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

const MIB = 1024 * 1024;

/** The few figures the benches need from the Prometheus text format. */
export function parseMetrics(text: string): OperatorFigures {
  const value = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith('jsm_sso_operator_reconcile_duration_seconds_bucket'))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)?.[1] ?? '', count: Number(l.split(' ').pop()) }));
  const count = value('jsm_sso_operator_reconcile_duration_seconds_count');
  const quantile = (q: number) => buckets.find((b) => b.count >= count * q)?.le ?? 'n/a';
  return {
    writes: value('jsm_sso_operator_api_writes_total'),
    reconcileCount: count,
    queueDepth: value('jsm_sso_operator_queue_depth'),
    p50: quantile(0.5),
    p99: quantile(0.99),
    heapUsedMb: value('nodejs_heap_size_used_bytes') / MIB,
    heapTotalMb: value('nodejs_heap_size_total_bytes') / MIB,
    externalMb: value('nodejs_external_memory_bytes') / MIB,
  };
}

export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
