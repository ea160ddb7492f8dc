// `jsm-sso version` (also `jsm-sso --version`): the release and source revision of this build.
import { buildInfo } from '../common/build-info.js';

export function versionLine(): string {
  const { version, revision } = buildInfo();
  return `jsm-sso ${version} (revision ${revision}, Node.js ${process.versions.node})`;
}

export async function run(_argv: string[]): Promise<void> {
  console.log(versionLine());
}
