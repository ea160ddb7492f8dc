import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { halfPairProblem } from '../common/config/key-pairs.js';
import { ConfigError } from '../common/errors.js';
import type { SecretReader } from '../common/pool/source.js';

/**
 * The key pairs upstream SAML IdPs encrypt assertions to (spec.broker.encryptionSecretRef, ADR 0338):
 * the private keys decrypt, the certificates go into the SP metadata as its encryption KeyDescriptors.
 */
export interface DecryptionCredential {
  /** tls.key, then next.key during a rollover. */
  keys: KeyObject[];
  /** tls.crt, then next.crt, in the keys' order. */
  certificatesPem: string[];
}

/** RSA-OAEP under a shorter modulus is below what NIST SP 800-131A allows. */
const MIN_RSA_BITS = 2048;

/**
 * The Secret's pair, and the next one during a rollover. Refused at start, naming the field: half a
 * next pair (ADR 0346), a key that is not RSA of 2048 bits or more, a certificate of another key, or
 * the broker's signing key (a key that decrypts whatever anyone posts must not also sign assertions:
 * any decryption oracle would then be a signing oracle).
 */
export function readDecryptionCredential(
  secrets: SecretReader,
  secret: string,
  signingKeyPem: string,
): DecryptionCredential {
  const refusal = (message: string) =>
    new ConfigError([{ path: 'spec.broker.encryptionSecretRef', message }]);
  const nextCert = secrets.readOptional(secret, 'next.crt');
  const nextKey = secrets.readOptional(secret, 'next.key');
  if (nextCert === undefined && nextKey !== undefined)
    throw refusal(halfPairProblem(secret, 'next.key', 'next.crt'));
  if (nextKey === undefined && nextCert !== undefined)
    throw refusal(halfPairProblem(secret, 'next.crt', 'next.key'));
  const pairs: [string, string][] = [
    [secrets.read(secret, 'tls.key'), secrets.read(secret, 'tls.crt')],
    ...(nextCert !== undefined && nextKey !== undefined ? [[nextKey, nextCert] as [string, string]] : []),
  ];
  const signing = createPublicKey(signingKeyPem).export({ format: 'der', type: 'spki' });
  const keys = pairs.map(([keyPem, certPem], i) => {
    const name = i === 0 ? 'tls' : 'next';
    const refuse = (message: string) => refusal(`${secret}/${name}.key ${message}`);
    const key = parsed(() => createPrivateKey(keyPem), refuse('is not a PEM private key'));
    const certificate = parsed(
      () => new X509Certificate(certPem),
      refuse(`has no certificate: ${secret}/${name}.crt is not PEM`),
    );
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
      throw refuse(`must be an RSA key of ${MIN_RSA_BITS} bits or more (IdPs encrypt to it with RSA-OAEP)`);
    const publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' });
    if (!certificate.publicKey.export({ format: 'der', type: 'spki' }).equals(publicKey))
      throw refuse(`is not the key of ${secret}/${name}.crt`);
    if (publicKey.equals(signing)) throw refuse("is the broker's signing key: give it a key of its own");
    return key;
  });
  return { keys, certificatesPem: pairs.map(([, certPem]) => certPem) };
}

function parsed<T>(parse: () => T, refusal: ConfigError): T {
  try {
    return parse();
  } catch {
    throw refusal;
  }
}
