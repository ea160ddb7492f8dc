// SAML messages for tests: a Response as an upstream IdP would send it, built from parts each test
// can change, signed with real keys. Negative tests change one thing and assert the refusal code.
import { randomUUID } from 'node:crypto';
import { DOMParser, type Element, XMLSerializer } from '@xmldom/xmldom';
import { expect } from 'chai';
import {
  issueSignedResponse,
  loadSigningCredential,
  logoutResponse,
  NS,
  SamlError,
  signEnveloped,
  signedRedirectUrl,
} from '../common/saml/index.js';
import { type KeyPair, makeKeyPair } from './keys.js';

export const IDP_ENTITY_ID = 'https://idp.example.test/saml/metadata';
export const SP_ENTITY_ID = 'https://broker.example.test/saml/sp-metadata';
export const ACS_URL = 'https://broker.example.test/saml/acs';
export const REQUEST_ID = '_request-0001';
export const NOW = new Date('2030-05-01T12:00:00Z');

export interface ResponseParts {
  responseId: string;
  assertionId: string;
  issuer: string;
  assertionIssuer: string;
  destination: string | undefined;
  inResponseTo: string;
  status: string;
  nameId: string;
  nameIdFormat: string;
  recipient: string;
  confirmationInResponseTo: string;
  method: string;
  audience: string;
  notBefore: Date;
  notOnOrAfter: Date;
  confirmationNotOnOrAfter: Date;
  /** Raw XML appended to the AttributeStatement. */
  attributesXml: string;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function defaultParts(overrides: Partial<ResponseParts> = {}): ResponseParts {
  return {
    responseId: `_r${randomUUID()}`,
    assertionId: `_a${randomUUID()}`,
    issuer: IDP_ENTITY_ID,
    assertionIssuer: IDP_ENTITY_ID,
    destination: ACS_URL,
    inResponseTo: REQUEST_ID,
    status: 'urn:oasis:names:tc:SAML:2.0:status:Success',
    nameId: 'alice@example.test',
    nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    recipient: ACS_URL,
    confirmationInResponseTo: REQUEST_ID,
    method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer',
    audience: SP_ENTITY_ID,
    notBefore: new Date(NOW.getTime() - 60_000),
    notOnOrAfter: new Date(NOW.getTime() + 300_000),
    confirmationNotOnOrAfter: new Date(NOW.getTime() + 300_000),
    attributesXml:
      '<saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">alice@example.test</saml:AttributeValue></saml:Attribute>' +
      '<saml:Attribute Name="groups"><saml:AttributeValue>jsm-users</saml:AttributeValue><saml:AttributeValue>staff</saml:AttributeValue></saml:Attribute>',
    ...overrides,
  };
}

/** An unsigned Response; `nameIdXml` replaces the NameID text verbatim (for injection tests). */
export function responseXml(parts: ResponseParts, options: { nameIdXml?: string } = {}): string {
  const destination = parts.destination === undefined ? '' : ` Destination="${parts.destination}"`;
  return (
    `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${parts.responseId}" Version="2.0" IssueInstant="${iso(NOW)}"${destination} InResponseTo="${parts.inResponseTo}">` +
    `<saml:Issuer>${parts.issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${parts.status}"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="${NS.xsi}" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${parts.assertionId}" Version="2.0" IssueInstant="${iso(NOW)}">` +
    `<saml:Issuer>${parts.assertionIssuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${parts.nameIdFormat}">${options.nameIdXml ?? parts.nameId}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${parts.method}"><saml:SubjectConfirmationData InResponseTo="${parts.confirmationInResponseTo}" Recipient="${parts.recipient}" NotOnOrAfter="${iso(parts.confirmationNotOnOrAfter)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(parts.notBefore)}" NotOnOrAfter="${iso(parts.notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${parts.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(NOW)}" SessionIndex="_session-1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${parts.attributesXml}</saml:AttributeStatement>` +
    '</saml:Assertion></samlp:Response>'
  );
}

export interface SignOptions {
  signAssertion?: boolean;
  signResponse?: boolean;
  key?: KeyPair;
  nameIdXml?: string;
}

/** A Response signed like most IdPs do it: Assertion signed (default), Response optionally too. */
export function signedResponse(parts: ResponseParts, options: SignOptions = {}): string {
  const key = options.key ?? idpKey();
  let xml = responseXml(parts, options.nameIdXml === undefined ? {} : { nameIdXml: options.nameIdXml });
  if (options.signAssertion !== false) xml = signEnveloped(xml, { id: parts.assertionId, ...key });
  if (options.signResponse) xml = signEnveloped(xml, { id: parts.responseId, ...key });
  return xml;
}

export function idpKey(): KeyPair {
  return makeKeyPair('idp.example.test');
}

export function attackerKey(): KeyPair {
  return makeKeyPair('attacker.example.test');
}

export function expectedFor(overrides: Record<string, unknown> = {}) {
  return {
    idpEntityId: IDP_ENTITY_ID,
    idpCertificatesPem: [idpKey().certPem],
    spEntityId: SP_ENTITY_ID,
    acsUrl: ACS_URL,
    inResponseTo: REQUEST_ID,
    now: NOW,
    ...overrides,
  };
}

/** Edits a serialized document through the DOM, for tampering after signing. */
export function editXml(xml: string, edit: (root: Element) => void): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  edit(doc.documentElement!);
  return new XMLSerializer().serializeToString(doc);
}

export function firstByName(root: Element, ns: string, localName: string): Element {
  const found = root.getElementsByTagNameNS(ns, localName)[0];
  if (!found) throw new Error(`fixture has no ${localName}`);
  return found;
}

/** The SamlError code `fn` refuses with; fails the test when it does not refuse. */
export function refusalCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(SamlError);
    return (err as SamlError).code;
  }
  throw new Error('expected a refusal');
}

/** A sign-in Response from the broker at `brokerUrl` to the portal at `portalUrl` (answering `_request`), signed with `pair`. */
export async function hopResponseSignedBy(
  pair: KeyPair,
  brokerUrl: string,
  portalUrl: string,
): Promise<string> {
  const { xml } = await issueSignedResponse(loadSigningCredential(pair.keyPem, pair.certPem), {
    issuer: `${brokerUrl}/saml/metadata`,
    audience: `${portalUrl}/saml/metadata`,
    acsUrl: `${portalUrl}/saml/acs`,
    inResponseTo: '_request',
    nameId: 'alice@acme.test',
    nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    attributes: [{ name: 'email', values: ['alice@acme.test'] }],
    sessionIndex: '_session',
    authnInstant: new Date(),
    sessionNotOnOrAfter: new Date(Date.now() + 3_600_000),
    now: new Date(),
    lifetimeSeconds: 300,
  });
  return xml;
}

/** The query of a successful Redirect LogoutResponse from the broker at `brokerUrl` to the portal's `requestId`, signed with `pair`. */
export function hopLogoutResponseQuery(
  pair: KeyPair,
  brokerUrl: string,
  portalUrl: string,
  requestId: string,
): string {
  return new URL(
    signedRedirectUrl(
      'SAMLResponse',
      `${portalUrl}/saml/slo`,
      logoutResponse({
        issuer: `${brokerUrl}/saml/metadata`,
        destination: `${portalUrl}/saml/slo`,
        now: new Date(),
        inResponseTo: requestId,
        outcome: 'success',
      }),
      { keyPem: pair.keyPem, relayState: 'relay' },
    ),
  ).search.slice(1);
}
