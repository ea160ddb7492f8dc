// Runs the whole mocha suite and ends with the plain `N passed, N failed` line that CI reads
// (mocha's own summary is not read). Arguments are passed to mocha, e.g. `npm test -- --grep broker`.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRedis, startLocalRedis } from '../testkit/local-redis.js';
import { killAll, processesOfRun, RUN_MARK, type RunProcess } from '../testkit/run-processes.js';
import type { LeftChild } from './child-registry.js';

// The run's own temporary folder, for the tests, their child processes and the run's Redis (os.tmpdir()
// and mktemp read TMPDIR), removed when the run ends: files tests leave there (an API server's
// kubeconfig with its credentials, fixture keys, Redis logs) do not pile up on the machine.
const runTmp = mkdtempSync(join(tmpdir(), 'jsm-sso-test-run-'));
// As /tmp itself: tests run some processes as another user (nobody), who must make files here too.
chmodSync(runTmp, 0o1777);
process.env['TMPDIR'] = runTmp;
// Every process of the run inherits the mark (the run's Redis too): what is still alive at the end is found
// by it, even a daemon that left its parent (ADR 0409).
process.env[RUN_MARK] = runTmp;
const summaryFile = join(runTmp, 'summary.json');
// The children the mocha process had to kill when it ended (test/child-registry.ts).
const leftFile = join(runTmp, 'left-children.jsonl');
/** How long a process of the run killed as it ended may take to go before it counts as left (outlivingGrace). */
const DYING_GRACE_MS = 3_000;
const args = [
  '--import=tsx',
  'node_modules/mocha/bin/mocha.js',
  '--config',
  'test/.mocharc.json',
  '--reporter',
  'test/reporter.cjs',
  ...process.argv.slice(2),
  // The whole suite unless the caller named files (`npm test -- --spec 'test/broker/**/*.test.ts'`).
  // test/cluster runs a single-node cluster as root, test/upgrade builds and runs the previous release
  // beside this tree: each its own CI stage with its own time budget (`npm run test:cluster`,
  // `npm run test:upgrade`).
  ...(process.argv.includes('--spec')
    ? []
    : ['--spec', 'test/**/*.test.ts', '--ignore', 'test/cluster/**', '--ignore', 'test/upgrade/**']),
];
// Not spawnSync for mocha: a blocked event loop takes no signal, and tsx, relaying CI's SIGTERM, then
// SIGKILLed this process: mocha went on alone and the run's Redis was left running for good. The first
// signal is passed on (mocha kills its children and exits through its exit handlers); a second one does
// not wait. Listened for from the start, so that one during the Redis start is not the end of this process.
let mocha: ChildProcess | undefined;
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    mocha?.kill(stoppedBy ? 'SIGKILL' : signal);
    stoppedBy ??= signal;
  });
// A private Redis for the run unless the caller points at one; tests that need it fail without it.
let redis: LocalRedis | undefined;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  JSM_SSO_TEST_SUMMARY: summaryFile,
  JSM_SSO_TEST_LEFT: leftFile,
};
if (!env['REDIS_URL']) {
  try {
    redis = await startLocalRedis();
    env['REDIS_URL'] = redis.url;
  } catch (err) {
    console.error(`no Redis for the tests: ${(err as Error).message}`);
  }
}
const status = stoppedBy ? null : await runMocha();
await redis?.stop();
const left = await leftProcesses();
let passed = 0;
let failed = 1;
try {
  ({ passed, failed } = JSON.parse(readFileSync(summaryFile, 'utf8')) as { passed: number; failed: number });
} catch {
  console.error('mocha wrote no summary: it crashed before finishing');
}
removeRunTmp();
// Leaving processes behind is one failed check of the run, whichever tests passed.
if (left > 0) failed += 1;
console.log(`${passed} passed, ${failed} failed`);
if (stoppedBy) process.exit(128 + constants.signals[stoppedBy]);
process.exit(status === 0 && failed === 0 && passed > 0 ? 0 : 1);

/** Runs mocha and resolves with its exit code (null when a signal ended it). */
function runMocha(): Promise<number | null> {
  const child = spawn(process.execPath, args, { stdio: 'inherit', env });
  mocha = child;
  return new Promise((resolve) => child.once('exit', resolve));
}

/**
 * How many processes the run left: the children mocha killed as it ended (reported by
 * test/child-registry.ts), and every process still carrying the run's mark, which is killed here.
 */
async function leftProcesses(): Promise<number> {
  const killedByMocha = existsSync(leftFile)
    ? readFileSync(leftFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LeftChild)
    : [];
  const stillAlive = await outlivingGrace(runTmp);
  killAll(stillAlive.map(({ pid }) => pid));
  for (const { pid, name } of stillAlive)
    console.error(`left running after the run, killed: ${name} (pid ${pid})`);
  if (killedByMocha.length + stillAlive.length > 0)
    console.error('no process of the run may outlive it: stop each one a test starts in its after hook');
  return killedByMocha.length + stillAlive.length;
}

/**
 * Removes the run's temporary folder, unless something is still mounted in it (a test cluster's node
 * that did not stop): a recursive removal would go on into the mount.
 */
function removeRunTmp(): void {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4]?.startsWith(`${runTmp}/`));
  if (mounted) console.error(`left ${runTmp}: something is still mounted in it`);
  else rmSync(runTmp, { recursive: true, force: true });
}

/**
 * The run's processes still alive once those dying have had DYING_GRACE_MS: a process killed just
 * before (mocha's children, SIGKILLed as it exited; an API server its stop script SIGKILLed) can take
 * hundreds of milliseconds to go on a loaded machine, and is no leak. One that stays is.
 */
async function outlivingGrace(run: string): Promise<RunProcess[]> {
  const end = Date.now() + DYING_GRACE_MS;
  let alive = processesOfRun(run);
  while (alive.length > 0 && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = processesOfRun(run);
  }
  return alive;
}
