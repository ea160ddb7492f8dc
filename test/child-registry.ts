// Loaded by mocha before any test file (.mocharc.json): every child process the run starts, by any
// test, testkit module or library (spawn, exec, execFile, fork and playwright-core's launch all go
// through ChildProcess.prototype.spawn), is recorded until it exits. When the mocha process ends
// (--exit, --bail, a crash) or is told to stop (SIGINT, SIGTERM, SIGHUP: CI's time limit), each one
// still running is killed with all its descendants, and its own process group when it has one; those
// no test had stopped are written to JSM_SSO_TEST_LEFT, with the line that spawned them, for
// test/run.ts to fail the run. spawnSync children cannot outlive the call; a daemon one starts
// (setsid, the API server's) is found by test/run.ts by the run's mark.
import { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, relative } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { descendantsOf, isAlive, killAll } from '../testkit/run-processes.js';

/** A child still running as a report names it: pid, executable, the test code that spawned it. */
export interface LeftChild {
  pid: number;
  name: string;
  spawnedAt: string;
}

interface Running {
  detached: boolean;
  spawnedAt: string;
}

const running = new Map<ChildProcess, Running>();

type Spawn = (this: ChildProcess, options: { detached?: boolean; file?: string }) => unknown;
const prototype = ChildProcess.prototype as unknown as { spawn: Spawn };
const spawn = prototype.spawn;
prototype.spawn = function (options) {
  const result = spawn.call(this, options);
  if (this.pid !== undefined) {
    running.set(this, { detached: options.detached === true, spawnedAt: spawnSite() });
    this.once('exit', () => running.delete(this));
  }
  return result;
};

process.on('exit', endChildren);
// Without a listener, these signals end the process with no 'exit' event: nothing would be killed.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => process.exit(128 + constants.signals[signal]));

/** Kills every recorded child still running, with its descendants; reports those no test stopped. */
function endChildren(): void {
  const left: LeftChild[] = [];
  for (const [child, { detached, spawnedAt }] of running) {
    const pid = child.pid!;
    if (!isAlive(pid)) continue;
    // One its test signalled (stopping it, without waiting) is no leak; it is killed all the same.
    if (!child.killed) left.push({ pid, name: basename(child.spawnfile), spawnedAt });
    // The descendants are listed first: once their parent is killed, they are init's.
    killAll([...descendantsOf(pid), pid]);
    if (detached) killAll([-pid]);
  }
  const report = process.env['JSM_SSO_TEST_LEFT'];
  if (left.length === 0) return;
  for (const { pid, name, spawnedAt } of left)
    console.error(`left running by the tests, killed: ${name} (pid ${pid}), spawned at ${spawnedAt}`);
  if (report) appendFileSync(report, left.map((each) => `${JSON.stringify(each)}\n`).join(''));
}

/** The first frame of the test code (test/, testkit/) that led to a spawn, relative to the package. */
function spawnSite(): string {
  const root = packageRoot();
  const frame = (new Error().stack ?? '')
    .split('\n')
    .map((line) => /\((.*:\d+:\d+)\)$|at (\/.*:\d+:\d+)$/.exec(line.trim()))
    .map((match) => (match?.[1] ?? match?.[2] ?? '').replace(/^file:\/\//, ''))
    .find((path) => /\/(test|testkit)\//.test(path) && !path.includes('child-registry'));
  return frame ? relative(root, frame) : 'an unknown place';
}
