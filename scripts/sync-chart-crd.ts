// `npm run gen` step: the Helm chart carries crds/jsmssotenant.yaml and crds/jsmssopool.yaml byte for
// byte (templates/crd.yaml renders them when crds.enabled), so the chart can never install or upgrade
// to a schema other than the one the types and the docs were generated from.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_PATH, POOL_CRD_PATH, packageRoot } from '../common/paths.js';

export const CHART_CRD_PATH = join(packageRoot(), 'charts/jsm-sso/files/jsmssotenant.crd.yaml');
export const CHART_POOL_CRD_PATH = join(packageRoot(), 'charts/jsm-sso/files/jsmssopool.crd.yaml');

/** Copies the CRD into the chart; with `check`, only reports whether the copy is current. */
export function syncChartCrd(check: boolean, from = CRD_PATH, to = CHART_CRD_PATH): boolean {
  const current = existsSync(to) && readFileSync(to, 'utf8') === readFileSync(from, 'utf8');
  if (!check && !current) copyFileSync(from, to);
  return current;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  for (const [from, to] of [
    [CRD_PATH, CHART_CRD_PATH],
    [POOL_CRD_PATH, CHART_POOL_CRD_PATH],
  ] as const) {
    const current = syncChartCrd(check, from, to);
    if (check && !current) {
      console.error(`${to} differs from ${from}: run npm run gen`);
      process.exit(1);
    }
    console.log(current ? `${to} is current` : `wrote ${to}`);
  }
}
