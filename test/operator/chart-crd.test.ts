// The chart installs and upgrades the JsmSsoTenant and JsmSsoPool CRDs (crds.enabled) and keeps them on uninstall
// (crds.keep), as cert-manager's chart does: Helm's crds/ folder is installed once and never upgraded.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../common/kube/client.js';
import { CRD_PATH, POOL_CRD_PATH, packageRoot } from '../../common/paths.js';
import { KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace } from '../../testkit/envtest.js';

const CHART = join(packageRoot(), 'charts/jsm-sso');
const SOURCE = parse(readFileSync(CRD_PATH, 'utf8')) as KubeObject & {
  spec: { versions: { name: string }[] };
};
const CRD_NAME = SOURCE.metadata.name!;
const POOL_SOURCE = parse(readFileSync(POOL_CRD_PATH, 'utf8')) as KubeObject & { spec: unknown };
const KEEP = 'helm.sh/resource-policy';

interface Crd extends KubeObject {
  spec: { versions: { name: string; additionalPrinterColumns?: { name: string }[] }[] };
}

describe('Helm chart: the CRD through install, upgrade and uninstall', function () {
  this.timeout(180_000);
  let env: Envtest;
  const helm = (...args: string[]) =>
    execFileSync(join(env.toolsDir, 'helm'), [...args, '--kubeconfig', env.kubeconfigPath], {
      encoding: 'utf8',
    });
  const renderedCrds = (...set: string[]) =>
    parseAllDocuments(helm('template', 'x', CHART, ...set.flatMap((s) => ['--set', s])))
      .map((d) => d.toJS() as KubeObject)
      .filter((o) => o?.kind === 'CustomResourceDefinition');
  const crdInCluster = async () => (await env.client.get<Crd>(objectPath(KINDS.crd, undefined, CRD_NAME)))!;

  before(async () => {
    env = await envtest();
  });

  it('renders crds/jsmssotenant.yaml and crds/jsmssopool.yaml unchanged, marked keep; unmarked with crds.keep=false; absent with crds.enabled=false', () => {
    const [crd, pool, ...more] = renderedCrds();
    expect(more).to.have.length(0);
    expect((crd as Crd).spec).to.deep.equal(SOURCE.spec);
    expect(crd!.metadata.name).to.equal(CRD_NAME);
    expect((pool as Crd).spec).to.deep.equal(POOL_SOURCE.spec);
    expect(pool!.metadata.name).to.equal(POOL_SOURCE.metadata.name);
    for (const each of [crd!, pool!]) {
      expect(each.metadata.annotations?.[KEEP]).to.equal('keep');
      expect(each.metadata.labels?.['app.kubernetes.io/managed-by']).to.equal('Helm');
    }
    for (const each of renderedCrds('crds.keep=false'))
      expect(each.metadata.annotations?.[KEEP]).to.equal(undefined);
    expect(renderedCrds('crds.enabled=false')).to.have.length(0);
  });

  it('installs the CRD, upgrades it to the CRD of a newer chart, and leaves it on helm uninstall', async () => {
    const namespace = await freshNamespace(env.client, 'crd');
    const release = `crd-${process.pid}`;
    // The test cluster already serves the CRD (other suites need it): hand it to the release the way
    // Helm adopts an existing object, by its ownership label and annotations.
    for (const name of [CRD_NAME, POOL_SOURCE.metadata.name!]) {
      await env.client.apply(
        objectPath(KINDS.crd, undefined, name),
        {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: {
            name,
            labels: { 'app.kubernetes.io/managed-by': 'Helm' },
            annotations: {
              'meta.helm.sh/release-name': release,
              'meta.helm.sh/release-namespace': namespace,
            },
          },
        },
        { fieldManager: 'chart-crd-test', force: true },
      );
    }
    const newer = mkdtempSync(join(tmpdir(), 'jsm-sso-chart-'));
    try {
      helm('install', release, CHART, '--namespace', namespace);
      let crd = await crdInCluster();
      expect(crd.metadata.annotations?.[KEEP]).to.equal('keep');
      expect(crd.metadata.labels?.['helm.sh/chart']).to.match(/^jsm-sso-/);

      // A newer chart whose CRD shows one more printer column in every version.
      cpSync(CHART, newer, { recursive: true });
      const file = join(newer, 'files/jsmssotenant.crd.yaml');
      const changed = parse(readFileSync(file, 'utf8')) as Crd;
      for (const version of changed.spec.versions) {
        version.additionalPrinterColumns = [
          ...(version.additionalPrinterColumns ?? []),
          { name: 'Upgraded', type: 'string', jsonPath: '.metadata.uid' } as { name: string },
        ];
      }
      writeFileSync(file, stringify(changed));
      helm('upgrade', release, newer, '--namespace', namespace);
      crd = await crdInCluster();
      for (const version of crd.spec.versions) {
        expect(version.additionalPrinterColumns?.map((c) => c.name)).to.include('Upgraded');
      }

      helm('upgrade', release, CHART, '--namespace', namespace);
      crd = await crdInCluster();
      for (const version of crd.spec.versions) {
        expect(version.additionalPrinterColumns?.map((c) => c.name) ?? []).to.not.include('Upgraded');
      }

      helm('uninstall', release, '--namespace', namespace);
      crd = await crdInCluster();
      expect(crd.metadata.name).to.equal(CRD_NAME);
      expect(crd.metadata.deletionTimestamp).to.equal(undefined);
    } finally {
      rmSync(newer, { recursive: true, force: true });
    }
  });
});
