import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import { normalizeEmail } from '../authority.js';
import { mapAssertedEmails } from './authority.js';
import type { AfterAuthenticationStep } from './step.js';

/**
 * `emailTrust: verifiedClaim` (the default for OIDC): the IdP must say the address is verified (the
 * subject's `emailVerified`, which each backend reads in its protocol's terms: the JSON boolean
 * `email_verified: true` of OIDC Core 5.1, or one SAML `email_verified` value `true`/`1`, ADR 0195),
 * and the addresses the portal receives must be that verified `email` claim; an address the mapping
 * took from another claim is not covered by it.
 * `asserted`: the tenant has declared that the IdP vouches for every address it asserts.
 */
export function verifiedEmailStep(idps: readonly IdentityProviderSpec[]): AfterAuthenticationStep {
  const requiresClaim = new Set(
    idps.filter((idp) => (idp.emailTrust ?? 'verifiedClaim') === 'verifiedClaim').map((idp) => idp.name),
  );
  return {
    name: 'verified-email',
    run(signIn) {
      if (!requiresClaim.has(signIn.subject.idp)) return signIn;
      const { claims, emailVerified } = signIn.subject;
      const verified =
        emailVerified && typeof claims['email'] === 'string' ? normalizeEmail(claims['email']) : undefined;
      mapAssertedEmails(signIn.identity!, (email) => {
        if (verified === undefined || email !== verified) {
          throw new JsmSsoError(
            'IDP_EMAIL_UNVERIFIED',
            'the identity provider has not verified this e-mail address',
            { status: 403 },
          );
        }
        return email;
      });
      return signIn;
    },
  };
}
