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
