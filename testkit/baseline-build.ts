// The previous landed build, compiled once per commit and kept under /var/cache/jsm-sso, for the tests
// that run it beside this one (a rolling upgrade's mixed versions, ADR 0423).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { packageRoot } from '../common/paths.js';

/**
 * The build a rolling upgrade comes from: the last stop that landed. The next release sets it to this
 * release's commit (docs/upgrade.md, "Checking a rolling upgrade").
 */
export const BASELINE_COMMIT = 'd6aac9e3d82205e2ac356d1d23f161012316be94';

/** Where builds are kept between runs (JSM_SSO_BASELINE_CACHE overrides it). */
const CACHE_ROOT = process.env['JSM_SSO_BASELINE_CACHE'] ?? '/var/cache/jsm-sso/baseline';

const ENTRY = join('dist', 'cli', 'main.js');

/**
 * The `dist/cli/main.js` of `commit` for this run: the kept build (built now unless one is kept), copied
 * to a folder of this process's own (removed at its exit) whose node_modules is this run's (modulesFor).
 * The kept build itself points at no clone: a link from it to a clone's node_modules was relinked by
 * every run that used it, and a run whose clone was then removed (CI's workspace of a run that ended)
 * had its old parts' modules taken away mid-run.
 */
export function baselineEntry(
  commit = BASELINE_COMMIT,
  { root = packageRoot(), cacheRoot = CACHE_ROOT }: { root?: string; cacheRoot?: string } = {},
): string {
  const home = join(cacheRoot, commit);
  if (!existsSync(join(home, ENTRY))) build(commit, home, root);
  const copy = mkdtempSync(join(tmpdir(), `jsm-sso-baseline-${commit.slice(0, 12)}-`));
  process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
  cpSync(home, copy, { recursive: true, filter: (path) => !isModules(home, path) });
  symlinkSync(modulesFor(home, root), join(copy, 'node_modules'));
  return join(copy, ENTRY);
}

/**
 * Builds `commit` into `home`: the commit's tree from the clone's history (`git archive`), then `tsc -p
 * tsconfig.build.json` and the build-info stamp, as `npm run build` does, on modulesFor's node_modules.
 * Built in a temporary folder renamed into place, so that a build cut short is never taken for a
 * finished one and two runs building at once both end well.
 */
function build(commit: string, home: string, root: string): void {
  mkdirSync(dirname(home), { recursive: true });
  const work = mkdtempSync(join(dirname(home), `.${commit.slice(0, 12)}-`));
  try {
    haveCommit(commit, root);
    const tree = execFileSync('git', ['archive', '--format=tar', commit], {
      cwd: root,
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', work], { input: tree });
    const modules = join(work, 'node_modules');
    // The commit's own install is made in place and kept; a link to this clone's is the build's only.
    const runsOn = modulesFor(work, root);
    const link = runsOn !== modules;
    if (link) symlinkSync(runsOn, modules);
    const run = (script: string[]) =>
      execFileSync(process.execPath, script, {
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, JSM_SSO_REVISION: commit },
      });
    run([join(modules, 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
    run(['--import=tsx', join(work, 'scripts', 'build-info.ts')]);
    if (link) rmSync(modules);
    try {
      renameSync(work, home);
    } catch (err) {
      // Another run finished the same build first: its copy is as good as this one.
      if (!existsSync(join(home, ENTRY))) throw err;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Makes sure this clone has `commit`: a shallow clone (CI's may be one) lacks it, so it is fetched from
 * `origin` alone, one commit deep. Fails, naming the cause, when neither holds it: the test cannot run
 * without the build it compares against.
 */
function haveCommit(commit: string, root: string): void {
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'ignore' });
  try {
    git(['cat-file', '-e', `${commit}^{commit}`]);
    return;
  } catch {
    // Not in this clone's history: fetched below.
  }
  try {
    git(['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', commit]);
  } catch (err) {
    throw new Error(
      `the baseline commit ${commit} is not in this clone and origin would not give it (a shallow clone of a remote that refuses fetches by id?): clone with history, or fetch it`,
      { cause: err },
    );
  }
}

/**
 * The node_modules the build in `dir` runs on. Where its lockfile is this clone's, this clone's (seconds,
 * not an install). Otherwise its own `npm ci`, made once in a folder of its own and renamed into place,
 * so that a run never takes another's half-made install, and kept with the build.
 */
function modulesFor(dir: string, root: string): string {
  const ours = join(root, 'node_modules');
  if (readFileSync(join(root, 'package-lock.json')).equals(readFileSync(join(dir, 'package-lock.json'))))
    return ours;
  const modules = join(dir, 'node_modules');
  if (isFolder(modules)) return modules;
  const install = mkdtempSync(join(dir, INSTALL_PREFIX));
  try {
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(dir, file), join(install, file));
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: install,
      stdio: 'ignore',
    });
    // A link an earlier version of this module left in the kept build.
    if (lstatOrUndefined(modules)?.isSymbolicLink()) rmSync(modules);
    try {
      renameSync(join(install, 'node_modules'), modules);
    } catch (err) {
      // Another run's install landed first: as good as this one.
      if (!isFolder(modules)) throw err;
    }
  } finally {
    rmSync(install, { recursive: true, force: true });
  }
  return modules;
}

/** Where modulesFor makes an install, in the build's folder: never copied with it. */
const INSTALL_PREFIX = '.modules-';

/** Whether `path`, under the kept build `home`, is its node_modules or an install being made. */
const isModules = (home: string, path: string) =>
  path === join(home, 'node_modules') ||
  (dirname(path) === home && basename(path).startsWith(INSTALL_PREFIX));

const isFolder = (path: string) => lstatOrUndefined(path)?.isDirectory() === true;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
