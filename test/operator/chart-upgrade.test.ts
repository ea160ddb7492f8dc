// A release installed from the 0.1.0 chart (test/fixtures/chart-0.1.0: the chart as released, less
// its crds/ folder, which the test API server already serves) is upgraded to this chart with the
// commands docs/upgrade.md gives, run as written but for the release's name and namespace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { packageRoot } from '../../common/paths.js';
import { KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace, runScript } from '../../testkit/envtest.js';

const ROOT = packageRoot();
const OLD_CHART = join(ROOT, 'test/fixtures/chart-0.1.0');
const UPGRADE_SECTION = '### Coming from 0.1.0';
const POOL_CRD_NAME = 'jsmssopools.jsm-sso.io';

interface Deployment extends KubeObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    replicas: number;
    template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[] } };
  };
}

/** The sh block under `section` of docs/upgrade.md, for release `name` in `namespace`. */
function documentedUpgrade(section: string, name: string, namespace: string): string {
  const doc = readFileSync(join(ROOT, 'docs/upgrade.md'), 'utf8');
  const at = doc.indexOf(section);
  if (at < 0) throw new Error(`docs/upgrade.md has no "${section}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!block) throw new Error(`docs/upgrade.md's "${section}" has no sh block`);
  return block[1]!
    .replaceAll('jsm-sso-system', namespace)
    .replaceAll('release-name=jsm-sso', `release-name=${name}`)
    .replaceAll('helm upgrade jsm-sso ', `helm upgrade ${name} `);
}

describe('Helm chart: upgrading a release of the 0.1.0 chart', function () {
  this.timeout(120_000);
  let env: Envtest;

  before(async () => {
    env = await envtest();
  });

  it("upgrades with docs/upgrade.md's commands: the new chart's defaults apply, the values the user set stay", async () => {
    const namespace = await freshNamespace(env.client, 'upgrade');
    const name = `up-${process.pid}`;
    const fullname = `${name}-jsm-sso`;
    const operator = async () =>
      (await env.client.get<Deployment>(objectPath(KINDS.deployment, namespace, fullname)))!;

    // Installed as a user of 0.1.0 would have, with values of their own.
    const install = runScript(
      env,
      `helm install ${name} ${OLD_CHART} --namespace ${namespace} --skip-crds --set replicaCount=3 --set logLevel=debug`,
    );
    expect(install.status, install.stderr).to.equal(0);
    const before = await operator();
    // A 0.1.0 cluster has no JsmSsoPool CRD, so the upgrade creates it; this API server already serves
    // it for other suites, so it is handed to the release the way Helm adopts an existing object.
    await env.client.apply(
      objectPath(KINDS.crd, undefined, POOL_CRD_NAME),
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: {
          name: POOL_CRD_NAME,
          labels: { 'app.kubernetes.io/managed-by': 'Helm' },
          annotations: { 'meta.helm.sh/release-name': name, 'meta.helm.sh/release-namespace': namespace },
        },
      },
      { fieldManager: 'chart-upgrade-test', force: true },
    );

    const upgrade = runScript(env, documentedUpgrade(UPGRADE_SECTION, name, namespace));
    expect(upgrade.status, `the documented upgrade failed:\n${upgrade.stdout}\n${upgrade.stderr}`).to.equal(
      0,
    );

    const after = await operator();
    // The selector is immutable: a chart that changed it could not upgrade at all.
    expect(after.spec.selector).to.deep.equal(before.spec.selector);
    const container = after.spec.template.spec.containers[0]!;
    expect(after.spec.replicas).to.equal(3);
    expect(container.env.find((e) => e.name === 'LOG_LEVEL')?.value).to.equal('debug');
    // 0.1.0's heap default (128 MB) sized the operator for 1,000 tenants; this chart's is 256.
    expect(container.env.find((e) => e.name === 'NODE_OPTIONS')?.value).to.include(
      '--max-old-space-size=256',
    );
    expect(container.args.some((a) => a.startsWith('--tenant-pod-defaults='))).to.equal(true);
    const budget = await env.client.get(objectPath(KINDS.podDisruptionBudget, namespace, fullname));
    expect(budget, 'the PodDisruptionBudget this chart added').to.not.equal(undefined);

    const uninstall = runScript(env, `helm uninstall ${name} --namespace ${namespace}`);
    expect(uninstall.status, uninstall.stderr).to.equal(0);
  });
});
