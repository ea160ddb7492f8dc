import { randomBytes } from 'node:crypto';
import { envelopedSignature, type SigningCredential } from './canonical-signature.js';
import {
  canonicalAttribute as attr,
  newSamlId,
  samlInstant,
  canonicalText as text,
} from './canonical-xml.js';
import {
  ATTRNAME_FORMAT_BASIC,
  AUTHN_CONTEXT_UNSPECIFIED,
  BEARER,
  NS,
  STATUS_RESPONDER,
  STATUS_SUCCESS,
} from './namespaces.js';
import type { ProxyRestriction } from './response.js';

/**
 * The SAML Response the broker (as IdP) sends to the portal: Response and Assertion both signed. The XML
 * is written directly in exclusive-canonical form (attributes in c14n order, namespace
 * declarations where exc-c14n puts them, explicit end tags, c14n escaping), so each digest is
 * computed over the very text that is sent. xmlsec1 and node-saml check this in the tests.
 * Signing is asynchronous (threadpool RSA): the Response signature covers the signed Assertion,
 * so the two signatures of one Response are sequential; parallelism is across Responses.
 */

const SAMLP_NS = NS.protocol;
const SAML_NS = NS.assertion;
/** NotBefore is set this far back so an SP whose clock is slightly behind still accepts. */
const NOT_BEFORE_SKEW_MS = 60_000;

export interface ResponseContent {
  /** The broker's IdP entityID. */
  issuer: string;
  /** The SP's entityID (Audience). */
  audience: string;
  /** The SP's AssertionConsumerService URL (Destination and Recipient). */
  acsUrl: string;
  /** ID of the AuthnRequest answered. */
  inResponseTo: string;
  nameId: string;
  nameIdFormat: string;
  attributes: ReadonlyArray<{ name: string; values: readonly string[] }>;
  sessionIndex: string;
  authnContextClassRef?: string;
  /**
   * AuthenticatingAuthority values, in order (core 3.4.1.5.1: a proxying IdP names the IdP it
   * referred the presenter to, after any its assertion named).
   */
  authenticatingAuthorities?: readonly string[];
  authnInstant: Date;
  /**
   * The AuthnStatement's SessionNotOnOrAfter (core 2.7.2): when the session this assertion starts
   * ends, so that the SP's own session ends no later (ADR 0244).
   */
  sessionNotOnOrAfter: Date;
  now: Date;
  lifetimeSeconds: number;
  /** Passed on from the upstream assertion (core 2.5.1.6), its Count already one less. */
  proxyRestriction?: ProxyRestriction;
}

function proxyRestrictionXml(restriction: ProxyRestriction | undefined): string {
  if (!restriction) return '';
  const count = restriction.count === undefined ? '' : ` Count="${restriction.count}"`;
  const audiences = restriction.audiences.map((a) => `<saml:Audience>${text(a)}</saml:Audience>`).join('');
  return `<saml:ProxyRestriction${count}>${audiences}</saml:ProxyRestriction>`;
}

/** Schema order in AuthnContext: AuthnContextClassRef, AuthnContextDecl(Ref), AuthenticatingAuthority*. */
function authenticatingAuthoritiesXml(authorities: readonly string[] | undefined): string {
  return (authorities ?? [])
    .map((authority) => `<saml:AuthenticatingAuthority>${text(authority)}</saml:AuthenticatingAuthority>`)
    .join('');
}

export interface IssuedResponse {
  xml: string;
  responseId: string;
  assertionId: string;
}

export async function issueSignedResponse(
  credential: SigningCredential,
  content: ResponseContent,
  random: (size: number) => Buffer = randomBytes,
): Promise<IssuedResponse> {
  const responseId = newSamlId(random);
  const assertionId = newSamlId(random);
  const issueInstant = samlInstant(content.now);
  const notBefore = samlInstant(new Date(content.now.getTime() - NOT_BEFORE_SKEW_MS));
  const notOnOrAfter = samlInstant(new Date(content.now.getTime() + content.lifetimeSeconds * 1000));
  const inResponseTo = attr(content.inResponseTo);
  const acs = attr(content.acsUrl);
  const issuer = text(content.issuer);

  const assertionOpen = `<saml:Assertion xmlns:saml="${SAML_NS}" ID="${assertionId}" IssueInstant="${issueInstant}" Version="2.0">`;
  const assertionIssuer = `<saml:Issuer>${issuer}</saml:Issuer>`;
  const assertionBody =
    `<saml:Subject><saml:NameID Format="${attr(content.nameIdFormat)}">${text(content.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData InResponseTo="${inResponseTo}" NotOnOrAfter="${notOnOrAfter}" Recipient="${acs}"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${text(content.audience)}</saml:Audience></saml:AudienceRestriction>${proxyRestrictionXml(content.proxyRestriction)}</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${samlInstant(content.authnInstant)}" SessionIndex="${attr(content.sessionIndex)}" SessionNotOnOrAfter="${samlInstant(content.sessionNotOnOrAfter)}"><saml:AuthnContext><saml:AuthnContextClassRef>${text(content.authnContextClassRef ?? AUTHN_CONTEXT_UNSPECIFIED)}</saml:AuthnContextClassRef>${authenticatingAuthoritiesXml(content.authenticatingAuthorities)}</saml:AuthnContext></saml:AuthnStatement>` +
    attributeStatement(content.attributes) +
    '</saml:Assertion>';
  const assertionSignature = await envelopedSignature(
    credential,
    assertionId,
    assertionOpen + assertionIssuer + assertionBody,
  );
  // Schema order: Issuer, Signature, then the rest (saml-schema-assertion-2.0 AssertionType).
  const assertion = assertionOpen + assertionIssuer + assertionSignature + assertionBody;

  const status = `<samlp:Status><samlp:StatusCode Value="${STATUS_SUCCESS}"></samlp:StatusCode></samlp:Status>`;
  const xml = await signedResponseEnvelope(credential, responseId, content, status + assertion);
  return { xml, responseId, assertionId };
}

export interface ErrorResponseContent {
  issuer: string;
  acsUrl: string;
  inResponseTo: string;
  /**
   * Top-level status: Responder (the IdP side failed, the default), Requester (the request cannot be
   * granted) or VersionMismatch (the request is of another SAML version).
   */
  topLevelStatus?: string;
  /**
   * Second-level status: AuthnFailed, RequestDenied, NoPassive, InvalidNameIDPolicy and the like;
   * undefined only where core 3.2.2.2 has none for the case (a VersionMismatch of no known distance).
   */
  secondLevelStatus: string | undefined;
  now: Date;
}

/**
 * A signed Response without an assertion, telling the SP the login failed at the IdP side
 * (profiles 4.1.4.2: the IdP answers with a non-success status rather than leaving the SP waiting).
 */
export async function issueErrorResponse(
  credential: SigningCredential,
  content: ErrorResponseContent,
  random: (size: number) => Buffer = randomBytes,
): Promise<{ xml: string; responseId: string }> {
  const responseId = newSamlId(random);
  const second =
    content.secondLevelStatus === undefined
      ? ''
      : `<samlp:StatusCode Value="${attr(content.secondLevelStatus)}"></samlp:StatusCode>`;
  const status = `<samlp:Status><samlp:StatusCode Value="${attr(content.topLevelStatus ?? STATUS_RESPONDER)}">${second}</samlp:StatusCode></samlp:Status>`;
  return { xml: await signedResponseEnvelope(credential, responseId, content, status), responseId };
}

/** The signed samlp:Response around `body` (Status, then the Assertion if any). */
async function signedResponseEnvelope(
  credential: SigningCredential,
  responseId: string,
  content: { issuer: string; acsUrl: string; inResponseTo: string; now: Date },
  body: string,
): Promise<string> {
  const responseOpen = `<samlp:Response xmlns:samlp="${SAMLP_NS}" Destination="${attr(content.acsUrl)}" ID="${responseId}" InResponseTo="${attr(content.inResponseTo)}" IssueInstant="${samlInstant(content.now)}" Version="2.0">`;
  const responseIssuer = `<saml:Issuer xmlns:saml="${SAML_NS}">${text(content.issuer)}</saml:Issuer>`;
  const responseBody = `${body}</samlp:Response>`;
  const signature = await envelopedSignature(
    credential,
    responseId,
    responseOpen + responseIssuer + responseBody,
  );
  // Schema order: Issuer, Signature, Status (saml-schema-protocol-2.0 StatusResponseType).
  return responseOpen + responseIssuer + signature + responseBody;
}

function attributeStatement(attributes: ResponseContent['attributes']): string {
  if (attributes.length === 0) return '';
  let out = '<saml:AttributeStatement>';
  for (const { name, values } of attributes) {
    out += `<saml:Attribute Name="${attr(name)}" NameFormat="${ATTRNAME_FORMAT_BASIC}">`;
    for (const value of values) out += `<saml:AttributeValue>${text(value)}</saml:AttributeValue>`;
    out += '</saml:Attribute>';
  }
  return `${out}</saml:AttributeStatement>`;
}
