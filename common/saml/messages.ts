import { randomBytes } from 'node:crypto';
import { DOMImplementation, type Document, type Element } from '@xmldom/xmldom';
import { newSamlId, samlInstant } from './canonical-xml.js';
import {
  BINDING_POST,
  NS,
  STATUS_PARTIAL_LOGOUT,
  STATUS_REQUEST_DENIED,
  STATUS_REQUESTER,
  STATUS_RESPONDER,
  STATUS_SUCCESS,
  STATUS_UNKNOWN_PRINCIPAL,
  STATUS_VERSION_MISMATCH,
} from './namespaces.js';
import { type RedirectMessageParam, signRedirectQuery } from './redirect-binding.js';
import type { NameIdQualifiers } from './response.js';
import { serializeXml } from './xml.js';

/**
 * The SAML protocol requests and logout messages jsm-sso writes (core 3.4.1, 3.7.1, 3.7.2), for
 * the portal toward the broker and the broker toward an upstream IdP alike. Built as a DOM with
 * xmldom, so every value is escaped by the serializer; the ID, the IssueInstant and the namespaces
 * come from here only. These messages travel over HTTP-Redirect, whose signature is over the query
 * (redirect-binding.ts), so no canonical form is needed; the signed Response, digested as written,
 * is built in canonical form by issue-response.ts.
 */

/** What every protocol message carries (core 3.2.1). */
export interface MessageHeader {
  /** Our entityID. */
  issuer: string;
  /** The endpoint the message is sent to; the receiver checks it. */
  destination: string;
  now: Date;
}

export interface BuiltMessage {
  id: string;
  xml: string;
}

export interface AuthnRequestContent extends MessageHeader {
  /** Where the Response is to be posted (HTTP-POST binding). */
  acsUrl: string;
  forceAuthn?: boolean;
  isPassive?: boolean;
  /**
   * The languages the person reads, most preferred first (BCP 47 tags, as OIDC's `ui_locales`):
   * sent as a `jsmsso:UILocales` extension, which jsm-sso's broker reads for its pages.
   */
  uiLocales?: readonly string[];
  /** Scoping ProxyCount (core 3.4.1.5): how many proxies may follow; none when undefined. */
  proxyCount?: number;
  /** The context asked for (core 3.3.2.2.1): its classes, else its declarations. */
  requestedAuthnContext?: RequestedAuthnContext;
  /** Scoping's IDPList (core 3.4.1.3.1): the IdPs the requester would have authenticate. */
  idpList?: IdpList;
  /**
   * Scoping's RequesterID values (core 3.4.1.2): the entities on whose behalf the request is made,
   * the chain of requesters a proxied request carries (3.4.1.5.1), earliest first.
   */
  requesterIds?: readonly string[];
}

/**
 * Core 3.3.2.2.1: the context classes, or declarations, a requester asks for, and how the asserted
 * one must compare. The schema lets a request name classes or declarations, never both.
 */
export interface RequestedAuthnContext {
  comparison: 'exact' | 'minimum' | 'maximum' | 'better';
  /** The AuthnContextClassRef values, in the requester's order; empty when it names declarations. */
  classRefs: string[];
  /**
   * The AuthnContextDeclRef values, in the requester's order, when it names declarations (ADR 0376).
   * Absent from a flow a broker before it saved, which carried none on.
   */
  declRefs?: string[];
}

/** Core 3.4.1.3.1-3: the IdPs of a Scoping's IDPList, each by its ProviderID, and where to get more. */
export interface IdpList {
  entries: Array<{ providerId: string; name?: string; loc?: string }>;
  getComplete?: string;
}

export interface LogoutRequestContent extends MessageHeader {
  nameId: string;
  nameIdFormat?: string | undefined;
  /** Repeated as the IdP asserted them, so that the NameID strongly matches (profiles 4.4.4.1). */
  nameIdQualifiers?: NameIdQualifiers | undefined;
  sessionIndex?: string | undefined;
  /**
   * When the request expires (core 3.7.1); a session authority asking a participant to log out MUST
   * set it (core 3.7.3.2), as the broker does toward the portal.
   */
  notOnOrAfter?: Date | undefined;
}

export interface LogoutResponseContent extends Omit<MessageHeader, 'destination'> {
  /** Absent over SOAP: the answer goes back on the request's own connection (bindings 3.2.3). */
  destination?: string;
  inResponseTo: string;
  outcome: LogoutOutcome;
}

/**
 * Success; Success with PartialLogout as second-level code when not every session ended; or
 * Requester / RequestDenied for a request its sender signed that failed a later check; or Requester /
 * UnknownPrincipal for one naming a person under an identifier not asserted to its sender (ADR 0373); or
 * VersionMismatch, with the second-level code given, for one of another Version (core 3.2.2.2); or
 * Responder for one not acted on now (the store did not answer) that may be sent again (ADR 0164).
 */
export type LogoutOutcome =
  | 'success'
  | 'partial'
  | 'refused'
  | 'unknown_principal'
  | 'unavailable'
  | { versionMismatch: string | undefined };

const TOP_LEVEL_STATUS = {
  success: STATUS_SUCCESS,
  partial: STATUS_SUCCESS,
  refused: STATUS_REQUESTER,
  unknown_principal: STATUS_REQUESTER,
  unavailable: STATUS_RESPONDER,
} as const;
const SECOND_LEVEL_STATUS = {
  success: undefined,
  partial: STATUS_PARTIAL_LOGOUT,
  refused: STATUS_REQUEST_DENIED,
  unknown_principal: STATUS_UNKNOWN_PRINCIPAL,
  unavailable: undefined,
} as const;

function logoutStatus(outcome: LogoutOutcome): { top: string; second: string | undefined } {
  if (typeof outcome === 'object') return { top: STATUS_VERSION_MISMATCH, second: outcome.versionMismatch };
  return { top: TOP_LEVEL_STATUS[outcome], second: SECOND_LEVEL_STATUS[outcome] };
}

export function authnRequest(content: AuthnRequestContent): BuiltMessage {
  const { doc, root, id } = protocolMessage('AuthnRequest', content);
  root.setAttribute('AssertionConsumerServiceURL', content.acsUrl);
  root.setAttribute('ProtocolBinding', BINDING_POST);
  if (content.forceAuthn) root.setAttribute('ForceAuthn', 'true');
  if (content.isPassive) root.setAttribute('IsPassive', 'true');
  // Schema order: Issuer, Signature (none in the Redirect binding), Extensions, ..., NameIDPolicy.
  if (content.uiLocales?.length) {
    const extensions = child(root, NS.protocol, 'samlp:Extensions');
    const locales = child(extensions, NS.jsmsso, 'jsmsso:UILocales', content.uiLocales.join(' '));
    locales.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:jsmsso', NS.jsmsso);
  }
  const policy = child(root, NS.protocol, 'samlp:NameIDPolicy');
  policy.setAttribute('AllowCreate', 'true');
  // Schema order: ..., NameIDPolicy, Conditions, RequestedAuthnContext, Scoping.
  const requested = content.requestedAuthnContext;
  if (requested) requestedAuthnContextElement(root, requested);
  const requesterIds = content.requesterIds ?? [];
  if (content.proxyCount !== undefined || content.idpList || requesterIds.length > 0) {
    // Schema order: IDPList?, RequesterID*.
    const scoping = child(root, NS.protocol, 'samlp:Scoping');
    if (content.proxyCount !== undefined) scoping.setAttribute('ProxyCount', String(content.proxyCount));
    if (content.idpList) idpListElement(scoping, content.idpList);
    for (const requesterId of requesterIds) child(scoping, NS.protocol, 'samlp:RequesterID', requesterId);
  }
  return { id, xml: serializeXml(doc) };
}

/**
 * The requester's classes, else its declarations, as it named them (core 3.4.1.5.1: a proxy asks for
 * the same context policy); nothing when it named neither, which the schema does not allow.
 */
function requestedAuthnContextElement(root: Element, requested: RequestedAuthnContext): void {
  const declRefs = requested.declRefs ?? [];
  const [name, refs] =
    requested.classRefs.length > 0
      ? ['saml:AuthnContextClassRef', requested.classRefs]
      : ['saml:AuthnContextDeclRef', declRefs];
  if (refs.length === 0) return;
  const context = child(root, NS.protocol, 'samlp:RequestedAuthnContext');
  context.setAttribute('Comparison', requested.comparison);
  for (const ref of refs) child(context, NS.assertion, name, ref);
}

/** Schema order: IDPEntry+, GetComplete?; each entry's ProviderID, then its Name and Loc when given. */
function idpListElement(scoping: Element, idpList: IdpList): void {
  const list = child(scoping, NS.protocol, 'samlp:IDPList');
  for (const entry of idpList.entries) {
    const element = child(list, NS.protocol, 'samlp:IDPEntry');
    element.setAttribute('ProviderID', entry.providerId);
    if (entry.name !== undefined) element.setAttribute('Name', entry.name);
    if (entry.loc !== undefined) element.setAttribute('Loc', entry.loc);
  }
  if (idpList.getComplete !== undefined) child(list, NS.protocol, 'samlp:GetComplete', idpList.getComplete);
}

export function logoutRequest(content: LogoutRequestContent): BuiltMessage {
  const { doc, root, id } = protocolMessage('LogoutRequest', content);
  if (content.notOnOrAfter) root.setAttribute('NotOnOrAfter', samlInstant(content.notOnOrAfter));
  const nameId = child(root, NS.assertion, 'saml:NameID', content.nameId);
  if (content.nameIdFormat) nameId.setAttribute('Format', content.nameIdFormat);
  const qualifiers = content.nameIdQualifiers ?? {};
  if (qualifiers.nameQualifier !== undefined) nameId.setAttribute('NameQualifier', qualifiers.nameQualifier);
  if (qualifiers.spNameQualifier !== undefined)
    nameId.setAttribute('SPNameQualifier', qualifiers.spNameQualifier);
  if (qualifiers.spProvidedId !== undefined) nameId.setAttribute('SPProvidedID', qualifiers.spProvidedId);
  if (content.sessionIndex) child(root, NS.protocol, 'samlp:SessionIndex', content.sessionIndex);
  return { id, xml: serializeXml(doc) };
}

export function logoutResponse(content: LogoutResponseContent): BuiltMessage {
  const { doc, root, id } = protocolMessage('LogoutResponse', content);
  root.setAttribute('InResponseTo', content.inResponseTo);
  const status = child(root, NS.protocol, 'samlp:Status');
  const code = child(status, NS.protocol, 'samlp:StatusCode');
  const { top, second } = logoutStatus(content.outcome);
  code.setAttribute('Value', top);
  if (second) child(code, NS.protocol, 'samlp:StatusCode').setAttribute('Value', second);
  // Core 3.2.2.2 has no second-level code for "not now"; the message says the sender may retry.
  if (content.outcome === 'unavailable')
    child(status, NS.protocol, 'samlp:StatusMessage', 'temporarily unavailable; send the request again');
  return { id, xml: serializeXml(doc) };
}

/**
 * The URL that carries `message`, signed with `keyPem`, to its Destination over HTTP-Redirect
 * (bindings 3.4.4.1). RelayState comes back unchanged with the answer.
 */
export function signedRedirectUrl(
  param: RedirectMessageParam,
  destination: string,
  message: BuiltMessage,
  options: { keyPem: string; relayState?: string | undefined },
): string {
  const query = signRedirectQuery(param, message.xml, {
    keyPem: options.keyPem,
    ...(options.relayState === undefined ? {} : { relayState: options.relayState }),
  });
  return `${destination}${destination.includes('?') ? '&' : '?'}${query}`;
}

/** The root element with ID, Version, IssueInstant, Destination and Issuer, in schema order. */
function protocolMessage(
  type: 'AuthnRequest' | 'LogoutRequest' | 'LogoutResponse',
  header: Omit<MessageHeader, 'destination'> & { destination?: string | undefined },
): { doc: Document; root: Element; id: string } {
  const doc = new DOMImplementation().createDocument(NS.protocol, `samlp:${type}`, null);
  const root = doc.documentElement!;
  root.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:saml', NS.assertion);
  const id = newSamlId(randomBytes);
  root.setAttribute('ID', id);
  root.setAttribute('Version', '2.0');
  root.setAttribute('IssueInstant', samlInstant(header.now));
  if (header.destination !== undefined) root.setAttribute('Destination', header.destination);
  child(root, NS.assertion, 'saml:Issuer', header.issuer);
  return { doc, root, id };
}

function child(parent: Element, ns: string, qualifiedName: string, text?: string): Element {
  const element = parent.ownerDocument!.createElementNS(ns, qualifiedName);
  if (text !== undefined) element.appendChild(parent.ownerDocument!.createTextNode(text));
  parent.appendChild(element);
  return element;
}
