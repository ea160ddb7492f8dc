/**
 * Cookie names and attributes. Over https every cookie is `__Host-` prefixed (Secure, Path=/, no
 * Domain, so no sibling host can set or read it). On loopback http (local development only, the
 * CRD forbids plain http elsewhere) browsers refuse Secure and `__Host-`, so both are dropped there.
 */
export interface CookiePolicy {
  secure: boolean;
  session: string;
  login: string;
  /** The locale the customer chose with the switcher (a locale tag, nothing personal). */
  locale: string;
  /** The browser's IANA time zone, set by the page script (pages/local-time.ts), never HttpOnly. */
  timeZone: string;
}

export function cookiePolicy(portalUrl: string): CookiePolicy {
  const secure = portalUrl.startsWith('https://');
  const prefix = secure ? '__Host-' : '';
  return {
    secure,
    session: `${prefix}jsmsso_session`,
    login: `${prefix}jsmsso_login`,
    locale: `${prefix}jsmsso_locale`,
    timeZone: `${prefix}jsmsso_tz`,
  };
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    // The first occurrence wins (the most specific path); an attacker-injected duplicate cannot override.
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export interface CookieOptions {
  maxAgeSeconds?: number;
  /**
   * `None` only for the login-flow cookie, which must come back on the broker's cross-site POST to
   * the ACS; it carries no authority by itself (an opaque reference to a one-time flow).
   */
  sameSite: 'Lax' | 'None' | 'Strict';
}

export function serializeCookie(
  policy: CookiePolicy,
  name: string,
  value: string,
  options: CookieOptions,
): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly'];
  if (policy.secure) parts.push('Secure');
  // SameSite=None without Secure is refused by browsers; on loopback both sites are the same site anyway.
  parts.push(`SameSite=${options.sameSite === 'None' && !policy.secure ? 'Lax' : options.sameSite}`);
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}
