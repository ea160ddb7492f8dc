import {
  type BinaryLike,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyLike,
  KeyObject,
  sign,
  verify,
} from 'node:crypto';
import type { HashAlgorithm, SignatureAlgorithm } from 'xml-crypto';
import { JsmSsoError } from '../errors.js';

/**
 * The only algorithms jsm-sso accepts or produces. SHA-1 (rsa-sha1, dsa-sha1, sha1 digests) is
 * refused: its collisions are practical and SAML deployments have moved on. HMAC is refused because
 * a shared secret is not an identity.
 */
export const SIGNATURE_ALGORITHMS = {
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { hash: 'sha256', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { hash: 'sha384', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { hash: 'sha512', keyType: 'rsa' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { hash: 'sha256', keyType: 'ec' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { hash: 'sha384', keyType: 'ec' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { hash: 'sha512', keyType: 'ec' },
} as const;
export type SignatureAlgorithmUri = keyof typeof SIGNATURE_ALGORITHMS;

export const DIGEST_ALGORITHMS = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
} as const;
export type DigestAlgorithmUri = keyof typeof DIGEST_ALGORITHMS;

export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const EXC_C14N_WITH_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/**
 * Exclusive canonicalization only (SAML core 5.4.3 recommends it). The #WithComments form is
 * accepted because a same-document reference (`#ID`) drops comments before any transform
 * (XMLDSig 1.1 §4.4.3.3), which makes both forms sign the same octets.
 */
export const CANONICALIZATION_ALGORITHMS: readonly string[] = [EXC_C14N, EXC_C14N_WITH_COMMENTS];
export const REFERENCE_TRANSFORMS: readonly string[] = [
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  EXC_C14N_WITH_COMMENTS,
];

export function isSignatureAlgorithm(uri: string | undefined): uri is SignatureAlgorithmUri {
  return uri !== undefined && Object.hasOwn(SIGNATURE_ALGORITHMS, uri);
}

export function isDigestAlgorithm(uri: string | undefined): uri is DigestAlgorithmUri {
  return uri !== undefined && Object.hasOwn(DIGEST_ALGORITHMS, uri);
}

/** Default signature algorithm for a key: rsa-sha256 for RSA, ecdsa-sha256 for EC. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithmUri {
  return key.asymmetricKeyType === 'ec'
    ? 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'
    : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
}

/** The algorithms a tenant may choose for the portal–broker hop (`spec.signatureAlgorithm`). */
export const HOP_SIGNATURE_ALGORITHMS = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
} as const satisfies Record<string, SignatureAlgorithmUri>;
export type HopSignatureAlgorithm = keyof typeof HOP_SIGNATURE_ALGORITHMS;

/**
 * The one algorithm a portal or broker key signs the hop with, checked against the tenant's
 * choice when given. Only RSA keys of 2048 bits or more (rsa-sha256) and P-256 keys (ecdsa-sha256)
 * qualify: each end verifies exactly one algorithm, and ECDSA on another curve would want another
 * hash (P-384 pairs with SHA-384).
 */
export function hopSigningAlgorithm(
  key: KeyObject,
  configured?: HopSignatureAlgorithm,
): SignatureAlgorithmUri {
  const rsa = key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  const p256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (!rsa && !p256) {
    throw new JsmSsoError(
      'SIGNING_KEY_UNSUPPORTED',
      `the SAML signing key must be RSA (2048 bits or more) or EC P-256, got ${key.asymmetricKeyType}`,
    );
  }
  const algorithm = HOP_SIGNATURE_ALGORITHMS[rsa ? 'rsa-sha256' : 'ecdsa-sha256'];
  if (configured !== undefined && HOP_SIGNATURE_ALGORITHMS[configured] !== algorithm) {
    throw new JsmSsoError(
      'SIGNING_KEY_ALGORITHM_MISMATCH',
      `spec.signatureAlgorithm is ${configured}, but the SAML signing key is ${rsa ? 'RSA' : 'EC P-256'}: ` +
        `provide a ${configured === 'rsa-sha256' ? 'RSA' : 'P-256'} key or change the setting`,
    );
  }
  return algorithm;
}

/**
 * Signs or verifies `data` with an allow-listed algorithm. ECDSA values are r||s (IEEE P1363), as
 * RFC 4051 defines for XML Signature and SAML's Redirect binding; a key of the wrong type never
 * verifies, so an RSA certificate cannot be confused with an EC one.
 */
export function rawSign(uri: SignatureAlgorithmUri, data: Buffer | string, privateKey: KeyLike): Buffer {
  const { hash, keyType } = SIGNATURE_ALGORITHMS[uri];
  const key = privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey);
  return sign(hash, Buffer.from(data), keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key);
}

export function rawVerify(
  uri: SignatureAlgorithmUri,
  data: Buffer | string,
  publicKey: KeyObject,
  signature: Buffer,
): boolean {
  const { hash, keyType } = SIGNATURE_ALGORITHMS[uri];
  if (publicKey.asymmetricKeyType !== keyType) return false;
  try {
    return verify(
      hash,
      Buffer.from(data),
      keyType === 'ec' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
      signature,
    );
  } catch {
    return false;
  }
}

/** xml-crypto plug-ins for exactly the allow-listed algorithms (it ships SHA-1 and lacks ECDSA). */
export function xmlCryptoSignatureAlgorithms(): Record<string, new () => SignatureAlgorithm> {
  const entries = (Object.keys(SIGNATURE_ALGORITHMS) as SignatureAlgorithmUri[]).map((uri) => {
    class Algorithm {
      getAlgorithmName = () => uri;
      getSignature = (signedInfo: BinaryLike, privateKey: KeyLike) =>
        rawSign(uri, Buffer.from(signedInfo as string), privateKey).toString('base64');
      verifySignature = (material: string, key: KeyLike, signatureValue: string) =>
        rawVerify(uri, material, createPublicKey(key), Buffer.from(signatureValue, 'base64'));
    }
    return [uri, Algorithm as unknown as new () => SignatureAlgorithm] as const;
  });
  return Object.fromEntries(entries);
}

export function xmlCryptoHashAlgorithms(): Record<string, new () => HashAlgorithm> {
  const entries = (Object.keys(DIGEST_ALGORITHMS) as DigestAlgorithmUri[]).map((uri) => {
    class Algorithm {
      getAlgorithmName = () => uri;
      getHash = (xml: string) => createHash(DIGEST_ALGORITHMS[uri]).update(xml, 'utf8').digest('base64');
    }
    return [uri, Algorithm as unknown as new () => HashAlgorithm] as const;
  });
  return Object.fromEntries(entries);
}
