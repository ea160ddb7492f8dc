import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  certificatePublicKey,
  decryptionKeyProblem,
  type KnownForeignKey,
  keyFacts,
} from '../common/config/decryption-key.js';
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

/**
 * The Secret's pair, and the next one during a rollover. Refused at start, naming the field: half a
 * next pair (ADR 0346), or what `decryptionKeyProblem` refuses (a key that is not RSA of 2048 bits or
 * more, a certificate of another key, any other key of the tenant's this pod can read: ADR 0352).
 */
export function readDecryptionCredential(
  secrets: SecretReader,
  secret: string,
  others: KnownForeignKey[],
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
  const keys = pairs.map(([keyPem, certPem], i) => {
    const key = parsedKey(keyPem);
    const facts = key && keyFacts(key);
    const problem = decryptionKeyProblem(
      secret,
      i === 0 ? 'tls' : 'next',
      facts,
      certificatePublicKey(certPem),
      others,
    );
    if (problem !== undefined) throw refusal(problem);
    // A key that does not parse is a problem above.
    return key as KeyObject;
  });
  return { keys, certificatesPem: pairs.map(([, certPem]) => certPem) };
}

function parsedKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}
