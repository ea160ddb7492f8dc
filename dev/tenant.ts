// A local stack's tenant: its JsmSsoTenant document and its secrets folder, for the dedicated stack
// (`npm start`) and each tenant of the local pool (`npm start -- --pool`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../common/pki.js';

/** The portal's Atlassian service account in the emulator's built-in seed. */
export const SERVICE_ACCOUNT = { email: 'portal-bot@acme.test', apiToken: 'dev-api-token' };
export const SERVICE_ACCOUNT_AUTH = {
  authorization: `Basic ${Buffer.from(`${SERVICE_ACCOUNT.email}:${SERVICE_ACCOUNT.apiToken}`).toString('base64')}`,
};
/** The dev IdP's client: the same for every broker of a local stack. */
export const DEV_CLIENT_ID = 'jsm-sso-broker';

/** Desk ids fixed in dev/jsm-emulator/default-seed.yaml. */
const DEFAULT_SEED_DESKS = { itHelp: '1', hr: '2' };
/**
 * Which desks a new customer joins: staff (acme.test) both, a partner (partner.test, carol) IT Help
 * only, never HR. With another seed the desks are unknown, so there are no rules (every desk).
 */
const DEFAULT_SEED_PROVISIONING_RULES = [
  { emailDomain: 'acme.test', serviceDeskIds: [DEFAULT_SEED_DESKS.itHelp, DEFAULT_SEED_DESKS.hr] },
  { emailDomain: 'partner.test', serviceDeskIds: [DEFAULT_SEED_DESKS.itHelp] },
];

const DEV_ATTRIBUTE_MAPPING = {
  email: 'claims.email',
  displayName: 'claims.name',
  groups: 'has(claims.groups) ? claims.groups : []',
};

export interface DevIdentityProvider {
  name: string;
  displayName: string;
  emailDomains: string[];
  issuer: string;
  /** The company's own directory: its groups (jsm-admins) count. */
  trustGroups?: boolean;
}

export interface DevTenantOptions {
  name: string;
  title: string;
  portalUrl: string;
  brokerUrl: string;
  siteUrl: string;
  identityProviders: DevIdentityProvider[];
  /** The emulator runs the built-in seed (or one derived from it): its desks are known. */
  defaultSeed: boolean;
  /** A dedicated part reads its Redis URL from the tenant's secret (a pool has its own). */
  withRedis: boolean;
}

export function devTenant(options: DevTenantOptions) {
  const { name } = options;
  return {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name },
    spec: {
      portal: {
        url: options.portalUrl,
        title: options.title,
        samlSigningSecretRef: { name: `${name}-portal-signing` },
        adminGroups: ['jsm-admins'],
      },
      broker: {
        url: options.brokerUrl,
        signingSecretRef: { name: `${name}-broker-signing` },
      },
      identityProviders: options.identityProviders.map((idp) => ({
        name: idp.name,
        displayName: idp.displayName,
        emailDomains: idp.emailDomains,
        ...(idp.trustGroups ? { trustGroups: true } : {}),
        oidc: {
          issuer: idp.issuer,
          clientId: DEV_CLIENT_ID,
          clientSecretRef: { name: `${name}-oidc` },
          scopes: ['openid', 'email', 'profile', 'groups'],
        },
        attributeMapping: DEV_ATTRIBUTE_MAPPING,
      })),
      atlassian: {
        siteUrl: options.siteUrl,
        credentialsSecretRef: { name: `${name}-atlassian` },
        organizationMappings: [],
        ...(options.defaultSeed ? { provisioningRules: DEFAULT_SEED_PROVISIONING_RULES } : {}),
      },
      ...(options.withRedis ? { redis: { urlSecretRef: { name: `${name}-redis` } } } : {}),
    },
  };
}

/**
 * The secrets `devTenant(name)` names, as `root/<secretName>/<key>` (mode 0600): fresh signing key
 * pairs for the broker and the portal, the IdP client secret, the Atlassian service account, and the
 * Redis URL when given.
 */
export async function writeTenantSecrets(
  root: string,
  name: string,
  clientSecret: string,
  redisUrl?: string,
): Promise<void> {
  const write = (secret: string, key: string, value: string) => {
    mkdirSync(join(root, secret), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, secret, key), value, { mode: 0o600 });
  };
  for (const part of ['broker', 'portal'] as const) {
    const pair = await createSelfSignedCertificate({ commonName: `${name} ${part} (development)` });
    write(`${name}-${part}-signing`, 'tls.crt', pair.certPem);
    write(`${name}-${part}-signing`, 'tls.key', pair.keyPem);
  }
  write(`${name}-oidc`, 'clientSecret', clientSecret);
  write(`${name}-atlassian`, 'email', SERVICE_ACCOUNT.email);
  write(`${name}-atlassian`, 'apiToken', SERVICE_ACCOUNT.apiToken);
  if (redisUrl) write(`${name}-redis`, 'url', redisUrl);
}
