import { domainToASCII, domainToUnicode } from 'node:url';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';

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
 * punycode (`domainToASCII`, UTS #46), no trailing dot. Undefined when it is no usable domain, or
 * when UTS #46 would fold it by more than case (ADR 0172, 0224).
 */
export function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const asserted = email.slice(at + 1).replace(/\.$/, '');
  if (!isDomainSpelling(asserted)) return undefined;
  const ascii = domainToASCII(asserted);
  // domainToASCII refuses what UTS #46 refuses (answering '') but lets empty labels through.
  if (ascii === '' || ascii.split('.').includes('')) return undefined;
  if (!foldsByCaseAlone(asserted, ascii)) return undefined;
  // A numeric last label is read as IPv4 (127.1 becomes 127.0.0.1); no top-level domain is numeric.
  return /^[0-9]+$/.test(ascii.slice(ascii.lastIndexOf('.') + 1)) ? undefined : ascii;
}

/**
 * Whether a domain, as asserted, is letters, marks, digits and hyphens in dot-separated labels, in
 * NFKC form (RFC 5321 4.1.2, RFC 6531 3.3: LDH labels or U-labels). domainToASCII is the URL host
 * parser: alone it cut `acme.test/x`, `?x`, `#x` and `\\x` at the delimiter, decoded `%6D`, dropped
 * tabs, soft hyphens and zero-width spaces, and mapped fullwidth letters and the ideographic full stop,
 * so that an address the IdP holds as distinct became another person's (ADR 0172). What passes this
 * can still be folded by UTS #46 itself; foldsByCaseAlone refuses that.
 */
function isDomainSpelling(domain: string): boolean {
  return /^[\p{L}\p{M}\p{N}.-]+$/u.test(domain) && domain.normalize('NFKC') === domain;
}

/**
 * Whether UTS #46 (`domainToASCII`, giving `ascii`) changed nothing of the asserted domain but case,
 * label by label: an ASCII label (an A-label `xn--…` too) must come out as itself in lower case, a
 * non-ASCII one must come back from its A-label (`domainToUnicode`) as itself in lower case. UTS #46
 * deletes default-ignorable characters that the spelling rule takes for marks (the combining grapheme
 * joiner U+034F, the variation selectors U+FE00-FE0F and U+E0100-E01EF, the Mongolian free variation
 * selectors) and maps the capital sharp s U+1E9E to `ss`, all NFKC-stable: `alice@ac\u034Fme.test`
 * and `alice@stra\u1E9Ee.test` were signed in as alice@acme.test and alice@strasse.test (ADR 0224).
 * DNS names are case-insensitive (RFC 4343), so `ACME.TEST`, `BÜCHER.example`, `İstanbul.test` pass;
 * what domainToUnicode gives back is lower-cased too, as UTS #46 maps Cherokee to its capitals. The
 * labels are those of the whole domain's conversion: converted alone, a numeric label (`163` of
 * `163.com`) would be read as IPv4.
 */
function foldsByCaseAlone(asserted: string, ascii: string): boolean {
  const labels = asserted.split('.');
  const converted = ascii.split('.');
  if (labels.length !== converted.length) return false;
  return labels.every((label, i) => {
    const lower = label.toLowerCase();
    const aLabel = converted[i]!;
    // The spelling rule leaves an ASCII label letters, digits and hyphens.
    return /^[A-Za-z0-9-]+$/.test(label) ? aLabel === lower : domainToUnicode(aLabel).toLowerCase() === lower;
  });
}

/**
 * The e-mail address in canonical form: local part as sent, lower case,
 * domain per emailDomain. Undefined when the domain is unusable or the local part holds another `@`
 * (`alice@@acme.test`): a quoted local part may carry one (RFC 5321), but Atlassian's customer
 * accounts take no such address, and an address whose parts depend on which `@` one splits at is
 * refused, not guessed. Likewise a local part that folding would turn into another one.
 * Nothing is padding, whitespace included (ADR 0186): ` alice@acme.test` is a distinct address at an IdP
 * that lets people choose theirs, and trimmed it would sign in as alice (the no-break and other Unicode
 * spaces String.prototype.trim strips, ADR 0148, were the same hole).
 */
export function normalizeEmail(email: string): string | undefined {
  const domain = emailDomain(email);
  if (domain === undefined) return undefined;
  const local = email.slice(0, email.lastIndexOf('@'));
  if (!isDotString(local) || foldsIntoAnother(local)) return undefined;
  return `${local.toLowerCase()}@${domain}`;
}

/**
 * Whether a local part is a dot-string: atext and dots (RFC 5321 4.1.2), atext extended by
 * non-ASCII characters (RFC 6531 3.3). Not a quoted string (`"alice"`), a comment (`alice(x)`) or
 * a backslash escape: RFC 5322 3.2.4 and 3.2.2 make `"alice"@` and `alice(x)@` the mailbox alice@,
 * so a mail system delivers them to her while the portal and Atlassian take them for another
 * account. Runs of dots are left alone: real addresses have them (some mobile carriers').
 */
function isDotString(local: string): boolean {
  return /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\u0080-\u{10FFFF}-]+$/u.test(local);
}

/**
 * Whether a local part, as asserted, is one that folding makes another: not in NFKC form (the
 * Kelvin sign, which lower-cases to `k`, fullwidth letters, a decomposed accent), or holding a
 * space, control or invisible format character (zero-width space) that a mail system, the portal
 * or Atlassian may drop. The IdP holds it as a distinct address; downstream it may be someone else's.
 * Default-ignorable code points are refused whatever their category: the combining grapheme joiner,
 * the variation selectors, the Hangul fillers are marks or letters, NFKC-stable, drawn as nothing
 * and deleted by UTS #46, so `al\u034Fice@acme.test` was signed in as asserted, shown as alice's
 * address (ADR 0366, as ADR 0224 refused them in the domain).
 */
function foldsIntoAnother(local: string): boolean {
  return local.normalize('NFKC') !== local || /[\p{C}\p{Z}\p{Default_Ignorable_Code_Point}]/u.test(local);
}

/** Whether `domain` (canonical) lies below an `emailDomains` entry's domain (`*.` entries: below their base). */
function isSubdomainOf(domain: string, entry: string): boolean {
  return domain.endsWith(`.${entry.replace(/^\*\./, '')}`);
}

/** Whether `domain` (canonical) is covered by one `emailDomains` entry. */
export function domainMatches(entry: string, domain: string): boolean {
  if (entry.startsWith('*.')) return domain.endsWith(entry.slice(1));
  return entry === domain;
}

/**
 * The IdP authoritative for `domain` (canonical), if any. The catchAll speaks for no subdomain of a
 * domain another IdP lists: whoever holds acme.test holds the DNS and the mail of eu.acme.test, and
 * the catchAll (a social or partner login for everyone else) must not sign in its people (ADR 0173).
 */
export function authorityFor<T extends Idp>(idps: readonly T[], domain: string): T | undefined {
  const owner = idps.find((idp) => (idp.emailDomains ?? []).some((entry) => domainMatches(entry, domain)));
  if (owner) return owner;
  const catchAll = idps.find((idp) => idp.authority === 'catchAll');
  if (catchAll) {
    const underAnother = idps.some(
      (idp) => idp !== catchAll && (idp.emailDomains ?? []).some((entry) => isSubdomainOf(domain, entry)),
    );
    return underAnother ? undefined : catchAll;
  }
  const only = idps.length === 1 ? idps[0] : undefined;
  return only && (only.emailDomains ?? []).length === 0 ? only : undefined;
}

/** Home-realm discovery on the choice page: the IdP that may sign in this e-mail address. */
export function homeRealmFor<T extends Idp>(idps: readonly T[], email: string): T | undefined {
  const domain = emailDomain(email);
  return domain === undefined ? undefined : authorityFor(idps, domain);
}
