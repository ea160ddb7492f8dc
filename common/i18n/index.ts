export {
  availableLocales,
  catalogueOf,
  directionOf,
  LOCALES,
  type Locale,
  negotiateLocale,
  type SupportedLocale,
  validTimeZone,
} from './locales.js';
export type { Catalogue, MessageKey } from './messages/en.js';
export { PSEUDO_LOCALES, type PseudoLocale } from './pseudo.js';
export { createTranslator, DATE_TIME_OPTIONS, type MessageValues, type Translator } from './translator.js';
