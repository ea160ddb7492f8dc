import { JsmSsoError } from '../../common/errors.js';

/**
 * One call to an IdP that did not answer, or did not finish its answer, within its own deadline
 * (IDP_TIMEOUT_MS, ADR 0142): the IdP slow, which an operator alerts on and a person is told apart
 * from the IdP unreachable or failing (OIDC_IDP_UNAVAILABLE: refused, reset, a 5xx, a TLS failure),
 * and from a sign-in whose calls each answered in time but together passed its budget
 * (IDP_SIGN_IN_TIMEOUT). ADR 0441.
 */

/**
 * Whether `err`, or what it wraps (openid-client's "something went wrong", fetch's TypeError), is the
 * deadline's abort: a DOMException named TimeoutError, what `AbortSignal.timeout` aborts with and
 * openid-client's `timeout` uses. Told by its name, never by message text.
 */
export function callTimedOut(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++)
    if (e.name === 'TimeoutError') return true;
  return false;
}

/** The refusal of a call past its deadline. */
export function idpCallTimeout(cause: unknown): JsmSsoError {
  return new JsmSsoError('IDP_CALL_TIMEOUT', 'the identity provider did not answer in time', {
    status: 502,
    cause,
  });
}
