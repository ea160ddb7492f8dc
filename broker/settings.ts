import { brokerEndpoints } from '../common/config/broker-endpoints.js';
import { knownForeignKeys, readablePublicKeys } from '../common/config/decryption-key.js';
import type { JsmSsoTenant } from '../common/config/load.js';
import { refuseMismatchedSigningKey } from '../common/config/signing-key.js';
import { signingSecretName } from '../common/config/signing-secrets.js';
import { cookieName } from '../common/http/cookies.js';
import { type KeyMaterial, signingKeyMaterial } from '../common/key-material.js';
import type { SecretReader } from '../common/pool/source.js';
import {
  certificateBase64,
  HOP_SIGNATURE_ALGORITHMS,
  loadSigningCredential,
  type SigningCredential,
} from '../common/saml/index.js';
import { type DecryptionCredential, readDecryptionCredential } from './decryption-credential.js';
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
  /** The redirect URI of the OIDC or OAuth 2.0 IdP of this name, in a tenant with `oauthIdps` of them (ADR 0175). */
  redirectUri: (idp: string, oauthIdps: number) => string;
  logoutCallbackUrl: string;
  /** Where the OIDC IdP of this name posts its back-channel logout tokens (ADR 0150). */
  backchannelLogoutUrl: (idp: string) => string;
  /** What the OIDC IdP of this name frames in its logout page (ADR 0159). */
  frontchannelLogoutUrl: (idp: string) => string;
  sp: TrustedSp;
  signing: SigningCredential;
  signingKeyPem: string;
  /**
   * What the broker's own sealed state and form tokens are keyed by: its signing key, then during a
   * rotation the key held as `next.*`, which only opens (ADR 0298).
   */
  stateKeyMaterial: KeyMaterial;
  signingCertPem: string;
  /** What upstream SAML IdPs encrypt assertions to, when the tenant gives a key (ADR 0338). */
  decryption?: DecryptionCredential;
  /** Base64 DER, active first then next. */
  metadataCertificates: string[];
  flowTtlSeconds: number;
  assertionLifetimeSeconds: number;
  sessionTtlSeconds: number;
  secureCookies: boolean;
  /** The flow cookie's name: `__Host-` over https, the port after a non-default one (ADR 0369). */
  flowCookie: string;
  /** Whether an AuthnRequest's RequestedAuthnContext must be met, or only forwarded (ADR 0140). */
  enforcesRequestedAuthnContext: boolean;
}

export function resolveBrokerSettings(tenant: JsmSsoTenant, secrets: SecretReader): BrokerSettings {
  const { broker, portal } = tenant.spec;
  // Before its key is loaded: a key that is not its certificate's would sign what no one verifies.
  refuseMismatchedSigningKey(tenant, 'broker', secrets);
  // The operator generates both key pairs under these names when the tenant names none.
  const signingSecret = signingSecretName(tenant, 'broker');
  const portalSecret = signingSecretName(tenant, 'portal');
  const signingKeyPem = secrets.read(signingSecret, 'tls.key');
  const signingCertPem = secrets.read(signingSecret, 'tls.crt');
  const nextCertPem = secrets.readOptional(signingSecret, 'next.crt');
  // The portal's next certificate during a rotation of its key: pods signing with either are trusted (ADR 0285).
  const portalNextCertPem = secrets.readOptional(portalSecret, 'next.crt');
  const endpoints = brokerEndpoints(broker.url);
  const encryptionSecret = broker.encryptionSecretRef?.name;
  return {
    entityId: endpoints.entityId,
    ssoUrl: endpoints.ssoUrl,
    sloUrl: endpoints.sloUrl,
    redirectUri: endpoints.redirectUri,
    logoutCallbackUrl: endpoints.logoutCallbackUrl,
    backchannelLogoutUrl: endpoints.backchannelLogoutUrl,
    frontchannelLogoutUrl: endpoints.frontchannelLogoutUrl,
    sp: {
      entityId: `${portal.url}/saml/metadata`,
      acsUrl: `${portal.url}/saml/acs`,
      sloUrl: `${portal.url}/saml/slo`,
      certificatesPem: [
        secrets.read(portalSecret, 'tls.crt'),
        ...(portalNextCertPem ? [portalNextCertPem] : []),
      ],
      signatureAlgorithm: HOP_SIGNATURE_ALGORITHMS[tenant.spec.signatureAlgorithm],
    },
    signing: loadSigningCredential(signingKeyPem, signingCertPem, tenant.spec.signatureAlgorithm),
    signingKeyPem,
    stateKeyMaterial: signingKeyMaterial(secrets, signingSecret),
    signingCertPem,
    ...(encryptionSecret
      ? {
          decryption: readDecryptionCredential(
            secrets,
            encryptionSecret,
            knownForeignKeys(tenant, readablePublicKeys(secrets)),
          ),
        }
      : {}),
    metadataCertificates: [signingCertPem, ...(nextCertPem ? [nextCertPem] : [])].map(certificateBase64),
    flowTtlSeconds: broker.flowTtlSeconds ?? 600,
    assertionLifetimeSeconds: broker.assertionLifetimeSeconds ?? 300,
    sessionTtlSeconds: portal.session?.absoluteTimeoutSeconds ?? 28800,
    secureCookies: broker.url.startsWith('https://'),
    flowCookie: cookieName(broker.url, 'jsm_sso_flow'),
    enforcesRequestedAuthnContext: broker.requestedAuthnContext === 'Enforce',
  };
}
