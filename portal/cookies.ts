import { cookieName } from '../common/http/cookies.js';

/**
 * Cookie names and attributes. Over https every cookie is `__Host-` prefixed (Secure, Path=/, no
 * Domain, so no sibling host can set or read it). On loopback http (local development only, the
 * CRD forbids plain http elsewhere) browsers refuse Secure and `__Host-`, so both are dropped there.
 * A portal at a port not its scheme's default names its cookies with the port (`cookieName`, ADR 0369).
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
  return {
    secure: portalUrl.startsWith('https://'),
    session: cookieName(portalUrl, 'jsmsso_session'),
    login: cookieName(portalUrl, 'jsmsso_login'),
    locale: cookieName(portalUrl, 'jsmsso_locale'),
    timeZone: cookieName(portalUrl, 'jsmsso_tz'),
  };
}
