import { createHmac, hkdfSync } from 'node:crypto';
import { type KeyMaterial, materialsOf } from '../common/key-material.js';
import type { ProxyRestriction } from '../common/saml/index.js';

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
  /**
   * Whether the IdP says, in its protocol's own terms, that `claims.email` is an address it verified:
   * OIDC and OAuth 2.0 `email_verified: true` (OIDC Core 5.1), SAML one `email_verified` value that is
   * an xs:boolean true (ADR 0195). Read by `emailTrust: verifiedClaim`.
   */
  emailVerified: boolean;
  /** How the user authenticated (OIDC `acr`, SAML AuthnContextClassRef). */
  authnContextClassRef?: string;
  /**
   * Who authenticated the user, the IdP the broker sent them to last: that IdP's SAML entityID (after
   * the AuthenticatingAuthority values of its own assertion, when it proxied too), its OIDC issuer, or
   * a plain OAuth 2.0 server's identifier. The broker's assertion names them (core 3.4.1.5.1).
   */
  authenticatingAuthorities?: readonly string[];
  /** When the user authenticated at the IdP. */
  authTime?: Date;
  /**
   * When the IdP's session of this sign-in ends, as the IdP bounds it: SAML's AuthnStatement
   * SessionNotOnOrAfter (core 2.7.2). The broker's assertion names no later end (ADR 0244). OIDC has
   * no such claim: an ID token's `exp` bounds the token, not the session.
   */
  sessionNotOnOrAfter?: Date;
  /**
   * The IdP's limit on the assertion the broker issues on the basis of its own (SAML core 2.5.1.6),
   * already counted down for it: the broker's assertion carries it on. Absent: no limit.
   */
  proxyRestriction?: ProxyRestriction;
}

/**
 * A keyed hash (HMAC-SHA256, hex) of an IdP's subject, for a place that must recognise the same
 * person again without naming them: the audit line, the store's key for an upstream session. Keyed
 * (ADR 0143) because a subject is often an e-mail address or a staff id, and a plain hash of one is
 * confirmed by anyone who hashes a staff list. `keyMaterial` is secret material every replica shares
 * (a signing key): made under its sealing material only, as what is written is; `subjectHashes`
 * finds. `purpose` keeps the keys of different uses apart (HKDF info).
 */
export function subjectHasher(
  keyMaterial: KeyMaterial,
  purpose: string,
): (idp: string, subject: string) => string {
  const key = subjectKey(materialsOf(keyMaterial)[0], purpose);
  return (idp, subject) => subjectMac(key, idp, subject);
}

/**
 * The keyed hashes of a subject under every material of `keyMaterial`, the sealing one first: each
 * key a store index written before a rotation of the key (ADR 0298) may be under, so that a lookup
 * finds what was written before the swap while the old key is held (ADR 0304).
 */
export function subjectHashes(
  keyMaterial: KeyMaterial,
  purpose: string,
): (idp: string, subject: string) => string[] {
  const keys = materialsOf(keyMaterial).map((secret) => subjectKey(secret, purpose));
  return (idp, subject) => keys.map((key) => subjectMac(key, idp, subject));
}

function subjectKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'jsm-sso-broker', purpose, 32));
}

function subjectMac(key: Buffer, idp: string, subject: string): string {
  return createHmac('sha256', key).update(`${idp}\0${subject}`).digest('hex');
}
