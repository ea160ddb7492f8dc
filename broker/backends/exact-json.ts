/**
 * An IdP's JSON (an ID token's payload, a userinfo answer, a plain OAuth 2.0 user answer) read with
 * every number as the IdP wrote it. JSON.parse reads a number into a double, exact only within
 * ±(2^53 − 1) (RFC 8259 section 6): 9007199254740993 and 9007199254740992 are one double, so two
 * people's group ids, employee numbers or user ids would be one value in the assertion (ADR 0243
 * for the subject, ADR 0253 for every claim). A number beyond that range is kept as the text the IdP
 * wrote, a string: the mapping sends it on as such, and no two texts become one.
 */

/** Node 22's JSON.parse hands a reviver the source text of each primitive (TC39 JSON.parse source). */
export type SourceContext = { source?: string } | undefined;

/** The value a reviver keeps for a number JSON.parse read as `value` from `context.source`. */
export function asWritten(value: unknown, context: SourceContext): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value) || context?.source === undefined) return value;
  // A fraction within the range is as JSON.parse read it; beyond it every double is an integer (or Infinity).
  return Number.isFinite(value) && Math.abs(value) < Number.MAX_SAFE_INTEGER ? value : context.source;
}

/** The JSON object `text` holds, its numbers beyond ±(2^53 − 1) kept as written; undefined for anything else. */
export function objectAsWritten(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text, ((_key: string, read: unknown, context: SourceContext) =>
      asWritten(read, context)) as Parameters<typeof JSON.parse>[1]);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The payload of a compact JWS whose signature has been checked, its numbers as written. */
export function jwtPayloadAsWritten(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split('.')[1];
  return payload === undefined
    ? undefined
    : objectAsWritten(Buffer.from(payload, 'base64url').toString('utf8'));
}
