// An EncryptedAssertion (or EncryptedID, EncryptedAttribute) written with node:crypto around any plaintext octets, well-formed XML or not:
// what an attacker holding the broker's public encryption certificate can send (xmlsec1, in
// testkit/xmlsec.ts, encrypts only a well-formed Assertion of a document).
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { NS } from '../common/saml/namespaces.js';

export interface AttackerEncryption {
  /** Default aes128-gcm. */
  content?: 'aes128-gcm' | 'aes256-gcm' | 'aes128-cbc';
  /** GCM tag octets appended to the ciphertext (the standard's 16 by default). */
  gcmTagBytes?: number;
  /**
   * The key transport XML Encryption 1.1's rsa-oaep with this digest and MGF1 on it, named in its
   * DigestMethod and MGF (Keycloak's default, SHA-256); default rsa-oaep-mgf1p, SHA-1 for both.
   */
  oaepDigest?: 'sha256' | 'sha512';
  /** The RSA-OAEP label, sent as the EncryptionMethod's OAEPparams. */
  oaepLabel?: Buffer;
  /** The EncryptedKey inline in the EncryptedData's KeyInfo (default) or beside it. */
  keyPlacement?: 'inline' | 'beside';
  /** Rewrites the two CipherValues' base64 text (ciphertext, wrapped key). */
  cipherValue?: (base64: string) => string;
}

/**
 * `<saml:EncryptedAssertion>` holding `plaintext` encrypted for `certPem`: the content key under
 * RSA-OAEP (mgf1p, SHA-1), the content under AES (IV || ciphertext || tag for GCM, XML Encryption 1.1).
 */
export function encryptedAssertionXml(
  plaintext: string | Buffer,
  certPem: string,
  options: AttackerEncryption = {},
): string {
  return encryptedElementXml('EncryptedAssertion', plaintext, certPem, options);
}

/** `<saml:EncryptedID>` (core 2.2.4) holding `plaintext`, a NameID, encrypted as encryptedAssertionXml does. */
export function encryptedIdXml(
  plaintext: string | Buffer,
  certPem: string,
  options: AttackerEncryption = {},
): string {
  return encryptedElementXml('EncryptedID', plaintext, certPem, options);
}

/** `<saml:EncryptedAttribute>` (core 2.7.3.2) holding `plaintext`, an Attribute, encrypted as encryptedAssertionXml does. */
export function encryptedAttributeXml(
  plaintext: string | Buffer,
  certPem: string,
  options: AttackerEncryption = {},
): string {
  return encryptedElementXml('EncryptedAttribute', plaintext, certPem, options);
}

function encryptedElementXml(
  name: 'EncryptedAssertion' | 'EncryptedID' | 'EncryptedAttribute',
  plaintext: string | Buffer,
  certPem: string,
  options: AttackerEncryption,
): string {
  const content = options.content ?? 'aes128-gcm';
  const key = randomBytes(content === 'aes256-gcm' ? 32 : 16);
  const gcm = content.endsWith('gcm');
  const iv = randomBytes(gcm ? 12 : 16);
  const octets = Buffer.from(plaintext);
  const cipher = createCipheriv(`aes-${key.length * 8}-${gcm ? 'gcm' : 'cbc'}`, key, iv);
  const encrypted = Buffer.concat([iv, cipher.update(octets), cipher.final()]);
  const ciphertext = gcm
    ? Buffer.concat([
        encrypted,
        (cipher as ReturnType<typeof createCipheriv> & { getAuthTag(): Buffer })
          .getAuthTag()
          .subarray(0, options.gcmTagBytes ?? 16),
      ])
    : encrypted;
  const wrapped = publicEncrypt(
    {
      key: certPem,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: options.oaepDigest ?? 'sha1',
      ...(options.oaepLabel ? { oaepLabel: options.oaepLabel } : {}),
    },
    key,
  );
  const value = options.cipherValue ?? ((base64: string) => base64);
  const contentUri = `${content.endsWith('gcm') ? NS.xmlenc11 : NS.xmlenc}${content}`;
  const encryptedKey =
    `<xenc:EncryptedKey>${keyTransport(options.oaepDigest)}` +
    (options.oaepLabel ? `<xenc:OAEPparams>${options.oaepLabel.toString('base64')}</xenc:OAEPparams>` : '') +
    `</xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>${value(wrapped.toString('base64'))}` +
    '</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>';
  const beside = options.keyPlacement === 'beside';
  return (
    `<saml:${name} xmlns:saml="${NS.assertion}" xmlns:xenc="${NS.xmlenc}" xmlns:ds="${NS.dsig}">` +
    `<xenc:EncryptedData Type="${NS.xmlenc}Element"><xenc:EncryptionMethod Algorithm="${contentUri}"/>` +
    (beside ? '' : `<ds:KeyInfo>${encryptedKey}</ds:KeyInfo>`) +
    `<xenc:CipherData><xenc:CipherValue>${value(ciphertext.toString('base64'))}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedData>${beside ? encryptedKey : ''}</saml:${name}>`
  );
}

/** The EncryptedKey's EncryptionMethod, open: its OAEPparams, if any, and its end tag follow. */
function keyTransport(digest: AttackerEncryption['oaepDigest']): string {
  if (!digest) return `<xenc:EncryptionMethod Algorithm="${NS.xmlenc}rsa-oaep-mgf1p">`;
  return (
    `<xenc:EncryptionMethod Algorithm="${NS.xmlenc11}rsa-oaep">` +
    `<ds:DigestMethod Algorithm="${NS.xmlenc}${digest}"/>` +
    `<xenc11:MGF xmlns:xenc11="${NS.xmlenc11}" Algorithm="${NS.xmlenc11}mgf1${digest}"/>`
  );
}
