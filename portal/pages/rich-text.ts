import { html, type SafeHtml } from '../../common/http/html.js';
import type { MessageKey, MessageValues, Translator } from '../../common/i18n/index.js';

/**
 * A catalogue message with markup around parts of it: `'Still need help? <link>Raise a request</link>.'`
 * with `{ link: (text) => html`<a href="...">${text}</a>` }`. The translated text is escaped like any
 * other value; only the page's own templates add markup.
 */
export function richText(
  i18n: Translator,
  key: MessageKey,
  tags: Record<string, (text: SafeHtml) => SafeHtml>,
  /** Arguments; markup of the page's own (a `<time>`, a lozenge) goes in unescaped. */
  values: Record<string, MessageValues[string] | SafeHtml> = {},
): SafeHtml {
  const wrapped = Object.fromEntries(
    Object.entries(tags).map(([name, wrap]) => [
      name,
      (chunks: (string | SafeHtml)[]) => wrap(html`${chunks}`),
    ]),
  );
  return html`${i18n.rich<SafeHtml>(key, values as MessageValues, wrapped)}`;
}
