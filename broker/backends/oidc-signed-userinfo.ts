import { AsyncLocalStorage } from 'node:async_hooks';
import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { BrokerErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import { keysUnreadable } from './oidc-signing-keys.js';

/**
 * A userinfo answer signed as a JWT (`application/jwt`, OIDC Core 5.3.2), checked as the ID token is
 * (ADR 0198). The broker asks for JSON, but an OP whose client registration says
 * `userinfo_signed_response_alg` answers with a JWT all the same, and openid-client takes it with its
 * claims checked and its signature not (that check is its non-repudiation option, which reads the
 * OP's keys itself: ADR 0144 says why the broker keeps its own copy). A signed answer is a claim the
 * OP vouches for with its keys: the broker holds it to that, or it would be taking a signature that
 * anyone on the path could have made as the OP's.
 */

/** Where the fetch hook leaves the JWT of the userinfo call under way (one per call, not per IdP). */
const userinfoCall = new AsyncLocalStorage<{ jwt?: Promise<string> }>();

/**
 * The IdP's fetch, which keeps a copy of a userinfo answer that is a JWT for the call that asked
 * (keptSignedUserinfo). Any other answer passes untouched.
 */
export function keepingSignedUserinfo(fetchImpl: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const call = userinfoCall.getStore();
    if (call && response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/jwt')
      call.jwt = response.clone().text();
    return response;
  };
}

/** Runs the userinfo request; what it returns, and the JWT the answer was when it was one. */
export async function keptSignedUserinfo<T>(request: () => Promise<T>): Promise<{ result: T; jwt?: string }> {
  const call: { jwt?: Promise<string> } = {};
  const result = await userinfoCall.run(call, request);
  return { result, ...(call.jwt ? { jwt: await call.jwt } : {}) };
}

export interface SignedUserinfoExpectations {
  keys: JWTVerifyGetKey;
  /** The only JWS algorithm accepted: the tenant's `idTokenSigningAlg`. */
  algorithm: string;
  issuer: string;
  clientId: string;
}

/**
 * OIDC Core 5.3.4: the signature verifies with the IdP's keys and the one algorithm; 5.3.2: a signed
 * answer MUST carry `iss` (the IdP) and `aud` (including the broker), which openid-client checks
 * only when present.
 */
export async function checkSignedUserinfo(jwt: string, expected: SignedUserinfoExpectations): Promise<void> {
  try {
    await jwtVerify(jwt, expected.keys, {
      algorithms: [expected.algorithm],
      issuer: expected.issuer,
      audience: expected.clientId,
      // openid-client's tolerance, as for the ID token; it has checked exp and nbf already.
      clockTolerance: 30,
    });
  } catch (err) {
    throw userinfoRefusal(err);
  }
}

/** jose's refusals as broker reasons, by error class and claim (never by message text). */
function userinfoRefusal(err: unknown): JsmSsoError {
  if (err instanceof JsmSsoError) return err;
  const refused = (reason: BrokerErrorCode, message: string) =>
    new JsmSsoError(reason, message, { status: 400, cause: err });
  if (err instanceof errors.JWTClaimValidationFailed && (err.claim === 'iss' || err.claim === 'aud'))
    return refused(
      'OIDC_USERINFO_NOT_FOR_BROKER',
      "the identity provider's signed user information does not name it as issuer and the broker as audience",
    );
  if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired)
    return refused(
      'OIDC_RESPONSE_INVALID',
      "the identity provider's signed user information is not valid now",
    );
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported
  )
    return refused(
      'OIDC_USERINFO_SIGNATURE_INVALID',
      "the identity provider's signed user information does not verify with its keys",
    );
  return keysUnreadable(err);
}
