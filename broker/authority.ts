import { domainToASCII } from 'node:url';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';
import { trimXmlWhitespace } from '../common/saml/index.js';

/**
 * Which IdP may assert which e-mail addresses. An IdP is authoritative for the domains in its
 * `emailDomains`: an entry `example.com` is that domain exactly; `*.example.com` is every subdomain
 * of it (not example.com itself). No domain belongs to two IdPs (the CRD refuses it). The IdP with
 * `authority: catchAll` is also authoritative for every domain no IdP lists; a tenant's only IdP
 * with no `emailDomains` is authoritative for all.
 */

type Idp = Pick<IdentityProviderSpec, 'name' | 'emailDomains' | 'authority'>;

/**
 * The domain of an e-mail address in the one form domains are compared in: lower case, IDN as
 * punycode (`domainToASCII`, UTS #46), no trailing dot. Undefined when it is no usable domain.
 */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const ascii = domainToASCII(trimXmlWhitespace(email.slice(at + 1)).replace(/\.$/, ''));
  // domainToASCII refuses what UTS #46 refuses (answering '') but lets empty labels through.
  return ascii === '' || ascii.split('.').includes('') ? undefined : ascii;
}

/**
 * The e-mail address in canonical form: local part as sent, lower case,
 * domain per emailDomain. Undefined when the domain is unusable or the local part holds another `@`
 * (`alice@@acme.test`): a quoted local part may carry one (RFC 5321), but Atlassian's customer
 * accounts take no such address, and an address whose parts depend on which `@` one splits at is
 * refused, not guessed. Likewise a local part that Unicode folding would turn into another one.
 * Only XML's whitespace is padding: String.prototype.trim also strips no-break, ideographic and other
 * Unicode spaces, so `\u00A0admin@acme.test`, a distinct address at an IdP that lets people choose
 * theirs, would become admin@acme.test.
 */
export function normalizeEmail(email: string): string | undefined {
  const trimmed = trimXmlWhitespace(email);
  const domain = emailDomain(trimmed);
  if (domain === undefined) return undefined;
  const local = trimmed.slice(0, trimmed.lastIndexOf('@'));
  if (local.includes('@') || foldsIntoAnother(local)) return undefined;
  return `${local.toLowerCase()}@${domain}`;
}

/**
 * Whether a local part, as asserted, is one that folding makes another: not in NFKC form (the
 * Kelvin sign, which lower-cases to `k`, fullwidth letters, a decomposed accent), or holding a
 * space, control or invisible format character (zero-width space) that a mail system, the portal
 * or Atlassian may drop. The IdP holds it as a distinct address; downstream it may be someone else's.
 */
function foldsIntoAnother(local: string): boolean {
  return local.normalize('NFKC') !== local || /[\p{C}\p{Z}]/u.test(local);
}

/** Whether `domain` (canonical) is covered by one `emailDomains` entry. */
export function domainMatches(entry: string, domain: string): boolean {
  if (entry.startsWith('*.')) return domain.endsWith(entry.slice(1));
  return entry === domain;
}

/** The IdP authoritative for `domain` (canonical), if any. */
export function authorityFor<T extends Idp>(idps: readonly T[], domain: string): T | undefined {
  const owner = idps.find((idp) => (idp.emailDomains ?? []).some((entry) => domainMatches(entry, domain)));
  if (owner) return owner;
  const catchAll = idps.find((idp) => idp.authority === 'catchAll');
  if (catchAll) return catchAll;
  const only = idps.length === 1 ? idps[0] : undefined;
  return only && (only.emailDomains ?? []).length === 0 ? only : undefined;
}

/** Home-realm discovery on the choice page: the IdP that may sign in this e-mail address. */
export function homeRealmFor<T extends Idp>(idps: readonly T[], email: string): T | undefined {
  const domain = emailDomain(email);
  return domain === undefined ? undefined : authorityFor(idps, domain);
}
