/**
 * What a request's head says of its body, judged before a byte of it is read (ADR 0404): a route
 * that refuses on these answers at once, and a client waiting on `Expect: 100-continue` sends nothing
 * (continue-when-read.ts).
 */
import type { IncomingMessage } from 'node:http';

/** Whether the body declares a length past `limit` (a chunked body declares none: cut as it is read). */
export function declaredPast(req: IncomingMessage, limit: number): boolean {
  return Number(req.headers['content-length'] ?? 0) > limit;
}

/**
 * Whether the body has a content coding (gzip, deflate, br …): no part decompresses a request, as no
 * client of theirs compresses one, so such a body is refused 415 (RFC 9110 §8.4.1, §15.5.16) rather
 * than read as the form or envelope it is not.
 */
export function contentCoded(req: IncomingMessage): boolean {
  const coding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  return coding !== '' && coding !== 'identity';
}
