import type { SamlErrorCode } from '../error-codes.js';
import { JsmSsoError } from '../errors.js';

/** Every reason a SAML message is refused: the closed set in ../error-codes.ts. */
export type { SamlErrorCode };

export class SamlError extends JsmSsoError {
  declare readonly code: SamlErrorCode;

  constructor(code: SamlErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(code, message, { status: options.status ?? 400, cause: options.cause });
    this.name = 'SamlError';
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
