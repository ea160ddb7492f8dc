import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { JsmSsoError } from '../../common/errors.js';
import { audienceFault } from './oidc-audience.js';

/**
 * The Logout Token of OpenID Connect Back-Channel Logout 1.0, judged by the checks of its section
 * 2.6, in order; each refusal names the check that failed (`LogoutTokenRefusal.check`, logged as
 * `detail`), under the one reason code OIDC_LOGOUT_TOKEN_INVALID the IdP is answered with.
 * The one-time use of `jti` is the caller's (it needs the flow store).
 */

/** The member of `events` that makes a JWT a logout token (section 2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * A logout token issued longer ago than this is refused (section 2.6 step 3, "iat ... too far
 * away from the current time"): section 4 asks OPs for lifetimes of two minutes at most; five
 * leave room for a slow retry. It also bounds how long a `jti` must be remembered.
 */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;

/** How far the IdP's clock may be off ours (the ID token's tolerance, oidc-backend.ts). */
export const LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * The `typ` headers accepted. Section 4.1 asks OPs for `logout+jwt`; OPs that predate it send
 * `JWT` or none (Keycloak, Auth0), and their tokens are told apart from ID tokens by `events`
 * and the absence of `nonce`, as the section allows. Any other explicit type (`at+jwt`,
 * `secevent+jwt`, ...) is a token minted for another purpose: refused. Compared case-insensitively
 * with an optional `application/` prefix (RFC 7515 4.1.9).
 */
const ACCEPTED_TYPES = new Set(['logout+jwt', 'jwt']);

/** The names of the checks, in the order they run; the log's `detail` of a refusal. */
export type LogoutTokenCheck =
  | 'missing'
  | 'malformed'
  | 'alg'
  | 'key'
  | 'signature'
  | 'typ'
  | 'iss'
  | 'aud'
  | 'azp'
  | 'iat'
  | 'exp'
  | 'jti'
  | 'events'
  | 'subject'
  | 'nonce'
  | 'replayed';

export class LogoutTokenRefusal extends JsmSsoError {
  constructor(
    readonly check: LogoutTokenCheck,
    message: string,
    cause?: unknown,
  ) {
    super(check === 'replayed' ? 'OIDC_LOGOUT_TOKEN_REPLAYED' : 'OIDC_LOGOUT_TOKEN_INVALID', message, {
      status: 400,
      cause,
    });
    this.name = 'LogoutTokenRefusal';
  }
}

/** Whom a valid logout token signs out: its `sid` (one session at the IdP), its `sub`, or both. */
export interface LogoutTokenClaims {
  jti: string;
  sub?: string;
  sid?: string;
}

export interface LogoutTokenExpectation {
  /** The IdP's signing keys (oidc-signing-keys.ts). */
  keys: JWTVerifyGetKey;
  /** The one JWS algorithm accepted: the tenant's `idTokenSigningAlg`, as for ID tokens (step 2). */
  algorithm: string;
  issuer: string;
  clientId: string;
  now: () => Date;
}

export async function verifyLogoutToken(
  token: string,
  expected: LogoutTokenExpectation,
): Promise<LogoutTokenClaims> {
  const { payload, protectedHeader } = await jwtVerify(token, expected.keys, {
    algorithms: [expected.algorithm],
    issuer: expected.issuer,
    audience: expected.clientId,
    // Section 2.4 (errata set 1) requires exp as well; a missing one is refused as `exp`.
    requiredClaims: ['iat', 'exp'],
    // Also refuses an `iat` in the future beyond the tolerance.
    maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
    clockTolerance: LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
    currentDate: expected.now(),
  }).catch((err: unknown) => {
    throw verificationRefusal(err);
  });
  checkType(protectedHeader.typ);
  checkAuthorizedParty(payload, expected.clientId);
  const jti = checkJti(payload);
  checkEvents(payload);
  const subject = checkSubject(payload);
  // Section 2.6 step 6: a nonce marks an ID token, which must never be taken for a logout token.
  if (payload['nonce'] !== undefined)
    throw new LogoutTokenRefusal('nonce', 'the logout token carries a nonce');
  return { jti, ...subject };
}

function checkType(typ: string | undefined): void {
  if (typ === undefined) return;
  const type = typ.toLowerCase().replace(/^application\//, '');
  if (!ACCEPTED_TYPES.has(type))
    throw new LogoutTokenRefusal('typ', 'the token is typed as something other than a logout token');
}

/**
 * Section 2.6 step 3 judges `aud` "in the same way" as in ID tokens: the broker's client alone, and
 * an `azp` naming it (oidc-audience.ts). jose only checks that `aud` contains us, so a token the IdP
 * minted for another client's use, with us as one audience among others, would pass.
 */
function checkAuthorizedParty(payload: JWTPayload, clientId: string): void {
  const fault = audienceFault(payload, clientId);
  if (fault) throw new LogoutTokenRefusal(fault, 'the logout token is not for the broker alone');
}

/** Section 2.4: `jti` is required; its one-time use is checked by the caller. */
function checkJti(payload: JWTPayload): string {
  const { jti } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256)
    throw new LogoutTokenRefusal('jti', 'the logout token has no usable jti');
  return jti;
}

/** Section 2.6 step 5: `events` is a JSON object with the back-channel logout member, itself an object. */
function checkEvents(payload: JWTPayload): void {
  const events = payload['events'];
  const event = isObject(events) ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!isObject(events) || !Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT) || !isObject(event))
    throw new LogoutTokenRefusal('events', 'the token carries no back-channel logout event');
}

/** Section 2.6 step 4: a `sub`, a `sid`, or both, as non-empty strings. */
function checkSubject(payload: JWTPayload): { sub?: string; sid?: string } {
  const { sub } = payload;
  const sid = payload['sid'];
  const valid = (value: unknown) => value === undefined || (typeof value === 'string' && value !== '');
  if (!valid(sub) || !valid(sid) || (sub === undefined && sid === undefined))
    throw new LogoutTokenRefusal('subject', 'the logout token names neither a subject nor a session');
  return {
    ...(sub === undefined ? {} : { sub }),
    ...(typeof sid === 'string' ? { sid } : {}),
  };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** jose's refusals, by class and claim name (never by message text). */
function verificationRefusal(err: unknown): JsmSsoError {
  // The outbound client's own refusal of the JWKS answer keeps its reason.
  if (err instanceof JsmSsoError) return err;
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new LogoutTokenRefusal('alg', 'the logout token is signed with an algorithm not allowed', err);
  if (err instanceof errors.JWKSNoMatchingKey)
    return new LogoutTokenRefusal(
      'key',
      'the logout token names a key the identity provider does not publish',
      err,
    );
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new LogoutTokenRefusal('signature', "the logout token's signature does not verify", err);
  // JWTExpired is exp, or an iat older than maxTokenAge.
  if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) {
    // iss, aud, exp as named; any other is a time claim (iat missing, too old, in the future; nbf).
    const check = (['iss', 'aud', 'exp'] as const).find((claim) => claim === err.claim) ?? 'iat';
    return new LogoutTokenRefusal(check, `the logout token's ${err.claim} claim is not acceptable`, err);
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKSMultipleMatchingKeys
  )
    return new LogoutTokenRefusal('malformed', 'the logout token cannot be read', err);
  // The JWKS could not be read (network, timeout, an answer that is no key set).
  return new JsmSsoError('OIDC_IDP_UNAVAILABLE', "the identity provider's keys cannot be read", {
    status: 502,
    cause: err,
  });
}
