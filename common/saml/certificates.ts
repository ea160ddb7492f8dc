import { type KeyObject, X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { SamlError } from './errors.js';

/** PEM text of a certificate given as PEM or as the bare base64 found in metadata and KeyInfo. */
export function toCertificatePem(certificate: string): string {
  const trimmed = certificate.trim();
  if (trimmed.startsWith('-----BEGIN CERTIFICATE-----')) return `${trimmed}\n`;
  const body = trimmed.replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Base64 DER of a certificate, as written in metadata KeyDescriptors and ds:X509Certificate. */
export function certificateBase64(certificatePem: string): string {
  return new X509Certificate(toCertificatePem(certificatePem)).raw.toString('base64');
}

/**
 * Public keys of the configured (trusted) certificates. A certificate that does not parse is a
 * configuration error, reported as such instead of as a bad message.
 */
export function trustedKeys(certificatesPem: readonly string[]): KeyObject[] {
  if (certificatesPem.length === 0) {
    throw new SamlError('SAML_CERTIFICATE_INVALID', 'no trusted certificate is configured', { status: 500 });
  }
  return certificatesPem.map(publicKeyOf);
}

/**
 * Parsed keys by certificate text. Callers hand over the configured PEM on every message (the portal
 * re-reads its mounted Secret per login so a rotation needs no restart); parsing an X.509
 * certificate costs more CPU than the RSA verification it serves. Keyed by the text itself, a rotated
 * certificate is a new entry and the old one ages out. Certificates are public: nothing secret is kept.
 */
const parsedKeys = new LRUCache<string, KeyObject>({ max: 1024 });

function publicKeyOf(pem: string): KeyObject {
  const cached = parsedKeys.get(pem);
  if (cached) return cached;
  let key: KeyObject;
  try {
    key = new X509Certificate(toCertificatePem(pem)).publicKey;
  } catch (cause) {
    throw new SamlError(
      'SAML_CERTIFICATE_INVALID',
      'a configured certificate is not a valid X.509 certificate',
      {
        status: 500,
        cause,
      },
    );
  }
  parsedKeys.set(pem, key);
  return key;
}
