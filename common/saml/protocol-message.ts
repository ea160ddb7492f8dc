import type { Element } from '@xmldom/xmldom';
import type { FlowStore } from '../flowstore/index.js';
import type { SignatureAlgorithmUri } from './algorithms.js';
import {
  checkIssueInstant,
  checkIssuer,
  checkMessageNotUsed,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_MESSAGE_AGE_SECONDS,
  markMessageUsed,
  statusOf,
  timeAttribute,
  useOnce,
} from './checks.js';
import { type ElementDecryption, NO_DECRYPTION } from './decryption.js';
import { decodePostedMessage, inflateRedirectPayload, MAX_RELAY_STATE_BYTES } from './deflate.js';
import { SamlError } from './errors.js';
import type { LogoutOutcome } from './messages.js';
import { nameIdQualifiersOf, oneNameId } from './name-identifier.js';
import {
  NS,
  STATUS_PARTIAL_LOGOUT,
  STATUS_REQUEST_VERSION_TOO_HIGH,
  STATUS_REQUEST_VERSION_TOO_LOW,
  STATUS_SUCCESS,
} from './namespaces.js';
import { verifyRedirectSignature } from './redirect-binding.js';
import type { NameIdQualifiers } from './response.js';
import { verifyEnvelopedSignature } from './signature.js';
import { soapBodyMessage } from './soap-binding.js';
import {
  attribute,
  childElements,
  optionalChild,
  parseSamlXml,
  simpleText,
  stringContent,
  trimXmlWhitespace,
} from './xml.js';

/**
 * The checks every SAML protocol request and logout message gets (AuthnRequest, LogoutRequest,
 * LogoutResponse), whoever sent it and whoever receives it: the portal from the broker (its
 * LogoutResponse, and over SOAP its back-channel LogoutRequest), the broker from the portal, the
 * broker from an upstream IdP. Each check is a named function, run in order;
 * the first failure is a SamlError with its reason code. Values are read only from the message as
 * its signature verified it. The Response has its own list in response.ts; what both need is in
 * checks.ts.
 */

/** How long a message ID is remembered: after that its IssueInstant refuses it anyway. */
export const MESSAGE_REPLAY_WINDOW_SECONDS = MAX_MESSAGE_AGE_SECONDS + 2 * MAX_CLOCK_SKEW_SECONDS;
const SKEW_MS = MAX_CLOCK_SKEW_SECONDS * 1000;
/** A request or logout message is a few kilobytes; anything much larger is an attack. */
export const MAX_REQUEST_BYTES = 64 * 1024;

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
    const issuer = optionalChild(doc.documentElement!, NS.assertion, 'Issuer');
    return issuer ? simpleText(issuer) : undefined;
  } catch {
    return undefined;
  }
}

type ProtocolMessageType = 'AuthnRequest' | 'LogoutRequest' | 'LogoutResponse';

/**
 * How the message arrived: a Redirect query (signed over the query), a POST form or a SOAP
 * envelope posted back-channel (both with an enveloped signature).
 */
export type MessageBinding =
  | { kind: 'redirect'; rawQuery: string }
  | { kind: 'post'; message: string; relayState?: string }
  | { kind: 'soap'; envelope: string };

export interface Expectation {
  /** The sender's entityID: the message's Issuer. */
  issuer: string;
  /** The sender's signing certificates: the message is signed with one of them, or refused. */
  certificatesPem: readonly string[];
  /** When set, the one signature algorithm accepted (the portal–broker hop's `spec.signatureAlgorithm`). */
  signatureAlgorithm?: SignatureAlgorithmUri;
  /** This endpoint's URL: Destination is required and must be exactly this (bindings 3.4.5.2, 3.5.5.2). */
  destination: string;
  now: Date;
  /**
   * What decides, on a message shown to be its sender's, whether a refusal may be answered to it at
   * all (an AuthnRequest naming an ACS that is not registered: its answer would go where it did not
   * ask). Run before the later checks; what it throws stays a plain refusal, never a
   * SenderMessageRefused.
   */
  answerable?: (root: Element) => void;
}

export type ExpectedMessage = Expectation &
  (
    | { type: 'AuthnRequest' | 'LogoutRequest' }
    /**
     * A LogoutResponse answers the LogoutRequest we sent, whose ID is `inResponseTo`; undefined
     * when we are waiting for none, so that any LogoutResponse is unsolicited.
     */
    | { type: 'LogoutResponse'; inResponseTo: string | undefined }
  );

export interface AcceptedMessage {
  id: string;
  issueInstant: Date;
  relayState?: string;
  /** The root element as signed. */
  root: Element;
}

/**
 * Verifies the signature, then type, Version, ID, Issuer, Destination, IssueInstant, InResponseTo
 * (LogoutResponse) and NotOnOrAfter (LogoutRequest); last, the message ID is marked used in
 * `replay`, so the same message is accepted once.
 */
export async function acceptProtocolMessage(
  binding: MessageBinding,
  expected: ExpectedMessage,
  replay: FlowStore,
): Promise<AcceptedMessage> {
  const message = acceptFromSender(binding, expected);
  await fromSender(message, () =>
    useOnce(replay, 'message', expected.issuer, message.id, MESSAGE_REPLAY_WINDOW_SECONDS),
  );
  return message;
}

/**
 * A LogoutRequest whose ID is spent only once its logout is done (ADR 0164): nothing in it may be
 * acted on but through `once`.
 */
export interface RetriableLogoutRequest extends AcceptedMessage {
  /**
   * Refuses the request as a replay (SenderMessageRefused, SAML_REPLAY) if its ID was marked used;
   * otherwise runs `logout` and then marks the ID used. When the store or `logout` fails, nothing
   * is marked, so the sender's unchanged retry is acted on; an ID marked first would be lost to a
   * store that stalls, its write timing out here yet landing when the store resumes. Two copies
   * in flight at once may both run `logout`, which must therefore be idempotent.
   */
  once<T>(logout: () => Promise<T>): Promise<T>;
}

/** Every check of `acceptProtocolMessage` on a LogoutRequest, its ID left for `once`. */
export function acceptRetriableLogoutRequest(
  binding: MessageBinding,
  expected: Expectation,
  replay: FlowStore,
): RetriableLogoutRequest {
  const message = acceptFromSender(binding, { type: 'LogoutRequest', ...expected });
  const { id } = message;
  return {
    ...message,
    async once(logout) {
      await fromSender(message, () => checkMessageNotUsed(replay, expected.issuer, id));
      const done = await logout();
      await markMessageUsed(replay, expected.issuer, id, MESSAGE_REPLAY_WINDOW_SECONDS);
      return done;
    },
  };
}

/** Every check but the ID's single use. */
function acceptFromSender(binding: MessageBinding, expected: ExpectedMessage): AcceptedMessage {
  const { root, relayState } = verifiedRoot(binding, expected);
  const checkedRelayState = relayStateOf(relayState);
  checkMessageType(root, expected.type);
  const id = messageId(root);
  checkIssuer(optionalChild(root, NS.assertion, 'Issuer'), expected.issuer);
  expected.answerable?.(root);
  // From here the message is the expected sender's own: a refusal may be answered to it. Version
  // first: core 3.2.2.2 gives a request of another version its own top-level status, VersionMismatch.
  try {
    checkVersion(root);
    checkDestination(root, expected.destination);
    const issueInstant = checkIssueInstant(root, expected.now.getTime(), SKEW_MS);
    if (expected.type === 'LogoutResponse') checkInResponseTo(root, expected.inResponseTo);
    if (expected.type === 'LogoutRequest') checkNotOnOrAfter(root, expected.now);
    return { id, issueInstant, root, ...checkedRelayState };
  } catch (err) {
    throw asSenderRefusal(id, err, checkedRelayState.relayState);
  }
}

/**
 * The ID's check on a message shown to be its sender's: a refusal becomes SenderMessageRefused,
 * with the RelayState an answer through the browser returns.
 */
async function fromSender(message: AcceptedMessage, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    throw asSenderRefusal(message.id, err, message.relayState);
  }
}

const asSenderRefusal = (id: string, err: unknown, relayState?: string) =>
  err instanceof SamlError ? new SenderMessageRefused(id, err, relayState) : err;

/**
 * A message its expected sender signed and issued (signature, type, Version, ID and Issuer
 * checked) that a later check refused: over SOAP the sender gets a signed Requester answer to
 * `messageId` (bindings 3.2.3.4); anything not shown to be the sender's gets a fault, never a
 * signed answer. Same code and status as the check's own error.
 */
export class SenderMessageRefused extends SamlError {
  constructor(
    readonly messageId: string,
    check: SamlError,
    /** The message's RelayState, which an answer through the browser returns (bindings 3.4.3, 3.5.3). */
    readonly relayState?: string,
  ) {
    super(check.code, check.message, { status: check.status, cause: check, detail: check.detail });
    this.name = 'SenderMessageRefused';
  }
}

/**
 * A message whose Version is not 2.0. Core 3.2.2.2 names how far off it is: RequestVersionTooHigh
 * for a major version above 2, RequestVersionTooLow below it; anything else (2.1, no number) gets
 * the top-level VersionMismatch alone.
 */
export class UnsupportedVersion extends SamlError {
  readonly secondLevelStatus: string | undefined;

  constructor(version: string | undefined) {
    super('SAML_VERSION_UNSUPPORTED', 'only SAML 2.0 is supported');
    this.name = 'UnsupportedVersion';
    const major = /^\s*([0-9]+)\./.exec(version ?? '')?.[1];
    this.secondLevelStatus =
      major === undefined || Number(major) === 2
        ? undefined
        : Number(major) > 2
          ? STATUS_REQUEST_VERSION_TOO_HIGH
          : STATUS_REQUEST_VERSION_TOO_LOW;
  }
}

/** Whether `err` refuses a message its sender signed for its Version: core 3.2.2.2 answers it VersionMismatch. */
export function isVersionRefusal(err: unknown): err is SenderMessageRefused & { cause: UnsupportedVersion } {
  return err instanceof SenderMessageRefused && err.cause instanceof UnsupportedVersion;
}

/**
 * A verified LogoutRequest naming a person's NameID value under another Format or qualifier than the
 * one her sessions were asserted with (core 2.2.2, 3.7.3.1): another identifier, so no session of
 * hers; answered Requester/UnknownPrincipal, ending nothing (ADR 0373).
 */
export class OtherNameIdentifier extends SamlError {
  constructor() {
    super(
      'SAML_LOGOUT_NAMEID_MISMATCH',
      "the LogoutRequest names the person's sessions with another NameID Format or qualifier than they were asserted with",
    );
    this.name = 'OtherNameIdentifier';
  }
}

/**
 * How a signed answer to a refused request says why: VersionMismatch for its Version, UnknownPrincipal
 * for another identifier, else RequestDenied.
 */
export function refusalOutcome(refusal: SenderMessageRefused): LogoutOutcome {
  if (isVersionRefusal(refusal)) return { versionMismatch: refusal.cause.secondLevelStatus };
  return refusal.cause instanceof OtherNameIdentifier ? 'unknown_principal' : 'refused';
}

/** The message as its signature covers it, and its RelayState; nothing unsigned is read. */
function verifiedRoot(
  binding: MessageBinding,
  expected: ExpectedMessage,
): { root: Element; relayState?: string | undefined } {
  const param = expected.type === 'LogoutResponse' ? 'SAMLResponse' : 'SAMLRequest';
  if (binding.kind === 'redirect') {
    const verified = verifyRedirectSignature(
      binding.rawQuery,
      param,
      expected.certificatesPem,
      expected.signatureAlgorithm,
    );
    const doc = parseSamlXml(verified.xml, { maxBytes: MAX_REQUEST_BYTES });
    return { root: doc.documentElement!, relayState: verified.relayState };
  }
  if (binding.kind === 'soap') {
    const doc = parseSamlXml(binding.envelope, { maxBytes: MAX_REQUEST_BYTES });
    const message = soapBodyMessage(doc);
    return {
      root: verifyEnvelopedSignature(doc, message, expected.certificatesPem, expected.signatureAlgorithm),
    };
  }
  const doc = parseSamlXml(decodePostedMessage(binding.message, MAX_REQUEST_BYTES), {
    maxBytes: MAX_REQUEST_BYTES,
  });
  // verifyEnvelopedSignature insists on exactly one Reference, to the root's own ID (no wrapping).
  const signed = verifyEnvelopedSignature(
    doc,
    doc.documentElement!,
    expected.certificatesPem,
    expected.signatureAlgorithm,
  );
  return { root: signed, relayState: binding.relayState };
}

function relayStateOf(relayState: string | undefined): { relayState?: string } {
  if (relayState === undefined) return {};
  if (Buffer.byteLength(relayState, 'utf8') > MAX_RELAY_STATE_BYTES) {
    throw new SamlError(
      'SAML_RELAY_STATE_TOO_LONG',
      `RelayState is longer than ${MAX_RELAY_STATE_BYTES} bytes`,
    );
  }
  return { relayState };
}

function checkMessageType(root: Element, type: ProtocolMessageType): void {
  if (root.namespaceURI !== NS.protocol || root.localName !== type) {
    throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', `expected a ${type}`);
  }
}

function checkVersion(root: Element): void {
  const version = attribute(root, 'Version');
  if (version !== '2.0') throw new UnsupportedVersion(version);
}

function messageId(root: Element): string {
  const id = attribute(root, 'ID');
  if (!id || id.length > 256) throw new SamlError('SAML_XML_INVALID', `${root.localName} has no valid ID`);
  return id;
}

/** Bindings 3.4.5.2 / 3.5.5.2: a signed message MUST name the URL it was sent to; we require it always. */
function checkDestination(root: Element, destination: string): void {
  if (attribute(root, 'Destination') !== destination) {
    throw new SamlError(
      'SAML_DESTINATION_MISMATCH',
      'the message is addressed to another endpoint, or to none',
    );
  }
}

/** A LogoutResponse answers our LogoutRequest; an unsolicited one or one for another request is refused. */
function checkInResponseTo(root: Element, inResponseTo: string | undefined): void {
  if (inResponseTo === undefined || attribute(root, 'InResponseTo') !== inResponseTo) {
    throw new SamlError('SAML_IN_RESPONSE_TO_MISMATCH', `the ${root.localName} answers another request`);
  }
}

/** Core 3.7.1: a LogoutRequest past its NotOnOrAfter (plus skew) is no longer to be acted on. */
function checkNotOnOrAfter(root: Element, now: Date): void {
  const notOnOrAfter = timeAttribute(root, 'NotOnOrAfter');
  if (notOnOrAfter !== undefined && notOnOrAfter + SKEW_MS <= now.getTime()) {
    throw new SamlError('SAML_EXPIRED', `the ${root.localName} has expired`);
  }
}

/**
 * Whom a verified LogoutRequest signs out (core 3.7.1): a NameID, or the one its EncryptedID holds,
 * decrypted with `decryption` (ADR 0351: an IdP encrypts it for an SP publishing an encryption
 * key, ADR 0338), and its SessionIndex values. `root` is the request as its signature verified it.
 */
export function logoutRequestSubject(
  root: Element,
  decryption: ElementDecryption = NO_DECRYPTION,
): {
  nameId: string;
  /** The NameID's Format attribute; undefined when absent (core 8.3.1: unspecified). */
  nameIdFormat: string | undefined;
  /** Its NameQualifier, SPNameQualifier, SPProvidedID as written: part of whom it names (ADR 0373). */
  nameIdQualifiers: NameIdQualifiers;
  sessionIndexes: string[];
} {
  const element = oneNameId(root, decryption);
  // As the Response's NameID is read (response.ts readNameId): exactly, its whitespace a part of it.
  const nameId = stringContent(element, 'SAML_NAMEID_INVALID');
  if (trimXmlWhitespace(nameId) === '')
    throw new SamlError('SAML_NAMEID_INVALID', 'the LogoutRequest names nobody');
  return {
    nameId,
    nameIdFormat: element.getAttribute('Format') || undefined,
    nameIdQualifiers: nameIdQualifiersOf(element),
    sessionIndexes: childElements(root, NS.protocol, 'SessionIndex').map((e) => simpleText(e)),
  };
}

/**
 * Whether a verified LogoutResponse says every session ended: Success without PartialLogout.
 * Any other status is an answer, not a refusal: the sender could not end everything.
 */
export function logoutSucceeded(root: Element): boolean {
  const { code, second } = statusOf(root);
  return code === STATUS_SUCCESS && second !== STATUS_PARTIAL_LOGOUT;
}
