import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';

const HELD_CLOCK = resolve('testkit/held-clock.ts');

/**
 * Test files run by a mocha of their own, with the suite's configuration (its root hooks): what one
 * file leaves behind is seen by the next as in the suite's one process. Each title with its state, and
 * the titles of the failed hooks.
 */
function runMocha(files: Record<string, string>): { tests: Map<string, string>; failedHooks: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'held-clock-'));
  try {
    const paths = Object.entries(files).map(([name, body]) => {
      const path = join(dir, name);
      writeFileSync(path, `import { holdClock } from ${JSON.stringify(HELD_CLOCK)};\n${body}`);
      return path;
    });
    const run = spawnSync(
      process.execPath,
      [
        '--import=tsx',
        'node_modules/mocha/bin/mocha.js',
        '--config',
        'test/.mocharc.json',
        '--reporter',
        'json',
        ...paths,
      ],
      { encoding: 'utf8', env: { ...process.env, REDIS_URL: '' } },
    );
    const report = JSON.parse(run.stdout) as {
      tests: { title: string; err: { message?: string } }[];
      failures: { title: string }[];
    };
    return {
      tests: new Map(report.tests.map((t) => [t.title, t.err.message === undefined ? 'passed' : 'failed'])),
      failedHooks: report.failures.map((f) => f.title).filter((title) => title.includes('hook')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A test file that asserts the process's monotonic clock runs: real time passes, and it moves on. */
const CLOCK_RUNS = `
it('finds the monotonic clock running', () => {
  const first = performance.now();
  const until = Date.now() + 2;
  while (Date.now() < until);
  if (!(performance.now() > first)) throw new Error('performance.now() stood still');
});
`;

describe('testkit: a held clock (testkit/held-clock.ts) never outlives the test that held it', function () {
  this.timeout(60_000);

  it('is released for the next test file when its test fails on mocha’s timeout, its release never reached', () => {
    const { tests, failedHooks } = runMocha({
      'a-hangs.test.ts': `
it('hangs with the clock held', async function () {
  this.timeout(300);
  const clock = holdClock();
  try {
    await new Promise(() => {});
  } finally {
    clock.release();
  }
});
`,
      'b-runs.test.ts': CLOCK_RUNS,
    });
    expect(Object.fromEntries(tests)).to.deep.equal({
      'hangs with the clock held': 'failed',
      'finds the monotonic clock running': 'passed',
    });
    expect(failedHooks).to.deep.equal([]);
  });

  it('fails a passing test that leaves the clock held, and releases it', () => {
    const { tests, failedHooks } = runMocha({
      'a-forgets.test.ts': `
it('holds the clock and forgets it', () => {
  holdClock().advance(1000);
});
`,
      'b-runs.test.ts': CLOCK_RUNS,
    });
    expect(failedHooks).to.have.length(1);
    expect(failedHooks[0]).to.contain('holds the clock and forgets it');
    // A failed root hook stops the run there, as a leaked log line does (test/failure-logs.ts).
    expect(tests.has('finds the monotonic clock running')).to.equal(false);
  });
});
