// What a tenant's pods talk to, run by test/cluster on the host: the dev
// IdP and the JSM emulator over HTTPS on a test CA (the CRD refuses plain http:// except to
// loopback, and pods reach the host at a bridge address), the Secrets the tenant references, the
// tenant itself, and a browser sign-in through its portal and broker.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { type DevIdp, startDevIdp } from '../dev/idp/provider.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../dev/tenant.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from './pki.js';
import { devIdp } from './tenants.js';

export const TENANT = 'acme';
const CA_SECRET = 'acme-test-ca';

export interface TenantServices {
  ca: TestCa;
  /** The certificate the IdP and the emulator serve at `host`. */
  hostPair: IssuedCertificate;
  emulator: RunningJsmEmulator;
  idp: DevIdp;
  /** The client secret the IdP accepts now (see rotateClientSecret). */
  clientSecret: string;
  /** The Secrets the tenant references: IdP client secret, Atlassian credentials, the test CA. */
  secrets(): object[];
  /**
   * Rotates the IdP client secret as an IdP administrator would: the IdP restarts on the same
   * address accepting only a new secret, which is returned (the old one is refused from now on).
   */
  rotateClientSecret(): Promise<string>;
  close(): Promise<void>;
}

/** Starts the dev IdP (with the broker at `brokerUrl` as its client) and the emulator on `host`. */
export async function startTenantServices(host: string, brokerUrl: string): Promise<TenantServices> {
  const ca = makeTestCa();
  const hostPair = ca.issue({ hosts: [host] });
  const emulator = await startJsmEmulator({
    host,
    port: 0,
    tls: { load: () => ({ cert: hostPair.certPem, key: hostPair.keyPem }) },
  });
  const startIdp = (clientSecret: string, port = 0) =>
    startDevIdp({
      host,
      port,
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
  const newSecret = () => randomBytes(24).toString('base64url');
  const clientSecret = newSecret();
  const services: TenantServices = {
    ca,
    hostPair,
    emulator,
    idp: await startIdp(clientSecret),
    clientSecret,
    secrets: () => [
      opaqueSecret('acme-oidc', { clientSecret: services.clientSecret }),
      opaqueSecret('acme-atlassian', SERVICE_ACCOUNT),
      opaqueSecret(CA_SECRET, { 'ca.crt': ca.caPem }),
    ],
    async rotateClientSecret() {
      const port = Number(new URL(services.idp.issuer).port);
      await services.idp.close();
      services.clientSecret = newSecret();
      services.idp = await startIdp(services.clientSecret, port);
      return services.clientSecret;
    },
    async close() {
      await services.idp.close();
      await emulator.close();
      ca.cleanup();
    },
  };
  return services;
}

export function opaqueSecret(name: string, stringData: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData };
}

export function tlsSecret(name: string, pair: { certPem: string; keyPem: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name },
    stringData: { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem },
  };
}

/** The tenant the sign-in tests create: the dev IdP for acme.test, the emulator as its site. */
export function tenantResource(
  services: TenantServices,
  urls: { portal: string; broker: string },
  parts: { portal?: object; broker?: object } = {},
) {
  return {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name: TENANT },
    spec: {
      portal: { url: urls.portal, title: 'Acme Help Center', ...parts.portal },
      broker: { url: urls.broker, ...parts.broker },
      identityProviders: [
        devIdp(
          'acme-dev',
          'Acme (development IdP)',
          services.idp.issuer,
          { emailDomains: ['acme.test'] },
          { caBundleSecretRef: { name: CA_SECRET } },
        ),
      ],
      atlassian: {
        siteUrl: services.emulator.url,
        credentialsSecretRef: { name: 'acme-atlassian' },
        caBundleSecretRef: { name: CA_SECRET },
        organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
      },
    },
  };
}

/**
 * Signs alice in with a browser at the portal, through the broker and the IdP, and checks the help
 * center and her requests. `diagnostics` is added to any failure (pod logs).
 */
export async function signInAtPortal(
  browser: Browser,
  portalUrl: string,
  idpIssuer: string,
  diagnostics: () => string,
): Promise<void> {
  const page: Page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (m) => console.push(m.text()));
  const stuck = async (err: Error) => {
    throw new Error(
      `${err.message}\nat ${page.url()}: ${(await page.textContent('body').catch(() => ''))?.slice(0, 500)}\nconsole: ${console.join('\n')}\n${diagnostics()}`,
    );
  };
  try {
    await page.goto(`${portalUrl}/`).catch(stuck);
    if (page.url().includes('/saml/') && (await page.locator('button[name="idp"]').count()) > 0) {
      await page.locator('button[name="idp"]').first().click();
    }
    await page.waitForSelector('input[name="email"][type="email"]').catch(stuck);
    expect(new URL(page.url()).origin).to.equal(new URL(idpIssuer).origin);
    await page.fill('input[name="email"]', 'alice@acme.test');
    await page.fill('input[name="password"]', 'demo');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${portalUrl}/**`, { timeout: 60_000 }).catch(stuck);
    await page.waitForSelector('text=Acme Help Center').catch(stuck);
    expect(await page.textContent('body')).to.include('IT Help');
    await page.goto(`${portalUrl}/requests`);
    expect(await page.textContent('h1')).to.equal('Requests');
    expect(await page.textContent('body')).to.include('Printer on 3rd floor jams every morning');
  } finally {
    await page.close();
  }
}
