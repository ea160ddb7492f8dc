import type { JsmSsoTenant } from '../common/config/load.js';
import { signingSecretName } from '../common/config/signing-secrets.js';
import type { SecretReader } from '../common/pool/source.js';
import {
  certificateBase64,
  HOP_SIGNATURE_ALGORITHMS,
  loadSigningCredential,
  type SigningCredential,
} from '../common/saml/index.js';
import type { TrustedSp } from './saml/inbound.js';

/**
 * The broker's view of its tenant, resolved once at start-up: its own URLs, the one SP it trusts
 * (the portal) and its signing key. Key and certificates are read from the Secret directory here;
 * a rotated Secret rolls the pods (the operator hashes it into the pod template).
 */
export interface BrokerSettings {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  callbackUrl: string;
  logoutCallbackUrl: string;
  sp: TrustedSp;
  signing: SigningCredential;
  signingKeyPem: string;
  signingCertPem: string;
  /** Base64 DER, active first then next. */
  metadataCertificates: string[];
  flowTtlSeconds: number;
  assertionLifetimeSeconds: number;
  sessionTtlSeconds: number;
  secureCookies: boolean;
  /** Whether an AuthnRequest's RequestedAuthnContext must be met, or only forwarded (ADR 0140). */
  enforcesRequestedAuthnContext: boolean;
}

/**
 * Where an OIDC IdP posts its back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0):
 * one address per IdP, which its admin registers as the client's `backchannel_logout_uri`, so that
 * the IdP a token is judged by never depends on what the token says.
 */
export function backchannelLogoutUrl(brokerUrl: string, idp: string): string {
  return `${brokerUrl}/oidc/backchannel-logout/${idp}`;
}

export function resolveBrokerSettings(tenant: JsmSsoTenant, secrets: SecretReader): BrokerSettings {
  const { broker, portal } = tenant.spec;
  // The operator generates both key pairs under these names when the tenant names none.
  const signingSecret = signingSecretName(tenant, 'broker');
  const portalSecret = signingSecretName(tenant, 'portal');
  const signingKeyPem = secrets.read(signingSecret, 'tls.key');
  const signingCertPem = secrets.read(signingSecret, 'tls.crt');
  const nextCertPem = secrets.readOptional(signingSecret, 'next.crt');
  return {
    entityId: `${broker.url}/saml/metadata`,
    ssoUrl: `${broker.url}/saml/sso`,
    sloUrl: `${broker.url}/saml/slo`,
    callbackUrl: `${broker.url}/oidc/callback`,
    logoutCallbackUrl: `${broker.url}/oidc/logout-callback`,
    sp: {
      entityId: `${portal.url}/saml/metadata`,
      acsUrl: `${portal.url}/saml/acs`,
      sloUrl: `${portal.url}/saml/slo`,
      certificatesPem: [secrets.read(portalSecret, 'tls.crt')],
      signatureAlgorithm: HOP_SIGNATURE_ALGORITHMS[tenant.spec.signatureAlgorithm],
    },
    signing: loadSigningCredential(signingKeyPem, signingCertPem, tenant.spec.signatureAlgorithm),
    signingKeyPem,
    signingCertPem,
    metadataCertificates: [signingCertPem, ...(nextCertPem ? [nextCertPem] : [])].map(certificateBase64),
    flowTtlSeconds: broker.flowTtlSeconds ?? 600,
    assertionLifetimeSeconds: broker.assertionLifetimeSeconds ?? 300,
    sessionTtlSeconds: portal.session?.absoluteTimeoutSeconds ?? 28800,
    secureCookies: broker.url.startsWith('https://'),
    enforcesRequestedAuthnContext: broker.requestedAuthnContext === 'Enforce',
  };
}
