import type { Document, Element } from '@xmldom/xmldom';
import type { SignatureAlgorithmUri } from './algorithms.js';
import { SamlError } from './errors.js';
import type { BuiltMessage } from './messages.js';
import { signEnveloped } from './signature.js';
import { isElement } from './xml.js';

/**
 * The SAML SOAP binding (bindings 3.2) as jsm-sso uses it: the broker's back-channel LogoutRequest
 * to the portal and the portal's LogoutResponse, each signed (enveloped) and carried alone in the
 * Body of a SOAP 1.1 envelope. The channel is plain HTTPS without client authentication, so the
 * message's own signature is what the receiver trusts (bindings 3.2.4: integrity by signature).
 */

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** Bindings 3.2.3.1: the media type of the exchange; 3.2.2.1 suggests this SOAPAction. */
export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';
export const SOAP_ACTION = 'http://www.oasis-open.org/committees/security';

export interface SoapSigning {
  keyPem: string;
  certPem: string;
  /** Default: the key's own (rsa-sha256 for RSA, ecdsa-sha256 for EC). */
  signatureAlgorithm?: SignatureAlgorithmUri;
}

/** `message` signed (enveloped, exc-c14n: unaffected by the envelope around it) in a SOAP envelope. */
export function signedSoapMessage(message: BuiltMessage, signing: SoapSigning): string {
  const signed = signEnveloped(message.xml, { id: message.id, ...signing });
  return envelope(signed.replace(/^<\?xml[^>]*\?>\s*/, ''));
}

/** SOAP 1.1 4.4.1: the faultcodes a SOAP 1.1 node answers with. */
export type SoapFaultCode = 'VersionMismatch' | 'MustUnderstand' | 'Client' | 'Server';

/**
 * The refusals SOAP 1.1 gives a faultcode of their own: an envelope of another SOAP version (4.1.2:
 * "MUST respond with a SOAP VersionMismatch faultcode") and a header block for us marked
 * mustUnderstand (4.2.3, 4.4.1 MustUnderstand). A sender's SOAP stack acts on these, not on our
 * reason code: it may retry in SOAP 1.1, or without the header.
 */
const SOAP_PROTOCOL_FAULTS: Partial<Record<string, SoapFaultCode>> = {
  SAML_SOAP_VERSION_MISMATCH: 'VersionMismatch',
  SAML_SOAP_HEADER_NOT_UNDERSTOOD: 'MustUnderstand',
};

/**
 * A SOAP fault (bindings 3.2.3.3: for what is not a SAML message that can be answered), naming
 * only a reason code: a message that failed its checks gets no signed SAML answer from us. The
 * faultcode is SOAP's own for a SOAP protocol refusal; else `Client`, or `Server` when the HTTP
 * `status` of the refusal says the fault is ours (SOAP 1.1 4.4.1: e.g. the sender's keys could not
 * be read).
 */
export function soapFault(reason: string, status: number): string {
  const faultcode = SOAP_PROTOCOL_FAULTS[reason] ?? (status >= 500 ? 'Server' : 'Client');
  return envelope(
    `<soap11:Fault><faultcode>soap11:${faultcode}</faultcode><faultstring>${reason.replace(/[^A-Z0-9_]/g, '')}</faultstring></soap11:Fault>`,
  );
}

function envelope(body: string): string {
  return `<soap11:Envelope xmlns:soap11="${SOAP_ENVELOPE_NS}"><soap11:Body>${body}</soap11:Body></soap11:Envelope>`;
}

/** SOAP 1.1 4.2.2: the actor of a header block meant for the first node that reads it (here, us). */
const ACTOR_NEXT = 'http://schemas.xmlsoap.org/soap/actor/next';

/**
 * The one SAML message in the Body of a parsed envelope (SOAP 1.1 4: an optional Header first, then
 * the Body). A Header is taken, and its blocks ignored, unless one meant for us is marked
 * mustUnderstand (SOAP 1.1 4.2.3: we understand none, so we must refuse the message). Bindings
 * 3.2.2.2 lets a sender add headers because SOAP libraries add them on their own: Keycloak's (SAAJ)
 * writes an empty Header into every envelope.
 */
export function soapBodyMessage(doc: Document): Element {
  const root = doc.documentElement!;
  if (root.localName !== 'Envelope')
    throw new SamlError('SAML_BINDING_INVALID', 'the body is not a SOAP envelope');
  // SOAP 1.1 4.1.2: an Envelope in another namespace is another SOAP version (1.2's), not ours.
  if (root.namespaceURI !== SOAP_ENVELOPE_NS)
    throw new SamlError('SAML_SOAP_VERSION_MISMATCH', 'the envelope is not a SOAP 1.1 envelope');
  const parts = Array.from(root.childNodes).filter(isElement);
  const header = parts.length === 2 && isSoap(parts[0]!, 'Header') ? parts[0] : undefined;
  const body = parts.length === (header ? 2 : 1) ? parts.at(-1)! : undefined;
  if (!body || !isSoap(body, 'Body'))
    throw new SamlError(
      'SAML_BINDING_INVALID',
      'the SOAP envelope must hold one Body, after at most one Header',
    );
  if (header && Array.from(header.childNodes).filter(isElement).some(mustBeUnderstoodHere))
    throw new SamlError(
      'SAML_SOAP_HEADER_NOT_UNDERSTOOD',
      'the SOAP Header has a block for us marked mustUnderstand',
    );
  const messages = Array.from(body.childNodes).filter(isElement);
  if (messages.length !== 1)
    throw new SamlError('SAML_BINDING_INVALID', 'the SOAP Body must carry exactly one SAML message');
  return messages[0]!;
}

const isSoap = (element: Element, name: 'Header' | 'Body') =>
  element.namespaceURI === SOAP_ENVELOPE_NS && element.localName === name;

/** A header block for this node (no actor, or the next one) that it must understand to go on. */
function mustBeUnderstoodHere(block: Element): boolean {
  const mustUnderstand = block.getAttributeNS(SOAP_ENVELOPE_NS, 'mustUnderstand');
  const actor = block.getAttributeNS(SOAP_ENVELOPE_NS, 'actor');
  return (mustUnderstand === '1' || mustUnderstand === 'true') && (!actor || actor === ACTOR_NEXT);
}
