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

/** Escapes for a URL path segment (then for HTML by `html`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** A stylesheet of our own (never user input) for a `<style>` element; `</` cannot end it early. */
export function trustedCss(css: string): SafeHtml {
  return new SafeHtml(css.replace(/<\//g, '<\\/'));
}
