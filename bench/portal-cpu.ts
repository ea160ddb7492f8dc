// `npm run bench -- portal-cpu`: the portal process's CPU per warm page view, read from /proc (user +
// system: the event loop, V8's GC threads, the threadpool), for a request's page and the list of
// requests. The JSM emulator answers at once and runs in the bench process, so only the portal's own
// work is counted. With JSM_SSO_BENCH_BASELINE_PORTAL naming another build's dist/cli/main.js, a portal
// of that build runs in the same rounds (alternating which goes first) and the ratio is this build's
// CPU over the baseline's. JSM_SSO_BENCH_PORTAL_CALLGRIND=1 runs the portals under valgrind's
// callgrind, counting instructions over the measured views only (load-independent, about 50 times slower;
// the profiles are left in the temporary directory as callgrind.portal*.PID for callgrind_annotate).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../common/net.js';
import { packageRoot } from '../common/paths.js';
import { startJsmEmulator } from '../dev/jsm-emulator/emulator.js';
import { type Browser, signInAt } from '../testkit/portal-harness.js';
import { portalArgs, waitReady, writePortalFiles } from '../testkit/portal-process.js';
import { cpuMsOf } from './pool.js';

const CALLGRIND = process.env['JSM_SSO_BENCH_PORTAL_CALLGRIND'] === '1';
const ROUNDS = Number(process.env['JSM_SSO_BENCH_PORTAL_ROUNDS'] ?? (CALLGRIND ? 2 : 6));
const VIEWS = CALLGRIND ? 20 : 100;
const WARM_VIEWS = CALLGRIND ? 20 : 50;
/** One account drives every view, far past what a person opens (spec.portal.limits.signedInPages). */
const LIMITS = { signedInPages: { perAccount: 100_000 } };

interface Portal {
  name: string;
  child: ChildProcess;
  browser: Browser;
}

export async function benchPortalCpu(): Promise<Record<string, number | string>> {
  const emulator = await startJsmEmulator({});
  const builds: [string, string][] = [['', join(packageRoot(), 'dist', 'cli', 'main.js')]];
  const baseline = process.env['JSM_SSO_BENCH_BASELINE_PORTAL'];
  if (baseline) builds.push(['_baseline', baseline]);
  const portals: Portal[] = [];
  const children: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];
  try {
    for (const [name, entry] of builds) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const files = writePortalFiles({
        name: 'bench',
        portalUrl: url,
        siteUrl: emulator.url,
        limits: LIMITS,
      });
      cleanups.push(files.cleanup);
      const node = [entry, ...portalArgs(files, port, await freePort())];
      const child = CALLGRIND
        ? spawn(
            'valgrind',
            [
              '--tool=callgrind',
              '--instr-atstart=no',
              `--callgrind-out-file=${join(tmpdir(), `callgrind.portal${name}.%p`)}`,
              process.execPath,
              ...node,
            ],
            { stdio: 'ignore' },
          )
        : spawn(process.execPath, node, {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: { ...process.env, LOG_LEVEL: 'warn' },
          });
      children.push(child);
      await waitReady(`${url}/saml/metadata`, CALLGRIND ? 600_000 : 120_000);
      portals.push({ name, child, browser: await signInAt(url, files.brokerKey, 'alice@acme.test') });
    }
    const keyOf = (summary: string) =>
      [...emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!.key;
    const pages: Record<string, string> = {
      'request detail': `/requests/${keyOf('Laptop screen flickers')}`,
      'my requests': '/requests?status=all&ownership=all',
    };
    const cost: Record<string, number[]> = {};
    for (const p of portals)
      for (const path of Object.values(pages)) await views(p.browser, path, WARM_VIEWS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? portals : [...portals].reverse();
      for (const [page, path] of Object.entries(pages)) {
        for (const p of order) {
          if (CALLGRIND) callgrind(p, 'on');
          const before = CALLGRIND ? instructions(p) : cpuMsOf(p.child.pid!);
          await views(p.browser, path, VIEWS);
          const used = (CALLGRIND ? instructions(p) : cpuMsOf(p.child.pid!)) - before;
          if (CALLGRIND) callgrind(p, 'off');
          cost[`${page}${p.name}`] = [...(cost[`${page}${p.name}`] ?? []), used / VIEWS];
        }
      }
    }
    const unit = CALLGRIND ? 'M instructions' : 'ms CPU';
    const out: Record<string, number | string> = {};
    for (const [page] of Object.entries(pages)) {
      for (const p of portals) {
        const per = cost[`${page}${p.name}`]!;
        out[`portal_cpu.${page}${p.name} (${unit} per view, median of ${ROUNDS})`] = median(per);
        out[`portal_cpu.${page}${p.name} (rounds)`] = per.map((v) => v.toFixed(CALLGRIND ? 2 : 3)).join(' ');
      }
      if (baseline) {
        const ratios = cost[page]!.map((v, i) => v / cost[`${page}_baseline`]![i]!);
        out[`portal_cpu.${page}.ratio_to_baseline (median)`] = median(ratios);
        out[`portal_cpu.${page}.ratio_to_baseline (rounds)`] = ratios.map((v) => v.toFixed(3)).join(' ');
      }
    }
    return out;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve))),
      ),
    );
    await emulator.close();
    for (const cleanup of cleanups) cleanup();
  }
}

async function views(browser: Browser, path: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await browser.fetch(path);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  }
}

/** Switches callgrind's instrumentation of `p` on or off. */
function callgrind(p: Portal, state: 'on' | 'off'): void {
  execFileSync('callgrind_control', ['-i', state, String(p.child.pid)], {
    stdio: 'ignore',
  });
}

/**
 * The instructions callgrind has counted in `p` so far (instrumentation on), all threads, in
 * millions: `callgrind_control -e` prints `Totals:`, then a line `Th N <count>` per thread that has
 * run since the instrumentation was first switched on (none yet: nothing counted).
 */
function instructions(p: Portal): number {
  const totals = execFileSync('callgrind_control', ['-e', String(p.child.pid)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const threads = [...totals.matchAll(/^\s*Th \d+\s+([\d,]+)/gm)];
  if (!totals.includes('Totals:')) throw new Error(`no callgrind totals for ${p.child.pid}: ${totals}`);
  return threads.reduce((sum, [, count]) => sum + Number(count!.replaceAll(',', '')), 0) / 1e6;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
