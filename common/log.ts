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
// Letters and digits of any script (with their combining marks): an internationalised address
// (RFC 6531 local part, IDN domain) is masked whole, not left in part or in full.
const EMAIL = /[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}.-]+\.[\p{L}\p{M}]{2,}/gu;
export const REDACTED = '[redacted]';

/** Deep copy of `value` with sensitive keys and e-mail-shaped text removed. Exported for tests. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (typeof value === 'string') return value.replace(EMAIL, REDACTED);
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
          const scrubbed = args.map((a) => (typeof a === 'string' ? a.replace(EMAIL, REDACTED) : a));
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
