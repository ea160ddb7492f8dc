import { createHash } from 'node:crypto';
import type { OidcIdpSpec } from '../../common/config/tenant.generated.js';

/**
 * The hash OIDC Core 3.1.3.6 names for an ID token's JWS algorithm: the SHA-2 of the algorithm's size;
 * for EdDSA, SHA-512 (the Core errata's hash for Ed25519, the one curve jose verifies EdDSA with).
 */
const HASH_OF_ALGORITHM: Record<OidcIdpSpec['idTokenSigningAlg'], 'sha256' | 'sha384' | 'sha512'> = {
  RS256: 'sha256',
  PS256: 'sha256',
  ES256: 'sha256',
  RS384: 'sha384',
  PS384: 'sha384',
  ES384: 'sha384',
  RS512: 'sha512',
  PS512: 'sha512',
  ES512: 'sha512',
  EdDSA: 'sha512',
};

/** `at_hash` / `c_hash`: the base64url of the left half of the hash of the value's ASCII octets. */
function tokenHash(value: string, algorithm: OidcIdpSpec['idTokenSigningAlg']): string {
  const digest = createHash(HASH_OF_ALGORITHM[algorithm]).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * Which of the ID token's `at_hash` and `c_hash`, when it carries them, is not the hash of what it
 * came with: the access token of the same token response, the code the broker presented for it; or
 * undefined when neither is. OIDC Core 3.1.3.8 lets the code flow's client check `at_hash` and leaves
 * `c_hash` to the hybrid flow; openid-client 6 checks neither where openid-client 5 checked both
 * (ADR 0324). An ID token that vouches for another access token than the one beside it says that
 * the token response was not issued as one, and the broker reads the person's userinfo with that
 * access token. The algorithm is the tenant's, the only one the ID token's signature is checked with.
 */
export function tokenHashFault(
  claims: { readonly [claim: string]: unknown },
  issuedWith: { accessToken: string; code: string },
  algorithm: OidcIdpSpec['idTokenSigningAlg'],
): 'at_hash' | 'c_hash' | undefined {
  if (claims['at_hash'] !== undefined && claims['at_hash'] !== tokenHash(issuedWith.accessToken, algorithm))
    return 'at_hash';
  if (claims['c_hash'] !== undefined && claims['c_hash'] !== tokenHash(issuedWith.code, algorithm))
    return 'c_hash';
  return undefined;
}
