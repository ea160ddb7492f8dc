import type { Element } from '@xmldom/xmldom';
import { samlInstant } from '../../common/saml/canonical-xml.js';
import {
  escapeXml,
  type IdpMetadata,
  inflateRedirectPayload,
  MAX_CLOCK_SKEW_SECONDS,
  NS,
  parseSamlXml,
  SamlError,
  STATUS_SUCCESS,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import { STATUS_PARTIAL_LOGOUT } from '../../common/saml/logout-response.js';
import {
  checkMessage,
  MAX_REQUEST_BYTES,
  relayStateOf,
  sessionIndexesOf,
} from '../../common/saml/protocol-message.js';
import { attribute, optionalChild, requiredChild, simpleText } from '../../common/saml/xml.js';

/**
 * Single Logout messages between the broker (as SP) and an upstream SAML IdP, HTTP-Redirect
 * binding (profiles 4.4): the LogoutRequest the broker sends, and the checks on the IdP's
 * LogoutResponse and on the IdP's own LogoutRequest. Every message is verified with the IdP's
 * configured certificates before anything in it is read.
 */

/** What a LogoutRequest to the IdP must name (core 3.7.1): the NameID and SessionIndex of its assertion. */
export interface UpstreamSamlSession {
  nameId: string;
  nameIdFormat: string;
  sessionIndex?: string;
}

export interface UpstreamLogoutRequest {
  id: string;
  nameId: string;
  /** Empty: every session of the NameID (core 3.7.3.2). */
  sessionIndexes: string[];
  relayState?: string;
}

/** Where the broker receives SLO messages, and when. */
export interface SloEndpoint {
  url: string;
  now: Date;
}

export function logoutRequestXml(
  content: { id: string; issuer: string; destination: string; now: Date },
  session: UpstreamSamlSession,
): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${content.id}"` +
    ` Version="2.0" IssueInstant="${samlInstant(content.now)}" Destination="${escapeXml(content.destination)}">` +
    `<saml:Issuer>${escapeXml(content.issuer)}</saml:Issuer>` +
    `<saml:NameID Format="${escapeXml(session.nameIdFormat)}">${escapeXml(session.nameId)}</saml:NameID>` +
    (session.sessionIndex
      ? `<samlp:SessionIndex>${escapeXml(session.sessionIndex)}</samlp:SessionIndex>`
      : '') +
    '</samlp:LogoutRequest>'
  );
}

/**
 * The Issuer of a Redirect-binding message, read WITHOUT verification: only to pick whose
 * certificates will verify it. Undefined when it cannot be read (the normal checks then refuse it).
 */
export function unverifiedIssuer(
  rawQuery: string,
  param: 'SAMLRequest' | 'SAMLResponse',
): string | undefined {
  try {
    const message = new URLSearchParams(rawQuery).get(param);
    if (!message) return undefined;
    const doc = parseSamlXml(inflateRedirectPayload(message), { maxBytes: MAX_REQUEST_BYTES });
    const issuer = optionalChild(doc.documentElement as unknown as Element, NS.assertion, 'Issuer');
    return issuer ? simpleText(issuer) : undefined;
  } catch {
    return undefined;
  }
}

function verifiedRoot(
  rawQuery: string,
  param: 'SAMLRequest' | 'SAMLResponse',
  idp: IdpMetadata,
): { root: Element; relayState?: string } {
  const verified = verifyRedirectSignature(rawQuery, param, idp.signingCertificatesPem);
  const doc = parseSamlXml(verified.xml, { maxBytes: MAX_REQUEST_BYTES });
  return { root: doc.documentElement as unknown as Element, ...relayStateOf(verified.relayState) };
}

/**
 * The IdP's answer to the broker's LogoutRequest: signed by the IdP, addressed to the broker's SLO
 * endpoint, answering that request. `success` is false when the IdP says it could not end every
 * session (any non-Success status, or Success/PartialLogout).
 */
export function acceptLogoutResponse(
  rawQuery: string,
  idp: IdpMetadata,
  endpoint: SloEndpoint,
  inResponseTo: string,
): { success: boolean } {
  const { root } = verifiedRoot(rawQuery, 'SAMLResponse', idp);
  checkMessage(root, 'LogoutResponse', idp.entityId, endpoint.url, endpoint.now);
  if (attribute(root, 'InResponseTo') !== inResponseTo) {
    throw new SamlError('SAML_IN_RESPONSE_TO_MISMATCH', 'the LogoutResponse answers another request');
  }
  const top = requiredChild(requiredChild(root, NS.protocol, 'Status'), NS.protocol, 'StatusCode');
  const second = optionalChild(top, NS.protocol, 'StatusCode');
  return {
    success:
      attribute(top, 'Value') === STATUS_SUCCESS &&
      (second === undefined || attribute(second, 'Value') !== STATUS_PARTIAL_LOGOUT),
  };
}

/** The IdP's own LogoutRequest (IdP-initiated logout, or another SP's logout relayed by the IdP). */
export function acceptLogoutRequest(
  rawQuery: string,
  idp: IdpMetadata,
  endpoint: SloEndpoint,
): UpstreamLogoutRequest {
  const { root, relayState } = verifiedRoot(rawQuery, 'SAMLRequest', idp);
  const { id } = checkMessage(root, 'LogoutRequest', idp.entityId, endpoint.url, endpoint.now);
  const notOnOrAfter = attribute(root, 'NotOnOrAfter');
  const skewMs = MAX_CLOCK_SKEW_SECONDS * 1000;
  if (notOnOrAfter !== undefined && !(Date.parse(notOnOrAfter) + skewMs > endpoint.now.getTime())) {
    throw new SamlError('SAML_EXPIRED', 'the LogoutRequest has expired');
  }
  // An EncryptedID is not supported: the broker never asks for encryption.
  const nameId = simpleText(requiredChild(root, NS.assertion, 'NameID'), 'SAML_NAMEID_INVALID');
  if (!nameId) throw new SamlError('SAML_NAMEID_INVALID', 'the LogoutRequest names nobody');
  return {
    id,
    nameId,
    sessionIndexes: sessionIndexesOf(root),
    ...(relayState === undefined ? {} : { relayState }),
  };
}
