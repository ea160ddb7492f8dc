import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

/**
 * Paths of the command-line tools the chart and alert tests run. Each comes from its .ci script,
 * which builds it from Go modules and caches it. Under CI=true `.ci/run` has already run the
 * script, so a missing binary fails the test at once instead of being built inside it.
 */
function tool(
  binary: string,
  candidates: (string | undefined)[],
  script: string,
  env: Record<string, string> = {},
) {
  const found = candidates.find((path): path is string => path !== undefined && existsSync(path));
  if (found) return found;
  if (process.env['CI'] === 'true') {
    throw new Error(
      `${binary} is missing (looked in ${candidates.filter(Boolean).join(', ')}): CI runs bash ${script} first`,
    );
  }
  const built = execFileSync('bash', [join(packageRoot(), script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
    .trim()
    .split('\n')
    .pop()!;
  const path = built.endsWith(`/${binary}`) ? built : join(built, binary);
  if (!existsSync(path)) throw new Error(`${script} did not provide ${binary}`);
  return path;
}

const TOOLS_DIR = process.env['JSM_SSO_TOOLS_DIR'] ?? '/var/cache/jsm-sso/tools';
const inDir = (dir: string | undefined, binary: string) => (dir ? join(dir, binary) : undefined);

export function helmPath(): string {
  return tool(
    'helm',
    [inDir(process.env['JSM_SSO_K8S_BIN'], 'helm'), join(TOOLS_DIR, 'helm')],
    '.ci/k8s-tools.sh',
    {
      JSM_SSO_WITH_KCM: '0',
    },
  );
}

/** `.ci/run` exports JSM_SSO_PROMTOOL (the last line of .ci/promtool.sh). */
export function promtoolPath(): string {
  return tool('promtool', [process.env['JSM_SSO_PROMTOOL'], join(TOOLS_DIR, 'promtool')], '.ci/promtool.sh');
}
