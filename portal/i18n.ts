/**
 * The language and time zone of each response (common/i18n): the customer's choice from the
 * switcher (a cookie holding only a locale tag), else the browser's Accept-Language; the time zone
 * the browser reported (a cookie set by pages/local-time.ts), else UTC. Neither names the person
 * and neither is stored on the server.
 */

import type { Express, NextFunction, Request, Response } from 'express';
import { parseCookies, serializeCookie } from '../common/http/cookies.js';
import {
  availableLocales,
  createTranslator,
  type Locale,
  negotiateLocale,
  type Translator,
  validTimeZone,
} from '../common/i18n/index.js';
import type { CookiePolicy } from './cookies.js';
import { safeReturnPath } from './return-path.js';
import type { PortalWeb } from './web.js';

const ONE_YEAR = 365 * 24 * 3600;

export function chooseLanguage(cookies: CookiePolicy, pseudoLocales: boolean) {
  const available = availableLocales(pseudoLocales);
  return (req: Request, res: Response, next: NextFunction) => {
    const jar = parseCookies(req.headers.cookie);
    const translator = createTranslator({
      locale: negotiateLocale({
        chosen: jar.get(cookies.locale),
        acceptLanguage: req.get('accept-language'),
        available,
      }),
      timeZone: validTimeZone(decodeCookieValue(jar.get(cookies.timeZone))),
    });
    res.locals['i18n'] = translator;
    res.locals['locales'] = available;
    res.setHeader('Content-Language', translator.locale);
    res.vary('Accept-Language');
    res.vary('Cookie');
    next();
  };
}

const FALLBACK = createTranslator({ locale: 'en', timeZone: 'UTC' });

/** The response's translator; English before `chooseLanguage` ran (a failure before it). */
export function translatorOf(res: Response): Translator {
  return (res.locals['i18n'] as Translator | undefined) ?? FALLBACK;
}

function decodeCookieValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * The switcher's links: `GET /locale?lang=de&return=/requests` keeps the choice in a cookie and goes
 * back to the page (a same-origin path only). A locale that is not offered is refused.
 */
export function mountLocaleRoute(app: Express, web: PortalWeb, cookies: CookiePolicy): void {
  app.get('/locale', (req, res) => {
    const lang = req.query['lang'];
    const available = res.locals['locales'] as readonly Locale[];
    const locale = available.find((l) => l === lang);
    if (!locale) {
      const { t } = translatorOf(res);
      web.refuse(
        res,
        400,
        'PORTAL_LOCALE_UNKNOWN',
        t('error.localeUnknown.title'),
        t('error.localeUnknown.message'),
      );
      return;
    }
    res.setHeader(
      'Set-Cookie',
      serializeCookie(cookies, cookies.locale, locale, { sameSite: 'Lax', maxAgeSeconds: ONE_YEAR }),
    );
    res.redirect(303, safeReturnPath(req.query['return'] ?? '/'));
  });
}
