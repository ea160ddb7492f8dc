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

/** A userinfo call under way: its answer's text, once the fetch hook has seen it, a JWT or JSON. */
interface UserinfoCall {
  jwt?: Promise<string>;
  /** Read again by the broker with its numbers as written (exact-json.ts, ADR 0253). */
  json?: Promise<string>;
  /** Settles when the call is over: a later call presenting the same token waits for it. */
  over: Promise<void>;
}

/**
 * One IdP's fetch, which keeps a copy of a userinfo answer that is a JWT for the call that asked,
 * and the runner of those calls (`kept`). A call is known by what it alone sends: its access token,
 * as `Authorization: Bearer` (the token request authenticates the client, Basic or in its body; the
 * JWKS and discovery carry nothing). Calls presenting the same token run one after another, so an
 * answer is never given to another call than its own. A context carried across the call's awaits
 * (AsyncLocalStorage) would know the call too, but in Node 22 its first use turns on a promise hook
 * for the whole process, and every sign-in's promises paid for it from then on (ADR 0203).
 */
export interface SignedUserinfoKeeper {
  fetch: typeof globalThis.fetch;
  /** Runs the userinfo request presenting `accessToken`; what it returns, and the JWT or JSON text the answer was. */
  kept<T>(
    accessToken: string,
    request: () => Promise<T>,
  ): Promise<{ result: T; jwt?: string; json?: string }>;
}

export function signedUserinfoKeeper(fetchImpl: typeof globalThis.fetch): SignedUserinfoKeeper {
  /** By the Authorization header value the call sends. */
  const calls = new Map<string, UserinfoCall>();
  return {
    async fetch(input, init) {
      const response = await fetchImpl(input, init);
      if (calls.size === 0) return response;
      const call = calls.get(new Headers(init?.headers).get('authorization') ?? '');
      if (call) {
        const text = response.clone().text();
        // Read only if the call succeeds; an answer broken off mid-body fails the call itself, and
        // this copy's rejection, left unhandled, would end the whole broker process.
        text.catch(() => undefined);
        if (response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/jwt')
          call.jwt = text;
        else call.json = text;
      }
      return response;
    },
    async kept(accessToken, request) {
      const key = authorizationPresenting(accessToken);
      // Not a value a header can hold: the request fails as it sets the same header (TypeError).
      if (key === undefined) return { result: await request() };
      for (let earlier = calls.get(key); earlier; earlier = calls.get(key)) await earlier.over;
      let end = () => {};
      const call: UserinfoCall = { over: new Promise((resolve) => (end = resolve)) };
      calls.set(key, call);
      try {
        const result = await request();
        return {
          result,
          ...(call.jwt ? { jwt: await call.jwt } : {}),
          ...(call.json ? { json: await call.json } : {}),
        };
      } finally {
        calls.delete(key);
        end();
      }
    },
  };
}

/**
 * The Authorization header a call presenting `accessToken` sends, as fetch's Headers hold it;
 * undefined for a token no header can hold.
 */
export function authorizationPresenting(accessToken: string): string | undefined {
  try {
    return new Headers({ authorization: `Bearer ${accessToken}` }).get('authorization')!;
  } catch {
    return undefined;
  }
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
