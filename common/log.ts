import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Structured JSON logs. Every line carries `tenant` and `component`, and an `event` name that is
 * stable across releases. Secrets, tokens, SAML messages and e-mail addresses never reach a log
 * line: keys that can hold them are replaced wholesale, and any string that still looks like an
 * e-mail address is masked, whatever key it sits under.
 */
export type { Logger } from 'pino';

const SENSITIVE_KEY =
  /^(authorization|cookie|set-cookie|password|passwd|secret|client_?secret|api_?token|token|access_?token|refresh_?token|id_?token|code|code_?verifier|nonce|state|saml_?request|saml_?response|samlrequest|samlresponse|assertion|relay_?state|relaystate|email|e_?mail|mail|private_?key|key|tls\.key|session|session_?id|sid|csrf)$/i;
export const REDACTED = '[redacted]';

// What an address is made of: letters and digits of any script (with their combining marks), so an
// internationalised address (RFC 6531 local part, IDN domain) is masked whole, not left in part or
// in full. An address is LOCAL+ "@" DOMAIN+ "." TOP_LEVEL{2,}, the domain ending at its last such dot.
const LOCAL_PART_CHAR = /^[\p{L}\p{M}\p{N}._%+-]$/u;
const DOMAIN_CHAR = /^[\p{L}\p{M}\p{N}.-]$/u;
const TOP_LEVEL_CHAR = /^[\p{L}\p{M}]$/u;

/**
 * `text` with every e-mail-shaped run replaced by REDACTED: the matches, leftmost and longest, of
 * `/[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}.-]+\.[\p{L}\p{M}]{2,}/gu`, found in time linear in the
 * text. That expression, run by `String.replace`, tries again from every position of a long run of
 * letters and digits and takes time quadratic in its length: one log line with 64 KB of such text
 * held the event loop for 4 s (ADR 0210). Here each `@` is looked at once, its local part found
 * leftwards and its domain rightwards, so no character is read more than a few times.
 */
export function maskEmails(text: string): string {
  if (!text.includes('@')) return text;
  const chars = Array.from(text); // code points, as the `u` flag reads them
  let masked = '';
  let copied = 0; // chars before this index are in `masked` already
  for (let at = chars.indexOf('@'); at !== -1; ) {
    let resumeAt = at + 1;
    let start = at;
    while (start > copied && LOCAL_PART_CHAR.test(chars[start - 1]!)) start--;
    let end = at + 1;
    if (start < at) while (end < chars.length && DOMAIN_CHAR.test(chars[end]!)) end++;
    // The last dot of the domain with two letters after it ends the address (greedy backtracking).
    for (let dot = end - 3; dot >= at + 2; dot--) {
      if (
        chars[dot] !== '.' ||
        !TOP_LEVEL_CHAR.test(chars[dot + 1]!) ||
        !TOP_LEVEL_CHAR.test(chars[dot + 2]!)
      )
        continue;
      let last = dot + 3;
      while (last < end && TOP_LEVEL_CHAR.test(chars[last]!)) last++;
      masked += chars.slice(copied, start).join('') + REDACTED;
      copied = resumeAt = last;
      break;
    }
    at = chars.indexOf('@', resumeAt);
  }
  return masked + chars.slice(copied).join('');
}

/** Deep copy of `value` with sensitive keys and e-mail-shaped text removed. Exported for tests. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return maskEmails(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error)
    return {
      type: value.name,
      message: redact(value.message, depth + 1),
      code: (value as { code?: unknown }).code,
    };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SENSITIVE_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    return out;
  }
  return value;
}

export interface LoggerOptions {
  component: string;
  tenant?: string;
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const base: Record<string, string> = { component: options.component };
  if (options.tenant) base['tenant'] = options.tenant;
  return pino(
    {
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      base,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        // The message string itself is also scrubbed: a stray interpolation must not leak an address.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? maskEmails(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}

/**
 * What the log keeps of an unexpected error: its type and where it was thrown (the stack's frames),
 * never its message, which may quote the data that broke it (an e-mail, part of a token).
 */
export function unexpectedErrorFields(err: unknown): { errorType: string; frames?: string } {
  if (!(err instanceof Error)) return { errorType: typeof err };
  const frames = err.stack
    ?.split('\n')
    .filter((line) => line.trimStart().startsWith('at '))
    .map((line) => line.trim())
    .join('\n');
  return { errorType: err.name, ...(frames ? { frames } : {}) };
}
