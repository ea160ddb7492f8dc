// Finds English from the message catalogue (common/i18n) on a page that should be in another
// language: a leak of a message that was rendered in English instead of through the translator.
import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { catalogueOf, type SupportedLocale } from '../common/i18n/index.js';
import { en, type MessageKey } from '../common/i18n/messages/en.js';
import { readableText } from './spoken-language.js';

/** The literal text of a message: what stays the same whatever values fill it. */
function literals(elements: MessageFormatElement[], into: string[] = []): string[] {
  for (const e of elements) {
    if (e.type === TYPE.literal) into.push(e.value);
    if (e.type === TYPE.tag) literals(e.children, into);
    if (e.type === TYPE.plural || e.type === TYPE.select)
      for (const option of Object.values(e.options)) literals(option.value, into);
  }
  return into;
}

const WORDS = /\p{L}{2,}/gu;

/**
 * The English phrases (three words or more between punctuation) of every message the locale says
 * differently: a product name the same in both languages is not a leak.
 */
function englishPhrases(locale: SupportedLocale): string[] {
  const theirs = catalogueOf(locale);
  const phrases = (Object.keys(en) as MessageKey[])
    .filter((key) => theirs[key] !== en[key])
    .flatMap((key) => literals(parse(en[key])))
    .flatMap((text) => text.split(/[.!?:;()“”"]/))
    .map((phrase) => phrase.trim())
    .filter((phrase) => (phrase.match(WORDS) ?? []).length >= 3);
  return [...new Set(phrases)];
}

/** The catalogue's English phrases on a page meant to be in `locale`. */
export function englishIn(page: string, locale: SupportedLocale): string[] {
  const text = readableText(page);
  return englishPhrases(locale).filter((phrase) => text.includes(phrase));
}
