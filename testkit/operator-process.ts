import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../common/paths.js';

/**
 * `jsm-sso operator` as its own process, so its memory is its own, with the Node heap flags the
 * Helm chart deploys it with: the memory test and the operator bench measure it as installed.
 */
export function chartNodeOptions(): string {
  const values = parseYaml(readFileSync(join(packageRoot(), 'charts', 'jsm-sso', 'values.yaml'), 'utf8')) as {
    nodeOptions?: string;
  };
  if (!values.nodeOptions) throw new Error('charts/jsm-sso/values.yaml has no nodeOptions');
  return values.nodeOptions;
}

export interface OperatorProcessOptions {
  kubeconfig: string;
  /** Namespaces to watch, comma-separated. */
  namespace: string;
  port: number;
  /** Further flags (`--workers 8`...). */
  args?: string[];
  logLevel?: string;
  /** Node flags instead of the chart's (a bench measuring a larger heap). */
  nodeOptions?: string;
  /**
   * Node's arguments before `operator`: the benches pass the compiled dist/cli/main.js, as installed
   * (under tsx the loader's own memory would be measured too). Default: this checkout's own form.
   */
  entry?: string[];
}

export function spawnOperator(options: OperatorProcessOptions): ChildProcess {
  const args = [
    ...(options.entry ?? ownEntry()),
    'operator',
    '--kubeconfig',
    options.kubeconfig,
    '--watch-namespaces',
    options.namespace,
    '--management-port',
    String(options.port),
    '--host',
    '127.0.0.1',
    '--image',
    'jsm-sso:test',
    '--disable-leader-election',
    ...(options.args ?? []),
  ];
  return spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      LOG_LEVEL: options.logLevel ?? 'error',
      NODE_OPTIONS: options.nodeOptions ?? chartNodeOptions(),
    },
  });
}

/** From source under tsx when this module runs from source (tests), else the compiled entry beside it. */
function ownEntry(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`../cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return fromSource ? ['--import', 'tsx', entry] : [entry];
}

/** Resident set size now and at its peak (VmRSS, VmHWM), in MiB. */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kib('VmRSS') / 1024, peakRssMb: kib('VmHWM') / 1024 };
}

/** CPU time the process has used (user + system, from /proc/<pid>/stat), in seconds. */
export function cpuSecondsOf(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ, 100 on every Linux the benches run on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
