import type { JsmSsoTenant } from './tenant.generated.js';

export type SigningPart = 'broker' | 'portal';

/**
 * The Secret holding a part's SAML signing key pair: the tenant's reference, or the default
 * `<tenant>-<part>-signing` that the operator generates when none is named. Broker, portal and
 * operator all resolve it here, so each side finds the other's certificate where it was put. Never
 * shortened: a Secret name may be 253 characters long.
 */
export function signingSecretName(tenant: JsmSsoTenant, part: SigningPart): string {
  const ref =
    part === 'broker' ? tenant.spec.broker.signingSecretRef : tenant.spec.portal.samlSigningSecretRef;
  return ref?.name ?? `${tenant.metadata?.name ?? 'tenant'}-${part}-signing`;
}

/** Subject CN of a generated signing certificate: the same whether the operator or `jsm-sso keys` made it. */
export function signingCertificateCommonName(tenant: JsmSsoTenant, part: SigningPart): string {
  return `${tenant.metadata?.name ?? 'tenant'} ${part} SAML signing`;
}
