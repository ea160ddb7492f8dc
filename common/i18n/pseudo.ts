import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { printAST } from '@formatjs/icu-messageformat-parser/printer.js';

/**
 * Pseudo-locales, made from the English catalogue, for testing layouts (never negotiated from
 * Accept-Language; offered only when a portal is started with `pseudoLocales`):
 * - `en-XA` accents every letter and makes each message about 40 % longer, which shows untranslated
 *   text and layouts that break on long words (as German does);
 * - `ar-XB` wraps each message in RIGHT-TO-LEFT OVERRIDE marks and renders the page `dir="rtl"`,
 *   which shows layouts that assume left-to-right.
 * Only literal text changes: arguments, plural and select keys and tags survive, so every message
 * still formats.
 */
export const PSEUDO_LOCALES = ['en-XA', 'ar-XB'] as const;
export type PseudoLocale = (typeof PSEUDO_LOCALES)[number];

const ACCENTED: Record<string, string> = Object.fromEntries(
  [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((c, i) => [
    c,
    [...'åƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ'][i]!,
  ]),
);

const accent = (text: string) => [...text].map((c) => ACCENTED[c] ?? c).join('');
const rtlOverride = (text: string) => (text.trim() ? `\u202e${text}\u202c` : text);

function mapLiterals(elements: MessageFormatElement[], change: (text: string) => string): void {
  for (const element of elements) {
    if (element.type === TYPE.literal) element.value = change(element.value);
    else if (element.type === TYPE.tag) mapLiterals(element.children, change);
    else if (element.type === TYPE.plural || element.type === TYPE.select)
      for (const option of Object.values(element.options)) mapLiterals(option.value, change);
  }
}

export function pseudoLocalise(message: string, locale: PseudoLocale): string {
  const ast = parse(message);
  if (locale === 'ar-XB') {
    mapLiterals(ast, rtlOverride);
    return printAST(ast);
  }
  mapLiterals(ast, accent);
  const padding = Math.ceil(message.length * 0.4);
  return `[${printAST(ast)} ${'ţŵö ţĥŕéé ƒöûŕ ƒîṽé šîẋ'.slice(0, padding)}]`;
}
