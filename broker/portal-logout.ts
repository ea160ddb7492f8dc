import type { Element } from '@xmldom/xmldom';
import { JsmSsoError } from '../common/errors.js';
import type { FlowStore } from '../common/flowstore/index.js';
import {
  acceptProtocolMessage,
  logoutRequest,
  logoutSucceeded,
  MAX_MESSAGE_AGE_SECONDS,
  MAX_REQUEST_BYTES,
  SOAP_ACTION,
  SOAP_CONTENT_TYPE,
  STATUS_SUCCESS,
  signedSoapMessage,
  statusOf,
} from '../common/saml/index.js';
import type { Sealer } from '../common/sealer.js';
import type { TlsFetch } from '../common/tls/index.js';
import type { BrokerSettings } from './settings.js';

/**
 * The broker ends a portal session itself, back-channel: a signed LogoutRequest naming the NameID
 * and SessionIndex it asserted, posted over the SAML SOAP binding (bindings 3.2) to the portal's
 * SingleLogoutService, and the portal's signed LogoutResponse checked as every logout message is
 * (signature, Issuer, Destination, IssueInstant, InResponseTo, once). Used when an IdP's own logout
 * ends a broker session (back-channel, front-channel, an upstream SAML LogoutRequest): no browser is
 * there to carry a message to the portal, or it is on the IdP's page.
 */

/** Whom the LogoutRequest signs out: as the portal received it in the broker's Response. */
export interface PortalSessionSubject {
  nameId: string;
  nameIdFormat?: string;
  /** Absent: every session of the person (core 3.7.3.2; a person past their slots, ADR 0218). */
  sessionIndex?: string;
}

/** The NameID the portal was given, sealed in the broker session (it is often an e-mail). */
export interface PortalSubjectSealer {
  seal(subject: Omit<PortalSessionSubject, 'sessionIndex'>): string;
  open(sealed: string): Omit<PortalSessionSubject, 'sessionIndex'>;
}

export function portalSubjectSealer(sealer: Sealer): PortalSubjectSealer {
  return {
    seal: (subject) => sealer.seal(JSON.stringify(subject)),
    open: (sealed) => JSON.parse(sealer.open(sealed)),
  };
}

/**
 * Sends the LogoutRequest; `success` false when the portal answered PartialLogout. Throws
 * PORTAL_LOGOUT_UNCONFIRMED when it did not answer, or answered a failure or no valid message.
 */
export type PortalLogout = (subject: PortalSessionSubject) => Promise<{ success: boolean }>;

export function portalLogoutSender(options: {
  settings: BrokerSettings;
  fetch: TlsFetch;
  /** The replay markers of the portal's answers. */
  store: FlowStore;
  now: () => Date;
  /** The whole exchange gives up after this (the IdP is waiting for the broker's answer). */
  timeoutMs: number;
}): PortalLogout {
  const { settings, fetch, store, now } = options;
  const { sp } = settings;
  return async (subject) => {
    const issuedAt = now();
    const request = logoutRequest({
      issuer: settings.entityId,
      destination: sp.sloUrl,
      now: issuedAt,
      // Core 3.7.3.2: the session authority sets it. As long as the portal takes the IssueInstant.
      notOnOrAfter: new Date(issuedAt.getTime() + MAX_MESSAGE_AGE_SECONDS * 1000),
      ...subject,
    });
    const envelope = signedSoapMessage(request, {
      keyPem: settings.signingKeyPem,
      certPem: settings.signingCertPem,
      signatureAlgorithm: settings.signing.algorithm,
    });
    const answer = await exchange(fetch, sp.sloUrl, envelope, options.timeoutMs);
    let root: Element;
    try {
      ({ root } = await acceptProtocolMessage(
        { kind: 'soap', envelope: answer },
        {
          type: 'LogoutResponse',
          inResponseTo: request.id,
          issuer: sp.entityId,
          certificatesPem: sp.certificatesPem,
          signatureAlgorithm: sp.signatureAlgorithm,
          destination: settings.sloUrl,
          now: now(),
        },
        store,
      ));
    } catch (cause) {
      throw unconfirmed('the portal answered the LogoutRequest with a message that fails its checks', cause);
    }
    // Not Success at the top: the portal did nothing (Responder: its store did not answer, ADR 0164),
    // which is no PartialLogout; a caller that can retry keeps what it would have ended.
    if (statusOf(root).code !== STATUS_SUCCESS)
      throw unconfirmed('the portal did not act on the LogoutRequest', undefined);
    return { success: logoutSucceeded(root) };
  };
}

async function exchange(fetch: TlsFetch, url: string, envelope: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': SOAP_CONTENT_TYPE, soapaction: SOAP_ACTION },
      body: envelope,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
      maxResponseBytes: MAX_REQUEST_BYTES,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`the portal answered ${response.status}`);
    return text;
  } catch (cause) {
    throw unconfirmed('the portal did not answer the LogoutRequest', cause);
  }
}

function unconfirmed(message: string, cause: unknown): JsmSsoError {
  return new JsmSsoError('PORTAL_LOGOUT_UNCONFIRMED', message, { status: 502, cause });
}
