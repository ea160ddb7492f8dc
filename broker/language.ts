import {
  createTranslator,
  LOCALES,
  negotiateLocale,
  type SupportedLocale,
  type Translator,
} from '../common/i18n/index.js';

/**
 * The language of a page the broker shows, chosen as the portal chooses its own (ADR 0090, 0097):
 * the language the portal's pages were in, when its AuthnRequest said so and the flow carries it;
 * else the browser's Accept-Language; else English. The broker shows no dates, so no time zone.
 */
export function pageLanguage(acceptLanguage: string | undefined, hint?: SupportedLocale): Translator {
  return createTranslator({
    locale: negotiateLocale({ chosen: hint, acceptLanguage, available: LOCALES }),
    timeZone: 'UTC',
  });
}

/**
 * The first of the portal's preferred languages (BCP 47 tags, most preferred first) the broker
 * offers, by RFC 4647 lookup: `de-AT` falls back to `de`. Only a locale the broker offers is kept.
 */
export function offeredLocale(tags: readonly string[]): SupportedLocale | undefined {
  for (const tag of tags) {
    const subtags = tag.toLowerCase().split('-');
    for (let n = subtags.length; n > 0; n--) {
      const candidate = subtags.slice(0, n).join('-');
      const offered = LOCALES.find((l) => l === candidate);
      if (offered) return offered;
    }
  }
  return undefined;
}
