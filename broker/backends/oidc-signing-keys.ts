import {
  compactVerify,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTVerifyGetKey,
} from 'jose';
import type { BrokerErrorCode } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import { KeyReadHealth } from './key-read-health.js';
import { jwksCopy } from './oidc-key-copy.js';
import { RefetchCooldown } from './refetch-cooldown.js';

/**
 * The IdP's ID token signing keys, read from its jwks_uri, and the check of an ID token's signature
 * against them (ADR 0144). openid-client checks every claim of the ID token; the signature is
 * checked here, on the token it returned, because the code grant is over by then: a key the broker
 * does not know yet (the IdP rotated) is fetched and the same token checked again, so the sign-in
 * under way is saved without any check left out. openid-client's own check (non-repudiation) would
 * refuse it for up to a minute after the broker's last read of the JWKS, and the code is spent.
 * When the keys are read, and what serves when a read fails: oidc-key-copy.ts (ADR 0151).
 */

/**
 * Two reads of the JWKS for a key ID the broker does not know are at least this far apart: tokens
 * with made-up key IDs cannot make the broker hammer the IdP. A read for another reason (first use,
 * expiry) does not count, so a rotation right after one is still seen at once.
 */
export const KEY_REFETCH_COOLDOWN_MS = 10_000;

export interface IdpSigningKeysOptions {
  idp: string;
  jwksUri: URL;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  now: () => Date;
  logger: Logger;
  /** Counts a failed read of the IdP's keys (the broker's telemetry). */
  countFailedRead: () => void;
}

/** Checks an ID token's signature with the IdP's keys; refuses with a reason code. */
export type IdTokenSignatureCheck = (idToken: string) => Promise<void>;

/**
 * The IdP's keys for jose's verify functions, and a way to have them read again when a key of the
 * copy, chosen by the token's header, does not verify its signature.
 */
export type IdpSigningKeys = JWTVerifyGetKey & {
  /**
   * Reads the keys again after a signature failed with a key of the copy: the IdP may have replaced
   * its key under the same `kid`, or its only key, named by none (OIDC Core 10.1 needs no `kid` then),
   * which no unknown `kid` tells. Whether the keys were read (or a read under way was joined): not
   * within the cooldown of the last such read. Refuses, the IdP failing, when that read fails or
   * the last one did (ADR 0314): the key may have been replaced, and nothing can tell.
   */
  readAfterFailedSignature(): Promise<boolean>;
};

/**
 * The key of the IdP's JWKS that a token's header names, for jose's verify functions: one copy of
 * the keys per IdP, shared by ID tokens and back-channel logout tokens (ADR 0150), read again when a
 * token names a key the broker does not have (with a cooldown).
 */
export function idpSigningKeys(options: IdpSigningKeysOptions): IdpSigningKeys {
  const health = new KeyReadHealth({
    idp: options.idp,
    keys: 'oidc_jwks',
    logger: options.logger,
    countFailedRead: options.countFailedRead,
  });
  const keys = jwksCopy({ ...options, health });
  const cooldown = new RefetchCooldown(KEY_REFETCH_COOLDOWN_MS, options.now);
  // Reads after a failed signature are spaced on their own: a forged signature under the IdP's own
  // kid costs at most one read per cooldown, and never holds back a read for a rotated-in kid.
  const signatureCooldown = new RefetchCooldown(KEY_REFETCH_COOLDOWN_MS, options.now);

  async function keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    try {
      return await (await keys.current())(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    // A key ID the broker does not have: the keys are read again unless that was done moments ago.
    // A read under way (for another sign-in) serves this one too; one that has just ended is
    // already in the copy, so the copy is always looked at once more.
    const reading = cooldown.claim();
    if (reading) {
      options.logger.info(
        { event: 'broker.oidc_keys_refetch', idp: options.idp, cause: 'unknown_key_id' },
        "a token names a key the broker does not have: the IdP's keys are read again",
      );
    }
    const latest = reading || keys.reading ? await keys.reread() : await keys.current();
    try {
      return await latest(header, token);
    } catch (err) {
      // The last read failed: whether the IdP publishes the key is not known, the IdP is failing
      // (ADR 0314). Before, the sign-ins within the cooldown were refused as tokens of no key.
      if (!reading && err instanceof errors.JWKSNoMatchingKey && keys.failing) throw keysUnreadable(err);
      if (!reading && err instanceof errors.JWKSNoMatchingKey) {
        options.logger.warn(
          {
            event: 'broker.oidc_keys_refetch_held',
            idp: options.idp,
            retryInSeconds: cooldown.retryInSeconds(),
          },
          "a token names a key the broker does not have; the IdP's keys were read again moments ago",
        );
      }
      throw err;
    }
  }

  async function readAfterFailedSignature(): Promise<boolean> {
    const reading = signatureCooldown.claim();
    if (!reading && !keys.reading) {
      if (keys.failing) throw keysUnreadable(new Error("the IdP's keys' last read failed"));
      return false;
    }
    if (reading) {
      options.logger.info(
        { event: 'broker.oidc_keys_refetch', idp: options.idp, cause: 'signature_failed' },
        "a token's signature does not verify with the key the broker has: the IdP's keys are read again",
      );
    }
    // A failed read refuses with its reason (OIDC_IDP_UNAVAILABLE, UPSTREAM_RESPONSE_TOO_LARGE), also
    // told by the key read health.
    await keys.reread();
    return true;
  }

  return Object.assign(keyFor, { readAfterFailedSignature });
}

/** `algorithm`: the only JWS algorithm accepted (the tenant's `idTokenSigningAlg`). */
export function idTokenSignatureCheck(keys: IdpSigningKeys, algorithm: string): IdTokenSignatureCheck {
  const verify = (idToken: string) => compactVerify(idToken, keys, { algorithms: [algorithm] });
  return async (idToken) => {
    try {
      await verify(idToken);
    } catch (err) {
      // The code is spent: the same token is checked once more with the keys read again (ADR 0268).
      if (!(err instanceof errors.JWSSignatureVerificationFailed) || !(await keys.readAfterFailedSignature()))
        throw signatureRefusal(err);
      await verify(idToken).catch((again: unknown) => {
        throw signatureRefusal(again);
      });
    }
  };
}

/** jose's refusals as broker reasons, by error class (never by message text). */
function signatureRefusal(err: unknown): JsmSsoError {
  // The outbound client's own refusal of the JWKS answer (UPSTREAM_RESPONSE_TOO_LARGE) keeps its reason.
  if (err instanceof JsmSsoError) return err;
  const refused = (reason: BrokerErrorCode, message: string) =>
    new JsmSsoError(reason, message, { status: 400, cause: err });
  if (err instanceof errors.JWKSNoMatchingKey)
    return refused(
      'OIDC_ID_TOKEN_KEY_UNKNOWN',
      'the ID token is signed with a key the identity provider does not publish',
    );
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refused('OIDC_ID_TOKEN_SIGNATURE_INVALID', "the ID token's signature does not verify");
  if (err instanceof errors.JOSEAlgNotAllowed)
    return refused(
      'OIDC_ID_TOKEN_ALG_FORBIDDEN',
      'the ID token is signed with an algorithm that is not allowed',
    );
  // A malformed token, a critical header the broker does not know, or two published keys that fit
  // it equally (no kid to tell them apart).
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKSMultipleMatchingKeys
  )
    return refused('OIDC_RESPONSE_INVALID', "the ID token's signature cannot be checked");
  return keysUnreadable(err);
}

/** What is left of jose's errors once the token is judged: the JWKS could not be read (network, timeout, an answer that is no key set). */
export function keysUnreadable(err: unknown): JsmSsoError {
  return new JsmSsoError('OIDC_IDP_UNAVAILABLE', "the identity provider's keys cannot be read", {
    status: 502,
    cause: err,
  });
}
