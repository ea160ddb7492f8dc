import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { checkTenant, type JsmSsoTenant } from '../../common/config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from '../../common/config/secrets.js';
import { desiredConfigMap } from '../../operator/resources/configmap.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { signingSecretName } from '../../operator/resources/secret-refs.js';
import { computeStatus } from '../../operator/status.js';
import {
  configuredBrokerCertificates,
  metadataBrokerCertificates,
} from '../../portal/saml/broker-certificates.js';
import { tenantObject } from '../../testkit/tenants.js';

/**
 * What the operator hands the portal must be what the portal reads: the broker's public
 * certificate at <secrets dir>/<broker signing Secret>/tls.crt, with the Secret name the portal
 * computes itself (portal/app.ts), and the broker metadata URL the portal would otherwise fetch.
 */
const ok = { status: 'True' as const, reason: 'Ok', message: 'ok' };

/** The portal's own rule for the broker signing Secret's name (portal/app.ts buildServices). */
function portalBrokerSecretName(tenant: JsmSsoTenant): string {
  return tenant.spec.broker.signingSecretRef?.name ?? `${tenant.metadata?.name}-broker-signing`;
}

/** Writes the files a pod of `deployment` sees under --secrets-dir, from ConfigMap volumes. */
function materializeSecretsDir(deployment: V1Deployment, configMap: V1ConfigMap, root: string): string {
  const pod = deployment.spec!.template.spec!;
  const args = pod.containers[0]!.args!;
  expect(args[args.indexOf('--secrets-dir') + 1]).to.equal(POD_SECRETS_DIR);
  for (const mount of pod.containers[0]!.volumeMounts ?? []) {
    if (!mount.mountPath.startsWith(`${POD_SECRETS_DIR}/`)) continue;
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    if (!volume.configMap) continue; // Secret volumes: the private keys, not what this test is about
    const dir = join(root, mount.mountPath.slice(POD_SECRETS_DIR.length));
    mkdirSync(dir, { recursive: true });
    for (const item of volume.configMap.items ?? []) {
      writeFileSync(join(dir, item.path), configMap.data![item.key]!);
    }
  }
  return root;
}

describe('operator → portal contract', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-pod-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const cases: [string, JsmSsoTenant][] = [
    ['the default broker signing Secret', checkTenant(tenantObject('ns', 'acme'))],
    [
      'spec.broker.signingSecretRef',
      checkTenant(
        tenantObject('ns', 'acme', {
          broker: { url: 'https://sso.acme.example', signingSecretRef: { name: 'acme-idp-key' } },
        } as never),
      ),
    ],
    ['the longest tenant name allowed', checkTenant(tenantObject('ns', 'a'.repeat(48)))],
  ];

  for (const [what, tenant] of cases) {
    it(`gives the portal the broker's public certificate where it reads it, with ${what}`, async () => {
      const brokerSecret = signingSecretName(tenant, 'broker');
      expect(brokerSecret).to.equal(portalBrokerSecretName(tenant));
      const context = {
        tenant,
        settings: { image: 'img', ingressNamespaceLabels: { a: 'b' }, metricsNamespaceLabels: { c: 'd' } },
        secrets: {
          [brokerSecret]: {
            keyHashes: { 'tls.crt': 'h1', 'tls.key': 'h2' },
            certificates: { 'tls.crt': 'BROKER' },
          },
          [signingSecretName(tenant, 'portal')]: {
            keyHashes: { 'tls.crt': 'h3', 'tls.key': 'h4' },
            certificates: { 'tls.crt': 'PORTAL' },
          },
        },
      };
      materializeSecretsDir(desiredDeployment(context, 'portal'), desiredConfigMap(context), root);
      const source = configuredBrokerCertificates(new SecretDirectory(root), portalBrokerSecretName(tenant));
      expect(source?.kind).to.equal('configured');
      expect(await source!.certificates()).to.deep.equal(['BROKER']);
    });
  }

  it('reports status.brokerMetadataUrl as {broker.url}/saml/metadata, the URL the portal falls back to', () => {
    const status = computeStatus(
      undefined,
      {
        generation: 1,
        configValid: ok,
        applied: ok,
        broker: ok,
        portal: ok,
        brokerUrl: 'https://sso.acme.example',
      },
      new Date(),
    );
    expect(status.brokerMetadataUrl).to.equal('https://sso.acme.example/saml/metadata');
  });

  it('fetches the broker metadata from the same URL when no certificate is mounted', async () => {
    const requested: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (url: string) => {
      requested.push(String(url));
      return new Response('unavailable', { status: 503 });
    }) as typeof fetch;
    try {
      await metadataBrokerCertificates('https://sso.acme.example')
        .certificates()
        .catch(() => undefined);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(requested).to.deep.equal(['https://sso.acme.example/saml/metadata']);
  });
});
