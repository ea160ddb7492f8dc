import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import { EMAIL_ATTRIBUTE } from '../../common/portal-attributes.js';
import { NAMEID_EMAIL } from '../../common/saml/namespaces.js';
import { authorityFor, emailDomain, normalizeEmail } from '../authority.js';
import type { MappedIdentity } from '../mapping.js';
import type { AfterAuthenticationStep } from './step.js';

/**
 * An IdP may assert only e-mail addresses of the domains it is authoritative for (broker/authority.ts).
 * Judged on what the portal will receive (the mapped `email` attribute and an emailAddress NameID),
 * after the mapping, and every such address is rewritten to its canonical form so the portal and
 * Atlassian see the address that was judged.
 */
export function authorityStep(idps: readonly IdentityProviderSpec[]): AfterAuthenticationStep {
  return {
    name: 'authority',
    run(signIn) {
      const identity = signIn.identity!;
      const canonical = (email: string) => {
        const normalized = normalizeEmail(email);
        if (normalized === undefined) {
          throw new JsmSsoError(
            'IDP_EMAIL_INVALID',
            'the identity provider asserted an invalid e-mail address',
            {
              status: 403,
            },
          );
        }
        if (authorityFor(idps, emailDomain(normalized)!)?.name !== signIn.subject.idp) {
          throw new JsmSsoError(
            'IDP_NOT_AUTHORITATIVE',
            'this sign-in method may not sign in addresses of that e-mail domain; use the one of your organisation',
            { status: 403 },
          );
        }
        return normalized;
      };
      return { ...signIn, identity: mapAssertedEmails(identity, canonical) };
    },
  };
}

/** Applies `f` to every e-mail address the portal reads from the identity. */
export function mapAssertedEmails(identity: MappedIdentity, f: (email: string) => string): MappedIdentity {
  return {
    ...identity,
    nameId: identity.nameIdFormat === NAMEID_EMAIL ? f(identity.nameId) : identity.nameId,
    attributes: identity.attributes.map((a) =>
      a.name === EMAIL_ATTRIBUTE ? { ...a, values: a.values.map(f) } : a,
    ),
  };
}
