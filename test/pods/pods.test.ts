// What the operator writes starts a working broker and portal. The operator runs against a real
// kube-apiserver and writes the tenant's Deployments; each pod template then runs under runc from the
// image `npm run image` builds, with its command, args, env, Secret and ConfigMap volumes (read from
// the API server), user and read-only root exactly as written, in its own network namespace on a
// bridge the test makes. The dev IdP and the JSM emulator serve HTTPS from the host with a test CA
// the tenant trusts through caBundleSecretRef; Chromium signs in at the portal pod through the broker
// pod and the IdP. No kubelet: issue 14 allows this fallback (see docs/decisions for why).

import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { freePort } from '../../common/net.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { PUBLIC_PORT } from '../../operator/resources/common.js';
import { launchChromium } from '../../testkit/chromium.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { type Bundle, imageArchive, unpackBundle } from '../../testkit/oci-image.js';
import { spawnOperator } from '../../testkit/operator-process.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import { createPodNetwork, type PodNetwork } from '../../testkit/pod-network.js';
import { type RuncPod, runPod } from '../../testkit/runc-pod.js';
import { devIdp } from '../../testkit/tenants.js';

const TENANT = 'acme';
const ATLASSIAN = { email: 'portal-bot@acme.test', apiToken: 'dev-api-token' };

/** The tools this test cannot do without: missing ones fail it (never a skip). */
function requireTools(): void {
  for (const tool of ['runc', 'ip', 'umoci', 'skopeo']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(
        `${tool} is not installed: .ci/run installs it (apt-get install ${tool === 'ip' ? 'iproute2' : tool})`,
      );
    }
  }
  if (process.getuid?.() !== 0) throw new Error('running pods under runc with their own network needs root');
}

function tlsSecret(name: string, pair: { certPem: string; keyPem: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name },
    stringData: { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem },
  };
}

function opaqueSecret(name: string, stringData: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData };
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
}

describe('the pods the operator writes, run under runc from the image', function () {
  this.timeout(600_000);
  let env: Envtest;
  let namespace: string;
  let bundle: Bundle | undefined;
  let network: PodNetwork | undefined;
  let ca: TestCa | undefined;
  let emulator: RunningJsmEmulator | undefined;
  let idp: DevIdp | undefined;
  let operator: ChildProcess | undefined;
  let browser: Browser | undefined;
  const pods: Record<'broker' | 'portal', RuncPod | undefined> = { broker: undefined, portal: undefined };
  const deployments: Partial<Record<'broker' | 'portal', V1Deployment>> = {};
  let portalUrl: string;

  /** Container output for failure messages: what a `kubectl logs` would show. */
  const logs = () =>
    Object.entries(pods)
      .map(([part, pod]) => `--- ${part} pod:\n${pod?.output().slice(-3000) ?? '(not started)'}`)
      .join('\n');

  before(async () => {
    requireTools();
    const archive = await imageArchive();
    bundle = await unpackBundle(archive);
    env = await envtest();
    namespace = await freshNamespace(env.client, 'pods');
    network = createPodNetwork();
    const host = network.hostAddress;
    const brokerNet = network.addPod();
    const portalNet = network.addPod();
    const brokerUrl = `https://${brokerNet.address}:${PUBLIC_PORT}`;
    portalUrl = `https://${portalNet.address}:${PUBLIC_PORT}`;

    ca = makeTestCa();
    const hostPair = ca.issue({ hosts: [host] });
    const brokerPair = ca.issue({ hosts: [brokerNet.address] });
    const portalPair = ca.issue({ hosts: [portalNet.address] });
    emulator = await startJsmEmulator({
      host,
      port: 0,
      tls: { load: () => ({ cert: hostPair.certPem, key: hostPair.keyPem }) },
    });
    const clientSecret = randomBytes(24).toString('base64url');
    idp = await startDevIdp({
      host,
      port: 0,
      allowNonLoopback: true,
      tls: { cert: hostPair.certPem, key: hostPair.keyPem },
      clients: [
        {
          client_id: 'jsm-sso-broker',
          client_secret: clientSecret,
          redirect_uris: [`${brokerUrl}/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
    });

    for (const secret of [
      opaqueSecret('acme-oidc', { clientSecret }),
      opaqueSecret('acme-atlassian', ATLASSIAN),
      opaqueSecret('acme-test-ca', { 'ca.crt': ca.caPem }),
      tlsSecret('acme-broker-tls', brokerPair),
      tlsSecret('acme-portal-tls', portalPair),
    ]) {
      await env.client.create(collectionPath(KINDS.secret, namespace), secret);
    }
    operator = spawnOperator({ kubeconfig: env.kubeconfigPath, namespace, port: await freePort() });
    await env.client.create(collectionPath(KINDS.tenant, namespace), {
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoTenant',
      metadata: { name: TENANT },
      spec: {
        portal: { url: portalUrl, title: 'Acme Help Center', tlsSecretRef: { name: 'acme-portal-tls' } },
        broker: { url: brokerUrl, tlsSecretRef: { name: 'acme-broker-tls' } },
        identityProviders: [
          devIdp(
            'acme-dev',
            'Acme (development IdP)',
            idp.issuer,
            { emailDomains: ['acme.test'] },
            {
              caBundleSecretRef: { name: 'acme-test-ca' },
            },
          ),
        ],
        atlassian: {
          siteUrl: emulator.url,
          credentialsSecretRef: { name: 'acme-atlassian' },
          caBundleSecretRef: { name: 'acme-test-ca' },
          organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
        },
      },
    });

    // Applied=True for the current generation: every object the tenant owns is written.
    await eventually(
      async () => {
        const tenant = await env.client.get<{
          metadata: { generation: number };
          status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
        }>(objectPath(KINDS.tenant, namespace, TENANT));
        const applied = tenant?.status?.conditions?.find((c) => c.type === 'Applied');
        return applied?.status === 'True' && applied.observedGeneration === tenant!.metadata.generation;
      },
      'the operator to apply the tenant',
      120_000,
    );
    for (const part of ['broker', 'portal'] as const) {
      const deployment = await env.client.get<V1Deployment>(
        objectPath(KINDS.deployment, namespace, `${TENANT}-${part}`),
      );
      expect(deployment, `the ${part} Deployment`).to.not.equal(undefined);
      deployments[part] = deployment!;
    }
    pods.broker = await runPod(env.client, bundle, deployments.broker!.spec!.template.spec!, {
      namespace,
      ...brokerNet,
    });
    pods.portal = await runPod(env.client, bundle, deployments.portal!.spec!.template.spec!, {
      namespace,
      ...portalNet,
    });
    browser = await launchChromium([brokerPair.certPem, portalPair.certPem, hostPair.certPem]);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    for (const pod of Object.values(pods)) await pod?.stop();
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await exited;
    }
    await idp?.close();
    await emulator?.close();
    network?.remove();
    ca?.cleanup();
    bundle?.remove();
  });

  it('runs each part as the template says: the image, non-root, a read-only root, the pod probes answering ready', async () => {
    for (const part of ['broker', 'portal'] as const) {
      const pod = pods[part]!;
      expect(pod.container.image).to.equal('jsm-sso:test');
      expect(pod.container.securityContext?.readOnlyRootFilesystem).to.equal(true);
      expect(pod.container.ports?.find((p) => p.name === 'http')?.containerPort).to.equal(PUBLIC_PORT);
      const url = pod.probeUrl(pod.container.readinessProbe);
      expect(url).to.match(/\/readyz$/);
      const exitedEarly = pod.exited.then((code) => {
        throw new Error(`the ${part} pod exited (${code}) before it was ready\n${logs()}`);
      });
      await Promise.race([
        eventually(() => ready(url), `${part} ${url}`, 120_000).catch((err: Error) => {
          throw new Error(`${err.message}\n${logs()}`);
        }),
        exitedEarly,
      ]);
      expect(await ready(pod.probeUrl(pod.container.livenessProbe)), `${part} liveness`).to.equal(true);
    }
  });

  it('signs a customer in at the portal pod through the broker pod and the IdP, and shows the help center', async () => {
    const page = await browser!.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    await page.goto(`${portalUrl}/`);
    if (page.url().includes('/saml/') && (await page.locator('button[name="idp"]').count()) > 0) {
      await page.locator('button[name="idp"]').first().click();
    }
    await page.waitForSelector('input[name="email"][type="email"]').catch(async (err: Error) => {
      throw new Error(
        `${err.message}\nat ${page.url()}: ${(await page.textContent('body'))?.slice(0, 500)}\n${logs()}`,
      );
    });
    expect(new URL(page.url()).origin).to.equal(new URL(idp!.issuer).origin);
    await page.fill('input[name="email"]', 'alice@acme.test');
    await page.fill('input[name="password"]', 'demo');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${portalUrl}/**`, { timeout: 60_000 }).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\nstuck at ${page.url()}: ${(await page.textContent('body'))?.slice(0, 500)}\nconsole: ${console.join('\n')}\n${logs()}`,
      );
    });
    await page.waitForSelector('text=Acme Help Center');
    expect(await page.textContent('body')).to.include('IT Help');
    await page.goto(`${portalUrl}/requests`);
    expect(await page.textContent('h1')).to.equal('Requests');
    expect(await page.textContent('body')).to.include('Printer on 3rd floor jams every morning');
    await page.close();
  });
});
