/**
 * Where to send the browser after sign-in: the one canonical check, so the login flow cannot be used
 * as an open redirect. The candidate is first decoded (repeatedly, until stable) and normalised (dot
 * segments resolved), and only then judged, because a browser decodes and normalises too: `/.//evil`
 * is `//evil` once `.` is removed, `/%2e//evil` is the same after one decode.
 *
 * Accepted: a path of printable ASCII that starts with exactly one `/` and, once normalised, still
 * does; no backslash (browsers read `\` as `/`), no control character (browsers drop tabs and
 * newlines), no `?`/`#` hidden in the encoded path. The portal's own paths are all ASCII, so
 * anything else (a fullwidth solidus `／`, a division slash `∕`, another look-alike) is refused
 * outright rather than mapped. The query is kept, percent-encoded by the URL serialiser, once its
 * decoded form holds no control character; a fragment is dropped. The sign-in itself is no page to
 * come back to: each return there is one sign-in more, and one link nesting it ran the browser
 * through a sign-in per level (ADR 0326). Anything refused becomes `/`.
 */
import { routedPath } from './http/routed-path.js';

/** Where a sign-in starts (portal/routes/saml.ts). */
export const SIGN_IN_PATH = '/login';
const REFUSED = '/';
const BASE = 'https://portal.invalid';
const MAX_LENGTH = 1024;
/** Decoding more often than this is not a browser's doing: such a candidate is refused. */
const MAX_DECODES = 4;
/** After decoding: one `/` not followed by another, then printable ASCII. */
const SAFE_PATH = /^\/(?!\/)[\x21-\x7e]*$/;
/** A backslash is a slash to browsers; `?` and `#` may only appear undecoded, as delimiters. */
const FORBIDDEN_IN_PATH = /[\\?#]/;

export function safeReturnPath(candidate: unknown): string {
  return checkReturnPath(candidate) ?? REFUSED;
}

/** The canonical return path, or undefined when the candidate is refused. */
export function checkReturnPath(candidate: unknown): string | undefined {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > MAX_LENGTH)
    return undefined;
  const queryAt = candidate.indexOf('?');
  const hashAt = candidate.indexOf('#');
  const pathEnd = Math.min(...[queryAt, hashAt, candidate.length].filter((i) => i >= 0));
  const path = fullyDecoded(candidate.slice(0, pathEnd));
  const rawQuery =
    queryAt >= 0 && queryAt === pathEnd
      ? candidate.slice(queryAt, hashAt > queryAt ? hashAt : undefined)
      : '';
  const query = fullyDecoded(rawQuery);
  if (path === undefined || query === undefined) return undefined;
  if (!SAFE_PATH.test(path) || FORBIDDEN_IN_PATH.test(path)) return undefined;
  if (hasInvisibleControl(query) || query.includes('\\')) return undefined;
  const resolved = new URL(path, BASE);
  resolved.search = rawQuery;
  // Dot segments may have brought two slashes together: `/x/..//evil` is `//evil`.
  if (resolved.origin !== BASE || !SAFE_PATH.test(resolved.pathname)) return undefined;
  if (routedPath(resolved.pathname) === SIGN_IN_PATH) return undefined;
  return resolved.pathname + resolved.search;
}

/** Percent-decodes until nothing changes; undefined for a malformed escape or endless nesting. */
function fullyDecoded(text: string): string | undefined {
  let current = text;
  for (let round = 0; round <= MAX_DECODES; round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return current;
    current = next;
  }
  return undefined;
}

function hasInvisibleControl(text: string): boolean {
  // C0, DEL and C1 controls, and the Unicode line and paragraph separators.
  return /[\p{Cc}\u2028\u2029]/u.test(text);
}
