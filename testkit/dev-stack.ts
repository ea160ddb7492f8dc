// `npm start` (and `npm start -- --pool`) as a newcomer runs it: the CLI from source through npm, in
// its own process group so that Ctrl-C reaches every process of the stack as it does in a terminal.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../common/paths.js';
import { READY_LINE } from '../dev/stack.js';
import { checkLogLinesOf } from './part-process.js';

export interface RunningDevStack<Status> {
  child: ChildProcess;
  /** The JSON of the ready line. */
  status: Status;
  /** Everything printed so far (stdout and stderr), growing while the stack runs. */
  output(): string;
}

/**
 * Starts `npm start -- ...args` with the memory flow store; resolves at the ready line. Each of its
 * parts' JSON log lines is checked for personal data and secrets as it comes.
 */
export async function startDevStack<Status>(args: string[] = []): Promise<RunningDevStack<Status>> {
  const child = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: '' },
    detached: true,
  });
  checkLogLinesOf(child);
  let output = '';
  const status = await new Promise<Status>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk;
      const line = output.split('\n').find((l) => l.startsWith(READY_LINE));
      if (line) resolve(JSON.parse(line.slice(READY_LINE.length)));
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`dev start exited ${code}:\n${output.slice(-3000)}`)));
  });
  return { child, status, output: () => output };
}

/** Kills what is left of a stack (after a failed test). */
export function killDevStack(stack: RunningDevStack<unknown> | undefined): void {
  const child = stack?.child;
  if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
}

/** `[dev] ...` progress lines that come before the ready line, each found in order of `steps`. */
export function expectProgressBeforeReady(output: string, steps: string[]): void {
  const lines = output.split('\n');
  const ready = lines.findIndex((l) => l.startsWith(READY_LINE));
  for (const step of steps) {
    const at = lines.findIndex((l) => l.startsWith('[dev] ') && l.includes(step));
    expect(at, step).to.be.within(0, ready - 1);
  }
}

/**
 * Ctrl-C to the stack's process group: npm ends by the signal (as in a terminal), the temporary
 * folder (`folderLine`'s path, e.g. the "Tenant YAML: " line) is removed and every URL refuses.
 */
export async function expectCtrlCStopsEverything(
  stack: RunningDevStack<unknown>,
  folderOf: (output: string) => string,
  urls: string[],
): Promise<void> {
  const folder = folderOf(stack.output());
  expect(existsSync(folder), folder).to.equal(true);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    stack.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  process.kill(-stack.child.pid!, 'SIGINT');
  const { code, signal } = await exited;
  expect(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}`).to.equal(true);
  await waitUntil(() => !existsSync(folder));
  expect(existsSync(folder)).to.equal(false);
  for (const url of urls) {
    let refused = false;
    await fetch(url).catch(() => (refused = true));
    expect(refused, url).to.equal(true);
  }
}

/** The folder holding the file a banner line names after `label` ("Tenant YAML: /tmp/x/tenant.yaml"). */
export function folderNamedIn(output: string, label: string): string {
  const line = output.split('\n').find((l) => l.includes(label));
  if (!line) throw new Error(`no "${label}" line in:\n${output.slice(-2000)}`);
  return dirname(line.split(label)[1]!.trim().split(' ')[0]!);
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
