import type { SamlErrorCode } from '../error-codes.js';
import { JsmSsoError } from '../errors.js';

/** Every reason a SAML message is refused: the closed set in ../error-codes.ts. */
export type { SamlErrorCode };

export class SamlError extends JsmSsoError {
  declare readonly code: SamlErrorCode;
  /**
   * Which check refused, for the log line an admin reads where one code covers several causes
   * (e.g. the decryption's): a stable name, never a value of the message, and never on the page.
   */
  readonly detail: string | undefined;

  constructor(
    code: SamlErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; detail?: string } = {},
  ) {
    super(code, message, { status: options.status ?? 400, cause: options.cause });
    this.name = 'SamlError';
    this.detail = options.detail;
  }
}

/**
 * The peer answered a non-Success status (core 3.2.2.2), checked to answer our request: its top-level
 * and second-level codes, so that a proxy can pass the reason on (NoPassive is not AuthnFailed).
 */
export class SamlStatusError extends SamlError {
  constructor(
    readonly topLevelStatus: string | undefined,
    readonly secondLevelStatus: string | undefined,
  ) {
    super(
      'SAML_STATUS_NOT_SUCCESS',
      `the IdP answered ${topLevelStatus ?? '(no status)'}${secondLevelStatus ? ` / ${secondLevelStatus}` : ''}`,
    );
    this.name = 'SamlStatusError';
  }
}
