import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_REQUEST_BYTES, SOAP_CONTENT_TYPE, soapFault } from '../common/saml/index.js';
import type { SoapLogout } from './backends/backend.js';
import { readSoapEnvelope } from './http.js';
import type { BrokerTelemetry } from './telemetry.js';

/**
 * An upstream SAML IdP's LogoutRequest over the SAML SOAP binding (ADR 0160), at the IdP's own
 * path: read as a SOAP body (media type, size), judged and answered by the IdP's backend, the
 * answer sent on the same connection. What the backend throws becomes a fault (`sendSoapFault`).
 */
export async function serveSoapLogout(
  req: IncomingMessage,
  res: ServerResponse,
  idp: string,
  endpoint: SoapLogout,
  telemetry: BrokerTelemetry,
): Promise<void> {
  const envelope = await readSoapEnvelope(req, MAX_REQUEST_BYTES);
  const answer = await endpoint.answer(envelope);
  // A request the IdP signed, refused by a later check: answered Requester, counted as a refusal;
  // or not acted on now (ADR 0164): answered Responder, counted as an error of ours.
  if (answer.refused) telemetry.refusal(answer.refused.reason, 200, idp, answer.refused.detail);
  if (answer.unavailable) telemetry.unavailable(answer.unavailable.code, 200, answer.unavailable.where);
  sendSoap(res, 200, answer.envelope);
}

/**
 * A SOAP fault naming only the reason code (bindings 3.2.3.3; its faultcode `soapFault`'s). The
 * HTTP status is the error's, as at the portal's /saml/slo.
 */
export function sendSoapFault(res: ServerResponse, status: number, reason: string): void {
  sendSoap(res, status, soapFault(reason, status));
}

function sendSoap(res: ServerResponse, status: number, envelope: string): void {
  res.statusCode = status;
  res.setHeader('content-type', SOAP_CONTENT_TYPE);
  // Bindings 3.2.3.2: no cache may keep a SAML message.
  res.setHeader('cache-control', 'no-cache, no-store');
  res.setHeader('pragma', 'no-cache');
  res.end(envelope);
}
