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
