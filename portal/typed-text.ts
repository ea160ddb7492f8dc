/**
 * Text a customer typed in one of the portal's text areas, as they typed it. A browser counts a text
 * area's `maxlength` on its value, a line break one character, and sends each line break as CR LF
 * (HTML's form submission): measured as sent, a text the browser took is longer than its limit by one
 * character a line, and was refused (ADR 0361). Line breaks are made LF again before anything is
 * measured or written; Jira keeps either.
 */

/** The most characters a comment, a step's comment or a multi-line field may have, as typed. */
export const MAX_TYPED_TEXT = 32_000;

/**
 * The most bytes such a text takes in a form's body: `maxlength` counts UTF-16 code units, and each is at
 * most 3 bytes of UTF-8 (a CJK character; a surrogate pair is 4 bytes for 2 units, a line break sent as
 * CR LF 2 for 1). A limit in bytes below it refused a text the page had let through (ADR 0442).
 */
export const MAX_TYPED_TEXT_BYTES = 3 * MAX_TYPED_TEXT;

/** The text with every line break (CR LF, or a lone CR) a LF, as the text area held it. */
export function asTyped(sent: string): string {
  return sent.replace(/\r\n?/g, '\n');
}
