import { ATLASSIAN_CODES, type AtlassianErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';

/**
 * A failed Atlassian call. `code` is stable (`ATLASSIAN_NOT_FOUND`, `ATLASSIAN_RATE_LIMITED`, ...)
 * and goes to the log with the English `message`, which is ours and never Atlassian's: its words
 * may quote what the customer sent (a summary, a name, an address). A customer reads the
 * catalogue's text for the code (portal/pages/refusals.ts), never Atlassian's own words except
 * beside a form field: `fieldErrors` maps a field id to Atlassian's message, for that field.
 */
export class AtlassianError extends JsmSsoError {
  declare readonly code: AtlassianErrorCode;
  readonly upstreamStatus: number;
  readonly fieldErrors: Record<string, string>;
  /** `i18nErrorMessage.parameters` of a JSM error (often names the field). */
  readonly parameters: string[];
  /** Atlassian's own message, when it gave one: in the site's language, not the customer's; never logged. */
  readonly upstreamMessage: string | undefined;
  /** On 429/503: how long Atlassian asked us to wait (Retry-After, capped), if it said; on ATLASSIAN_BUSY, ours. */
  readonly retryAfterMs: number | undefined;
  /**
   * On ATLASSIAN_UNREACHABLE: no attempt of the call was handed to a connection (refused, a name not
   * found, a failed TLS handshake), so Atlassian received nothing of it, a write included (ADR 0397).
   */
  readonly sentNothing: boolean;

  constructor(
    code: AtlassianErrorCode,
    upstreamStatus: number,
    detail: {
      /** English, for the log; else the code's meaning (never Atlassian's message: see above). */
      message?: string;
      upstreamMessage?: string;
      fieldErrors?: Record<string, string>;
      parameters?: string[];
      cause?: unknown;
      retryAfterMs?: number;
      sentNothing?: boolean;
    } = {},
  ) {
    super(code, detail.message ?? ATLASSIAN_CODES[code], {
      status: statusFor(code),
      cause: detail.cause,
    });
    this.name = 'AtlassianError';
    this.upstreamStatus = upstreamStatus;
    this.fieldErrors = detail.fieldErrors ?? {};
    this.parameters = detail.parameters ?? [];
    this.upstreamMessage = detail.upstreamMessage;
    this.retryAfterMs = detail.retryAfterMs;
    this.sentNothing = detail.sentNothing ?? false;
  }
}

/** When Atlassian gave no Retry-After: long enough for a site outage or throttling to pass, short enough to retry by hand. */
const UNAVAILABLE_RETRY_AFTER_MS = 30_000;

/**
 * The Retry-After, in seconds, to answer for a page that failed on `err`: Atlassian's wait when it
 * asked for one, else ours; at least a second (a Retry-After of 0 was already waited out by the
 * client's retries).
 */
export function retryAfterSecondsOf(err: AtlassianError): number {
  return Math.max(1, Math.ceil((err.retryAfterMs ?? UNAVAILABLE_RETRY_AFTER_MS) / 1000));
}

function statusFor(code: AtlassianErrorCode): number {
  switch (code) {
    case 'ATLASSIAN_NOT_FOUND':
      return 404;
    case 'ATLASSIAN_VALIDATION':
    case 'ATLASSIAN_CONFLICT':
      return 400;
    case 'ATLASSIAN_FORBIDDEN':
      return 403;
    case 'ATLASSIAN_RATE_LIMITED':
    case 'ATLASSIAN_UNAVAILABLE':
    case 'ATLASSIAN_BUSY':
      return 503;
    default:
      return 502;
  }
}

export function codeForStatus(status: number): AtlassianErrorCode {
  if (status === 400) return 'ATLASSIAN_VALIDATION';
  if (status === 401) return 'ATLASSIAN_UNAUTHORIZED';
  if (status === 403) return 'ATLASSIAN_FORBIDDEN';
  if (status === 404) return 'ATLASSIAN_NOT_FOUND';
  if (status === 409) return 'ATLASSIAN_CONFLICT';
  if (status === 429) return 'ATLASSIAN_RATE_LIMITED';
  if (status === 503 || status === 502 || status === 504) return 'ATLASSIAN_UNAVAILABLE';
  return 'ATLASSIAN_ERROR';
}

/** Reads both error shapes: JSM `{errorMessage}` and Jira `{errorMessages: [], errors: {field: msg}}`. */
export function parseErrorBody(body: unknown): {
  upstreamMessage?: string;
  fieldErrors: Record<string, string>;
  parameters: string[];
} {
  const fieldErrors: Record<string, string> = {};
  if (!body || typeof body !== 'object') return { fieldErrors, parameters: [] };
  const b = body as {
    errorMessage?: unknown;
    errorMessages?: unknown;
    errors?: unknown;
    i18nErrorMessage?: { parameters?: unknown };
  };
  const raw = b.i18nErrorMessage?.parameters;
  const parameters = Array.isArray(raw) ? raw.filter((p): p is string => typeof p === 'string') : [];
  if (b.errors && typeof b.errors === 'object') {
    for (const [k, v] of Object.entries(b.errors as Record<string, unknown>))
      if (typeof v === 'string') fieldErrors[k] = v;
  }
  const messages: string[] = [];
  if (typeof b.errorMessage === 'string') messages.push(b.errorMessage);
  if (Array.isArray(b.errorMessages))
    messages.push(...b.errorMessages.filter((m): m is string => typeof m === 'string'));
  return messages.length > 0
    ? { upstreamMessage: messages.join(' '), fieldErrors, parameters }
    : { fieldErrors, parameters };
}
