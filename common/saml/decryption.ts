import { constants, createDecipheriv, type KeyObject, privateDecrypt } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { DIGEST_ALGORITHMS } from './algorithms.js';
import { strictBase64 } from './deflate.js';
import { SamlError } from './errors.js';
import { NS } from './namespaces.js';
import {
  attribute,
  childElements,
  isElement,
  optionalChild,
  parseSamlXml,
  trimXmlWhitespace,
} from './xml.js';

/**
 * An upstream IdP's EncryptedAssertion (core 2.3.4, XML Encryption 1.1), the EncryptedID of its
 * Assertion's Subject or of its LogoutRequest (core 2.2.4, ADR 0346, 0351), or an EncryptedAttribute of
 * its Assertion's AttributeStatement (core 2.7.3.2, ADR 0355), decrypted with the broker's
 * RSA decryption keys (ADR 0338). What is accepted is chosen so that no answer of the broker can tell an attacker anything
 * about a plaintext or a key:
 * - the content key comes by RSA-OAEP only: RSA 1.5 (rsa-1_5) is Bleichenbacher's oracle;
 * - the content is AES-GCM, whose tag refuses any altered ciphertext before a byte is used; AES-CBC
 *   only inside a signature that was verified (the Response's; for an EncryptedID or EncryptedAttribute,
 *   the one covering its Assertion, or its LogoutRequest's), from the one IdP the keys decrypt for, so that the ciphertext and its
 *   EncryptionMethod are that IdP's: a CBC ciphertext an attacker altered or relabelled (a GCM one
 *   called CBC, the "backwards compatibility" attack), or another IdP of the tenant signed around one
 *   it captured (ADR 0350), is never decrypted, so no padding oracle;
 * - every failure is one refusal, SAML_ASSERTION_DECRYPTION_FAILED, with one message and one `detail`
 *   (does_not_decrypt) for everything that depends on a key; the algorithms and forms refused say
 *   which in theirs (DecryptionRefusalDetail, logged), since they depend on nothing secret.
 * The decrypted Assertion is no more trusted than a plain one: the caller verifies its signature and
 * every condition as for a plain Assertion. A decrypted NameID or Attribute is read as the signed one
 * it replaces.
 */

const XMLENC = NS.xmlenc;
const XMLENC11 = NS.xmlenc11;
const TYPE_ELEMENT = `${XMLENC}Element`;
/** RSA-OAEP with MGF1-SHA1 (XML Encryption 1.0), what Shibboleth, ADFS and Entra ID send. */
const RSA_OAEP_MGF1P = `${XMLENC}rsa-oaep-mgf1p`;
/** RSA-OAEP with its digest and MGF named (XML Encryption 1.1). */
const RSA_OAEP = `${XMLENC11}rsa-oaep`;

// The tables below are read with an IdP's Algorithm URI: Maps, since a plain object would answer a
// name such as `constructor` or `__proto__` with a property every object has.

/** The signatures' digests, and SHA-1: RSA-OAEP's default digest, which IdPs still send. */
const DIGESTS: ReadonlyMap<string, string> = new Map([
  ['http://www.w3.org/2000/09/xmldsig#sha1', 'sha1'],
  ...Object.entries(DIGEST_ALGORITHMS),
]);
const MGFS: ReadonlyMap<string, string> = new Map([
  [`${XMLENC11}mgf1sha1`, 'sha1'],
  [`${XMLENC11}mgf1sha256`, 'sha256'],
  [`${XMLENC11}mgf1sha384`, 'sha384'],
  [`${XMLENC11}mgf1sha512`, 'sha512'],
]);

interface ContentCipher {
  cipher: string;
  keyBytes: number;
  /** GCM authenticates; CBC only where the Response's signature already did. */
  authenticated: boolean;
}

/** The content algorithms, the authenticated ones first (the order the SP metadata lists them in). */
const CONTENT_CIPHERS: ReadonlyMap<string, ContentCipher> = new Map([
  [`${XMLENC11}aes256-gcm`, { cipher: 'aes-256-gcm', keyBytes: 32, authenticated: true }],
  [`${XMLENC11}aes192-gcm`, { cipher: 'aes-192-gcm', keyBytes: 24, authenticated: true }],
  [`${XMLENC11}aes128-gcm`, { cipher: 'aes-128-gcm', keyBytes: 16, authenticated: true }],
  [`${XMLENC}aes256-cbc`, { cipher: 'aes-256-cbc', keyBytes: 32, authenticated: false }],
  [`${XMLENC}aes192-cbc`, { cipher: 'aes-192-cbc', keyBytes: 24, authenticated: false }],
  [`${XMLENC}aes128-cbc`, { cipher: 'aes-128-cbc', keyBytes: 16, authenticated: false }],
]);

/**
 * The EncryptionMethods the broker's SP metadata offers (metadata 2.4.1.1), preferred first; AES-CBC
 * only where it is decrypted (`CbcTrust.soleIdp`).
 */
export function acceptedEncryptionMethods(cbc: boolean): string[] {
  const contents = [...CONTENT_CIPHERS].filter(([, content]) => cbc || content.authenticated);
  return [...contents.map(([uri]) => uri), RSA_OAEP_MGF1P, RSA_OAEP];
}

/** An IdP naming the broker's keys for several recipients: a bound on the RSA operations one message costs. */
const MAX_ENCRYPTED_KEYS = 4;

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const CBC_IV_BYTES = 16;

/** The log line's `detail` of a refusal (ADR 0343): a closed set of names, nothing of the message. */
type DecryptionRefusalDetail =
  | 'encrypted_data_count'
  | 'type_not_element'
  | 'content_algorithm_unsupported'
  | 'cbc_unsigned'
  | 'cbc_several_idps'
  | 'encrypted_key_count'
  | 'key_transport_unsupported'
  | 'oaep_digest_mgf_mismatch'
  | 'cipher_value_missing'
  | 'cipher_value_not_base64'
  /** Whatever depends on a key: a wrapped key that does not open, a tag, the padding, the key's length. */
  | 'does_not_decrypt'
  | 'plaintext_not_assertion'
  | 'plaintext_not_name_id'
  | 'plaintext_not_attribute'
  /** More EncryptedAttributes in one Assertion than the RSA operations it may cost (ADR 0355). */
  | 'encrypted_attribute_count';

/** What each encrypted element of SAML must hold once decrypted: one element, of this name. */
const PLAINTEXTS = {
  EncryptedAssertion: { element: 'Assertion', refusal: 'plaintext_not_assertion' },
  // Core 2.2.4 lets it hold a BaseID or an Assertion too: the broker reads a NameID, nothing else.
  EncryptedID: { element: 'NameID', refusal: 'plaintext_not_name_id' },
  // Core 2.7.3.2: one Attribute, whose Name is inside the ciphertext.
  EncryptedAttribute: { element: 'Attribute', refusal: 'plaintext_not_attribute' },
} as const satisfies Record<string, { element: string; refusal: DecryptionRefusalDetail }>;

type EncryptedElementName = keyof typeof PLAINTEXTS;

/** The callers pass only these: anything else is a mistake of the code, not of a message. */
function encryptedElementName(element: Element): EncryptedElementName {
  const name = element.localName;
  if (element.namespaceURI !== NS.assertion || name === null || !Object.hasOwn(PLAINTEXTS, name))
    throw new TypeError(`${name} is not an encrypted element of SAML`);
  return name as EncryptedElementName;
}

/** The one refusal of a decryption, with the `detail` the log line names (ADR 0343). */
export const decryptionRefused = (detail: DecryptionRefusalDetail, message: string, cause?: unknown) =>
  new SamlError('SAML_ASSERTION_DECRYPTION_FAILED', message, { detail, cause });

/** A decrypted element (an Assertion, a NameID, an Attribute): the root's one child element of its own document. */
export interface DecryptedElement {
  doc: Document;
  element: Element;
}

/**
 * When an AES-CBC ciphertext is the IdP's own, and so decrypted: its padding is checked before
 * anything authenticates it, so anyone who may alter one and read the broker's answer has a padding
 * oracle on its plaintext.
 */
export interface CbcTrust {
  /**
   * `encrypted` is read from inside a signature that verified (the Response's; for an EncryptedID, the
   * one covering its Assertion): no one but the signer altered it.
   */
  signed: boolean;
  /**
   * The keys decrypt for this IdP alone (the tenant's only SAML IdP). Otherwise another IdP of the
   * tenant, trusted for its own people only, could sign around this one's captured ciphertext,
   * altered (ADR 0350).
   */
  soleIdp: boolean;
}

/** What an element inside a verified message is decrypted with (ADR 0338, 0350). */
export interface ElementDecryption {
  /** The broker's decryption keys, the active one first; none without spec.broker.encryptionSecretRef. */
  keys: readonly KeyObject[];
  /** The keys decrypt for this IdP alone (the tenant's only SAML IdP): AES-CBC may be decrypted. */
  soleIdp: boolean;
}

/** A message read where nothing encrypted is expected (the portal's, the broker's hop): none decrypts. */
export const NO_DECRYPTION: ElementDecryption = { keys: [], soleIdp: false };

/**
 * The element an EncryptedID or EncryptedAttribute holds, `encrypted` being read from its message as a
 * verified signature covers it: its ciphertext is the signer's, so it is decrypted as from a signed
 * message (AES-CBC too, from a tenant's only SAML IdP), and its plaintext parsed in the namespaces the
 * signature covers around it (fail-closed, ADR 0344). Without a key: SAML_ENCRYPTED_ASSERTION_UNSUPPORTED.
 */
export function decryptSignedElement(encrypted: Element, decryption: ElementDecryption): Element {
  if (decryption.keys.length === 0)
    throw new SamlError(
      'SAML_ENCRYPTED_ASSERTION_UNSUPPORTED',
      `the broker has no key to decrypt the ${encrypted.localName}`,
    );
  const plaintext = decryptElement(encrypted, decryption.keys, { signed: true, soleIdp: decryption.soleIdp });
  return parseDecryptedElement(plaintext, encrypted).element;
}

/**
 * The plaintext inside `encrypted` (an EncryptedAssertion, EncryptedID or EncryptedAttribute), to be
 * parsed with `parseDecryptedElement`.
 */
export function decryptElement(encrypted: Element, keys: readonly KeyObject[], cbc: CbcTrust): Buffer {
  const name = encryptedElementName(encrypted);
  const data = childElements(encrypted, NS.xmlenc, 'EncryptedData');
  if (data.length !== 1)
    throw decryptionRefused('encrypted_data_count', `the ${name} must hold exactly one EncryptedData`);
  const encryptedData = data[0]!;
  const type = attribute(encryptedData, 'Type');
  if (type !== undefined && type !== TYPE_ELEMENT)
    throw decryptionRefused('type_not_element', 'the EncryptedData is not an element');
  const content = contentCipherOf(encryptedData);
  if (!content.authenticated && !cbc.soleIdp)
    throw decryptionRefused('cbc_several_idps', 'AES-CBC is accepted only from the one SAML IdP of a tenant');
  if (!content.authenticated && !cbc.signed)
    throw decryptionRefused('cbc_unsigned', 'AES-CBC is accepted only inside a signed Response');
  const ciphertext = cipherValue(encryptedData);
  const encryptedKeys = [
    // Inline in its KeyInfo, or beside it in the EncryptedAssertion (core 2.3.4) for a RetrievalMethod.
    ...keyInfoKeys(optionalChild(encryptedData, NS.dsig, 'KeyInfo')),
    ...childElements(encrypted, NS.xmlenc, 'EncryptedKey'),
  ];
  if (encryptedKeys.length === 0 || encryptedKeys.length > MAX_ENCRYPTED_KEYS)
    throw decryptionRefused(
      'encrypted_key_count',
      `the ${name} must carry between 1 and ${MAX_ENCRYPTED_KEYS} EncryptedKeys`,
    );
  const transports = encryptedKeys.map(keyTransportOf);
  for (const transport of transports) {
    for (const key of keys) {
      const plaintext = decryptWith(transport, key, content, ciphertext);
      if (plaintext !== undefined) return plaintext;
    }
  }
  throw decryptionRefused('does_not_decrypt', `the ${name} does not decrypt with the broker keys`);
}

function keyInfoKeys(keyInfo: Element | undefined): Element[] {
  return keyInfo ? childElements(keyInfo, NS.xmlenc, 'EncryptedKey') : [];
}

function contentCipherOf(encryptedData: Element): ContentCipher {
  const algorithm = encryptionAlgorithm(encryptedData);
  const content = algorithm === undefined ? undefined : CONTENT_CIPHERS.get(algorithm);
  if (!content)
    throw decryptionRefused(
      'content_algorithm_unsupported',
      'the EncryptedData names no accepted content algorithm (AES-GCM, or AES-CBC)',
    );
  return content;
}

interface KeyTransport {
  wrappedKey: Buffer;
  oaepHash: string;
  oaepLabel?: Buffer;
}

/** RSA-OAEP only, its MGF1 on the digest (the one form Node's RSA-OAEP computes). */
function keyTransportOf(encryptedKey: Element): KeyTransport {
  const method = optionalChild(encryptedKey, NS.xmlenc, 'EncryptionMethod');
  const algorithm = method && attribute(method, 'Algorithm');
  if (!method || (algorithm !== RSA_OAEP_MGF1P && algorithm !== RSA_OAEP))
    throw decryptionRefused(
      'key_transport_unsupported',
      'the EncryptedKey names no accepted key transport (RSA-OAEP)',
    );
  const digestUri = algorithmOf(optionalChild(method, NS.dsig, 'DigestMethod'));
  const digest = digestUri === undefined ? 'sha1' : DIGESTS.get(digestUri);
  const mgfUri = algorithm === RSA_OAEP ? algorithmOf(optionalChild(method, NS.xmlenc11, 'MGF')) : undefined;
  const mgf = mgfUri === undefined ? 'sha1' : MGFS.get(mgfUri);
  if (digest === undefined || mgf !== digest)
    throw decryptionRefused(
      'oaep_digest_mgf_mismatch',
      'the EncryptedKey names an RSA-OAEP digest and mask function the broker does not pair',
    );
  const params = optionalChild(method, NS.xmlenc, 'OAEPparams');
  return {
    wrappedKey: cipherValue(encryptedKey),
    oaepHash: digest,
    ...(params ? { oaepLabel: base64Of(params, encryptedKey) } : {}),
  };
}

/** The plaintext, or undefined when this key does not open it (any reason: they are not told apart). */
function decryptWith(
  transport: KeyTransport,
  key: KeyObject,
  content: ContentCipher,
  ciphertext: Buffer,
): Buffer | undefined {
  try {
    const contentKey = privateDecrypt(
      {
        key,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: transport.oaepHash,
        ...(transport.oaepLabel ? { oaepLabel: transport.oaepLabel } : {}),
      },
      transport.wrappedKey,
    );
    if (contentKey.length !== content.keyBytes) return undefined;
    return content.authenticated
      ? decryptGcm(content.cipher, contentKey, ciphertext)
      : decryptCbc(content.cipher, contentKey, ciphertext);
  } catch {
    return undefined;
  }
}

/** XML Encryption 1.1 5.2.4: IV (96 bits) || ciphertext || tag (128 bits). */
function decryptGcm(cipher: string, key: Buffer, octets: Buffer): Buffer | undefined {
  if (octets.length < GCM_IV_BYTES + GCM_TAG_BYTES) return undefined;
  const decipher = createDecipheriv(cipher as 'aes-128-gcm', key, octets.subarray(0, GCM_IV_BYTES), {
    authTagLength: GCM_TAG_BYTES,
  });
  decipher.setAuthTag(octets.subarray(octets.length - GCM_TAG_BYTES));
  return Buffer.concat([
    decipher.update(octets.subarray(GCM_IV_BYTES, octets.length - GCM_TAG_BYTES)),
    decipher.final(),
  ]);
}

/**
 * XML Encryption 5.2: IV || ciphertext, padded to the block with any bytes whose last one counts them
 * (not PKCS#7: the other pad bytes are arbitrary, so OpenSSL's own unpadding cannot be used).
 */
function decryptCbc(cipher: string, key: Buffer, octets: Buffer): Buffer | undefined {
  if (octets.length < 2 * CBC_IV_BYTES || octets.length % CBC_IV_BYTES !== 0) return undefined;
  const decipher = createDecipheriv(cipher, key, octets.subarray(0, CBC_IV_BYTES)).setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(octets.subarray(CBC_IV_BYTES)), decipher.final()]);
  const padding = padded[padded.length - 1]!;
  if (padding < 1 || padding > CBC_IV_BYTES) return undefined;
  return padded.subarray(0, padded.length - padding);
}

/**
 * XML Encryption 4.3: an Element's plaintext is parsed in the context of where it was, so the
 * namespace prefixes declared around `context`, the encrypted element (often `saml:` on the Response),
 * are declared on a wrapper around it. The plaintext must be one element: a SAML Assertion for an
 * EncryptedAssertion, a NameID for an EncryptedID, an Attribute for an EncryptedAttribute.
 */
export function parseDecryptedElement(plaintext: Buffer, context: Element): DecryptedElement {
  const name = encryptedElementName(context);
  const expected = PLAINTEXTS[name];
  let doc: Document;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    doc = parseSamlXml(`<decrypted${namespaceDeclarations(context)}>${text}</decrypted>`);
  } catch (cause) {
    throw decryptionRefused(expected.refusal, `the decrypted ${name} is not XML`, cause);
  }
  const nodes = Array.from(doc.documentElement!.childNodes);
  const elements = nodes.filter(isElement);
  const onlyElement =
    elements.length === 1 &&
    nodes.every(
      (n) => isElement(n) || (n.nodeType === n.TEXT_NODE && trimXmlWhitespace(n.nodeValue ?? '') === ''),
    );
  const element = elements[0];
  if (!onlyElement || element?.namespaceURI !== NS.assertion || element.localName !== expected.element)
    throw decryptionRefused(expected.refusal, `the ${name} does not hold one ${expected.element}`);
  return { doc, element };
}

/** The namespace declarations in scope at `element`, the nearest of each prefix winning. */
function namespaceDeclarations(element: Element): string {
  const declared = new Map<string, string>();
  for (let node: Element | null = element; node; node = isElement(node.parentNode) ? node.parentNode : null) {
    for (const attr of Array.from(node.attributes)) {
      if ((attr.name === 'xmlns' || attr.prefix === 'xmlns') && !declared.has(attr.name))
        declared.set(attr.name, attr.value);
    }
  }
  return Array.from(declared, ([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join('');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function encryptionAlgorithm(element: Element): string | undefined {
  return algorithmOf(optionalChild(element, NS.xmlenc, 'EncryptionMethod'));
}

function algorithmOf(element: Element | undefined): string | undefined {
  return element && attribute(element, 'Algorithm');
}

/** CipherData/CipherValue: a CipherReference would make the broker fetch a URI, and is refused. */
function cipherValue(element: Element): Buffer {
  const cipherData = optionalChild(element, NS.xmlenc, 'CipherData');
  const value = cipherData && optionalChild(cipherData, NS.xmlenc, 'CipherValue');
  if (!value) throw decryptionRefused('cipher_value_missing', `the ${element.localName} has no CipherValue`);
  return base64Of(value, element);
}

/** Strict base64: junk in it, or text after its padding, is refused, not skipped. */
function base64Of(value: Element, holder: Element): Buffer {
  const octets = strictBase64(value.textContent ?? '');
  if (!octets)
    throw decryptionRefused(
      'cipher_value_not_base64',
      `the ${holder.localName}'s ${value.localName} is not base64`,
    );
  return octets;
}
