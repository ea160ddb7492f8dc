import Negotiator from 'negotiator';
import { de } from './messages/de.js';
import { type Catalogue, en } from './messages/en.js';
import { fr } from './messages/fr.js';
import { ja } from './messages/ja.js';
import { PSEUDO_LOCALES, type PseudoLocale, pseudoLocalise } from './pseudo.js';

/** The locales a customer can choose; the first is the fallback when Accept-Language names none. */
export const LOCALES = ['en', 'de', 'fr', 'ja'] as const;
export type SupportedLocale = (typeof LOCALES)[number];
export type Locale = SupportedLocale | PseudoLocale;

const CATALOGUES: Record<SupportedLocale, Catalogue> = { en, de, fr, ja };
const pseudoCatalogues = new Map<PseudoLocale, Catalogue>();

export function catalogueOf(locale: Locale): Catalogue {
  if (locale in CATALOGUES) return CATALOGUES[locale as SupportedLocale];
  let made = pseudoCatalogues.get(locale as PseudoLocale);
  if (!made) {
    made = Object.fromEntries(
      Object.entries(en).map(([key, text]) => [key, pseudoLocalise(text, locale as PseudoLocale)]),
    ) as Catalogue;
    pseudoCatalogues.set(locale as PseudoLocale, made);
  }
  return made;
}

/** Text direction of a locale's script (none of the translated ones is right-to-left yet). */
export function directionOf(locale: Locale): 'ltr' | 'rtl' {
  return locale === 'ar-XB' ? 'rtl' : 'ltr';
}

/** The locales a switcher offers: the real ones, and the pseudo-locales where enabled. */
export function availableLocales(pseudo: boolean): readonly Locale[] {
  return pseudo ? [...LOCALES, ...PSEUDO_LOCALES] : LOCALES;
}

/**
 * The page's locale: the customer's own choice (the locale cookie, when it names an available
 * locale), else the best match for the browser's Accept-Language among the real locales (`de-AT`
 * gets `de`), else English. Pseudo-locales are only ever chosen explicitly.
 */
export function negotiateLocale(input: {
  chosen?: string | undefined;
  acceptLanguage?: string | undefined;
  available: readonly Locale[];
}): Locale {
  const chosen = input.available.find((l) => l === input.chosen);
  if (chosen) return chosen;
  const negotiator = new Negotiator({ headers: { 'accept-language': input.acceptLanguage ?? '' } });
  return (negotiator.language([...LOCALES]) as SupportedLocale | undefined) ?? 'en';
}

/** A time zone the runtime knows (IANA name, e.g. `Europe/Berlin`), else UTC. */
export function validTimeZone(name: string | undefined): string {
  if (!name || name.length > 64) return 'UTC';
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return 'UTC';
  }
}
