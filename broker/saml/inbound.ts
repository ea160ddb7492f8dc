import type { Element } from '@xmldom/xmldom';
import { JsmSsoError } from '../../common/errors.js';
import type { FlowStore } from '../../common/flowstore/index.js';
import {
  type AcceptedMessage,
  acceptProtocolMessage,
  BINDING_POST,
  type IdpList,
  isVersionRefusal,
  logoutRequestSubject,
  type MessageBinding,
  NAMEID_UNSPECIFIED,
  type NameIdQualifiers,
  NS,
  type RequestedAuthnContext,
  SamlError,
  SenderMessageRefused,
  type SignatureAlgorithmUri,
  STATUS_REQUEST_DENIED,
  STATUS_REQUESTER,
  STATUS_UNSUPPORTED_BINDING,
  STATUS_VERSION_MISMATCH,
} from '../../common/saml/index.js';
import {
  attribute,
  childElements,
  optionalChild,
  simpleText,
  trimXmlWhitespace,
} from '../../common/saml/xml.js';

/**
 * What the broker's SAML frontend accepts from the portal (AuthnRequest, LogoutRequest): every
 * protocol check of common/saml acceptProtocolMessage (signature with the portal's keys, Version,
 * Issuer, exact Destination, fresh IssueInstant, one-time ID), then the frontend's own rules on
 * where the Response may go. The portal is the only SP a tenant has.
 */

export interface TrustedSp {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  certificatesPem: string[];
  /** The one algorithm the portal signs with (`spec.signatureAlgorithm`); any other is refused. */
  signatureAlgorithm: SignatureAlgorithmUri;
}

/** Where and when the message was received, and where its ID is remembered. */
export interface Reception {
  /** This endpoint's URL (the Destination the message must carry). */
  url: string;
  now: Date;
  replay: FlowStore;
}

export interface AcceptedAuthnRequest extends AcceptedMessage {
  forceAuthn: boolean;
  /** The SP asks that the person see nothing (core 3.4.1): no login page, no choice page. */
  isPassive: boolean;
  /** The languages the portal's pages were in, most preferred first (its `jsmsso:UILocales`). */
  uiLocales: string[];
  /** The NameID format the SP asks for (NameIDPolicy Format); undefined when any will do. */
  nameIdFormat?: string;
  /**
   * Whether the NameIDPolicy asks for the NameID in another SP's or an affiliation's namespace
   * (SPNameQualifier other than the portal's entityID, core 3.4.1.1), which the broker has none of.
   */
  nameIdForAnother: boolean;
  /** The authentication context the SP asks for (RequestedAuthnContext); undefined when any will do. */
  authnContext?: RequestedAuthnContext;
  /** Whether the request names the principal to authenticate (a Subject), which the broker does not support. */
  namesSubject: boolean;
  /**
   * How many proxies the SP allows between the broker and the IdP that authenticates (Scoping
   * ProxyCount, core 3.4.1.5); undefined when it sets no limit. The broker always proxies to the
   * tenant's IdP, so it cannot authenticate a request with 0 at all.
   */
  proxyCount?: number;
  /** Scoping's IDPList, carried on to an upstream SAML IdP (core 3.4.1.5.1); undefined when none. */
  idpList?: IdpList;
  /**
   * Scoping's RequesterIDs (core 3.4.1.2): whom the portal itself asks for, when it proxies in turn;
   * carried on to an upstream SAML IdP before the portal's own entityID (3.4.1.5.1). Empty when none.
   */
  requesterIds: string[];
}

export type { RequestedAuthnContext };

const COMPARISONS = new Set<string>(['exact', 'minimum', 'maximum', 'better']);

export interface AcceptedLogoutRequest extends AcceptedMessage {
  /** Whom the portal signs out: the NameID it was given. */
  nameId: string;
  /** With the value, the identifier the NameID is (core 2.2.2): what the broker asserted, or another (ADR 0373). */
  nameIdFormat: string | undefined;
  nameIdQualifiers: NameIdQualifiers;
  sessionIndexes: string[];
}

function acceptFromPortal(
  type: 'AuthnRequest' | 'LogoutRequest',
  binding: MessageBinding,
  sp: TrustedSp,
  at: Reception,
  answerable?: (root: Element) => void,
): Promise<AcceptedMessage> {
  return acceptProtocolMessage(
    binding,
    {
      type,
      issuer: sp.entityId,
      certificatesPem: sp.certificatesPem,
      signatureAlgorithm: sp.signatureAlgorithm,
      destination: at.url,
      now: at.now,
      ...(answerable === undefined ? {} : { answerable }),
    },
    at.replay,
  );
}

/**
 * The Response goes only to the registered ACS; the request may name no other. Judged before any
 * later check, so that a request naming another ACS is never answered, not even with a status (ADR 0204).
 */
function checkRegisteredAcs(root: Element, sp: TrustedSp): void {
  const acsUrl = attribute(root, 'AssertionConsumerServiceURL');
  const acsIndex = attribute(root, 'AssertionConsumerServiceIndex');
  // Core 3.4.1: an index is exclusive of a URL and a binding; a request naming both is malformed.
  if (acsIndex !== undefined && (acsUrl !== undefined || attribute(root, 'ProtocolBinding') !== undefined)) {
    throw new JsmSsoError(
      'SAML_ACS_UNREGISTERED',
      'the request names its assertion consumer service both by index and by URL or binding',
    );
  }
  if ((acsUrl !== undefined && acsUrl !== sp.acsUrl) || (acsIndex !== undefined && acsIndex !== '0')) {
    throw new JsmSsoError(
      'SAML_ACS_UNREGISTERED',
      'the request names an assertion consumer service that is not registered',
    );
  }
}

/** The Response goes to the registered ACS over HTTP-POST, the binding the portal's metadata names. */
function checkResponseBinding(root: Element): void {
  const binding = attribute(root, 'ProtocolBinding');
  if (binding !== undefined && binding !== BINDING_POST) {
    throw new JsmSsoError(
      'SAML_BINDING_UNSUPPORTED',
      'the response can only be sent with the HTTP-POST binding',
    );
  }
}

/**
 * An AuthnRequest shown to be the portal's (signed with its key, its Issuer, naming no ACS but the
 * registered one) that the broker will not serve: of another Version (VersionMismatch), asking for a
 * response binding other than HTTP-POST (Requester/UnsupportedBinding), or refused by any later check
 * (Destination, IssueInstant, a replay, a malformed element: Requester/RequestDenied, ADR 0294).
 * Answered, like the other statuses, with a signed Response to the ACS registered for the portal,
 * never to one the request names.
 */
export class AuthnRequestAnsweredWithStatus extends JsmSsoError {
  constructor(
    readonly requestId: string,
    readonly relayState: string | undefined,
    readonly topLevelStatus: string,
    readonly secondLevelStatus: string | undefined,
    refusal: JsmSsoError,
  ) {
    super(refusal.code, refusal.message, { cause: refusal });
    this.name = 'AuthnRequestAnsweredWithStatus';
  }
}

/** The portal's AuthnRequest, every check passed; or AuthnRequestAnsweredWithStatus. */
export async function acceptAuthnRequest(
  binding: MessageBinding,
  sp: TrustedSp,
  at: Reception,
): Promise<AcceptedAuthnRequest> {
  const message = await acceptFromPortal('AuthnRequest', binding, sp, at, (root) =>
    checkRegisteredAcs(root, sp),
  ).catch((err: unknown) => {
    throw err instanceof SenderMessageRefused ? answeredWithStatus(err) : err;
  });
  try {
    checkResponseBinding(message.root);
  } catch (err) {
    if (!(err instanceof JsmSsoError && err.code === 'SAML_BINDING_UNSUPPORTED')) throw err;
    const { id, relayState } = message;
    throw new AuthnRequestAnsweredWithStatus(
      id,
      relayState,
      STATUS_REQUESTER,
      STATUS_UNSUPPORTED_BINDING,
      err,
    );
  }
  try {
    return readAuthnRequest(message, sp);
  } catch (err) {
    // The portal's own request, malformed: it hears why, like for its other refused checks.
    throw err instanceof SamlError
      ? answeredWithStatus(new SenderMessageRefused(message.id, err, message.relayState))
      : err;
  }
}

/** Core 3.2.2.2: VersionMismatch for the request's Version; Requester/RequestDenied for any other check. */
function answeredWithStatus(refusal: SenderMessageRefused): AuthnRequestAnsweredWithStatus {
  const { messageId, relayState } = refusal;
  return isVersionRefusal(refusal)
    ? new AuthnRequestAnsweredWithStatus(
        messageId,
        relayState,
        STATUS_VERSION_MISMATCH,
        refusal.cause.secondLevelStatus,
        refusal,
      )
    : new AuthnRequestAnsweredWithStatus(
        messageId,
        relayState,
        STATUS_REQUESTER,
        STATUS_REQUEST_DENIED,
        refusal,
      );
}

/** What the accepted request asks for; a malformed element is a SamlError. */
function readAuthnRequest(message: AcceptedMessage, sp: TrustedSp): AcceptedAuthnRequest {
  const nameIdFormat = requestedNameIdFormat(message.root);
  const authnContext = requestedAuthnContext(message.root);
  const proxyCount = proxyCountOf(message.root);
  const idpList = idpListOf(message.root);
  const requesterIds = requesterIdsOf(message.root);
  const qualifier = nameIdQualifierOf(message.root);
  checkAllowCreate(message.root);
  return {
    ...message,
    forceAuthn: booleanAttribute(message.root, 'ForceAuthn'),
    isPassive: booleanAttribute(message.root, 'IsPassive'),
    uiLocales: uiLocalesOf(message.root),
    ...(nameIdFormat === undefined ? {} : { nameIdFormat }),
    nameIdForAnother: qualifier !== undefined && qualifier !== sp.entityId,
    ...(authnContext === undefined ? {} : { authnContext }),
    namesSubject: optionalChild(message.root, NS.assertion, 'Subject') !== undefined,
    ...(proxyCount === undefined ? {} : { proxyCount }),
    ...(idpList === undefined ? {} : { idpList }),
    requesterIds,
  };
}

/**
 * Scoping's IDPList (core 3.4.1.3.1): each IDPEntry needs its ProviderID, an xs:anyURI: the whitespace
 * around it is the schema's to collapse, as a RequesterID's is, and what is left is compared with an
 * IdP's identifier character for character (core 1.3.2: at least one non-whitespace character; ADR 0420).
 */
function idpListOf(root: Element): IdpList | undefined {
  const scoping = optionalChild(root, NS.protocol, 'Scoping');
  const list = scoping && optionalChild(scoping, NS.protocol, 'IDPList');
  if (!list) return undefined;
  const entries = childElements(list, NS.protocol, 'IDPEntry').map((entry) => {
    const providerId = trimXmlWhitespace(attribute(entry, 'ProviderID') ?? '');
    if (!providerId) throw new SamlError('SAML_XML_INVALID', 'an IDPEntry has no ProviderID');
    const name = attribute(entry, 'Name');
    const loc = attribute(entry, 'Loc');
    return { providerId, ...(name === undefined ? {} : { name }), ...(loc === undefined ? {} : { loc }) };
  });
  if (entries.length === 0) throw new SamlError('SAML_XML_INVALID', 'an IDPList has no IDPEntry');
  const getComplete = optionalChild(list, NS.protocol, 'GetComplete');
  return { entries, ...(getComplete ? { getComplete: simpleText(getComplete) } : {}) };
}

/** Scoping's RequesterID elements (xs:anyURI): each names an entity, so none may be empty. */
function requesterIdsOf(root: Element): string[] {
  const scoping = optionalChild(root, NS.protocol, 'Scoping');
  if (!scoping) return [];
  return childElements(scoping, NS.protocol, 'RequesterID').map((element) => {
    const requesterId = trimXmlWhitespace(simpleText(element));
    if (requesterId === '') throw new SamlError('SAML_XML_INVALID', 'a RequesterID names nobody');
    return requesterId;
  });
}

/**
 * XML Schema 1.1 part 2, 3.4.20: an xs:nonNegativeInteger, whitespace collapsed, is digits after an
 * optional `+`, or a zero after `-`. Unbounded: past this many proxies a count limits nothing the
 * broker could pass on, so it is read as this one (ADR 0376).
 */
const NON_NEGATIVE_INTEGER = /^(?:\+?([0-9]+)|-(0+))$/;
const MAX_PROXY_COUNT = 999_999_999;

/** Scoping's ProxyCount (xs:nonNegativeInteger); undefined when the SP sets no limit. */
function proxyCountOf(root: Element): number | undefined {
  const scoping = optionalChild(root, NS.protocol, 'Scoping');
  const count = scoping && attribute(scoping, 'ProxyCount');
  if (count === undefined) return undefined;
  const digits = NON_NEGATIVE_INTEGER.exec(trimXmlWhitespace(count));
  if (!digits) throw new SamlError('SAML_XML_INVALID', 'Scoping has an invalid ProxyCount');
  const significant = (digits[1] ?? digits[2]!).replace(/^0+(?=.)/, '');
  return significant.length > String(MAX_PROXY_COUNT).length ? MAX_PROXY_COUNT : Number(significant);
}

/**
 * Core 3.3.2.2.1: the classes or the declarations the SP asks for, one kind and at least one of it
 * (the schema's choice), so that the request carried on to an upstream SAML IdP asks for the same
 * (3.4.1.5.1, ADR 0376); anything else is a malformed request.
 */
function requestedAuthnContext(root: Element): RequestedAuthnContext | undefined {
  const requested = optionalChild(root, NS.protocol, 'RequestedAuthnContext');
  if (!requested) return undefined;
  const comparison = attribute(requested, 'Comparison') ?? 'exact';
  if (!COMPARISONS.has(comparison))
    throw new SamlError('SAML_XML_INVALID', 'RequestedAuthnContext has an unknown Comparison');
  const refsOf = (name: string) => childElements(requested, NS.assertion, name).map((e) => simpleText(e));
  const classRefs = refsOf('AuthnContextClassRef');
  const declRefs = refsOf('AuthnContextDeclRef');
  if ((classRefs.length === 0) === (declRefs.length === 0))
    throw new SamlError(
      'SAML_XML_INVALID',
      'RequestedAuthnContext names no context class or declaration, or both',
    );
  return {
    comparison: comparison as RequestedAuthnContext['comparison'],
    classRefs,
    ...(declRefs.length === 0 ? {} : { declRefs }),
  };
}

/**
 * Whether the broker can assert anything that meets `requested` (ADR 0140): it knows no order among
 * context classes, so only a class the SP listed meets it; `better` (strictly above every listed
 * class) and a request naming only declarations cannot be met.
 */
export function authnContextSatisfiable(requested: RequestedAuthnContext): boolean {
  return requested.comparison !== 'better' && requested.classRefs.length > 0;
}

/**
 * The classes to ask an OIDC IdP for (acr_values, voluntary): the listed ones, except for
 * Comparison="better", which wants a class above them that the broker cannot name.
 */
export function acrValuesFor(requested: RequestedAuthnContext): string[] {
  return requested.comparison === 'better' ? [] : requested.classRefs;
}

/** Whether the class the login is asserted with (the IdP's acr, else unspecified) is one the SP listed. */
export function authnContextMet(requested: RequestedAuthnContext, asserted: string): boolean {
  return authnContextSatisfiable(requested) && requested.classRefs.includes(asserted);
}

/**
 * Core 3.4.1.1: NameIDPolicy's AllowCreate, an xs:boolean, is read only to refuse a malformed one (ADR
 * 0380). Its value changes nothing. As the SAML 2.0 errata word it, "false" constrains the IdP to assert
 * only if the state it keeps about an identifier's use by the requester "has already been established
 * or is not deemed applicable"; the broker keeps none: the NameID it asserts is the mapped value of what
 * the upstream IdP says, or a transient one made for the one assertion. The JSM customer the portal
 * makes at a first sign-in is the SP's own account, no identifier of the broker's.
 */
function checkAllowCreate(root: Element): void {
  const policy = optionalChild(root, NS.protocol, 'NameIDPolicy');
  if (policy) booleanAttribute(policy, 'AllowCreate');
}

/** Core 3.4.1.1: NameIDPolicy's Format; absent or `unspecified` leaves the choice to the IdP. */
function requestedNameIdFormat(root: Element): string | undefined {
  const policy = optionalChild(root, NS.protocol, 'NameIDPolicy');
  const format = policy && attribute(policy, 'Format');
  return format === undefined || format === NAMEID_UNSPECIFIED ? undefined : format;
}

/** Core 3.4.1.1: NameIDPolicy's SPNameQualifier, the namespace the NameID is asked in. */
function nameIdQualifierOf(root: Element): string | undefined {
  const policy = optionalChild(root, NS.protocol, 'NameIDPolicy');
  return policy && attribute(policy, 'SPNameQualifier');
}

/** A BCP 47 language tag, as far as choosing among the broker's languages needs. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

/**
 * The portal's language hint (ADR 0097): a space-separated list of tags in `jsmsso:UILocales`
 * under Extensions. Only a hint: a tag that is not well-formed is left out, and the broker keeps
 * the first one it offers (broker/language.ts).
 */
function uiLocalesOf(root: Element): string[] {
  const extensions = optionalChild(root, NS.protocol, 'Extensions');
  const locales = extensions && optionalChild(extensions, NS.jsmsso, 'UILocales');
  const text = locales?.textContent ?? '';
  return text
    .split(/\s+/)
    .filter((tag) => LANGUAGE_TAG.test(tag))
    .slice(0, 8);
}

export async function acceptLogoutRequest(
  binding: MessageBinding,
  sp: TrustedSp,
  at: Reception,
): Promise<AcceptedLogoutRequest> {
  const message = await acceptFromPortal('LogoutRequest', binding, sp, at);
  try {
    return { ...message, ...logoutRequestSubject(message.root) };
  } catch (err) {
    // The portal's own request naming nobody: answered like its other failed checks (ADR 0252).
    throw err instanceof SamlError ? new SenderMessageRefused(message.id, err, message.relayState) : err;
  }
}

/**
 * An optional xs:boolean attribute of `element`, false when absent. XML Schema 1.1 part 2, 3.3.2:
 * whitespace collapsed, then `true`, `false`, `1` or `0`. Anything else is a malformed request, never
 * false: ` true ` read as false would show a passive request a login page (ADR 0174).
 */
function booleanAttribute(element: Element, name: string): boolean {
  const value = attribute(element, name);
  if (value === undefined) return false;
  const collapsed = trimXmlWhitespace(value);
  if (collapsed === 'true' || collapsed === '1') return true;
  if (collapsed === 'false' || collapsed === '0') return false;
  throw new SamlError('SAML_XML_INVALID', `the ${element.localName}'s ${name} is not an xs:boolean`);
}
