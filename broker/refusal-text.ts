import { type BrokerErrorCode, SAML_CODES } from '../common/error-codes.js';
import type { StoreRefusal } from '../common/flowstore/refusal-answer.js';
import type { MessageKey } from '../common/i18n/index.js';

/**
 * What a person reads on a refusal page, by reason code: one sentence per kind of refusal, in the
 * page's language (common/i18n). The error's own message is English for logs and is never shown;
 * the reason code is shown as it is (ADR 0090). Every broker code has its kind here, so a new code
 * cannot reach a page without one; the SAML message checks share one.
 */
export interface RefusalText {
  title: MessageKey;
  message: MessageKey;
}

const EXPIRED: MessageKey = 'broker.refused.expired';
const IDP_ANSWER: MessageKey = 'broker.refused.idpAnswer';
const NOT_ACCEPTED: MessageKey = 'broker.refused.notAccepted';
/** The mapping's result is no identity the portal can take: the tenant's configuration, not the person. */
const IDENTITY: MessageKey = 'broker.refused.identity';
const REQUEST: MessageKey = 'broker.refused.message';
const NOT_FOUND: MessageKey = 'broker.refused.notFound';
const OTHER: MessageKey = 'broker.refused.other';

const MESSAGE_OF: Record<BrokerErrorCode, MessageKey> = {
  SAML_ACS_UNREGISTERED: REQUEST,
  SAML_BINDING_UNSUPPORTED: REQUEST,
  SAML_PASSIVE_NOT_POSSIBLE: REQUEST,
  SAML_FORCE_AUTHN_NOT_POSSIBLE: REQUEST,
  SAML_NAMEID_POLICY_UNSUPPORTED: REQUEST,
  SAML_AUTHN_CONTEXT_NOT_MET: NOT_ACCEPTED,
  SAML_SUBJECT_UNSUPPORTED: REQUEST,
  SAML_PROXY_COUNT_EXCEEDED: REQUEST,
  SAML_NO_SUPPORTED_IDP: REQUEST,
  SAML_AUTHENTICATION_NOT_FRESH: IDP_ANSWER,
  FLOW_UNKNOWN: EXPIRED,
  FLOW_BROWSER_MISMATCH: 'broker.refused.otherBrowser',
  FLOW_IDP_MISMATCH: IDP_ANSWER,
  CSRF_TOKEN_INVALID: 'broker.refused.form',
  IDP_UNKNOWN: 'broker.refused.unknownMethod',
  LOGOUT_STATE_UNKNOWN: 'broker.refused.signOutExpired',
  HTTP_BODY_TOO_LARGE: REQUEST,
  HTTP_CLIENT_ABORTED: REQUEST,
  HTTP_FORM_EXPECTED: REQUEST,
  HTTP_CONTENT_ENCODING_UNSUPPORTED: REQUEST,
  HTTP_SOAP_EXPECTED: REQUEST,
  HTTP_PARAMETER_REPEATED: REQUEST,
  METHOD_NOT_ALLOWED: NOT_FOUND,
  NOT_FOUND: NOT_FOUND,
  BROKER_INTERNAL: OTHER,
  // A state or code already used or unknown: the person came back late, or twice.
  OIDC_STATE_MISSING: EXPIRED,
  OIDC_STATE_UNKNOWN: EXPIRED,
  OIDC_STATE_REPLAYED: EXPIRED,
  OIDC_CODE_INVALID: EXPIRED,
  OIDC_ISSUER_MISMATCH: IDP_ANSWER,
  OIDC_STATE_MISMATCH: IDP_ANSWER,
  OIDC_ID_TOKEN_ISSUER_MISMATCH: IDP_ANSWER,
  OIDC_ID_TOKEN_AUDIENCE_MISMATCH: IDP_ANSWER,
  OIDC_ID_TOKEN_NONCE_MISMATCH: IDP_ANSWER,
  OIDC_ID_TOKEN_HASH_MISMATCH: IDP_ANSWER,
  OIDC_ID_TOKEN_ALG_FORBIDDEN: IDP_ANSWER,
  OIDC_ID_TOKEN_SIGNATURE_INVALID: IDP_ANSWER,
  OIDC_ID_TOKEN_KEY_UNKNOWN: IDP_ANSWER,
  OIDC_USERINFO_SUBJECT_MISMATCH: IDP_ANSWER,
  OIDC_USERINFO_SIGNATURE_INVALID: IDP_ANSWER,
  OIDC_USERINFO_NOT_FOR_BROKER: IDP_ANSWER,
  OIDC_RESPONSE_INVALID: IDP_ANSWER,
  OIDC_TOKEN_TYPE_UNSUPPORTED: IDP_ANSWER,
  OIDC_AUTHENTICATION_NOT_FRESH: IDP_ANSWER,
  OIDC_ACR_NOT_MET: IDP_ANSWER,
  OIDC_IDP_ERROR: IDP_ANSWER,
  OIDC_DISCOVERY_FAILED: IDP_ANSWER,
  OIDC_IDP_UNAVAILABLE: IDP_ANSWER,
  IDP_SIGN_IN_TIMEOUT: IDP_ANSWER,
  IDP_CALL_TIMEOUT: IDP_ANSWER,
  OIDC_CLIENT_KEY_UNSUPPORTED: OTHER,
  OIDC_CLIENT_REJECTED: OTHER,
  OAUTH2_USERINFO_INVALID: IDP_ANSWER,
  // Answers to an IdP's server (JSON, never a page); listed so that every code has its kind.
  OIDC_LOGOUT_TOKEN_INVALID: IDP_ANSWER,
  OIDC_LOGOUT_TOKEN_REPLAYED: IDP_ANSWER,
  // Shown in the IdP's hidden logout frame, if at all.
  OIDC_FRONTCHANNEL_LOGOUT_INVALID: IDP_ANSWER,
  // The IdP's logout of her IdP session crossed her sign-in with it (ADR 0170, 0171).
  IDP_SESSION_ENDED: 'broker.refused.idpSessionEnded',
  PORTAL_LOGOUT_UNCONFIRMED: OTHER,
  IDP_NOT_AUTHORITATIVE: NOT_ACCEPTED,
  IDP_EMAIL_UNVERIFIED: NOT_ACCEPTED,
  IDP_EMAIL_INVALID: NOT_ACCEPTED,
  MAPPING_INVALID: OTHER,
  MAPPING_NAMEID_EMPTY: IDENTITY,
  MAPPING_NAMEID_INVALID: IDENTITY,
  MAPPING_ASSERTION_TOO_LARGE: IDENTITY,
};

export function refusalText(code: string): RefusalText {
  const message = Object.hasOwn(MESSAGE_OF, code)
    ? MESSAGE_OF[code as BrokerErrorCode]
    : Object.hasOwn(SAML_CODES, code)
      ? REQUEST
      : OTHER;
  return {
    title: code === 'LOGOUT_STATE_UNKNOWN' ? 'broker.refused.signOutTitle' : 'broker.refused.title',
    message,
  };
}

/**
 * What a person reads on a fault's page (5xx). A flow store that refuses is said as it is (ADR 0212):
 * full comes back by itself, refused needs the service's operators, and "try again in a few moments"
 * would send people back to a page that stays the same.
 */
export const FAULT_TEXT: Readonly<Record<StoreRefusal | 'other', RefusalText>> = {
  full: { title: 'broker.storeFull.title', message: 'broker.storeFull.message' },
  refused: { title: 'broker.storeRefused.title', message: 'broker.storeRefused.message' },
  other: { title: 'broker.unavailable.title', message: 'broker.unavailable.message' },
};
