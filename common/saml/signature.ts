import { createPrivateKey } from 'node:crypto';
import type { Document, Element, Node } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import {
  CANONICALIZATION_ALGORITHMS,
  type DigestAlgorithmUri,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  isDigestAlgorithm,
  isSignatureAlgorithm,
  REFERENCE_TRANSFORMS,
  type SignatureAlgorithmUri,
  signatureAlgorithmFor,
  xmlCryptoHashAlgorithms,
  xmlCryptoSignatureAlgorithms,
} from './algorithms.js';
import { toCertificatePem, trustedKeys } from './certificates.js';
import { SamlError } from './errors.js';
import { NS } from './namespaces.js';
import {
  attribute,
  childElements,
  isElement,
  isNamed,
  optionalChild,
  parseSamlXml,
  serializeXml,
} from './xml.js';

// xml-crypto resolves a Reference URI against any attribute with one of these local names.
const ID_ATTRIBUTE_NAMES = new Set(['ID', 'Id', 'id']);

/**
 * Verifies the enveloped signature of `element` with the configured certificates only, and returns
 * the element as it was signed: re-parsed from the canonical octets the signature covers (without
 * its Signature and without comments). Read values from the returned element, never from the
 * original document, so nothing unsigned (wrapped copies, injected comments) can be read.
 *
 * Checks, in order (each a refusal with its own code):
 * - IDs are unique in the whole document (SAML_ID_NOT_UNIQUE) — defeats XSW by duplication;
 * - the element has an ID and exactly one ds:Signature as a direct child (SAML_SIGNATURE_MISSING /
 *   SAML_SIGNATURE_REFERENCE_INVALID);
 * - the Signature is plain: one SignedInfo, one SignatureValue, no comment or processing
 *   instruction anywhere in it (CVE-2025-29774/29775 shapes) (SAML_SIGNATURE_INVALID);
 * - Signature, SignedInfo, Reference and Transforms hold only their ds children, in the schema's
 *   order, and DigestValue and SignatureValue are non-empty text: xml-crypto finds these parts by
 *   local name in any namespace, so anything else could be read as one of them (SAML_SIGNATURE_INVALID);
 * - algorithms are allow-listed: exc-c14n, rsa/ecdsa-sha256+, sha256+ digests, transforms only
 *   enveloped-signature and exc-c14n (SAML_SIGNATURE_ALGORITHM_FORBIDDEN);
 * - exactly one Reference, whose URI is `#` + the element's ID (SAML_SIGNATURE_REFERENCE_INVALID);
 * - the signature verifies with one of `certificatesPem`; KeyInfo is ignored; whatever xml-crypto
 *   throws while loading or checking it is this refusal too, never an internal error (SAML_SIGNATURE_INVALID).
 *
 * `onlyAlgorithm`, when given, is the one signature algorithm accepted (a peer configured for
 * ecdsa-sha256 accepts no RSA signature, even from a trusted RSA certificate, and vice versa).
 */
export function verifyEnvelopedSignature(
  doc: Document,
  element: Element,
  certificatesPem: readonly string[],
  onlyAlgorithm?: SignatureAlgorithmUri,
): Element {
  const keys = trustedKeys(certificatesPem);
  assertUniqueIds(doc);
  const id = attribute(element, 'ID');
  if (!id) throw new SamlError('SAML_SIGNATURE_REFERENCE_INVALID', `${element.localName} has no ID to sign`);
  const signatures = childElements(element, NS.dsig, 'Signature');
  if (signatures.length === 0)
    throw new SamlError('SAML_SIGNATURE_MISSING', `${element.localName} is not signed`);
  if (signatures.length > 1) {
    throw new SamlError(
      'SAML_SIGNATURE_REFERENCE_INVALID',
      `${element.localName} carries more than one signature`,
    );
  }
  const signature = signatures[0]!;
  assertPlainSignature(signature);
  assertSignedInfo(requiredSignaturePart(signature, 'SignedInfo'), id, onlyAlgorithm);
  assertDsChildren(signature, [
    ['SignedInfo', 1, 1],
    ['SignatureValue', 1, 1],
    ['KeyInfo', 0, 1],
  ]);

  const xml = serializeXml(doc);
  let failure: unknown;
  for (const key of keys) {
    const verifier = new SignedXml({
      publicCert: key.export({ type: 'spki', format: 'pem' }),
      getCertFromKeyInfo: () => null,
    });
    verifier.SignatureAlgorithms = xmlCryptoSignatureAlgorithms();
    verifier.HashAlgorithms = xmlCryptoHashAlgorithms();
    // Loading reads the Signature as the sender wrote it: a shape xml-crypto cannot read is thrown
    // here as a plain Error, and is this message's fault, like a signature that does not verify.
    let valid = false;
    try {
      verifier.loadSignature(signature as unknown as Parameters<typeof verifier.loadSignature>[0]);
      valid = verifier.checkSignature(xml);
    } catch (err) {
      failure = err;
    }
    if (!valid) continue;
    const signed = verifier.getSignedReferences();
    if (signed.length !== 1) break;
    return signedElement(signed[0]!, element, id);
  }
  throw new SamlError('SAML_SIGNATURE_INVALID', `the signature of ${element.localName} does not verify`, {
    cause: failure,
  });
}

function assertUniqueIds(doc: Document): void {
  const seen = new Set<string>();
  const walk = (node: Node): void => {
    if (isElement(node)) {
      for (const attr of Array.from(node.attributes)) {
        if (!ID_ATTRIBUTE_NAMES.has(attr.localName ?? attr.name)) continue;
        if (seen.has(attr.value))
          throw new SamlError('SAML_ID_NOT_UNIQUE', 'an ID appears more than once in the message');
        seen.add(attr.value);
      }
    }
    for (const child of Array.from(node.childNodes)) walk(child);
  };
  walk(doc);
}

/** A ds child the schema allows: its local name and how many times it may occur. */
type DsPart = readonly [localName: string, min: number, max: number];

/**
 * `parent`'s element children are exactly `parts`, in order, all in the ds namespace: nothing else
 * (another namespace, an unknown ds element, one too many) for xml-crypto to read by local name.
 */
function assertDsChildren(parent: Element, parts: readonly DsPart[]): void {
  const children = Array.from(parent.childNodes).filter(isElement);
  let next = 0;
  for (const [localName, min, max] of parts) {
    let count = 0;
    while (count < max && next < children.length && isNamed(children[next], NS.dsig, localName)) {
      count++;
      next++;
    }
    if (count < min) {
      throw new SamlError(
        'SAML_SIGNATURE_INVALID',
        `the ${parent.localName} has no ${localName} in its place`,
      );
    }
  }
  const extra = children[next];
  if (extra) {
    throw new SamlError(
      'SAML_SIGNATURE_INVALID',
      `the ${parent.localName} holds an unexpected ${extra.localName} (${extra.namespaceURI ?? 'no namespace'})`,
    );
  }
}

/**
 * An algorithm element holds no element but exclusive c14n's InclusiveNamespaces (xml-crypto takes
 * the first SignatureMethod or CanonicalizationMethod below the Signature, at any depth).
 */
function assertAlgorithmChildren(method: Element): void {
  for (const child of Array.from(method.childNodes).filter(isElement)) {
    if (child.namespaceURI !== EXC_C14N || child.localName !== 'InclusiveNamespaces') {
      throw new SamlError(
        'SAML_SIGNATURE_INVALID',
        `the ${method.localName} holds an unexpected ${child.localName} (${child.namespaceURI ?? 'no namespace'})`,
      );
    }
  }
}

/** DigestValue and SignatureValue: base64 text, never empty, never an element. */
function assertValueText(value: Element): void {
  const text = Array.from(value.childNodes);
  if (!text.every((n) => n.nodeType === n.TEXT_NODE) || (value.textContent ?? '').trim() === '') {
    throw new SamlError('SAML_SIGNATURE_INVALID', `the ${value.localName} is not a non-empty value`);
  }
}

function assertPlainSignature(signature: Element): void {
  const walk = (node: Node): void => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === child.COMMENT_NODE || child.nodeType === child.PROCESSING_INSTRUCTION_NODE) {
        throw new SamlError(
          'SAML_SIGNATURE_INVALID',
          'the signature contains a comment or processing instruction',
        );
      }
      walk(child);
    }
  };
  walk(signature);
  assertValueText(requiredSignaturePart(signature, 'SignatureValue'));
}

function requiredSignaturePart(parent: Element, localName: string): Element {
  const found = childElements(parent, NS.dsig, localName);
  if (found.length !== 1)
    throw new SamlError('SAML_SIGNATURE_INVALID', `the signature needs exactly one ${localName}`);
  return found[0]!;
}

function assertSignedInfo(
  signedInfo: Element,
  id: string,
  onlyAlgorithm: SignatureAlgorithmUri | undefined,
): void {
  const c14nMethod = requiredSignaturePart(signedInfo, 'CanonicalizationMethod');
  const c14n = attribute(c14nMethod, 'Algorithm');
  if (!c14n || !CANONICALIZATION_ALGORITHMS.includes(c14n)) forbidden('canonicalization', c14n);
  const signatureMethodElement = requiredSignaturePart(signedInfo, 'SignatureMethod');
  const signatureMethod = attribute(signatureMethodElement, 'Algorithm');
  if (!isSignatureAlgorithm(signatureMethod)) forbidden('signature', signatureMethod);
  if (onlyAlgorithm !== undefined && signatureMethod !== onlyAlgorithm)
    forbidden('signature', signatureMethod);
  assertAlgorithmChildren(c14nMethod);
  assertAlgorithmChildren(signatureMethodElement);
  assertDsChildren(signedInfo, [
    ['CanonicalizationMethod', 1, 1],
    ['SignatureMethod', 1, 1],
    ['Reference', 1, Number.POSITIVE_INFINITY],
  ]);
  const references = childElements(signedInfo, NS.dsig, 'Reference');
  if (references.length !== 1) {
    throw new SamlError('SAML_SIGNATURE_REFERENCE_INVALID', 'the signature must have exactly one Reference');
  }
  const reference = references[0]!;
  if (attribute(reference, 'URI') !== `#${id}`) {
    throw new SamlError(
      'SAML_SIGNATURE_REFERENCE_INVALID',
      'the signature does not reference the signed element',
    );
  }
  const transforms = optionalChild(reference, NS.dsig, 'Transforms');
  const transformUris = transforms
    ? childElements(transforms, NS.dsig, 'Transform').map((t) => attribute(t, 'Algorithm'))
    : [];
  if (transforms && transforms.childNodes.length > 0 && transformUris.length === 0)
    forbidden('transform', undefined);
  for (const uri of transformUris)
    if (!uri || !REFERENCE_TRANSFORMS.includes(uri)) forbidden('transform', uri);
  if (transformUris[0] !== ENVELOPED_SIGNATURE || transformUris.length > 2) {
    forbidden('transform chain', transformUris.join(' '));
  }
  const digestMethod = requiredSignaturePart(reference, 'DigestMethod');
  const digest = attribute(digestMethod, 'Algorithm');
  if (!isDigestAlgorithm(digest)) forbidden('digest', digest);
  assertValueText(requiredSignaturePart(reference, 'DigestValue'));
  assertDsChildren(reference, [
    ['Transforms', 0, 1],
    ['DigestMethod', 1, 1],
    ['DigestValue', 1, 1],
  ]);
  assertAlgorithmChildren(digestMethod);
  if (!transforms) return;
  assertDsChildren(transforms, [['Transform', 1, Number.POSITIVE_INFINITY]]);
  for (const transform of childElements(transforms, NS.dsig, 'Transform')) assertAlgorithmChildren(transform);
}

function forbidden(kind: string, uri: string | undefined): never {
  throw new SamlError(
    'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    `${kind} algorithm ${uri ?? '(none)'} is not accepted`,
  );
}

function signedElement(canonicalXml: string, original: Element, id: string): Element {
  const signed = parseSamlXml(canonicalXml, { maxBytes: Number.MAX_SAFE_INTEGER }).documentElement!;
  if (
    signed.namespaceURI !== original.namespaceURI ||
    signed.localName !== original.localName ||
    attribute(signed, 'ID') !== id
  ) {
    throw new SamlError('SAML_SIGNATURE_REFERENCE_INVALID', 'the signature covers another element');
  }
  return signed;
}

export interface SignEnvelopedOptions {
  /** ID of the element to sign; the Signature goes right after its saml:Issuer (or first). */
  id: string;
  keyPem: string;
  certPem: string;
  signatureAlgorithm?: SignatureAlgorithmUri;
  digestAlgorithm?: DigestAlgorithmUri;
}

/**
 * Adds an enveloped signature (exc-c14n, rsa/ecdsa-sha256 by default) over the element with ID
 * `id`, placed where the SAML schema wants it: after Issuer. KeyInfo carries the certificate as a
 * hint for the receiver; receivers must not trust it (ours does not).
 */
export function signEnveloped(xml: string, options: SignEnvelopedOptions): string {
  const doc = parseSamlXml(xml, { maxBytes: Number.MAX_SAFE_INTEGER });
  const target = findById(doc, options.id);
  const issuer = optionalChild(target, NS.assertion, 'Issuer');
  const key = createPrivateKey(options.keyPem);
  const signer = new SignedXml({
    privateKey: options.keyPem,
    publicCert: toCertificatePem(options.certPem),
    signatureAlgorithm: options.signatureAlgorithm ?? signatureAlgorithmFor(key),
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.SignatureAlgorithms = xmlCryptoSignatureAlgorithms();
  signer.HashAlgorithms = xmlCryptoHashAlgorithms();
  const targetPath = `//*[@ID='${options.id}']`;
  signer.addReference({
    xpath: targetPath,
    transforms: [ENVELOPED_SIGNATURE, EXC_C14N],
    digestAlgorithm: options.digestAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: issuer
      ? {
          reference: `${targetPath}/*[local-name(.)='Issuer' and namespace-uri(.)='${NS.assertion}']`,
          action: 'after',
        }
      : { reference: targetPath, action: 'prepend' },
  });
  return signer.getSignedXml();
}

function findById(doc: Document, id: string): Element {
  if (!/^[A-Za-z_][\w.-]*$/.test(id)) throw new SamlError('SAML_XML_INVALID', 'not a valid xs:ID');
  const walk = (node: Node): Element | undefined => {
    if (isElement(node) && node.getAttribute('ID') === id) return node;
    for (const child of Array.from(node.childNodes)) {
      const found = walk(child);
      if (found) return found;
    }
    return undefined;
  };
  const found = walk(doc);
  if (!found) throw new SamlError('SAML_XML_INVALID', `no element with ID ${id}`);
  return found;
}
