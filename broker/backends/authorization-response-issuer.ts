import { JsmSsoError } from '../../common/errors.js';

/**
 * RFC 9207 2.4: an authorization response's `iss`, when present, must be the issuer, whatever the
 * IdP's metadata says of the parameter. oauth4webapi tests it with `!iss`, so a present but empty
 * `iss` passes as none sent from an IdP that does not advertise
 * `authorization_response_iss_parameter_supported` (a plain OAuth 2.0 server with the stand-in
 * issuer among them), and a repeated one is no more than a malformed answer; both are refused here
 * as an `iss` that is not the issuer, before the code goes to any token endpoint (ADR 0370). One
 * missing where the IdP advertises it is oauth4webapi's to refuse (`protocolRefusal`).
 */
export function checkAuthorizationResponseIssuer(parameters: URLSearchParams, issuer: string): void {
  const sent = parameters.getAll('iss');
  if (sent.length === 0 || (sent.length === 1 && sent[0] === issuer)) return;
  throw new JsmSsoError('OIDC_ISSUER_MISMATCH', "the identity provider's answer failed a security check", {
    status: 400,
  });
}
