// The helm commands the docs give a platform engineer after the README's install, run as written
// against a real API server: a `helm upgrade` that drops the values the install set would put the
// operator back on the chart's default image (no registry serves it before a release) and widen
// what the install narrowed, without a word. The uninstall, in the order that leaves no tenant
// Terminating, and the command for tenants left so because the operator went first.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { KubeObject } from '../../common/kube/client.js';
import { freePort } from '../../common/net.js';
import { packageRoot } from '../../common/paths.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { POOL_FINALIZER } from '../../operator/resources/projection.js';
import { type Envtest, envtest, eventually, freshNamespace, runScript } from '../../testkit/envtest.js';
import { checkMetricsAt } from '../../testkit/metrics-scan.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { createPool, createTenantSecrets, tenantObject } from '../../testkit/tenants.js';

const ROOT = packageRoot();

interface Deployment extends KubeObject {
  spec: { template: { spec: { containers: { image: string; args: string[] }[] } } };
}

/** The `nth` sh block (the first unless told) after `heading` in `doc` (a path under the package root). */
function shBlockUnder(doc: string, heading: string, nth = 0): string {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`${doc} has no "${heading}" section`);
  const block = [...text.slice(at).matchAll(/```sh\n([\s\S]*?)```/g)][nth];
  if (!block) throw new Error(`${doc}'s "${heading}" has no sh block ${nth}`);
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

  /** Runs `script` as the docs give it; fails the test on a non-zero exit. */
  const run = (script: string) => {
    const result = runScript(env, script);
    expect(result.status, `${script}\n${result.stdout}\n${result.stderr}`).to.equal(0);
  };

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

  describe("docs/upgrade.md's uninstall", () => {
    let tenants: string;
    let pools: string;
    let operator: ChildProcess | undefined;

    beforeEach(async () => {
      tenants = await freshNamespace(env.client, 'uninstall-t');
      pools = await freshNamespace(env.client, 'uninstall-p');
      // The release's own operator runs no pod here (no kubelet): `jsm-sso operator` stands in for it,
      // as a process of its own, so that it works while a documented command waits.
      const management = await freePort();
      operator = spawnOperator({
        kubeconfig: env.kubeconfigPath,
        namespace: `${tenants},${pools}`,
        port: management,
        // Every line it can write is read by the privacy scan (spawnOperator), not only its errors.
        logLevel: 'debug',
      });
      await createPool(env.client, pools, 'shared');
      await createTenantSecrets(env.client, tenants, 'acme');
      await env.client.create(
        collectionPath(KINDS.tenant, tenants),
        tenantObject(tenants, 'acme', {
          placement: { mode: 'pool', pool: { name: 'shared', namespace: pools } },
        }),
      );
      await eventually(
        async () =>
          (await env.client.get(objectPath(KINDS.tenant, tenants, 'acme')))?.metadata.finalizers?.includes(
            POOL_FINALIZER,
          ),
        'the tenant placed in the pool (its finalizer)',
        60_000,
      );
      // Its reconciles of a tenant whose Secrets hold marked values (createTenantSecrets) counted:
      // nothing of them in a series, as nothing in a line of its output (spawnOperator).
      await checkMetricsAt(`http://127.0.0.1:${management}`, 'operator process');
    });

    afterEach(() => stopOperator());

    async function stopOperator(): Promise<void> {
      if (!operator || operator.exitCode !== null || operator.signalCode !== null) return;
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await exited;
    }

    it('deletes the tenants and pools while the operator runs, then the release: nothing is left', async () => {
      const namespace = await freshNamespace(env.client, 'uninstall');
      const name = `un-${process.pid}`;
      run(`helm install ${name} charts/jsm-sso --namespace ${namespace} --set crds.enabled=false`);
      // As written, but for the namespaces: --all-namespaces would reach other tests' objects.
      run(
        shBlockUnder('docs/upgrade.md', '## Uninstalling')
          .replace('jsmssotenants --all --all-namespaces', `jsmssotenants --all --namespace ${tenants}`)
          .replace('jsmssopools --all --all-namespaces', `jsmssopools --all --namespace ${pools}`)
          .replaceAll('jsm-sso-system', namespace)
          .replaceAll('helm uninstall jsm-sso ', `helm uninstall ${name} `),
      );
      expect(await env.client.get(objectPath(KINDS.tenant, tenants, 'acme')), 'the tenant').to.equal(
        undefined,
      );
      expect(await env.client.get(objectPath(KINDS.pool, pools, 'shared')), 'the pool').to.equal(undefined);
      expect(
        await env.client.get(objectPath(KINDS.deployment, namespace, `${name}-jsm-sso`)),
        'the operator',
      ).to.equal(undefined);
    });

    it("releases a pooled tenant deleted with its namespace after the operator was gone, with the doc's command", async () => {
      await stopOperator();
      await env.client.delete(`/api/v1/namespaces/${tenants}`);
      // Held by the finalizer only the operator removes: the namespace controller says so.
      await eventually(
        async () => {
          const ns = await env.client.get<
            KubeObject & { status?: { conditions?: { type: string; status: string; message?: string }[] } }
          >(`/api/v1/namespaces/${tenants}`);
          const held = ns?.status?.conditions?.find((c) => c.type === 'NamespaceFinalizersRemaining');
          return held?.status === 'True' && held.message?.includes(POOL_FINALIZER);
        },
        "the namespace held by the tenant's finalizer",
        60_000,
      );

      run(shBlockUnder('docs/upgrade.md', '## Uninstalling', 1));

      await eventually(
        async () => (await env.client.get(`/api/v1/namespaces/${tenants}`)) === undefined,
        'the namespace gone',
        60_000,
      );
    });
  });
});
