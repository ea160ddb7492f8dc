import { JsmSsoError } from '../errors.js';

/**
 * Every reason a SAML message is refused. The code is the contract (tests assert it, logs and
 * metrics carry it); the message explains it to a person and never quotes the message content.
 */
export type SamlErrorCode =
  | 'SAML_XML_INVALID'
  | 'SAML_DOCTYPE_FORBIDDEN'
  | 'SAML_MESSAGE_TOO_LARGE'
  | 'SAML_DEFLATE_LIMIT'
  | 'SAML_ENCODING_INVALID'
  | 'SAML_BINDING_INVALID'
  | 'SAML_SIGNATURE_MISSING'
  | 'SAML_SIGNATURE_INVALID'
  | 'SAML_SIGNATURE_ALGORITHM_FORBIDDEN'
  | 'SAML_SIGNATURE_REFERENCE_INVALID'
  | 'SAML_ID_NOT_UNIQUE'
  | 'SAML_CERTIFICATE_INVALID'
  | 'SAML_MESSAGE_TYPE_UNEXPECTED'
  | 'SAML_VERSION_UNSUPPORTED'
  | 'SAML_ISSUER_MISMATCH'
  | 'SAML_AUDIENCE_MISMATCH'
  | 'SAML_DESTINATION_MISMATCH'
  | 'SAML_RECIPIENT_MISMATCH'
  | 'SAML_IN_RESPONSE_TO_MISMATCH'
  | 'SAML_SUBJECT_CONFIRMATION_INVALID'
  | 'SAML_EXPIRED'
  | 'SAML_NOT_YET_VALID'
  | 'SAML_REPLAY'
  | 'SAML_STATUS_NOT_SUCCESS'
  | 'SAML_ASSERTION_COUNT'
  | 'SAML_ENCRYPTED_ASSERTION_UNSUPPORTED'
  | 'SAML_NAMEID_INVALID'
  | 'SAML_AUTHN_STATEMENT_MISSING'
  | 'SAML_METADATA_INVALID'
  | 'SAML_METADATA_UNAVAILABLE';

export class SamlError extends JsmSsoError {
  declare readonly code: SamlErrorCode;

  constructor(code: SamlErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(code, message, { status: options.status ?? 400, cause: options.cause });
    this.name = 'SamlError';
  }
}
