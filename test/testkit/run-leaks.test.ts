// test/run.ts leaves no process of the run behind, and fails the run when a test did: a nested run of a
// fixture spec (test/fixtures/run-leaks) that leaks, or that is stopped by CI's SIGTERM mid-test (ADR 0409).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { eventually } from '../../testkit/envtest.js';
import { isAlive, processesOfRun } from '../../testkit/run-processes.js';

const FIXTURES = join(packageRoot(), 'test/fixtures/run-leaks');

/** `npm test`'s command on one fixture spec, with a Redis of its own; where the spec writes its pids. */
function nestedRun(spec: string) {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'run-leaks-')), 'pids.json');
  const { REDIS_URL: _outer, ...env } = process.env;
  const child = spawn(
    join(packageRoot(), 'node_modules/.bin/tsx'),
    ['test/run.ts', '--spec', join(FIXTURES, spec)],
    { cwd: packageRoot(), env: { ...env, LEAK_PIDS: pidsFile }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    pidsFile,
    /** The runner's exit code: what CI sees, before the output is whole (a process left holding the pipe keeps it open). */
    exited: () => exited,
    ended: async () => ({ code: await exited, output: await closed.then(() => output) }),
  };
}

describe('test/run.ts and the processes of its run', function () {
  this.timeout(180_000);

  it('kills a child a spec started at load and never stopped, and counts a failure', async () => {
    const run = nestedRun('spawned-at-load.spec.ts');
    const { code, output } = await run.ended();
    const [leaked] = JSON.parse(readFileSync(run.pidsFile, 'utf8')) as number[];
    expect(isAlive(leaked!), `sleep (pid ${leaked})`).to.equal(false);
    expect(output).to.match(
      /left running by the tests, killed: sleep \(pid \d+\), spawned at test\/fixtures\/run-leaks\/spawned-at-load\.spec\.ts:\d+/,
    );
    expect(output).to.include('1 passed, 1 failed');
    expect(code).to.equal(1);
  });

  it("kills a daemon that left its parent, found by the run's mark, and counts a failure", async () => {
    const run = nestedRun('daemonized.spec.ts');
    const { code, output } = await run.ended();
    const [leaked] = JSON.parse(readFileSync(run.pidsFile, 'utf8')) as number[];
    expect(isAlive(leaked!), `sleep (pid ${leaked})`).to.equal(false);
    expect(output).to.include(`left running after the run, killed: sleep (pid ${leaked})`);
    expect(output).to.include('1 passed, 1 failed');
    expect(code).to.equal(1);
  });

  it("stopped by SIGTERM mid-test, leaves neither the run's Redis nor the test's nor the run's folder", async () => {
    const run = nestedRun('holds-redis.spec.ts');
    const held = await eventually(
      async () =>
        existsSync(run.pidsFile) &&
        (JSON.parse(readFileSync(run.pidsFile, 'utf8')) as { tmp: string; redis: number[] }),
      'the spec to hold its Redis',
      120_000,
    );
    // What CI's time limit does to `npm test`: tsx, the runner's parent, relays it.
    run.child.kill('SIGTERM');
    await run.exited();
    for (const pid of held.redis) expect(isAlive(pid), `redis-server (pid ${pid})`).to.equal(false);
    expect(processesOfRun(held.tmp)).to.deep.equal([]);
    expect(existsSync(held.tmp), held.tmp).to.equal(false);
    const { code, output } = await run.ended();
    expect(output).to.match(/\d+ passed, \d+ failed/);
    expect(code).to.equal(143);
  });
});
