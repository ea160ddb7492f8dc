import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1PodSpec } from '@kubernetes/client-node';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { packageRoot } from '../common/paths.js';
import { checkOutputOf } from './part-process.js';

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

/** The operator's pod spec as the chart renders it with its default values (`helm template`). */
export function chartOperatorPodSpec(toolsDir: string): V1PodSpec {
  const rendered = execFileSync(
    join(toolsDir, 'helm'),
    ['template', 'jsm-sso', join(packageRoot(), 'charts', 'jsm-sso')],
    {
      encoding: 'utf8',
    },
  );
  const deployment = parseAllDocuments(rendered)
    .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: V1PodSpec } } } | null)
    .find((o) => o?.kind === 'Deployment');
  if (!deployment?.spec) throw new Error('the chart renders no Deployment');
  return deployment.spec.template.spec;
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
  /** Elect a leader on this Lease (default: --disable-leader-election). */
  leaderElection?: { namespace: string; id: string };
  /** Leave the log (stdout and stderr) to the caller to read, instead of dropping stdout and passing stderr on. */
  pipeLog?: boolean;
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
    ...(options.leaderElection
      ? [
          '--leader-election-namespace',
          options.leaderElection.namespace,
          '--leader-election-id',
          options.leaderElection.id,
        ]
      : ['--disable-leader-election']),
    ...(options.args ?? []),
  ];
  // Piped either way: every line is checked for personal data and secrets (ADR 0255).
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LOG_LEVEL: options.logLevel ?? 'error',
      NODE_OPTIONS: options.nodeOptions ?? chartNodeOptions(),
    },
  });
  checkOutputOf(child);
  if (!options.pipeLog) child.stderr.pipe(process.stderr);
  return child;
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
