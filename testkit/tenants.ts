import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { JsmSsoTenant } from '../common/config/load.js';
import { packageRoot } from '../common/paths.js';
import { createSelfSignedCertificate } from '../common/pki.js';
import type { KubeClient } from '../operator/kube/client.js';
import { collectionPath, KINDS } from '../operator/kube/kinds.js';

/** A fresh copy of test/fixtures/tenant-valid.yaml as a plain object, for tests to mutate. */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into the document freely to break it.
export function validTenantDocument(): Record<string, unknown> & { spec: Record<string, any> } {
  return parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'tenant-valid.yaml'), 'utf8'));
}

export interface InvalidTenantCase {
  /** What the rule guards, in words. */
  rule: string;
  mutate: (doc: ReturnType<typeof validTenantDocument>) => void;
  /** Field path the problem must name (loader) and a fragment of the message. */
  path: string;
  message: string;
}

/**
 * One case per CEL rule in the CRD (x-kubernetes-validations), shared by the loader tests and the
 * operator tests that send the same documents to a real API server.
 */
export const CEL_RULE_CASES: InvalidTenantCase[] = [
  {
    rule: 'in-memory state allows only one replica',
    mutate: (d) => (d.spec.portal.replicas = 2),
    path: 'spec.redis',
    message: 'only one replica',
  },
  {
    rule: 'groups access needs a groups attribute mapping',
    mutate: (d) => (d.spec.portal.access = { mode: 'groups', groups: ['jsm-customers'] }),
    path: 'spec.portal.access',
    message: "needs a 'groups' entry",
  },
  {
    rule: 'portal URL is https except on loopback',
    mutate: (d) => (d.spec.portal.url = 'http://portal.example.com'),
    path: 'spec.portal.url',
    message: 'https://',
  },
  {
    rule: 'portal URL has no trailing slash',
    mutate: (d) => (d.spec.portal.url = 'https://portal.example.com/'),
    path: 'spec.portal.url',
    message: 'must not end with a slash',
  },
  {
    rule: 'logo is https or a path',
    mutate: (d) => (d.spec.portal.branding = { logoUrl: 'http://cdn.example.com/logo.png' }),
    path: 'spec.portal.branding.logoUrl',
    message: 'https://',
  },
  {
    rule: 'groups access lists at least one group',
    mutate: (d) => {
      d.spec.portal.access = { mode: 'groups' };
      d.spec.identityProviders[0].attributeMapping = { groups: 'claims.groups' };
    },
    path: 'spec.portal.access.groups',
    message: 'at least one group',
  },
  {
    rule: 'broker URL is https except on loopback',
    mutate: (d) => (d.spec.broker.url = 'http://10.0.0.1:8081'),
    path: 'spec.broker.url',
    message: 'https://',
  },
  {
    rule: 'identity provider names are unique',
    mutate: (d) => d.spec.identityProviders.push(structuredClone(d.spec.identityProviders[0])),
    path: 'spec.identityProviders',
    message: 'unique',
  },
  {
    rule: 'exactly one protocol per identity provider',
    mutate: (d) => (d.spec.identityProviders[0].saml = { metadataUrl: 'https://idp.example.com/metadata' }),
    path: 'spec.identityProviders[0]',
    message: 'exactly one of oidc, oauth2 or saml',
  },
  {
    rule: 'OIDC client authentication has its credential',
    mutate: (d) => (d.spec.identityProviders[0].oidc.clientAuthMethod = 'private_key_jwt'),
    path: 'spec.identityProviders[0].oidc',
    message: 'privateKeySecretRef',
  },
  {
    rule: 'SAML IdP metadata comes from exactly one source',
    mutate: (d) => {
      d.spec.identityProviders[0] = {
        name: 'corp',
        saml: { metadataUrl: 'https://idp.example.com/md', metadataXml: '<EntityDescriptor/>' },
      };
    },
    path: 'spec.identityProviders[0].saml',
    message: 'exactly one of metadataUrl, metadataXml or entityId',
  },
  {
    rule: 'SAML entityId comes with ssoUrl and certificates',
    mutate: (d) =>
      (d.spec.identityProviders[0] = { name: 'corp', saml: { entityId: 'https://idp.example.com' } }),
    path: 'spec.identityProviders[0].saml',
    message: 'entityId needs ssoUrl',
  },
  {
    rule: 'Atlassian site URL is https',
    mutate: (d) => (d.spec.atlassian.siteUrl = 'http://example.atlassian.net'),
    path: 'spec.atlassian.siteUrl',
    message: 'https://',
  },
  {
    rule: 'organization mapping by exactly one criterion',
    mutate: (d) =>
      (d.spec.atlassian.organizationMappings = [
        { organizationId: '1', emailDomain: 'acme.test', idpGroup: 'g' },
      ]),
    path: 'spec.atlassian.organizationMappings[0]',
    message: 'exactly one of emailDomain or idpGroup',
  },
];

/** A valid tenant for namespace `ns` (the shape of test/fixtures/tenant-valid.yaml). */
export function tenantObject(
  namespace: string,
  name: string,
  spec: Partial<JsmSsoTenant['spec']> = {},
): JsmSsoTenant {
  return {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name, namespace },
    spec: {
      portal: { url: `https://help.${name}.example` },
      broker: { url: `https://sso.${name}.example` },
      identityProviders: [
        {
          name: 'corporate',
          oidc: {
            issuer: 'https://idp.example',
            clientId: 'jsm-sso',
            clientSecretRef: { name: `${name}-oidc` },
          },
        },
      ],
      atlassian: {
        siteUrl: 'https://acme.atlassian.net',
        credentialsSecretRef: { name: `${name}-atlassian` },
      },
      ...spec,
    } as JsmSsoTenant['spec'],
  };
}

export function secretObject(namespace: string, name: string, data: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: data,
  };
}

/** The Secrets the tenant from tenantObject references. */
export async function createTenantSecrets(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  const path = collectionPath(KINDS.secret, namespace);
  await client.create(path, secretObject(namespace, `${name}-oidc`, { clientSecret: 's3cret' }));
  await client.create(
    path,
    secretObject(namespace, `${name}-atlassian`, { email: 'svc@acme.example', apiToken: 'token' }),
  );
}

/**
 * Secrets shared by many tenants (one signing pair, one IdP secret, one set of Atlassian credentials):
 * scale tests and the operator bench measure reconciling, not N key generations.
 */
export async function createSharedTenantSecrets(client: KubeClient, namespace: string): Promise<void> {
  const secrets = collectionPath(KINDS.secret, namespace);
  const pair = await createSelfSignedCertificate({ commonName: `${namespace} shared signing` });
  await client.create(secrets, {
    ...secretObject(namespace, 'signing', { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem }),
    type: 'kubernetes.io/tls',
  });
  await client.create(secrets, secretObject(namespace, 'oidc', { clientSecret: 'x' }));
  await client.create(
    secrets,
    secretObject(namespace, 'atlassian', { email: 'svc@acme.example', apiToken: 't' }),
  );
}

/** A tenant that reads only the Secrets of createSharedTenantSecrets. */
export function tenantOnSharedSecrets(namespace: string, name: string): JsmSsoTenant {
  return tenantObject(namespace, name, {
    portal: { url: `https://${name}.help.example`, samlSigningSecretRef: { name: 'signing' } },
    broker: { url: `https://${name}.sso.example`, signingSecretRef: { name: 'signing' } },
    identityProviders: [
      {
        name: 'corp',
        oidc: { issuer: 'https://idp.example', clientId: 'c', clientSecretRef: { name: 'oidc' } },
      },
    ],
    atlassian: { siteUrl: 'https://acme.atlassian.net', credentialsSecretRef: { name: 'atlassian' } },
  } as never);
}
