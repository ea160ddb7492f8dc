import type { FlowStore } from '../../common/flowstore/index.js';
import type { ElementDecryption } from '../../common/saml/decryption.js';
import {
  acceptProtocolMessage,
  acceptRetriableLogoutRequest,
  type IdpMetadata,
  type LogoutResponseContent,
  logoutRequestSubject,
  logoutResponse,
  logoutSucceeded,
  type MessageBinding,
  type NameIdQualifiers,
  type RetriableLogoutRequest,
  SamlError,
  SenderMessageRefused,
  signedSoapMessage,
} from '../../common/saml/index.js';

/**
 * Single Logout messages between the broker (as SP) and an upstream SAML IdP (profiles 4.4): the
 * checks on the IdP's LogoutResponse (HTTP-Redirect) and on the IdP's own LogoutRequest
 * (HTTP-Redirect, or SOAP back-channel), each every check of common/saml acceptProtocolMessage
 * with the IdP's configured certificates, before anything in it is read; and the broker's signed
 * SOAP answer.
 */

/** What a LogoutRequest to the IdP must name (core 3.7.1): the NameID and SessionIndex of its assertion. */
export interface UpstreamSamlSession {
  nameId: string;
  nameIdFormat: string;
  /** Absent in a handle sealed before the broker kept them (ADR 0199). */
  nameIdQualifiers?: NameIdQualifiers;
  sessionIndex?: string;
}

export interface UpstreamLogoutRequest {
  id: string;
  /** The IdP's entityID: what an absent NameQualifier of a persistent or transient NameID stands for. */
  issuer: string;
  nameId: string;
  /** With the value, the identifier the NameID is (core 2.2.2, ADR 0373). */
  nameIdFormat: string | undefined;
  nameIdQualifiers: NameIdQualifiers;
  /** Empty: every session of the NameID (core 3.7.3.2). */
  sessionIndexes: string[];
  relayState?: string;
}

/**
 * Where the broker receives SLO messages, when, where it remembers their IDs, and how it decrypts
 * an EncryptedID (ADR 0351; no keys when the tenant has no encryptionSecretRef).
 */
export interface SloEndpoint {
  url: string;
  now: Date;
  replay: FlowStore;
  decryption: ElementDecryption;
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

/**
 * The IdP's own LogoutRequest (IdP-initiated logout, or another SP's logout relayed by the IdP),
 * through the browser (Redirect) or back-channel (SOAP, ADR 0160). A request the IdP signed that
 * names nobody is refused as SenderMessageRefused, like its other checks after the signature. Its
 * ID is spent by `once`, after the logout (ADR 0164).
 */
export async function acceptLogoutRequest(
  binding: Extract<MessageBinding, { kind: 'redirect' | 'soap' }>,
  idp: IdpMetadata,
  endpoint: SloEndpoint,
): Promise<UpstreamLogoutRequest & Pick<RetriableLogoutRequest, 'once'>> {
  const { id, root, relayState, once } = acceptRetriableLogoutRequest(
    binding,
    fromIdp(idp, endpoint),
    endpoint.replay,
  );
  try {
    return {
      id,
      issuer: idp.entityId,
      ...logoutRequestSubject(root, endpoint.decryption),
      ...(relayState === undefined ? {} : { relayState }),
      once,
    };
  } catch (err) {
    throw err instanceof SamlError ? new SenderMessageRefused(id, err, relayState) : err;
  }
}

/**
 * The broker's answer to the IdP's SOAP LogoutRequest `inResponseTo`, signed (bindings 3.2.4: the
 * SOAP channel itself proves nothing) and alone in the Body. No Destination: it goes back on the
 * request's own connection.
 */
export function soapLogoutResponse(
  inResponseTo: string,
  outcome: LogoutResponseContent['outcome'],
  signer: { entityId: string; keyPem: string; certPem: string; now: Date },
): string {
  const message = logoutResponse({ issuer: signer.entityId, inResponseTo, outcome, now: signer.now });
  return signedSoapMessage(message, { keyPem: signer.keyPem, certPem: signer.certPem });
}
