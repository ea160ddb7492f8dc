import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { baselineEntry } from '../../testkit/baseline-build.js';

const COMMIT = 'c0ffee0000000000000000000000000000000000';
const LOCKFILE = `${JSON.stringify({ name: 'x', lockfileVersion: 3, requires: true, packages: {} })}\n`;

/** Writes `files` (paths relative to `dir`). */
function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/**
 * ADR 0423: the previous build is kept once per commit in a cache every run on the machine shares
 * (CI jobs, several clones). What each run runs of it must be its own to the end of the run: another
 * run using the same kept build, and its clone removed once it ended, must not take the modules out
 * from under it.
 */
describe('testkit: a kept baseline build runs on its own run’s modules, whatever another run does', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-baseline-'));
    // A build already kept (no git archive, no tsc): an entry that says whose modules it runs on.
    writeTree(join(dir, 'cache', COMMIT), {
      'package.json': '{"type":"module"}\n',
      'package-lock.json': LOCKFILE,
      'dist/cli/main.js': "import { clone } from 'which-clone';\nconsole.log(clone);\n",
    });
    // Two clones of the same tree (the same lockfile as the build's), each with its own node_modules.
    for (const clone of ['a', 'b'])
      writeTree(join(dir, clone), {
        'package-lock.json': LOCKFILE,
        'node_modules/which-clone/package.json':
          '{"name":"which-clone","type":"module","exports":"./index.js"}\n',
        'node_modules/which-clone/index.js': `export const clone = '${clone}';\n`,
      });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entryFor = (clone: string) =>
    baselineEntry(COMMIT, { root: join(dir, clone), cacheRoot: join(dir, 'cache') });
  const run = (entry: string) => execFileSync(process.execPath, [entry], { encoding: 'utf8' }).trim();

  it('keeps a run on its own modules when another run takes the same build, then its clone goes', () => {
    const a = entryFor('a');
    expect(run(a)).to.equal('a');
    const b = entryFor('b');
    expect(run(b)).to.equal('b');
    // Run b ended, CI removed its clone; run a goes on starting the old build's processes.
    rmSync(join(dir, 'b'), { recursive: true, force: true });
    expect(run(a)).to.equal('a');
  });
});
