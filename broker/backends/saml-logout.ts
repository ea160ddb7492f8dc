import type { Element } from '@xmldom/xmldom';
import type { FlowStore } from '../../common/flowstore/index.js';
import {
  acceptProtocolMessage,
  type IdpMetadata,
  inflateRedirectPayload,
  logoutRequestSubject,
  logoutSucceeded,
  MAX_REQUEST_BYTES,
  NS,
  parseSamlXml,
} from '../../common/saml/index.js';
import { optionalChild, simpleText } from '../../common/saml/xml.js';

/**
 * Single Logout messages between the broker (as SP) and an upstream SAML IdP, HTTP-Redirect
 * binding (profiles 4.4): the checks on the IdP's LogoutResponse and on the IdP's own
 * LogoutRequest, each every check of common/saml acceptProtocolMessage with the IdP's configured
 * certificates, before anything in it is read.
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

/** Where the broker receives SLO messages, when, and where it remembers their IDs. */
export interface SloEndpoint {
  url: string;
  now: Date;
  replay: FlowStore;
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

const fromIdp = (idp: IdpMetadata, endpoint: SloEndpoint) => ({
  issuer: idp.entityId,
  certificatesPem: idp.signingCertificatesPem,
  destination: endpoint.url,
  now: endpoint.now,
});

/**
 * The IdP's answer to the broker's LogoutRequest `inResponseTo`. `success` is false when the IdP
 * says it could not end every session (any non-Success status, or Success/PartialLogout).
 */
export async function acceptLogoutResponse(
  rawQuery: string,
  idp: IdpMetadata,
  endpoint: SloEndpoint,
  inResponseTo: string,
): Promise<{ success: boolean }> {
  const { root } = await acceptProtocolMessage(
    { kind: 'redirect', rawQuery },
    { type: 'LogoutResponse', inResponseTo, ...fromIdp(idp, endpoint) },
    endpoint.replay,
  );
  return { success: logoutSucceeded(root) };
}

/** The IdP's own LogoutRequest (IdP-initiated logout, or another SP's logout relayed by the IdP). */
export async function acceptLogoutRequest(
  rawQuery: string,
  idp: IdpMetadata,
  endpoint: SloEndpoint,
): Promise<UpstreamLogoutRequest> {
  const { id, root, relayState } = await acceptProtocolMessage(
    { kind: 'redirect', rawQuery },
    { type: 'LogoutRequest', ...fromIdp(idp, endpoint) },
    endpoint.replay,
  );
  return { id, ...logoutRequestSubject(root), ...(relayState === undefined ? {} : { relayState }) };
}
