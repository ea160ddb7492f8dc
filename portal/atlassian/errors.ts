import type { AtlassianErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';

/**
 * A failed Atlassian call. `code` is stable (`ATLASSIAN_NOT_FOUND`, `ATLASSIAN_RATE_LIMITED`, ...)
 * and goes to the log; `friendly` is what a customer may read; `fieldErrors` maps a field id to
 * Atlassian's own message, for showing beside that field on a form.
 */
export class AtlassianError extends JsmSsoError {
  declare readonly code: AtlassianErrorCode;
  readonly upstreamStatus: number;
  readonly fieldErrors: Record<string, string>;
  /** `i18nErrorMessage.parameters` of a JSM error (often names the field). */
  readonly parameters: string[];
  readonly friendly: string;
  /** On 429/503: how long Atlassian asked us to wait (Retry-After, capped), if it said; on ATLASSIAN_BUSY, ours. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: AtlassianErrorCode,
    upstreamStatus: number,
    detail: {
      message?: string;
      fieldErrors?: Record<string, string>;
      parameters?: string[];
      cause?: unknown;
      retryAfterMs?: number;
    } = {},
  ) {
    const friendly =
      FRIENDLY[code] ?? 'Something went wrong while talking to the help center. Please try again.';
    super(code, detail.message ?? friendly, { status: statusFor(code), cause: detail.cause });
    this.name = 'AtlassianError';
    this.upstreamStatus = upstreamStatus;
    this.fieldErrors = detail.fieldErrors ?? {};
    this.parameters = detail.parameters ?? [];
    this.friendly = friendly;
    this.retryAfterMs = detail.retryAfterMs;
  }
}

const FRIENDLY: Partial<Record<AtlassianErrorCode, string>> = {
  ATLASSIAN_NOT_FOUND: 'We could not find that.',
  ATLASSIAN_VALIDATION: 'Some details need your attention.',
  ATLASSIAN_CONFLICT: 'That already exists.',
  ATLASSIAN_FORBIDDEN: 'The help center does not allow this action.',
  ATLASSIAN_RATE_LIMITED: 'The help center is busy right now. Please try again in a minute.',
  ATLASSIAN_UNAVAILABLE: 'The help center is temporarily unavailable. Please try again in a minute.',
  ATLASSIAN_TIMEOUT: 'The help center took too long to answer. Please try again.',
  ATLASSIAN_UNREACHABLE: 'The help center cannot be reached right now. Please try again in a minute.',
  ATLASSIAN_UNAUTHORIZED: 'The help center is not configured correctly. Please tell your administrator.',
  ATLASSIAN_BUSY: 'The help center is busy right now. Please try again in a few seconds.',
};

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
  message?: string;
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
    ? { message: messages.join(' '), fieldErrors, parameters }
    : { fieldErrors, parameters };
}
