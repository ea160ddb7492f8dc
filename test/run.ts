// Runs the whole mocha suite and ends with the plain `N passed, N failed` line that CI reads
// (mocha's own summary is not read). Arguments are passed to mocha, e.g. `npm test -- --grep broker`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRedis, startLocalRedis } from '../testkit/local-redis.js';

const summaryFile = join(tmpdir(), `jsm-sso-test-summary-${process.pid}.json`);
// The run's own temporary folder, for the tests, their child processes and the run's Redis (os.tmpdir()
// and mktemp read TMPDIR), removed when the run ends: files tests leave there (an API server's
// kubeconfig with its credentials, fixture keys, Redis logs) do not pile up on the machine.
const runTmp = mkdtempSync(join(tmpdir(), 'jsm-sso-test-run-'));
// As /tmp itself: tests run some processes as another user (nobody), who must make files here too.
chmodSync(runTmp, 0o1777);
process.env['TMPDIR'] = runTmp;
const args = [
  '--import=tsx',
  'node_modules/mocha/bin/mocha.js',
  '--config',
  'test/.mocharc.json',
  '--reporter',
  'test/reporter.cjs',
  ...process.argv.slice(2),
  // The whole suite unless the caller named files (`npm test -- --spec 'test/broker/**/*.test.ts'`).
  // test/cluster runs a single-node cluster as root: its own CI stage (`npm run test:cluster`).
  ...(process.argv.includes('--spec') ? [] : ['--spec', 'test/**/*.test.ts', '--ignore', 'test/cluster/**']),
];
// A private Redis for the run unless the caller points at one; tests that need it fail without it.
let redis: LocalRedis | undefined;
const env: NodeJS.ProcessEnv = { ...process.env, JSM_SSO_TEST_SUMMARY: summaryFile };
if (!env['REDIS_URL']) {
  try {
    redis = await startLocalRedis();
    env['REDIS_URL'] = redis.url;
  } catch (err) {
    console.error(`no Redis for the tests: ${(err as Error).message}`);
  }
}
const run = spawnSync(process.execPath, args, { stdio: 'inherit', env });
await redis?.stop();
removeRunTmp();
let passed = 0;
let failed = 1;
try {
  ({ passed, failed } = JSON.parse(readFileSync(summaryFile, 'utf8')) as { passed: number; failed: number });
  rmSync(summaryFile);
} catch {
  console.error('mocha wrote no summary: it crashed before finishing');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);

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
