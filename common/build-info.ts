import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './paths.js';

/**
 * What this build is: the package version and the source revision it was built from. The revision
 * comes from `dist/common/build-info.json`, written by `npm run build` (scripts/build-info.ts:
 * $JSM_SSO_REVISION, else `git rev-parse HEAD`) and looked up next to the compiled code, so a
 * run from source with tsx never shows a stale stamp: there it is `unknown`.
 */
export interface BuildInfo {
  version: string;
  revision: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  let revision = 'unknown';
  try {
    const stamped = JSON.parse(readFileSync(fileURLToPath(BUILD_INFO_URL), 'utf8')) as { revision?: unknown };
    if (typeof stamped.revision === 'string' && /^[0-9a-zA-Z._-]{1,64}$/.test(stamped.revision)) {
      revision = stamped.revision;
    }
  } catch {
    // Not stamped (running from source): the version alone still identifies the release.
  }
  cached = { version: pkg.version ?? 'unknown', revision };
  return cached;
}

/** Next to this module: dist/common/build-info.json in a build (and in the image). */
const BUILD_INFO_URL = new URL('./build-info.json', import.meta.url);
