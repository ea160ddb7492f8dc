import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { SecretReader } from '../pool/source.js';
import { keyPairProblem } from './key-pairs.js';
import { signingSecretName } from './signing-secrets.js';
import type { JsmSsoTenant } from './tenant.generated.js';

/**
 * The rules a decryption key pair (spec.broker.encryptionSecretRef, ADR 0338) is held to, judged by
 * the broker at start and by the operator in ConfigValid in the same words (ADR 0352). Only what is
 * public of a private key is needed: the operator keeps no private material (secret-facts.ts).
 */
export interface PrivateKeyFacts {
  /** 'rsa', 'ec', 'ed25519'... */
  type: string | undefined;
  /** The RSA modulus length; undefined for other keys. */
  bits: number | undefined;
  /** Base64 SHA-256 of the public key (SPKI DER), to compare keys whatever their encoding. */
  publicKey: string;
}

/** RSA-OAEP under a shorter modulus is below what NIST SP 800-131A allows. */
const MIN_RSA_BITS = 2048;

export function keyFacts(key: KeyObject): PrivateKeyFacts {
  return {
    type: key.asymmetricKeyType,
    bits: key.asymmetricKeyDetails?.modulusLength,
    publicKey: spkiDigest(key),
  };
}

/** The facts of a PEM private key; undefined when it is not one. */
export function privateKeyFacts(pem: string): PrivateKeyFacts | undefined {
  try {
    return keyFacts(createPrivateKey(pem));
  } catch {
    return undefined;
  }
}

/** The public key digest of a PEM certificate; undefined when it is not one. */
export function certificatePublicKey(pem: string): string | undefined {
  try {
    return spkiDigest(new X509Certificate(pem).publicKey);
  } catch {
    return undefined;
  }
}

/**
 * The public key of a Secret's key (`tls.key`, `next.key`) or certificate (`tls.crt`, `next.crt`), as
 * one side can read it: undefined when absent, or not a PEM key or certificate. The parts read it from
 * their mounted Secrets (`readablePublicKeys`), the operator from its Secrets' facts.
 */
export type PublicKeyOf = (secret: string, key: string) => string | undefined;

/** Whether a Secret's `key` holds a private key (its pairs' `.key`), not a certificate. */
export function isPrivateKeyName(key: string): boolean {
  return key.endsWith('.key');
}

/** PublicKeyOf of the Secrets this process can read. */
export function readablePublicKeys(secrets: SecretReader): PublicKeyOf {
  return (secret, key) => {
    const pem = secrets.readOptional(secret, key);
    if (pem === undefined) return undefined;
    return isPrivateKeyName(key) ? privateKeyFacts(pem)?.publicKey : certificatePublicKey(pem);
  };
}

function spkiDigest(key: KeyObject): string {
  return createHash('sha256')
    .update((key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' }))
    .digest('base64');
}

/** A key of the tenant's that the decryption key must not be: where it is, and what it does. */
export interface ForeignKey {
  secret: string;
  /** tls.key or next.key. */
  key: string;
  /** Its certificate (tls.crt, next.crt), which stands for it where the key is not readable. */
  certificate: string;
  role: string;
}

/**
 * Every other private key of the tenant: the broker's and the portal's signing keys (next ones too)
 * and their listener TLS keys. A key that decrypts whatever anyone posts must do nothing else: with
 * RSA, a decryption oracle is a signing oracle, for SAML assertions, the hop, or a TLS handshake.
 */
export function foreignKeys(tenant: JsmSsoTenant): ForeignKey[] {
  const signing = (part: 'broker' | 'portal'): ForeignKey[] => [
    { ...pair(signingSecretName(tenant, part), 'tls'), role: `the ${part}'s signing key` },
    { ...pair(signingSecretName(tenant, part), 'next'), role: `the ${part}'s next signing key` },
  ];
  const listener = (part: 'broker' | 'portal'): ForeignKey[] => {
    const ref = tenant.spec[part].tlsSecretRef;
    return ref ? [{ ...pair(ref.name, 'tls'), role: `the ${part}'s TLS key` }] : [];
  };
  return [...signing('broker'), ...signing('portal'), ...listener('broker'), ...listener('portal')];
}

function pair(secret: string, prefix: 'tls' | 'next'): Omit<ForeignKey, 'role'> {
  return { secret, key: `${prefix}.key`, certificate: `${prefix}.crt` };
}

/** A ForeignKey whose public key could be read. */
export interface KnownForeignKey extends ForeignKey {
  publicKey: string;
}

/**
 * The tenant's other keys as one side can read them: the key itself where it is readable, else its
 * certificate (the broker reads the portal's certificates, never its keys). A key neither of which
 * is readable is not judged there.
 */
export function knownForeignKeys(tenant: JsmSsoTenant, publicKeyOf: PublicKeyOf): KnownForeignKey[] {
  return foreignKeys(tenant).flatMap((other) => {
    const publicKey = publicKeyOf(other.secret, other.key) ?? publicKeyOf(other.secret, other.certificate);
    return publicKey === undefined ? [] : [{ ...other, publicKey }];
  });
}

/**
 * What is wrong with the pair `<pair>.key`/`<pair>.crt` of the decryption Secret, or undefined. `key`
 * undefined: the key is not a PEM private key; `certificate` undefined: the certificate is not PEM.
 */
export function decryptionKeyProblem(
  secret: string,
  pair: 'tls' | 'next',
  key: PrivateKeyFacts | undefined,
  certificate: string | undefined,
  others: KnownForeignKey[],
): string | undefined {
  const name = `${secret}/${pair}.key`;
  const pairProblem = keyPairProblem(secret, pair, key?.publicKey, certificate);
  if (!key || pairProblem !== undefined) return pairProblem;
  if (key.type !== 'rsa' || (key.bits ?? 0) < MIN_RSA_BITS)
    return `${name} must be an RSA key of ${MIN_RSA_BITS} bits or more (IdPs encrypt to it with RSA-OAEP)`;
  const same = others.find((other) => other.publicKey === key.publicKey);
  if (same) return `${name} is ${same.role} (${same.secret}/${same.key}): give it a key of its own`;
  return undefined;
}
