/**
 * The SAML messages the portal (as service provider) writes: AuthnRequest, LogoutRequest and
 * LogoutResponse (its metadata comes from common/saml buildSpMetadata). Pure string building; every value is XML-escaped.
 */
import { randomBytes } from 'node:crypto';
import { BINDING_POST } from '../../common/saml/namespaces.js';

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
}

export function spEndpoints(portalUrl: string): SpEndpoints {
  return {
    entityId: `${portalUrl}/saml/metadata`,
    acsUrl: `${portalUrl}/saml/acs`,
    sloUrl: `${portalUrl}/saml/slo`,
  };
}

export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A SAML ID: an xsd:ID (must not start with a digit) with 160 bits of randomness. */
export function newMessageId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

const instant = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function authnRequestXml(sp: SpEndpoints, destination: string, id: string, now = new Date()): string {
  return (
    `<samlp:AuthnRequest xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ID="${id}" Version="2.0" ` +
    `IssueInstant="${instant(now)}" Destination="${xmlEscape(destination)}" ` +
    `AssertionConsumerServiceURL="${xmlEscape(sp.acsUrl)}" ProtocolBinding="${BINDING_POST}">` +
    `<saml:Issuer>${xmlEscape(sp.entityId)}</saml:Issuer>` +
    `<samlp:NameIDPolicy AllowCreate="true"/>` +
    `</samlp:AuthnRequest>`
  );
}

export interface SessionSubject {
  nameId: string;
  nameIdFormat?: string | undefined;
  sessionIndex?: string | undefined;
}

export function logoutRequestXml(
  sp: SpEndpoints,
  destination: string,
  id: string,
  subject: SessionSubject,
  now = new Date(),
) {
  const format = subject.nameIdFormat ? ` Format="${xmlEscape(subject.nameIdFormat)}"` : '';
  return (
    `<samlp:LogoutRequest xmlns:samlp="${PROTOCOL}" xmlns:saml="${ASSERTION}" ID="${id}" Version="2.0" ` +
    `IssueInstant="${instant(now)}" Destination="${xmlEscape(destination)}">` +
    `<saml:Issuer>${xmlEscape(sp.entityId)}</saml:Issuer>` +
    `<saml:NameID${format}>${xmlEscape(subject.nameId)}</saml:NameID>` +
    (subject.sessionIndex
      ? `<samlp:SessionIndex>${xmlEscape(subject.sessionIndex)}</samlp:SessionIndex>`
      : '') +
    `</samlp:LogoutRequest>`
  );
}
