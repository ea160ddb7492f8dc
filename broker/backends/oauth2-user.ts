/**
 * The person a plain OAuth 2.0 user endpoint names: its answer's `sub`, else its `id` (a string or
 * a number), and the claims beside it. A number is read as the IdP wrote it: JSON.parse rounds an
 * integer beyond 2^53 to the nearest double, so the ids 9007199254740992 and 9007199254740993 would
 * be one subject, one person signed in as another (ADR 0243). Such an integer becomes the string
 * of its digits, in `subject` and in the claim a mapping reads; a number beyond 2^53 not written as
 * an integer (`9.007199254740993e15`) has no digits to keep and names no one.
 */

const SUBJECT_CLAIMS = ['sub', 'id'] as const;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** Node 22's JSON.parse hands a reviver the source text of each primitive (TC39 JSON.parse source). */
type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

export function userOfAnswer(text: string): { subject: string; claims: Record<string, unknown> } | undefined {
  // The source text of each number under a subject claim's key, by the object that holds it: only
  // the answer's own `sub`/`id` is read, not one nested in another claim.
  const written = new Map<unknown, Map<string, string>>();
  const keepSource: Reviver = function (key, value, context) {
    if (typeof value === 'number' && context?.source !== undefined && SUBJECT_CLAIMS.some((k) => k === key)) {
      const held = written.get(this) ?? new Map<string, string>();
      written.set(this, held.set(key, context.source));
    }
    return value;
  };
  let answer: unknown;
  try {
    answer = JSON.parse(text, keepSource as Parameters<typeof JSON.parse>[1]);
  } catch {
    return undefined;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return undefined;
  const claims = answer as Record<string, unknown>;
  const key = SUBJECT_CLAIMS.find((k) => claims[k] !== undefined && claims[k] !== null);
  const value = key === undefined ? undefined : claims[key];
  if (typeof value === 'string') return { subject: value, claims };
  // 1e400 parses as Infinity, a number that is no one's id.
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  // Every double beyond 2^53 is an integer: a fraction or a safe integer is as JSON.parse read it.
  if (Number.isSafeInteger(value) || !Number.isInteger(value)) return { subject: String(value), claims };
  const digits = written.get(claims)?.get(key!);
  if (digits === undefined || !INTEGER.test(digits)) return undefined;
  return { subject: digits, claims: { ...claims, [key!]: digits } };
}
