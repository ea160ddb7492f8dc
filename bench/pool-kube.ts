// The memory of a pool process reading its tenants from the Kubernetes API (`jsm-sso broker --pool`,
// ADR 0136): RSS and V8 heap of a real process, run from dist as the image runs it, serving 1 and N
// projection Secrets of a real kube-apiserver (`--tenants N`, default 100). With
// JSM_SSO_BENCH_BASELINE_POOL set to another build's dist/cli/main.js (e.g. a worktree at the commit
// before a change), that build is measured too, in alternating rounds on the same API server.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../common/net.js';
import { packageRoot } from '../common/paths.js';
import { collectionPath, KINDS } from '../operator/kube/kinds.js';
import { createPki } from '../testkit/broker-harness.js';
import { envtest, freshNamespace, stopEnvtest } from '../testkit/envtest.js';
import { memoryOf } from '../testkit/operator-process.js';
import { startPoolProcess } from '../testkit/pool.js';
import { brokerProjection } from '../testkit/projections.js';
import { tenantHost } from './pool-bundles.js';
import type { BenchOptions } from './run.js';

const ROUNDS = 3;
/** Let a pool settle (lazy work) before its memory is read. */
const SETTLE_MS = 3_000;
/**
 * The heap figure is the live heap: the bench preloads a full collection on SIGUSR2 (the product
 * never collects by hand), so garbage a scrape happens to find does not blur the comparison.
 */
const COLLECT_ON_SIGNAL = [
  '--expose-gc',
  '--import=data:text/javascript,process.on("SIGUSR2",()=>globalThis.gc())',
];
const MIB = 1024 * 1024;

export async function benchPoolKube(options: BenchOptions): Promise<Record<string, number | string>> {
  const entry = join(packageRoot(), 'dist', 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} missing: npm run build`);
  const baseline = process.env['JSM_SSO_BENCH_BASELINE_POOL'];
  const builds: [string, string][] = [
    ['this build', entry],
    ...(baseline ? [['baseline', baseline] as [string, string]] : []),
  ];
  const env = await envtest();
  const pki = createPki();
  const namespace = await freshNamespace(env.client, 'bench-pool-kube');
  const figures: Record<string, number | string> = {};
  const port = await freePort();
  let made = 0;
  try {
    for (const tenants of [1, options.tenants ?? 100]) {
      for (; made < tenants; made++) {
        const name = `t${made}`;
        await env.client.create(
          collectionPath(KINDS.secret, namespace),
          brokerProjection({
            namespace,
            pool: 'shared',
            name,
            url: `http://${tenantHost(made)}:${port}`,
            pki,
          }),
        );
      }
      const readings = new Map<string, { rssMb: number[]; heapMb: number[] }>();
      for (let round = 0; round < ROUNDS; round++) {
        for (const [build, main] of builds) {
          const { rssMb, heapMb } = await measure(main, namespace, env.kubeconfigPath, port);
          const seen = readings.get(build) ?? { rssMb: [], heapMb: [] };
          seen.rssMb.push(rssMb);
          seen.heapMb.push(heapMb);
          readings.set(build, seen);
        }
      }
      for (const [build, { rssMb, heapMb }] of readings) {
        figures[`pool_kube.rss_mb_${tenants}_tenants (${build}, median of ${ROUNDS})`] = median(rssMb);
        figures[`pool_kube.live_heap_mb_${tenants}_tenants (${build}, median of ${ROUNDS})`] = median(heapMb);
      }
    }
  } finally {
    pki.cleanup();
    stopEnvtest();
  }
  return figures;
}

/** One pool process's RSS and live V8 heap once it serves every projection and has settled. */
async function measure(
  main: string,
  namespace: string,
  kubeconfig: string,
  port: number,
): Promise<{ rssMb: number; heapMb: number }> {
  const pool = startPoolProcess(
    'broker',
    ['--pool', 'shared', '--pool-namespace', namespace],
    port,
    // On its memory store whatever the shell exports (a pool takes $REDIS_URL when set; ADR 0359).
    { KUBECONFIG: kubeconfig, REDIS_URL: '' },
    [...COLLECT_ON_SIGNAL, main],
  );
  try {
    // Listening comes after the source's first list: every projection has been delivered.
    const urls = await pool.urls;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    pool.child.kill('SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const metrics = await (await fetch(`${urls['management']}/metrics`)).text();
    const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1];
    return { rssMb: round1(memoryOf(pool.child.pid!).rssMb), heapMb: round1(Number(heap) / MIB) };
  } finally {
    pool.child.kill('SIGTERM');
    await pool.done;
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
