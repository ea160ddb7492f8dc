import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { expect } from 'chai';
import { tenantCrd } from '../../common/config/crd-schema.js';
import { checkTenant, type JsmSsoTenant, parseTenant } from '../../common/config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from '../../common/config/secrets.js';
import { POOL_SIGN_IN_STARTS_PER_TENANT } from '../../common/pool/sign-in-starts.js';
import { desiredConfigMap, TENANT_KEY } from '../../operator/resources/configmap.js';
import { desiredDeployment } from '../../operator/resources/deployment.js';
import { signingSecretName } from '../../operator/resources/secret-refs.js';
import { computeStatus } from '../../operator/status.js';
import { signInStartsCeiling } from '../../portal/abuse-limits.js';
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
            privateKeys: {},
          },
          [signingSecretName(tenant, 'portal')]: {
            keyHashes: { 'tls.crt': 'h3', 'tls.key': 'h4' },
            certificates: { 'tls.crt': 'PORTAL' },
            privateKeys: {},
          },
        },
      };
      materializeSecretsDir(desiredDeployment(context, 'portal'), desiredConfigMap(context), root);
      const source = configuredBrokerCertificates(new SecretDirectory(root), portalBrokerSecretName(tenant));
      expect(source?.kind).to.equal('configured');
      expect(await source!.certificates()).to.deep.equal(['BROKER']);
    });
  }

  describe('spec.portal.limits.signInStarts.perTenant (ADR 0256)', () => {
    const settings = { image: 'img', ingressNamespaceLabels: {}, metricsNamespaceLabels: {} };
    /** The ceiling a dedicated portal counts, from the tenant document the operator renders for it. */
    const renderedCeiling = (signInStarts: Record<string, number>) => {
      const tenant = checkTenant(
        tenantObject('ns', 'acme', {
          portal: { url: 'https://help.acme.example', limits: { signInStarts } },
        } as never),
      );
      const loaded = parseTenant(desiredConfigMap({ tenant, settings, secrets: {} }).data![TENANT_KEY]!);
      const own = loaded.spec.portal.limits.signInStarts;
      return { own, ceiling: signInStartsCeiling(own.perTenant, undefined) };
    };

    it('reaches the portal in the tenant document it loads, and is the ceiling its starts are counted against', () => {
      const { own, ceiling } = renderedCeiling({ perIp: 30, perTenant: 250 });
      expect(own.perTenant).to.equal(250);
      expect(ceiling).to.deep.equal({ starts: 250, setBy: 'tenant' });
    });

    it('is not written when not set (a tenant made before it renders the same document) and the portal counts 6,000', () => {
      const { own, ceiling } = renderedCeiling({ perIp: 30 });
      expect(own).to.deep.equal({ perIp: 30 });
      expect(ceiling).to.deep.equal({ starts: POOL_SIGN_IN_STARTS_PER_TENANT.default, setBy: 'tenant' });
    });

    it("has the bounds of a pool's share in the CRD", () => {
      const limits = tenantCrd().schema.properties!['spec']!.properties!['portal']!.properties!['limits']!;
      const schema = limits.properties!['signInStarts']!.properties!['perTenant']!;
      expect([schema['minimum'], schema['maximum']]).to.deep.equal([
        POOL_SIGN_IN_STARTS_PER_TENANT.min,
        POOL_SIGN_IN_STARTS_PER_TENANT.max,
      ]);
    });
  });

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
