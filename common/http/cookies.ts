/**
 * Reading and writing cookies, for broker and portal alike. Each part decides names and lifetimes;
 * `secure` (the part's public URL is https) adds Secure, and the names then carry `__Host-`.
 */

/**
 * The name a part at `partUrl` gives its cookie `base`: `__Host-` first over https (Secure, Path=/, no
 * Domain: no sibling host sets or reads it), and the URL's port last when it is not the scheme's
 * default. Browsers keep cookies to a host, not to a port (RFC 6265 8.5), and tenants may share a
 * host name on different ports (ADR 0230): with one name, signing in at one replaced the other's
 * session in that browser (ADR 0369). A default port adds nothing, so those names never changed.
 */
export function cookieName(partUrl: string, base: string): string {
  const url = new URL(partUrl);
  return `${url.protocol === 'https:' ? '__Host-' : ''}${base}${url.port ? `-${url.port}` : ''}`;
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
  policy: { secure: boolean },
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
