import type { Element } from '@xmldom/xmldom';
import type { SamlErrorCode } from '../../common/saml/index.js';
import { NS } from '../../common/saml/index.js';
import { editXml } from '../../testkit/saml-fixtures.js';

/**
 * The attacks on a SAML request or logout message that its signature cannot catch, because the
 * sender (or a party holding a trusted key) signs the changed message: each endpoint's tests sign
 * every one with the right key, send it to the real endpoint and assert the refusal's reason code.
 */
export interface MessageAttack {
  /** What the message is, for the test name: `refuses a LogoutRequest ${sends}`. */
  sends: string;
  reason: SamlErrorCode;
  /** The message's XML, changed; called when the test runs, so times are fresh. */
  mutate(xml: string): string;
}

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** Every protocol request and logout message (common/saml acceptProtocolMessage). */
export const HEADER_ATTACKS: readonly MessageAttack[] = [
  {
    sends: 'addressed to another Destination',
    reason: 'SAML_DESTINATION_MISMATCH',
    mutate: withRootAttribute('Destination', 'https://elsewhere.example/saml'),
  },
  {
    sends: 'without a Destination',
    reason: 'SAML_DESTINATION_MISMATCH',
    mutate: withRootAttribute('Destination', undefined),
  },
  {
    sends: 'issued 20 minutes ago (stale IssueInstant)',
    reason: 'SAML_EXPIRED',
    mutate: (xml) => withRootAttribute('IssueInstant', minutesFromNow(-20))(xml),
  },
  {
    sends: 'dated 20 minutes in the future (IssueInstant beyond clock skew)',
    reason: 'SAML_NOT_YET_VALID',
    mutate: (xml) => withRootAttribute('IssueInstant', minutesFromNow(20))(xml),
  },
  {
    sends: 'of Version 1.1',
    reason: 'SAML_VERSION_UNSUPPORTED',
    mutate: withRootAttribute('Version', '1.1'),
  },
  {
    sends: 'naming another Issuer',
    reason: 'SAML_ISSUER_MISMATCH',
    mutate: withIssuer('https://evil.example/metadata'),
  },
  { sends: 'without an Issuer', reason: 'SAML_ISSUER_MISMATCH', mutate: withIssuer(undefined) },
];

/** A LogoutRequest also carries its own expiry (core 3.7.1). */
export const LOGOUT_REQUEST_ATTACKS: readonly MessageAttack[] = [
  ...HEADER_ATTACKS,
  {
    sends: 'past its NotOnOrAfter (beyond clock skew)',
    reason: 'SAML_EXPIRED',
    mutate: (xml) => withRootAttribute('NotOnOrAfter', minutesFromNow(-10))(xml),
  },
];

/** A LogoutResponse answers one request of ours. */
export const LOGOUT_RESPONSE_ATTACKS: readonly MessageAttack[] = [
  ...HEADER_ATTACKS,
  {
    sends: 'answering another LogoutRequest (InResponseTo)',
    reason: 'SAML_IN_RESPONSE_TO_MISMATCH',
    mutate: withRootAttribute('InResponseTo', '_another-request'),
  },
  {
    sends: 'answering no request (no InResponseTo)',
    reason: 'SAML_IN_RESPONSE_TO_MISMATCH',
    mutate: withRootAttribute('InResponseTo', undefined),
  },
];

/** Sets (or, with undefined, removes) an attribute of the message's root. */
export function withRootAttribute(name: string, value: string | undefined): (xml: string) => string {
  return (xml) =>
    editXml(xml, (root) => {
      if (value === undefined) root.removeAttribute(name);
      else root.setAttribute(name, value);
    });
}

/** Gives the message's Issuer another value (or, with undefined, removes it). */
function withIssuer(value: string | undefined): (xml: string) => string {
  return (xml) =>
    editXml(xml, (root) => {
      const issuer = root.getElementsByTagNameNS(NS.assertion, 'Issuer')[0]!;
      if (value === undefined) root.removeChild(issuer);
      else issuer.textContent = value;
    });
}

/**
 * A signature the right key made, reshaped afterwards where xml-crypto finds its parts by local name
 * in any namespace (or reads a value it was not given): refused as SAML_SIGNATURE_INVALID, a 400
 * like any signature that does not verify, never thrown on as an internal error (ADR 0228).
 */
export interface SignatureShape {
  /** What the signature has, for the test name. */
  has: string;
  /** The signed message's XML, reshaped. */
  tamper(signedXml: string): string;
}

/** The shapes xml-crypto threw a plain Error on while loading the signature: each endpoint's test. */
export const UNLOADABLE_SIGNATURES: readonly SignatureShape[] = [
  {
    has: 'an empty DigestValue',
    tamper: inSignature('DigestValue', (value) => {
      value.textContent = '';
    }),
  },
  {
    has: 'a Reference of another namespace in SignedInfo',
    tamper: inSignature('SignedInfo', (signedInfo) =>
      signedInfo.appendChild(foreign(signedInfo, 'Reference')),
    ),
  },
];

/** Every shape verifyEnvelopedSignature refuses before xml-crypto reads it (test/saml/signature). */
export const UNREADABLE_SIGNATURES: readonly SignatureShape[] = [
  ...UNLOADABLE_SIGNATURES,
  {
    has: 'an empty SignatureValue',
    tamper: inSignature('SignatureValue', (value) => {
      value.textContent = '';
    }),
  },
  {
    has: 'a DigestMethod of another namespace first in the Reference',
    tamper: inSignature('Reference', (reference) =>
      reference.insertBefore(foreign(reference, 'DigestMethod'), reference.firstChild),
    ),
  },
  {
    has: 'a Transform of another namespace in Transforms',
    tamper: inSignature('Transforms', (transforms) =>
      transforms.appendChild(foreign(transforms, 'Transform')),
    ),
  },
  {
    has: 'a SignatureMethod of another namespace inside CanonicalizationMethod',
    tamper: inSignature('CanonicalizationMethod', (method) => {
      const inner = foreign(method, 'SignatureMethod');
      inner.setAttribute('Algorithm', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512');
      method.appendChild(inner);
    }),
  },
  {
    has: 'an element of another namespace in the Signature',
    tamper: inSignature('Signature', (signature) => signature.appendChild(foreign(signature, 'SignedInfo'))),
  },
  {
    has: 'a ds:Object after its KeyInfo',
    tamper: inSignature('Signature', (signature) =>
      signature.appendChild(signature.ownerDocument!.createElementNS(NS.dsig, 'ds:Object')),
    ),
  },
];

/** Edits the message's first ds:`localName` (its Signature's, in a message signed once). */
function inSignature(localName: string, edit: (element: Element) => void): (xml: string) => string {
  return (xml) =>
    editXml(xml, (root) => {
      const element = root.getElementsByTagNameNS(NS.dsig, localName)[0];
      if (!element) throw new Error(`the signed message has no ds:${localName}`);
      edit(element);
    });
}

/** An empty element named like a ds one, in another namespace. */
function foreign(near: Element, localName: string): Element {
  return near.ownerDocument!.createElementNS('urn:example:not-dsig', `x:${localName}`);
}
