import * as client from 'openid-client';
import type { BrokerErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import { IdpRefusal, type IdpRefusalKind } from './backend.js';
import { callTimedOut, idpCallTimeout } from './idp-call-timeout.js';

/**
 * openid-client's refusals become broker refusals with a stable reason, read from the library's
 * error codes and the structured `cause` oauth4webapi attaches (which claim, which parameter, which
 * header), never from message text: a library upgrade that rewords a message cannot move a
 * reason code in metrics and audit logs.
 */

/**
 * OAuth `error` codes meaning "the person would have had to interact" (OIDC Core 3.1.2.6): the
 * answer to prompt=none, and so to a passive AuthnRequest.
 */
const INTERACTION_NEEDED = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/**
 * The token endpoint's refusal of the broker's own client authentication (RFC 6749 5.2): its
 * credentials are wrong, rotated at one end only, or the client may not use the code grant. The
 * tenant's registration at the IdP is at fault, never the person (ADR 0093, ADR 0237).
 */
const CLIENT_REJECTED = new Set(['invalid_client', 'unauthorized_client']);

function clientRejected(err: unknown): boolean {
  if (err instanceof client.ResponseBodyError) return CLIENT_REJECTED.has(err.error);
  // 5.2 has a 401 carry the challenge of the scheme the client used: Basic only at the token endpoint.
  if (err instanceof client.WWWAuthenticateChallengeError)
    return err.cause.some(
      ({ scheme, parameters }) => scheme === 'basic' || CLIENT_REJECTED.has(parameters.error ?? ''),
    );
  return false;
}

/** Which answer a call's claims are in: the token response's ID token, or a signed userinfo answer. */
export type ClaimsOf = 'id_token' | 'userinfo';

/** Claims whose failed comparison has its own reason (OIDC Core 3.1.3.7, 5.3.2). */
const CLAIM_REASONS: Readonly<Record<ClaimsOf, Readonly<Record<string, BrokerErrorCode>>>> = {
  id_token: {
    iss: 'OIDC_ID_TOKEN_ISSUER_MISMATCH',
    aud: 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH',
    azp: 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH',
    nonce: 'OIDC_ID_TOKEN_NONCE_MISMATCH',
  },
  userinfo: { iss: 'OIDC_USERINFO_NOT_FOR_BROKER', aud: 'OIDC_USERINFO_NOT_FOR_BROKER' },
};

/**
 * oauth4webapi's error codes (carried by openid-client's errors) for an answer that failed a check
 * or a request the broker refused to make: a 400, never the IdP being down. Its other codes,
 * OAUTH_RESPONSE_BODY_ERROR (an error status with a body), OAUTH_AUTHORIZATION_RESPONSE_ERROR
 * (handled first) and OAUTH_WWW_AUTHENTICATE_CHALLENGE (the client's rejection, handled first, or the
 * IdP refusing a token its own token endpoint just issued: the IdP failing, ADR 0237), are not here;
 * nor an answer that is no JSON (OAUTH_RESPONSE_IS_NOT_JSON: a proxy's HTML page in the IdP's place)
 * or whose JSON does not parse (OAUTH_PARSE_ERROR: cut short): the calls judged here (the code grant,
 * userinfo, a user endpoint) are the broker's own to the IdP, whose answers never cross the person's
 * browser, so such an answer is the IdP failing, as for Atlassian's (ADR 0267, ADR 0314).
 */
const CHECK_FAILED = new Set<string>([
  'OAUTH_INVALID_REQUEST',
  'OAUTH_HTTP_REQUEST_FORBIDDEN',
  'OAUTH_REQUEST_PROTOCOL_FORBIDDEN',
  'OAUTH_MISSING_SERVER_METADATA',
  'OAUTH_INVALID_SERVER_METADATA',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
  'OAUTH_JWT_USERINFO_EXPECTED',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_UNSUPPORTED_OPERATION',
]);

function refusalKind(error: string): IdpRefusalKind {
  if (INTERACTION_NEEDED.has(error)) return 'interaction_required';
  return error === 'access_denied' ? 'access_denied' : 'failed';
}

type Details = Record<string, unknown>;

/** The failed check's code and oauth4webapi's details, from openid-client's wrapper or the error itself. */
function failedCheck(err: unknown): { code: string; details: Details } | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const details = e.cause;
    if (
      typeof code === 'string' &&
      details !== null &&
      typeof details === 'object' &&
      !(details instanceof Error)
    )
      return { code, details: details as Details };
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? { code, details: {} } : undefined;
}

function isDetails(value: unknown): value is Details {
  return value !== null && typeof value === 'object';
}

/** Which check failed, from the code and details of oauth4webapi's error. */
function checkReason(
  code: string,
  details: Details,
  issuer: string | undefined,
  claimsOf: ClaimsOf,
): BrokerErrorCode | undefined {
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && typeof details['claim'] === 'string')
    return CLAIM_REASONS[claimsOf][details['claim']];
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && details['attribute'] === 'sub')
    return 'OIDC_USERINFO_SUBJECT_MISMATCH';
  // A token response of a type oauth4webapi does not know (the body it names holds the type).
  if (code === 'OAUTH_UNSUPPORTED_OPERATION' && isDetails(details['body']) && 'token_type' in details['body'])
    return 'OIDC_TOKEN_TYPE_UNSUPPORTED';
  if (code !== 'OAUTH_INVALID_RESPONSE') return undefined;
  // The ID token's signing algorithm is not the one allowed (the failure names where the rule came from).
  if ('header' in details && 'reason' in details) return 'OIDC_ID_TOKEN_ALG_FORBIDDEN';
  if ('signature' in details && 'key' in details) return 'OIDC_ID_TOKEN_SIGNATURE_INVALID';
  const parameters = details['parameters'];
  if (parameters instanceof URLSearchParams && !parameters.has('response')) {
    // The authorization response's `iss` (RFC 9207) is checked before its `state`: missing when
    // required (no expected value recorded), or not the issuer (which finishLogin refuses first,
    // checkAuthorizationResponseIssuer, with the same reason).
    const iss = parameters.get('iss');
    if (!('expected' in details) || (iss !== null && iss !== issuer)) return 'OIDC_ISSUER_MISMATCH';
    return 'OIDC_STATE_MISMATCH';
  }
  return undefined;
}

/**
 * An IdP's HTTP status that says it cannot answer now: a server error, or its rate limit (429, from
 * the IdP or a gateway in front of it, ADR 0314); or a redirect (a moved endpoint, a gateway's
 * sign-in page), which the broker never follows: a 307 of the token endpoint would carry the code,
 * the PKCE verifier and the client's credentials on, any of the userinfo endpoint the access token
 * (RFC 9700 4.12, ADR 0324). The IdP failing, never the person.
 */
export function idpFailingStatus(status: number): boolean {
  return status >= 500 || status === 429 || (status >= 300 && status < 400);
}

/**
 * Such a status without an OAuth error body (say its proxy's HTML error page, Okta's rate-limit JSON) is
 * the IdP failing, though oauth4webapi reports it as a non-conforming response whose `cause` is the
 * Response.
 */
function idpFailed(details: Details): boolean {
  return details instanceof Response && idpFailingStatus(details.status);
}

/**
 * Our own refusal of a call (the outbound client's: an answer too large, plaintext, a host name
 * that did not resolve in time), which openid-client wraps in its generic "something went wrong".
 */
export function ownRefusalIn(err: unknown): JsmSsoError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++)
    if (e instanceof JsmSsoError) return e;
  return undefined;
}

/**
 * The broker refusal for an error of openid-client; `issuer` is the IdP's, from its metadata;
 * `claimsOf`, the answer whose JWT claims the call compares.
 */
export function protocolRefusal(
  err: unknown,
  issuer: string | undefined,
  claimsOf: ClaimsOf = 'id_token',
): JsmSsoError {
  const own = ownRefusalIn(err);
  if (own) return own;
  if (err instanceof client.AuthorizationResponseError)
    return new IdpRefusal('OIDC_IDP_ERROR', refusalKind(err.error), err);
  // The token endpoint's invalid_grant: a code already used, expired, or issued for another login
  // (RFC 6749 5.2). The person's fault or an attacker's, never the IdP being down.
  if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant')
    return new JsmSsoError('OIDC_CODE_INVALID', 'this sign-in was already completed or has expired', {
      status: 400,
      cause: err,
    });
  if (clientRejected(err))
    return new JsmSsoError(
      'OIDC_CLIENT_REJECTED',
      "the identity provider does not accept the broker's client credentials",
      { status: 500, cause: err },
    );
  const check = failedCheck(err);
  if (check && CHECK_FAILED.has(check.code) && !idpFailed(check.details)) {
    const reason = checkReason(check.code, check.details, issuer, claimsOf) ?? 'OIDC_RESPONSE_INVALID';
    return new JsmSsoError(reason, "the identity provider's answer failed a security check", {
      status: 400,
      cause: err,
    });
  }
  // The call's own deadline passed (openid-client's `timeout`): the IdP slow, not unreachable (ADR 0441).
  if (callTimedOut(err)) return idpCallTimeout(err);
  return idpUnavailable('the identity provider could not complete the sign-in', err);
}

/** The IdP failing (unreachable, a server error): its fault, never the person's. */
export function idpUnavailable(message: string, cause?: unknown): JsmSsoError {
  return new JsmSsoError('OIDC_IDP_UNAVAILABLE', message, { status: 502, cause });
}
