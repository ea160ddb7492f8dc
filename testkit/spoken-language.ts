// Whether a page speaks the language it claims: the words a person reads on it, and those of them
// its language's catalogue does not have (an untranslated string that leaked into the page).
import { catalogueOf, type SupportedLocale } from '../common/i18n/index.js';

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#39': "'",
  '#96': '`',
  '#61': '=',
};

/** The text of an HTML page a person reads: its title and body text, without markup, styles or scripts. */
export function readableText(page: string): string {
  return page
    .replace(/<(style|script)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#?\w+);/g, (whole, name: string) => ENTITIES[name] ?? whole)
    .replace(/\s+/g, ' ')
    .trim();
}

const wordsOf = (text: string) => new Set((text.match(/\p{L}{2,}/gu) ?? []).map((w) => w.toLowerCase()));

/**
 * The words of `text` that `locale`'s catalogue never uses: on a page that takes all its text from
 * the catalogue, each is text that was not translated (English leaking into a German page, say).
 * Leave out what is not the catalogue's to translate (the tenant's name, IdP names, reason codes)
 * before asking.
 */
export function wordsOutsideCatalogue(text: string, locale: SupportedLocale): string[] {
  const known = wordsOf(Object.values(catalogueOf(locale)).join(' '));
  return [...wordsOf(text)].filter((w) => !known.has(w));
}
