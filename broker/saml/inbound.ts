import type { Element } from '@xmldom/xmldom';
import { JsmSsoError } from '../../common/errors.js';
import { decodeBase64 } from '../../common/saml/deflate.js';
import {
  BINDING_POST,
  MAX_CLOCK_SKEW_SECONDS,
  NS,
  parseSamlXml,
  SamlError,
  verifyEnvelopedSignature,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import { attribute, childElements, optionalChild, simpleText } from '../../common/saml/xml.js';

/**
 * The broker's SAML frontend checks on what the portal sends (AuthnRequest, LogoutRequest): each
 * check a named function with its own reason code. The portal is the only SP a tenant has.
 */

export interface TrustedSp {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  certificatesPem: string[];
}

/** A request older than this (plus clock skew) is stale: it cannot be a live browser redirect. */
export const MAX_REQUEST_AGE_SECONDS = 300;
/** SAML bindings 3.4.3 / 3.5.3: RelayState MUST NOT exceed 80 bytes. */
export const MAX_RELAY_STATE_BYTES = 80;
/** An AuthnRequest is a few kilobytes; anything much larger is an attack. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface InboundMessage {
  id: string;
  issueInstant: Date;
  relayState?: string;
  root: Element;
}

export interface AcceptedAuthnRequest extends InboundMessage {
  forceAuthn: boolean;
  /** The SP asks that the person see nothing (core 3.4.1): no login page, no choice page. */
  isPassive: boolean;
}

export interface AcceptedLogoutRequest extends InboundMessage {
  sessionIndexes: string[];
}

export type Binding =
  | { kind: 'redirect'; rawQuery: string }
  | { kind: 'post'; message: string; relayState?: string };

/** Verifies the binding's signature and returns the signed root element and RelayState. */
function verifiedRoot(binding: Binding, sp: TrustedSp): { root: Element; relayState?: string } {
  if (binding.kind === 'redirect') {
    const verified = verifyRedirectSignature(binding.rawQuery, 'SAMLRequest', sp.certificatesPem);
    const doc = parseSamlXml(verified.xml, { maxBytes: MAX_REQUEST_BYTES });
    return { root: doc.documentElement as unknown as Element, ...relayStateOf(verified.relayState) };
  }
  const xml = decodeBase64(binding.message);
  if (xml.length > MAX_REQUEST_BYTES)
    throw new SamlError('SAML_MESSAGE_TOO_LARGE', 'the SAML request is too large');
  const doc = parseSamlXml(xml.toString('utf8'), { maxBytes: MAX_REQUEST_BYTES });
  // verifyEnvelopedSignature insists on exactly one Reference, to the root's own ID.
  const signed = verifyEnvelopedSignature(doc, doc.documentElement!, sp.certificatesPem);
  return { root: signed as unknown as Element, ...relayStateOf(binding.relayState) };
}

export function relayStateOf(relayState: string | undefined): { relayState?: string } {
  if (relayState === undefined) return {};
  if (Buffer.byteLength(relayState, 'utf8') > MAX_RELAY_STATE_BYTES) {
    throw new JsmSsoError(
      'SAML_RELAY_STATE_TOO_LONG',
      `RelayState is longer than ${MAX_RELAY_STATE_BYTES} bytes`,
    );
  }
  return { relayState };
}

/**
 * The checks every signed protocol message gets, whoever sent it: type, version, ID, Issuer (the
 * party whose key verified it), Destination (this endpoint) and a fresh IssueInstant.
 */
export function checkMessage(
  root: Element,
  localName: string,
  issuer: string,
  destination: string,
  now: Date,
): { id: string; issueInstant: Date } {
  if (root.namespaceURI !== NS.protocol || root.localName !== localName) {
    throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', `expected a ${localName}`);
  }
  if (attribute(root, 'Version') !== '2.0')
    throw new SamlError('SAML_VERSION_UNSUPPORTED', 'only SAML 2.0 is supported');
  const id = attribute(root, 'ID');
  if (!id || id.length > 256) throw new SamlError('SAML_XML_INVALID', `${localName} has no valid ID`);
  checkIssuer(root, issuer);
  checkDestination(root, destination);
  return { id, issueInstant: checkIssueInstant(root, now) };
}

function checkIssuer(root: Element, expected: string): void {
  const issuer = optionalChild(root, NS.assertion, 'Issuer');
  if (!issuer || simpleText(issuer) !== expected) {
    throw new SamlError('SAML_ISSUER_MISMATCH', 'the message does not come from the party that signed it');
  }
}

/** Bindings 3.4.5.2 / 3.5.5.2: a signed message MUST name the URL it was sent to. */
function checkDestination(root: Element, destination: string): void {
  if (attribute(root, 'Destination') !== destination) {
    throw new SamlError('SAML_DESTINATION_MISMATCH', 'the request was addressed to another endpoint');
  }
}

function checkIssueInstant(root: Element, now: Date): Date {
  const raw = attribute(root, 'IssueInstant') ?? '';
  const instant = new Date(raw);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(raw) || Number.isNaN(instant.getTime())) {
    throw new SamlError('SAML_XML_INVALID', 'IssueInstant is not a UTC xs:dateTime');
  }
  const ageSeconds = (now.getTime() - instant.getTime()) / 1000;
  if (ageSeconds > MAX_REQUEST_AGE_SECONDS + MAX_CLOCK_SKEW_SECONDS)
    throw new SamlError('SAML_EXPIRED', 'the request is stale');
  if (ageSeconds < -MAX_CLOCK_SKEW_SECONDS)
    throw new SamlError('SAML_NOT_YET_VALID', 'the request is dated in the future');
  return instant;
}

/** The Response goes only to the registered ACS over HTTP-POST; the request may name nothing else. */
function checkAssertionConsumerService(root: Element, sp: TrustedSp): void {
  const acsUrl = attribute(root, 'AssertionConsumerServiceURL');
  const acsIndex = attribute(root, 'AssertionConsumerServiceIndex');
  if ((acsUrl !== undefined && acsUrl !== sp.acsUrl) || (acsIndex !== undefined && acsIndex !== '0')) {
    throw new JsmSsoError(
      'SAML_ACS_UNREGISTERED',
      'the request names an assertion consumer service that is not registered',
    );
  }
  const binding = attribute(root, 'ProtocolBinding');
  if (binding !== undefined && binding !== BINDING_POST) {
    throw new JsmSsoError(
      'SAML_BINDING_UNSUPPORTED',
      'the response can only be sent with the HTTP-POST binding',
    );
  }
}

export function acceptAuthnRequest(
  binding: Binding,
  sp: TrustedSp,
  destination: string,
  now: Date,
): AcceptedAuthnRequest {
  const { root, relayState } = verifiedRoot(binding, sp);
  const { id, issueInstant } = checkMessage(root, 'AuthnRequest', sp.entityId, destination, now);
  checkAssertionConsumerService(root, sp);
  return {
    id,
    issueInstant,
    root,
    forceAuthn: isTrue(attribute(root, 'ForceAuthn')),
    isPassive: isTrue(attribute(root, 'IsPassive')),
    ...(relayState === undefined ? {} : { relayState }),
  };
}

export function acceptLogoutRequest(
  binding: Binding,
  sp: TrustedSp,
  destination: string,
  now: Date,
): AcceptedLogoutRequest {
  const { root, relayState } = verifiedRoot(binding, sp);
  const { id, issueInstant } = checkMessage(root, 'LogoutRequest', sp.entityId, destination, now);
  return {
    id,
    issueInstant,
    root,
    sessionIndexes: sessionIndexesOf(root),
    ...(relayState === undefined ? {} : { relayState }),
  };
}

/** The SessionIndex values of a LogoutRequest (core 3.7.1), in order. */
export function sessionIndexesOf(root: Element): string[] {
  return childElements(root, NS.protocol, 'SessionIndex').map((e) => simpleText(e));
}

/** xs:boolean: "true" or "1". */
function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}
