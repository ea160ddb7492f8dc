/**
 * The neutral result of a sign-in at any backend (OIDC, OAuth 2.0, SAML), before the tenant's
 * mapping turns it into the SAML assertion sent to the portal. Backends produce it; nothing else
 * about the user crosses from a backend to the frontend.
 */
export interface AuthenticatedSubject {
  /** Name of the identity provider in the tenant (`spec.identityProviders[].name`). */
  idp: string;
  /** The IdP's stable identifier for the user (OIDC `sub`, SAML NameID). */
  subject: string;
  /** Everything the IdP said about the user, as plain JSON values. */
  claims: Record<string, unknown>;
  /** How the user authenticated (OIDC `acr`, SAML AuthnContextClassRef). */
  authnContextClassRef?: string;
  /** When the user authenticated at the IdP. */
  authTime?: Date;
}
