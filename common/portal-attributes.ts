/**
 * The contract between broker and portal: the SAML attributes the portal reads from the broker's
 * signed assertion. The tenant's mapping produces the first three; the broker itself adds the last.
 */

export const EMAIL_ATTRIBUTE = 'email';
export const DISPLAY_NAME_ATTRIBUTE = 'displayName';
export const GROUPS_ATTRIBUTE = 'groups';

/**
 * The name (`spec.identityProviders[].name`) of the IdP that signed the person in, added by the
 * broker after the tenant's mapping (a mapping cannot set it) and signed with the assertion. The
 * portal honours groups only from the IdPs the tenant trusts for groups.
 */
export const IDP_ATTRIBUTE = 'urn:jsm-sso:attribute:idp';
