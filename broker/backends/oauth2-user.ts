import { asWritten, type SourceContext } from './exact-json.js';

/**
 * The person a plain OAuth 2.0 user endpoint names: its answer's `sub`, else its `id` (a string or
 * a number), and the claims beside it. Every number is read as the IdP wrote it (exact-json.ts): an
 * integer beyond 2^53 is the string of its digits, in `subject` and in every claim a mapping reads,
 * so the ids 9007199254740992 and 9007199254740993 are two subjects (ADR 0243), and two such values
 * of any claim two values (ADR 0253). A subject number beyond 2^53 not written as an integer
 * (`9.007199254740993e15`, `1e400`) has no digits to keep and names no one.
 */

const SUBJECT_CLAIMS = ['sub', 'id'] as const;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

export function userOfAnswer(text: string): { subject: string; claims: Record<string, unknown> } | undefined {
  // The source text of a number under a subject claim's key, by the object that holds it: only the
  // answer's own `sub`/`id` is the subject, not one nested in another claim.
  const numbers = new Map<unknown, Map<string, string>>();
  const keepSource = function (this: unknown, key: string, value: unknown, context: SourceContext) {
    if (typeof value === 'number' && context?.source !== undefined && SUBJECT_CLAIMS.some((k) => k === key)) {
      const held = numbers.get(this) ?? new Map<string, string>();
      numbers.set(this, held.set(key, context.source));
    }
    return asWritten(value, context);
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
  const written = key === undefined ? undefined : numbers.get(claims)?.get(key);
  // A number is a string here only beyond 2^53, kept as written: as an integer's digits, or no one.
  // An empty string is no identifier: several people would share it (ADR 0253).
  if (typeof value === 'string')
    return value !== '' && (written === undefined || INTEGER.test(written))
      ? { subject: value, claims }
      : undefined;
  return typeof value === 'number' ? { subject: String(value), claims } : undefined;
}
