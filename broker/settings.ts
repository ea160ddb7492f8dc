import type { JsmSsoTenant } from '../common/config/load.js';
import type { SecretDirectory } from '../common/config/secrets.js';
import { JsmSsoError } from '../common/errors.js';
import { certificateBase64 } from '../common/saml/index.js';
import type { TrustedSp } from './saml/inbound.js';
import { loadSigningCredential, type SigningCredential } from './saml/signature.js';

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
}

export function resolveBrokerSettings(tenant: JsmSsoTenant, secrets: SecretDirectory): BrokerSettings {
  const { broker, portal } = tenant.spec;
  const signingRef = broker.signingSecretRef;
  const portalRef = portal.samlSigningSecretRef;
  if (!signingRef) {
    throw new JsmSsoError(
      'BROKER_SIGNING_KEY_MISSING',
      'spec.broker.signingSecretRef is required to run the broker',
    );
  }
  if (!portalRef) {
    throw new JsmSsoError(
      'PORTAL_CERTIFICATE_MISSING',
      'spec.portal.samlSigningSecretRef is required: the broker only accepts signed requests',
    );
  }
  const signingKeyPem = secrets.read(signingRef.name, 'tls.key');
  const signingCertPem = secrets.read(signingRef.name, 'tls.crt');
  const nextCertPem = secrets.readOptional(signingRef.name, 'next.crt');
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
      certificatesPem: [secrets.read(portalRef.name, 'tls.crt')],
    },
    signing: loadSigningCredential(signingKeyPem, signingCertPem),
    signingKeyPem,
    signingCertPem,
    metadataCertificates: [signingCertPem, ...(nextCertPem ? [nextCertPem] : [])].map(certificateBase64),
    flowTtlSeconds: broker.flowTtlSeconds ?? 600,
    assertionLifetimeSeconds: broker.assertionLifetimeSeconds ?? 300,
    sessionTtlSeconds: portal.session?.absoluteTimeoutSeconds ?? 28800,
    secureCookies: broker.url.startsWith('https://'),
  };
}
