// The helm commands the docs give a platform engineer after the README's install, run as written
// against a real API server: a `helm upgrade` that drops the values the install set would put the
// operator back on the chart's default image (no registry serves it before a release) and widen
// what the install narrowed, without a word.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { packageRoot } from '../../common/paths.js';
import { KINDS, objectPath } from '../../operator/kube/kinds.js';
import { type Envtest, envtest, freshNamespace, runScript } from '../../testkit/envtest.js';

const ROOT = packageRoot();

interface Deployment extends KubeObject {
  spec: { template: { spec: { containers: { image: string; args: string[] }[] } } };
}

/** The first sh block after `heading` in `doc` (a path under the package root). */
function shBlockUnder(doc: string, heading: string): string {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`${doc} has no "${heading}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error(`${doc}'s "${heading}" has no sh block`);
  return block[1]!;
}

/** Every `helm upgrade` command in the sh blocks of the user docs, continuation lines joined. */
function documentedHelmUpgrades(): { doc: string; command: string }[] {
  const docs = [
    'README.md',
    'charts/jsm-sso/README.md',
    'operator/README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  return docs.flatMap((doc) =>
    [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) =>
      block!
        .replaceAll(/\\\n/g, ' ')
        .split('\n')
        .filter((line) => /^\s*helm upgrade\b/.test(line))
        .map((command) => ({ doc, command })),
    ),
  );
}

describe('The helm commands of the docs, after the README install', function () {
  this.timeout(120_000);
  let env: Envtest;

  before(async () => {
    env = await envtest();
  });

  it('keeps the values already set in every helm upgrade the docs give (--reset-then-reuse-values or a values file)', () => {
    const upgrades = documentedHelmUpgrades();
    expect(upgrades.length, 'helm upgrade commands found').to.be.at.least(3);
    for (const { doc, command } of upgrades)
      expect(command, doc).to.match(/\s(--reset-then-reuse-values|-f|--values)(\s|=|$)/);
  });

  it("limits the operator with docs/production.md's watchNamespaces command, keeping the image and the ingress selector the install set", async () => {
    const namespace = await freshNamespace(env.client, 'prod-doc');
    const acme = await freshNamespace(env.client, 'acme');
    const globex = await freshNamespace(env.client, 'globex');
    const name = `prod-${process.pid}`;
    const run = (script: string) => {
      const result = runScript(env, script);
      expect(result.status, `${script}\n${result.stdout}\n${result.stderr}`).to.equal(0);
    };

    // The README's install, with the selector it suggests; this API server already serves the CRDs.
    run(
      `helm install ${name} charts/jsm-sso --namespace ${namespace} --set crds.enabled=false ` +
        '--set image.repository=registry.example/jsm-sso --set image.tag=0.1.0 ' +
        '--set networkPolicy.ingressNamespaceSelector=kubernetes.io/metadata.name=ingress-nginx',
    );
    run(
      shBlockUnder('docs/production.md', '## 1. Limit the operator')
        .replaceAll('jsm-sso-system', namespace)
        .replaceAll('helm upgrade jsm-sso ', `helm upgrade ${name} `)
        .replaceAll('{acme,globex}', `{${acme},${globex}}`),
    );

    const operator = await env.client.get<Deployment>(
      objectPath(KINDS.deployment, namespace, `${name}-jsm-sso`),
    );
    const container = operator!.spec.template.spec.containers[0]!;
    expect(container.image).to.equal('registry.example/jsm-sso:0.1.0');
    expect(container.args).to.include.members([
      `--watch-namespaces=${acme},${globex}`,
      '--image=registry.example/jsm-sso:0.1.0',
      '--ingress-namespace-selector=kubernetes.io/metadata.name=ingress-nginx',
    ]);
    for (const watched of [acme, globex])
      expect(await env.client.get(objectPath(KINDS.role, watched, `${name}-jsm-sso`)), watched).to.not.equal(
        undefined,
      );
    run(`helm uninstall ${name} --namespace ${namespace}`);
  });
});
