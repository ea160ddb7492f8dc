// The previous landed build, compiled once per commit and kept under /var/cache/jsm-sso, for the tests
// that run it beside this one (a rolling upgrade's mixed versions, ADR 0423).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

/**
 * The build a rolling upgrade comes from: the last stop that landed. The next release sets it to this
 * release's commit (docs/upgrade.md, "Checking a rolling upgrade").
 */
export const BASELINE_COMMIT = 'cf0b8151f0202de4b65725ab388c8be7100b2aa9';

/** Where builds are kept between runs (JSM_SSO_BASELINE_CACHE overrides it). */
const CACHE_ROOT = process.env['JSM_SSO_BASELINE_CACHE'] ?? '/var/cache/jsm-sso/baseline';

/**
 * The `dist/cli/main.js` of `commit`, built now unless a build of it is already kept: the commit's tree
 * from this clone's history (`git archive`), its node_modules (provideModules), then `tsc -p
 * tsconfig.build.json` and the build-info stamp, as `npm run build` does. Built in a temporary folder
 * renamed into place, so that a build cut short is never taken for a finished one and two runs building
 * at once both end well.
 */
export function baselineEntry(commit = BASELINE_COMMIT): string {
  const home = join(CACHE_ROOT, commit);
  const entry = join(home, 'dist', 'cli', 'main.js');
  if (existsSync(entry)) {
    provideModules(home);
    return entry;
  }
  mkdirSync(CACHE_ROOT, { recursive: true });
  const work = mkdtempSync(join(CACHE_ROOT, `.${commit.slice(0, 12)}-`));
  try {
    haveCommit(commit);
    const tree = execFileSync('git', ['archive', '--format=tar', commit], {
      cwd: packageRoot(),
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', work], { input: tree });
    provideModules(work);
    const run = (script: string[]) =>
      execFileSync(process.execPath, script, {
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, JSM_SSO_REVISION: commit },
      });
    run([join(work, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
    run(['--import=tsx', join(work, 'scripts', 'build-info.ts')]);
    try {
      renameSync(work, home);
    } catch (err) {
      // Another run finished the same build first: its copy is as good as this one.
      if (!existsSync(entry)) throw err;
      rmSync(work, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  return entry;
}

/**
 * Makes sure this clone has `commit`: a shallow clone (CI's may be one) lacks it, so it is fetched from
 * `origin` alone, one commit deep. Fails, naming the cause, when neither holds it: the test cannot run
 * without the build it compares against.
 */
function haveCommit(commit: string): void {
  const git = (args: string[]) => execFileSync('git', args, { cwd: packageRoot(), stdio: 'ignore' });
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
 * The build's node_modules. Where its lockfile is this tree's, a link to this tree's (seconds, not an
 * install), made anew when it names another clone's: CI's clone of the run that built it is gone by the
 * next run. Otherwise its own `npm ci`, kept with the build.
 */
function provideModules(dir: string): void {
  const modules = join(dir, 'node_modules');
  const link = linkTarget(modules);
  if (link === null) return; // its own install
  const root = packageRoot();
  const ours = join(root, 'node_modules');
  if (link === ours) return;
  if (!readFileSync(join(root, 'package-lock.json')).equals(readFileSync(join(dir, 'package-lock.json')))) {
    rmSync(modules, { force: true });
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'ignore' });
    return;
  }
  // Replaced in one rename: a build running from this folder never sees it without node_modules.
  const next = `${modules}.${process.pid}`;
  symlinkSync(ours, next);
  renameSync(next, modules);
}

/** Where the link at `path` points; undefined when there is nothing there, null for a real folder. */
function linkTarget(path: string): string | undefined | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return undefined;
  }
}
