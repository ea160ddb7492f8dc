import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { JsmSsoTenant } from '../common/config/load.js';
import type { KubeClient } from '../common/kube/client.js';
import { packageRoot } from '../common/paths.js';
import { createSelfSignedCertificate } from '../common/pki.js';
import { collectionPath, KINDS } from '../operator/kube/kinds.js';
import { PERSONAL_MARKER } from './personal-data.js';

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
    rule: 'OIDC max_age is a whole number of seconds (the broker holds auth_time to it, ADR 0186)',
    mutate: (d) => (d.spec.identityProviders[0].oidc.extraAuthorizationParams = { max_age: '1h' }),
    path: 'spec.identityProviders[0].oidc',
    message: 'max_age must be a whole number of seconds',
  },
  {
    rule: 'no max_age for a plain OAuth 2.0 IdP, which issues no auth_time to hold it to',
    mutate: (d) => (d.spec.identityProviders[0] = oauth2IdpSending({ max_age: '3600' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'max_age needs OpenID Connect',
  },
  {
    rule: 'no acr_values for a plain OAuth 2.0 IdP, which states no class to hold them to (ADR 0289)',
    mutate: (d) => (d.spec.identityProviders[0] = oauth2IdpSending({ acr_values: 'urn:jsm-sso:dev:mfa' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'acr_values needs OpenID Connect',
  },
  {
    rule: 'no prompt=login for a plain OAuth 2.0 IdP, which issues no auth_time to show a fresh sign-in (ADR 0297)',
    mutate: (d) => (d.spec.identityProviders[0] = oauth2IdpSending({ prompt: 'consent login' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'prompt=login needs OpenID Connect',
  },
  {
    rule: 'no prompt=none of the tenant, which would make every sign-in passive (ADR 0301)',
    mutate: (d) => (d.spec.identityProviders[0].oidc.extraAuthorizationParams = { prompt: 'none' }),
    path: 'spec.identityProviders[0].oidc.extraAuthorizationParams',
    message: 'prompt=none would make every sign-in passive',
  },
  {
    rule: 'no prompt=none of the tenant for a plain OAuth 2.0 IdP either (ADR 0301)',
    mutate: (d) => (d.spec.identityProviders[0] = oauth2IdpSending({ prompt: 'consent none' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'prompt=none would make every sign-in passive',
  },
  {
    rule: "no client_id, request or request_uri of the tenant, which would replace the broker's own (ADR 0301)",
    mutate: (d) => (d.spec.identityProviders[0].oidc.extraAuthorizationParams = { request_uri: 'urn:x' }),
    path: 'spec.identityProviders[0].oidc.extraAuthorizationParams',
    message: 'may not set client_id, request or request_uri',
  },
  {
    rule: 'no claims request parameter, whose essential acr or value the broker would not hold to (ADR 0308)',
    mutate: (d) =>
      (d.spec.identityProviders[0].oidc.extraAuthorizationParams = {
        claims: '{"id_token":{"acr":{"essential":true,"value":"urn:jsm-sso:dev:mfa"}}}',
      }),
    path: 'spec.identityProviders[0].oidc.extraAuthorizationParams',
    message: 'claims is not held to',
  },
  {
    rule: 'no claims request parameter for a plain OAuth 2.0 IdP either (ADR 0308)',
    mutate: (d) =>
      (d.spec.identityProviders[0] = oauth2IdpSending({ claims: '{"userinfo":{"email":null}}' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'claims is not held to',
  },
  {
    rule: 'no response_mode but query, where the broker reads the answer (ADR 0301)',
    mutate: (d) => (d.spec.identityProviders[0] = oauth2IdpSending({ response_mode: 'form_post' })),
    path: 'spec.identityProviders[0].oauth2.extraAuthorizationParams',
    message: 'response_mode may only be query',
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
  {
    rule: 'portal and broker never share a signing Secret',
    mutate: (d) => {
      d.spec.portal.samlSigningSecretRef = { name: 'acme-signing' };
      d.spec.broker.signingSecretRef = { name: 'acme-signing' };
    },
    path: 'spec.portal.samlSigningSecretRef',
    message: 'must not share a signing Secret',
  },
  {
    rule: "the portal's signing Secret is not the broker's generated one",
    mutate: (d) => (d.spec.portal.samlSigningSecretRef = { name: 'acme-broker-signing' }),
    path: 'spec.portal.samlSigningSecretRef',
    message: 'must not share a signing Secret',
  },
  {
    rule: "the broker's encryption key is not in its (generated) signing Secret",
    mutate: (d) => (d.spec.broker.encryptionSecretRef = { name: 'acme-broker-signing' }),
    path: 'spec.broker.encryptionSecretRef',
    message: 'a key of its own',
  },
  {
    rule: "the broker's encryption key is not in a named signing Secret",
    mutate: (d) => {
      d.spec.portal.samlSigningSecretRef = { name: 'portal-keys' };
      d.spec.broker.encryptionSecretRef = { name: 'portal-keys' };
    },
    path: 'spec.broker.encryptionSecretRef',
    message: 'a key of its own',
  },
  {
    rule: 'portal URL differs from broker URL',
    mutate: (d) => (d.spec.broker.url = d.spec.portal.url),
    path: 'spec.broker.url',
    message: 'must differ',
  },
  {
    rule: 'portal URL differs from broker URL, host case ignored',
    mutate: (d) => {
      d.spec.portal.url = 'https://SSO.acme.example';
      d.spec.broker.url = 'https://sso.acme.example';
    },
    path: 'spec.broker.url',
    message: 'must differ',
  },
  {
    rule: 'SAML SSO URL has no fragment',
    mutate: (d) =>
      (d.spec.identityProviders[0] = { name: 'corp', saml: samlIdp('https://idp.example.com/sso#x') }),
    path: 'spec.identityProviders[0].saml.ssoUrl',
    message: 'without a fragment',
  },
  {
    rule: 'SAML SLO URL has no fragment, even after a query',
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'corp',
        saml: { ...samlIdp('https://idp.example.com/sso'), sloUrl: 'https://idp.example.com/slo?a=1#b' },
      }),
    path: 'spec.identityProviders[0].saml.sloUrl',
    message: 'without a fragment',
  },
  {
    rule: 'OAuth 2.0 authorization endpoint has no fragment',
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'corp',
        oauth2: { ...oauth2Idp(), authorizationEndpoint: 'https://idp.example.com/authorize#frag' },
      }),
    path: 'spec.identityProviders[0].oauth2.authorizationEndpoint',
    message: 'without a fragment',
  },
  {
    rule: 'OIDC issuer has no query (OIDC Discovery 1.0, section 2)',
    mutate: (d) => (d.spec.identityProviders[0].oidc.issuer = 'https://idp.example.com?tenant=1'),
    path: 'spec.identityProviders[0].oidc.issuer',
    message: 'without query or fragment',
  },
  {
    rule: 'replicas or autoscaling, not both',
    mutate: (d) => {
      d.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
      d.spec.broker.replicas = 2;
      d.spec.broker.autoscaling = { maxReplicas: 4 };
    },
    path: 'spec.broker.autoscaling',
    message: 'give replicas or autoscaling, not both',
  },
  {
    rule: 'autoscaling needs Redis',
    mutate: (d) => (d.spec.portal.autoscaling = { minReplicas: 1, maxReplicas: 3 }),
    path: 'spec.redis',
    message: 'only one replica',
  },
  {
    rule: 'autoscaling minReplicas at most maxReplicas',
    mutate: (d) => {
      d.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
      d.spec.portal.autoscaling = { minReplicas: 5, maxReplicas: 3 };
    },
    path: 'spec.portal.autoscaling.minReplicas',
    message: 'must not exceed maxReplicas',
  },
  {
    rule: 'autoscaling on CPU has a CPU request',
    mutate: (d) => {
      d.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
      d.spec.broker.autoscaling = { maxReplicas: 4 };
      d.spec.broker.pod = { resources: { requests: { memory: '256Mi' }, limits: { cpu: '2' } } };
    },
    path: 'spec.broker.pod.resources',
    message: 'needs pod.resources.requests.cpu',
  },
  {
    rule: 'pod labels never replace the labels the operator selects by',
    mutate: (d) => (d.spec.broker.pod = { podLabels: { 'app.kubernetes.io/instance': 'other' } }),
    path: 'spec.broker.pod.podLabels',
    message: 'set by the operator',
  },
  {
    rule: 'pod label keys are valid label keys',
    mutate: (d) => (d.spec.portal.pod = { podLabels: { 'team/a/b': 'x' } }),
    path: 'spec.portal.pod.podLabels',
    message: 'label keys must be',
  },
  {
    rule: 'pod annotations never set the operator annotations',
    mutate: (d) => (d.spec.portal.pod = { podAnnotations: { 'jsm-sso.io/config-hash': 'pinned' } }),
    path: 'spec.portal.pod.podAnnotations',
    message: 'set by the operator',
  },
  {
    rule: 'pod annotations never unconfine a container from AppArmor (the restricted Pod Security Standard)',
    mutate: (d) =>
      (d.spec.broker.pod = {
        podAnnotations: { 'container.apparmor.security.beta.kubernetes.io/broker': 'unconfined' },
      }),
    path: 'spec.broker.pod.podAnnotations',
    message: 'AppArmor profile may be runtime/default or localhost/<profile>',
  },
  {
    // The pod's key and a container's (container.seccomp.security.alpha.kubernetes.io/<c>) alike.
    rule: 'pod annotations never set a seccomp profile beside the one the operator sets',
    mutate: (d) =>
      (d.spec.portal.pod = {
        podAnnotations: {
          'seccomp.security.alpha.kubernetes.io/pod': 'unconfined',
          'container.seccomp.security.alpha.kubernetes.io/portal': 'runtime/default',
        },
      }),
    path: 'spec.portal.pod.podAnnotations',
    message: 'seccomp annotations are refused',
  },
  {
    rule: 'a pooled tenant uses the pool Redis, not its own',
    mutate: (d) => {
      d.spec.placement = { mode: 'pool', pool: { name: 'shared' } };
      d.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
    },
    path: 'spec.redis',
    message: "uses the pool's Redis",
  },
  {
    rule: 'a pooled tenant has no replicas, autoscaling or pod settings of its own',
    mutate: (d) => {
      d.spec.placement = { mode: 'pool', pool: { name: 'shared' } };
      d.spec.broker.pod = { priorityClassName: 'high' };
    },
    path: 'spec.placement',
    message: "runs in the pool's pods",
  },
  {
    // Its pool's connections are shared before their Host, and so their tenant, is known (ADR 0205).
    rule: 'a pooled tenant takes its pool keep-alive timeout',
    mutate: (d) => {
      d.spec.placement = { mode: 'pool', pool: { name: 'shared' } };
      d.spec.keepAliveTimeoutSeconds = 600;
    },
    path: 'spec.keepAliveTimeoutSeconds',
    message: 'set keepAliveTimeoutSeconds on the JsmSsoPool',
  },
  {
    rule: 'placement mode pool names its pool',
    mutate: (d) => (d.spec.placement = { mode: 'pool' }),
    path: 'spec.placement.pool',
    message: 'needs placement.pool.name',
  },
  {
    rule: 'placement.pool only with mode pool',
    mutate: (d) => (d.spec.placement = { mode: 'dedicated', pool: { name: 'shared' } }),
    path: 'spec.placement.pool',
    message: 'only read with placement.mode pool',
  },
];

function samlIdp(ssoUrl: string) {
  return { entityId: 'https://idp.example.com', ssoUrl, certificates: ['-----BEGIN CERTIFICATE-----'] };
}

function oauth2Idp() {
  return {
    authorizationEndpoint: 'https://idp.example.com/authorize',
    tokenEndpoint: 'https://idp.example.com/token',
    userinfoEndpoint: 'https://idp.example.com/userinfo',
    clientId: 'c',
    clientSecretRef: { name: 'acme-oauth2' },
  };
}

/** A tenant's plain OAuth 2.0 IdP whose authorization requests carry `extraAuthorizationParams`. */
export function oauth2IdpSending(extraAuthorizationParams: Record<string, string>) {
  return { name: 'corp', emailTrust: 'asserted', oauth2: { ...oauth2Idp(), extraAuthorizationParams } };
}

export interface ValidTenantCase {
  /** What real configuration this admits, in words. */
  shape: string;
  mutate: (doc: ReturnType<typeof validTenantDocument>) => void;
}

/** Tenants that look unusual but match real IdPs; the API server and the loader both admit them. */
export const ACCEPTED_TENANT_CASES: ValidTenantCase[] = [
  {
    shape: 'a broker decrypting assertions with a key pair of its own (Shibboleth IdP encrypts by default)',
    mutate: (d) => (d.spec.broker.encryptionSecretRef = { name: 'acme-broker-decryption' }),
  },
  {
    shape: "Google Workspace's SAML SSO URL with its idpid query",
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'google',
        emailTrust: 'asserted',
        saml: samlIdp('https://accounts.google.com/o/saml2/idp?idpid=C01abc234'),
      }),
  },
  {
    shape: 'a SAML SLO URL with a query',
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'corp',
        emailTrust: 'asserted',
        saml: {
          ...samlIdp('https://idp.example.com/sso'),
          sloUrl: 'https://idp.example.com/slo?wa=wsignout1.0',
        },
      }),
  },
  {
    shape: "Entra ID's federation metadata URL with its appid query",
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'entra',
        emailTrust: 'asserted',
        saml: {
          metadataUrl:
            'https://login.microsoftonline.com/contoso.onmicrosoft.com/federationmetadata/2007-06/federationmetadata.xml?appid=0000',
        },
      }),
  },
  {
    shape: 'OAuth 2.0 endpoints with a query (RFC 6749 sections 3.1 and 3.2)',
    mutate: (d) =>
      (d.spec.identityProviders[0] = {
        name: 'corp',
        emailTrust: 'asserted',
        oauth2: {
          ...oauth2Idp(),
          authorizationEndpoint: 'https://idp.example.com/authorize?realm=customers',
          tokenEndpoint: 'https://idp.example.com/token?realm=customers',
        },
      }),
  },
  {
    shape: 'an OIDC IdP asked for an authentication at most an hour old (max_age)',
    mutate: (d) => (d.spec.identityProviders[0].oidc.extraAuthorizationParams = { max_age: '3600' }),
  },
  {
    shape: 'an OIDC IdP asked for a multi-factor class (acr_values, held to by the ID token, ADR 0268)',
    mutate: (d) =>
      (d.spec.identityProviders[0].oidc.extraAuthorizationParams = {
        acr_values: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
      }),
  },
  {
    shape:
      "an OIDC IdP asked for a fresh sign-in every time (prompt=login, held to by the ID token's auth_time, ADR 0297)",
    mutate: (d) => (d.spec.identityProviders[0].oidc.extraAuthorizationParams = { prompt: 'login' }),
  },
  {
    shape: 'a plain OAuth 2.0 IdP with parameters of its own (prompt, an audience), none held to',
    mutate: (d) =>
      (d.spec.identityProviders[0] = oauth2IdpSending({
        prompt: 'consent',
        audience: 'https://api.example.com',
      })),
  },
  {
    shape: 'a tenant placed in a pool of another namespace',
    mutate: (d) => (d.spec.placement = { mode: 'pool', pool: { name: 'shared', namespace: 'jsm-pools' } }),
  },
  {
    shape: 'an autoscaled broker and a fixed portal, with Redis',
    mutate: (d) => {
      d.spec.redis = { urlSecretRef: { name: 'acme-redis' } };
      d.spec.broker.autoscaling = { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 };
      d.spec.portal.replicas = 3;
    },
  },
  {
    shape: 'every pod setting on both parts',
    mutate: (d) => {
      const pod = {
        imagePullSecrets: [{ name: 'registry' }],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: 2, memory: '1Gi' } },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'sso', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['sso'] }] }],
            },
          },
        },
        topologySpreadConstraints: [
          { maxSkew: 2, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' },
        ],
        podLabels: { 'team.example.com/owner': 'identity', 'app.kubernetes.io/version': '1' },
        podAnnotations: {
          'sidecar.istio.io/inject': 'true',
          'container.apparmor.security.beta.kubernetes.io/broker': 'localhost/sso-broker',
          'container.apparmor.security.beta.kubernetes.io/portal': 'runtime/default',
        },
        priorityClassName: 'sso-critical',
      };
      d.spec.broker.pod = pod;
      d.spec.portal.pod = structuredClone(pod);
    },
  },
  {
    shape: 'portal and broker with their own named signing Secrets',
    mutate: (d) => {
      d.spec.portal.samlSigningSecretRef = { name: 'acme-portal-key' };
      d.spec.broker.signingSecretRef = { name: 'acme-broker-key' };
    },
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

/**
 * The secrets createTenantSecrets writes, marked (ADR 0340): whatever the operator, a pool or a part
 * reads of them, none may reach a log line, an Event, a status or an object it writes.
 */
export const TENANT_SECRET_VALUES = {
  clientSecret: `${PERSONAL_MARKER}-client-secret`,
  apiToken: `${PERSONAL_MARKER}-api-token`,
};

/** The Secrets the tenant from tenantObject references. */
export async function createTenantSecrets(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  const path = collectionPath(KINDS.secret, namespace);
  const { clientSecret, apiToken } = TENANT_SECRET_VALUES;
  await client.create(path, secretObject(namespace, `${name}-oidc`, { clientSecret }));
  await client.create(
    path,
    secretObject(namespace, `${name}-atlassian`, { email: 'svc@acme.example', apiToken }),
  );
}

/**
 * Secrets shared by many tenants (one signing pair per part, one IdP secret, one set of Atlassian credentials):
 * scale tests and the operator bench measure reconciling, not N key generations.
 */
export async function createSharedTenantSecrets(client: KubeClient, namespace: string): Promise<void> {
  const secrets = collectionPath(KINDS.secret, namespace);
  for (const part of ['broker', 'portal']) {
    const pair = await createSelfSignedCertificate({ commonName: `${namespace} shared ${part} signing` });
    await client.create(secrets, {
      ...secretObject(namespace, `${part}-signing`, { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem }),
      type: 'kubernetes.io/tls',
    });
  }
  await client.create(secrets, secretObject(namespace, 'oidc', { clientSecret: 'x' }));
  await client.create(
    secrets,
    secretObject(namespace, 'atlassian', { email: 'svc@acme.example', apiToken: 't' }),
  );
}

/** A tenant that reads only the Secrets of createSharedTenantSecrets. */
export function tenantOnSharedSecrets(namespace: string, name: string): JsmSsoTenant {
  return tenantObject(namespace, name, {
    portal: { url: `https://${name}.help.example`, samlSigningSecretRef: { name: 'portal-signing' } },
    broker: { url: `https://${name}.sso.example`, signingSecretRef: { name: 'broker-signing' } },
    identityProviders: [
      {
        name: 'corp',
        oidc: { issuer: 'https://idp.example', clientId: 'c', clientSecretRef: { name: 'oidc' } },
      },
    ],
    atlassian: { siteUrl: 'https://acme.atlassian.net', credentialsSecretRef: { name: 'atlassian' } },
  } as never);
}

/** tenantOnSharedSecrets placed in the pool `poolNamespace/pool`. */
export function pooledOnSharedSecrets(
  namespace: string,
  name: string,
  poolNamespace: string,
  pool: string,
): JsmSsoTenant {
  const tenant = tenantOnSharedSecrets(namespace, name);
  tenant.spec.placement = { mode: 'pool', pool: { name: pool, namespace: poolNamespace } };
  return tenant;
}

/** A JsmSsoPool on Redis (URL in the Secret `<name>-redis`, created here too), so it may scale. */
export async function createPool(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
): Promise<void> {
  await client.create(
    collectionPath(KINDS.secret, namespace),
    secretObject(namespace, `${name}-redis`, { url: 'rediss://redis.pools.svc:6379' }),
  );
  await client.create(collectionPath(KINDS.pool, namespace), {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoPool',
    metadata: { name, namespace },
    spec: { redis: { urlSecretRef: { name: `${name}-redis` } }, tenants: TENANTS_OF_ANY_NAMESPACE, ...spec },
  });
}

/**
 * A pool's consent to tenants of every namespace (ADR 0213): the operator tests keep their tenants
 * and pools in namespaces of their own; which tenants a pool takes is test/operator/pool-tenancy.test.ts's.
 */
export const TENANTS_OF_ANY_NAMESPACE = { namespaces: { from: 'All' } };

/**
 * Secrets no tenant reads, large like Helm release history (the operator must not cache their data).
 * Random bytes, so nothing along the way compresses them away.
 */
export async function createUnrelatedSecrets(
  client: KubeClient,
  namespace: string,
  count: number,
  sizeKiB: number,
): Promise<void> {
  const path = collectionPath(KINDS.secret, namespace);
  for (let i = 0; i < count; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, count - i) }, (_, j) =>
        client.create(path, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `sh.helm.release.v1.unrelated.v${i + j + 1}`, namespace },
          type: 'helm.sh/release.v1',
          data: { release: randomBytes(sizeKiB * 1024).toString('base64') },
        }),
      ),
    );
  }
}

/**
 * A dev IdP (dev/idp) as a tenant lists it in the browser tests: client `jsm-sso-broker` with its
 * secret in `acme-oidc`, the groups claim mapped. `more` adds entry fields (emailDomains...), `oidc`
 * adds OIDC fields (e.g. caBundleSecretRef for an IdP on a test CA).
 */
export function devIdp(
  name: string,
  displayName: string,
  issuer: string,
  more: Record<string, unknown>,
  oidc: Record<string, unknown> = {},
) {
  return {
    name,
    displayName,
    oidc: {
      issuer,
      clientId: 'jsm-sso-broker',
      clientSecretRef: { name: 'acme-oidc' },
      scopes: ['openid', 'email', 'profile', 'groups'],
      ...oidc,
    },
    attributeMapping: {
      email: 'claims.email',
      displayName: 'claims.name',
      groups: 'has(claims.groups) ? claims.groups : []',
    },
    ...more,
  };
}

/** A tenant document (YAML) whose first IdP maps these attributes: what the CEL validation tests parse. */
export function tenantYamlWithMapping(attributeMapping: Record<string, string>): string {
  const tenant = tenantObject('hostile', 'noisy');
  const idp = (
    tenant.spec.identityProviders as unknown as { attributeMapping?: Record<string, string> }[]
  )[0]!;
  idp.attributeMapping = attributeMapping;
  return stringify(tenant);
}
