import { X509Certificate as NodeX509Certificate, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * Self-signed signing certificates for SAML keys that nobody provided: the operator makes them once
 * per tenant, `jsm-sso keys` and `npm start` for standalone parts. RSA-2048 with SHA-256 by default,
 * as SAML peers expect; EC P-256 for a tenant whose spec.signatureAlgorithm is ecdsa-sha256.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface KeyPairPem {
  keyPem: string;
  certPem: string;
}

const KEY_ALGORITHMS = {
  'rsa-sha256': {
    key: {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    },
    signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
  'ecdsa-sha256': {
    key: { name: 'ECDSA', namedCurve: 'P-256' },
    signing: { name: 'ECDSA', hash: 'SHA-256' },
  },
} as const;

export async function createSelfSignedCertificate(options: {
  commonName: string;
  days?: number;
  /** The tenant's spec.signatureAlgorithm: RSA-2048 (default) or P-256 keys. */
  algorithm?: keyof typeof KEY_ALGORITHMS;
}): Promise<KeyPairPem> {
  const algorithm = KEY_ALGORITHMS[options.algorithm ?? 'rsa-sha256'];
  const keys = (await webcrypto.subtle.generateKey(algorithm.key, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? 3650) * 86_400_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumberHex(webcrypto.getRandomValues(new Uint8Array(16))),
    name: `CN=${options.commonName.replace(/[,=+<>#;\\"]/g, '')}`,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm.signing,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`,
    certPem: certificate.toString('pem') + '\n',
  };
}

/**
 * A certificate serial from 16 random bytes: a positive DER INTEGER (top bit clear, RFC 5280
 * 4.1.2.2) that always takes exactly 16 bytes (second-highest bit set, so DER's minimal encoding
 * never drops a leading zero byte and the serial never prints shorter). 126 random bits remain,
 * well above the 64 the CA/Browser Forum asks for.
 */
export function serialNumberHex(random: Uint8Array): string {
  if (random.length !== 16) throw new RangeError('a serial is made from exactly 16 random bytes');
  const serial = Uint8Array.from(random);
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  return Buffer.from(serial).toString('hex');
}

/** SHA-256 fingerprint of a PEM certificate as upper-case hex pairs (AA:BB:...), as openssl prints it. */
export function certificateFingerprint(certPem: string): string {
  return new NodeX509Certificate(certPem).fingerprint256;
}

/** notAfter of a PEM certificate, or undefined when there is none or it does not parse. */
export function certificateNotAfter(certPem: string | undefined): Date | undefined {
  if (certPem === undefined) return undefined;
  try {
    return new Date(new NodeX509Certificate(certPem).validTo);
  } catch {
    return undefined;
  }
}
