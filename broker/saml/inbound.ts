import type { Element } from '@xmldom/xmldom';
import { JsmSsoError } from '../../common/errors.js';
import { decodeBase64 } from '../../common/saml/deflate.js';
import {
  BINDING_POST,
  parseSamlXml,
  SamlError,
  verifyEnvelopedSignature,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import {
  checkMessage,
  MAX_REQUEST_BYTES,
  relayStateOf,
  sessionIndexesOf,
} from '../../common/saml/protocol-message.js';
import { attribute } from '../../common/saml/xml.js';

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

/** xs:boolean: "true" or "1". */
function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}
