import { hasControlCharacter } from './text.js';

/**
 * Where to send the browser after sign-in. Only a same-origin relative path is accepted: it must
 * start with one `/`, contain no backslash, control character or scheme, and must not start `//`
 * (protocol-relative). Anything else becomes `/`, so the login flow cannot be used as an open
 * redirect.
 */
export function safeReturnPath(candidate: unknown): string {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 1024) return '/';
  if (!candidate.startsWith('/') || candidate.startsWith('//')) return '/';
  // Browsers treat `\` as `/` and strip tabs/newlines, so `/\evil` and `/\t/evil` are `//evil`.
  if (candidate.includes('\\') || hasControlCharacter(candidate)) return '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(candidate);
  } catch {
    return '/';
  }
  if (decoded.startsWith('//') || decoded.includes('\\') || hasControlCharacter(decoded)) return '/';
  const parsed = new URL(candidate, 'https://portal.invalid');
  if (parsed.origin !== 'https://portal.invalid') return '/';
  return parsed.pathname + parsed.search;
}
