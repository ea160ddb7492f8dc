// The Content-Disposition of a file the portal serves (ADR 0152): RFC 6266 with the name in RFC 8187
// (formerly 5987) `filename*` encoding, and a plain ASCII `filename` for agents that read only that.
import { safeFileName } from '../file-names.js';

// RFC 8187 attr-char: what may stand unencoded in `filename*`. encodeURIComponent leaves ' ( ) * !
// as they are; the first four are not attr-chars.
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

function encodeExtValue(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `attachment` (or `inline`) with the file's name made safe (file-names.ts; `file` when nothing is
 * left). The ASCII fallback replaces everything else, and `\` and `%` too (some agents decode
 * `%xx` in `filename`), with `_`.
 */
export function contentDisposition(disposition: 'attachment' | 'inline', name: string): string {
  const safe = safeFileName(name) || 'file';
  const ascii = safe.replace(/[^\x20-\x7e]|[\\%]/g, '_');
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(safe)}`;
}
