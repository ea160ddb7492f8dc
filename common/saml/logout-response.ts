import { randomBytes } from 'node:crypto';
import * as c14n from './canonical-xml.js';
import { NS, STATUS_SUCCESS } from './namespaces.js';
import { signRedirectQuery } from './redirect-binding.js';

export const STATUS_PARTIAL_LOGOUT = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';

export interface LogoutResponseContent {
  issuer: string;
  destination: string;
  inResponseTo: string;
  /** Success, or PartialLogout (as second-level code) when the IdP could not be signed out. */
  partial: boolean;
  now: Date;
  relayState?: string;
}

/** The redirect URL carrying a signed LogoutResponse (HTTP-Redirect binding) to the portal's SLO URL. */
export function signedLogoutResponseUrl(keyPem: string, content: LogoutResponseContent): string {
  const status = content.partial
    ? `<samlp:StatusCode Value="${STATUS_SUCCESS}"><samlp:StatusCode Value="${STATUS_PARTIAL_LOGOUT}"></samlp:StatusCode></samlp:StatusCode>`
    : `<samlp:StatusCode Value="${STATUS_SUCCESS}"></samlp:StatusCode>`;
  const xml =
    `<samlp:LogoutResponse xmlns:samlp="${NS.protocol}" Destination="${c14n.canonicalAttribute(content.destination)}" ID="${c14n.newSamlId(randomBytes)}" InResponseTo="${c14n.canonicalAttribute(content.inResponseTo)}" IssueInstant="${c14n.samlInstant(content.now)}" Version="2.0">` +
    `<saml:Issuer xmlns:saml="${NS.assertion}">${c14n.canonicalText(content.issuer)}</saml:Issuer><samlp:Status>${status}</samlp:Status></samlp:LogoutResponse>`;
  const query = signRedirectQuery('SAMLResponse', xml, {
    keyPem,
    ...(content.relayState === undefined ? {} : { relayState: content.relayState }),
  });
  return `${content.destination}${content.destination.includes('?') ? '&' : '?'}${query}`;
}
