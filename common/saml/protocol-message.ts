import type { Element } from '@xmldom/xmldom';
import { JsmSsoError } from '../errors.js';
import { SamlError } from './errors.js';
import { NS } from './namespaces.js';
import { MAX_CLOCK_SKEW_SECONDS } from './response.js';
import { attribute, childElements, optionalChild, simpleText } from './xml.js';

/**
 * The checks every signed SAML protocol request or logout message gets, whoever sent it and
 * whoever receives it (the broker as IdP or as SP): type, version, ID, Issuer, Destination and a
 * fresh IssueInstant, plus the binding limits on RelayState and message size.
 */

/** A request older than this (plus clock skew) is stale: it cannot be a live browser redirect. */
export const MAX_REQUEST_AGE_SECONDS = 300;
/** SAML bindings 3.4.3 / 3.5.3: RelayState MUST NOT exceed 80 bytes. */
export const MAX_RELAY_STATE_BYTES = 80;
/** A request or logout message is a few kilobytes; anything much larger is an attack. */
export const MAX_REQUEST_BYTES = 64 * 1024;

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
 * Type, version, ID, Issuer (the party whose key verified it), Destination (this endpoint) and a
 * fresh IssueInstant.
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

/** The SessionIndex values of a LogoutRequest (core 3.7.1), in order. */
export function sessionIndexesOf(root: Element): string[] {
  return childElements(root, NS.protocol, 'SessionIndex').map((e) => simpleText(e));
}
