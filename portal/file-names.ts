/**
 * File names as the portal passes them on: to Atlassian with an upload, and to the customer's
 * browser with a download (ADR 0152). One rule for both directions, so a name an agent gave a file
 * in Jira reaches the customer as tame as one a customer uploaded.
 */

/** Atlassian keeps longer names, but a name is for people: the end (with the extension) is kept. */
export const MAX_FILE_NAME_CODE_POINTS = 180;

// Half a UTF-16 pair: no character; it cannot be encoded as UTF-8 (encodeURIComponent throws).
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** C0 controls, DEL and C1 controls: never valid in a file name or a header value. */
const isControl = (char: string) => {
  const code = char.codePointAt(0)!;
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
};
// Bidirectional and invisible format characters: U+202E makes `invoice\u202Efdp.exe` read as
// `invoiceexe.pdf`; zero-width characters make two names look alike.
const FORMAT_CHARACTERS = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
// Windows drops trailing dots and spaces when it saves a file: `report.pdf.` would be `report.pdf`.
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;
// Windows device names, reserved with any extension: `CON.txt` saved on Windows is no file.
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(?:\.|$)/i;

/**
 * The name to use for a file: the last path part only (`../../etc/passwd.txt` is `passwd.txt`), in
 * Unicode NFC (macOS sends `é` as `e` and a combining accent), without control, bidirectional and
 * invisible characters or `"`, without trailing dots and spaces, a Windows device name prefixed with
 * `_`, and at most MAX_FILE_NAME_CODE_POINTS code points, cut at the front so the extension stays
 * and never inside a character. Empty when nothing of it is left.
 */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = Array.from(base.replace(LONE_SURROGATES, '\ufffd').normalize('NFC'))
    .filter((char) => !isControl(char))
    .join('')
    .replace(FORMAT_CHARACTERS, '')
    .replace(/"/g, '')
    .replace(TRAILING_DOTS_AND_SPACES, '');
  const bounded = Array.from(cleaned).slice(-MAX_FILE_NAME_CODE_POINTS).join('');
  return WINDOWS_DEVICE.test(bounded) ? `_${bounded}` : bounded;
}
