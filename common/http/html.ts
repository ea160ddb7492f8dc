import { randomBytes } from 'node:crypto';

/**
 * The one way broker, portal and the dev IdP write HTML: server-side, with escaping by default. `html` is a tagged template: every interpolated value
 * is escaped unless it is already `SafeHtml` (the output of another `html` call), so a template can
 * only emit markup its author wrote. Arrays are joined, null/undefined/false render nothing.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/** Element content and quoted or unquoted attribute values (OWASP's set, with backtick and `=`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * A page drawn once with `html` and a hole for each value that changes per response, then filled
 * per response: for a page whose text is costly to draw (translated, branded) while only a few
 * values differ each time. `fill` renders each value exactly as `html` does (escaped unless it is
 * `SafeHtml`), so it returns the very string `html` would have made with those values in place.
 */
export class HtmlTemplate<K extends string> {
  /** Static text around the holes: `parts[i]`, then the value of `holes[i]`, ..., then the last part. */
  readonly #parts: readonly string[];
  readonly #holes: readonly K[];

  constructor(parts: readonly string[], holes: readonly K[]) {
    this.#parts = parts;
    this.#holes = holes;
  }

  fill(values: Readonly<Record<K, HtmlValue>>): string {
    let out = this.#parts[0]!;
    for (let i = 0; i < this.#holes.length; i++) out += render(values[this.#holes[i]!]) + this.#parts[i + 1]!;
    return out;
  }
}

/**
 * Draws a template: `draw` gets one `SafeHtml` stand-in per name to put where that value goes (a
 * name may be used more than once). The stand-ins carry a random marker, so no text of the page (a
 * tenant's title, a message) can pose as a hole.
 */
export function htmlTemplate<K extends string>(
  names: readonly K[],
  draw: (holes: Readonly<Record<K, SafeHtml>>) => SafeHtml,
): HtmlTemplate<K> {
  const marker = randomBytes(12).toString('hex');
  const holes = Object.fromEntries(
    names.map((name, i) => [name, new SafeHtml(`\u0000${marker}:${i}\u0000`)]),
  ) as Record<K, SafeHtml>;
  // split() with a capturing group: static text and hole numbers alternate.
  const pieces = draw(holes).value.split(new RegExp(`\u0000${marker}:(\\d+)\u0000`));
  const parts = pieces.filter((_, i) => i % 2 === 0);
  const used = pieces.filter((_, i) => i % 2 === 1).map((n) => names[Number(n)]!);
  const unused = names.filter((name) => !used.includes(name));
  if (unused.length > 0) throw new Error(`htmlTemplate: the page has no place for ${unused.join(', ')}`);
  return new HtmlTemplate(parts, used);
}

/** Escapes for a URL path segment (then for HTML by `html`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** A stylesheet of our own (never user input) for a `<style>` element; `</` cannot end it early. */
export function trustedCss(css: string): SafeHtml {
  return new SafeHtml(css.replace(/<\//g, '<\\/'));
}
