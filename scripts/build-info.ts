// `npm run build` (postbuild): stamp dist/common/build-info.json with the source revision, which
// jsm_sso_build_info and `jsm-sso --version` report. An image build without .git passes it in
// $JSM_SSO_REVISION.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

function gitRevision(root: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

const root = packageRoot();
const revision = process.env['JSM_SSO_REVISION'] || gitRevision(root) || 'unknown';
writeFileSync(join(root, 'dist', 'common', 'build-info.json'), `${JSON.stringify({ revision })}\n`);
