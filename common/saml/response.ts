import type { KeyObject } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import type { FlowStore } from '../flowstore/index.js';
import type { SignatureAlgorithmUri } from './algorithms.js';
import { readAttributes } from './attribute-statement.js';
import {
  checkIssueInstant,
  checkIssuer,
  timeAttribute as instant,
  MAX_CLOCK_SKEW_SECONDS,
  statusOf,
  useOnce,
} from './checks.js';
import {
  type DecryptedElement,
  decryptElement,
  type ElementDecryption,
  parseDecryptedElement,
} from './decryption.js';
import { SamlError, SamlStatusError } from './errors.js';
import { nameIdQualifiersOf, oneNameId } from './name-identifier.js';
import { BEARER, NAMEID_UNSPECIFIED, NS, STATUS_SUCCESS } from './namespaces.js';
import { verifyEnvelopedSignature } from './signature.js';
import {
  attribute,
  childElements,
  descendants,
  isElement,
  optionalChild,
  parseSamlXml,
  requiredChild,
  simpleText,
  stringContent,
  trimXmlWhitespace,
} from './xml.js';

export interface ExpectedResponse {
  idpEntityId: string;
  idpCertificatesPem: readonly string[];
  /** When set, the one signature algorithm accepted from the IdP (the portal's `spec.signatureAlgorithm`). */
  idpSignatureAlgorithm?: SignatureAlgorithmUri;
  /** Our entityID: must appear in every AudienceRestriction. */
  spEntityId: string;
  /** Our Assertion Consumer Service URL: the Response Destination and the bearer Recipient. */
  acsUrl: string;
  /** ID of the AuthnRequest this flow sent; unsolicited responses are refused. */
  inResponseTo: string;
  /** Default true: the Assertion itself must be signed. When false, a signed Response suffices. */
  requireSignedAssertion?: boolean;
  /**
   * RSA private keys an EncryptedAssertion, an EncryptedID and an EncryptedAttribute are decrypted with,
   * the active one first (ADR 0338, 0346, 0355). None: each is refused (SAML_ENCRYPTED_ASSERTION_UNSUPPORTED).
   */
  decryptionKeys?: readonly KeyObject[];
  /**
   * The IdP is the tenant's only SAML IdP, the one these keys decrypt for: AES-CBC is then decrypted
   * from a Response it signed. Default false: AES-GCM only (ADR 0350).
   */
  soleSamlIdp?: boolean;
  /** Default and maximum 180. */
  clockSkewSeconds?: number;
  now?: Date;
}

/**
 * A NameID's qualifiers as the IdP asserted them (core 2.2.2): a LogoutRequest for the session names
 * the principal with an identifier that strongly matches the asserted one, qualifiers and all
 * (profiles 4.4.4.1, core 3.3.4).
 */
export interface NameIdQualifiers {
  nameQualifier?: string;
  spNameQualifier?: string;
  spProvidedId?: string;
}

export interface ValidatedAssertion {
  issuer: string;
  nameId: string;
  nameIdFormat: string;
  nameIdQualifiers: NameIdQualifiers;
  sessionIndex?: string;
  /**
   * Attribute Name -> its text values (values with element content are skipped), an EncryptedAttribute's
   * read as a plain one's (ADR 0355).
   */
  attributes: Record<string, string[]>;
  authnContextClassRef?: string;
  /** The AuthenticatingAuthority values of its AuthnContext, in order (the IdPs it proxied to). */
  authenticatingAuthorities: string[];
  authnInstant?: Date;
  /**
   * The AuthnStatement's SessionNotOnOrAfter (core 2.7.2): the asserting party's end of the session
   * it started, which a relying party's own session must not outlive (ADR 0244). None when unbounded.
   */
  sessionNotOnOrAfter?: Date;
  /** The earliest end of validity of the assertion and its bearer confirmation. */
  notOnOrAfter: Date;
  assertionId: string;
  /**
   * The asserting party's limit on assertions issued on the basis of this one (core 2.5.1.6): none
   * when `count` is 0; each must carry a ProxyRestriction of at most `count - 1` and name only
   * `audiences` (when listed). For a proxy (the broker) to honour; an SP that asserts nothing on ignores it.
   */
  proxyRestriction?: ProxyRestriction;
}

export interface ProxyRestriction {
  /** Absent: no limit on the number of further assertions. */
  count?: number;
  audiences: string[];
}

/** What a Response is verified against, at a clock reading made once (`now`). */
export type ExpectedAt = ExpectedResponse & { now: Date };

interface Context {
  expected: ExpectedResponse;
  now: number;
  skewMs: number;
}

/**
 * Validates a SAML 2.0 Web SSO Response (profiles 4.1.4.3) for the flow that sent `inResponseTo`:
 * `verifySamlResponse`, then the assertion ID recorded in `replay` until it expires, so it is
 * accepted once (`useAssertionOnce`).
 */
export async function validateSamlResponse(
  xml: string,
  expected: ExpectedResponse,
  replay: FlowStore,
): Promise<ValidatedAssertion> {
  const checkedAt = readingOf(expected);
  const assertion = verifySamlResponse(xml, checkedAt);
  await useAssertionOnce(replay, assertion, checkedAt);
  return assertion;
}

/**
 * `expected` with the clock read once, when it names no time: the reading the time checks are made at
 * and the one the one-time marker's life is counted from (ADR 0405).
 */
function readingOf(expected: ExpectedResponse): ExpectedAt {
  return { ...expected, now: expected.now ?? new Date() };
}

/**
 * Every check of `validateSamlResponse` but the one-time use, writing nothing: the Response and its
 * Assertion signed by the IdP, answering `inResponseTo`, for this SP, within their times. Each check is
 * a named function below, run in order; the first failure is thrown as a SamlError. Values are read
 * only from signature-verified elements (as returned by verifyEnvelopedSignature). A caller that must
 * know an answer is the IdP's own for its flow before anything is written learns it here (ADR 0403).
 */
export function verifySamlResponse(xml: string, expected: ExpectedResponse): ValidatedAssertion {
  const ctx = contextOf(expected);
  const doc = parseSamlXml(xml);
  const original = checkResponseElement(doc);
  const response = verifyResponseSignatureIfPresent(doc, original, ctx);
  checkIssueInstant(response, ctx.now, ctx.skewMs);
  checkDestination(response, ctx, response !== original);
  checkResponseInResponseTo(response, ctx);
  checkResponseIssuer(response, ctx);
  // Only a status that answers our request, from the IdP, is the IdP's "no" to this login.
  checkStatusSuccess(response);
  const assertion = verifiedSingleAssertion(doc, original, response, ctx);
  checkAssertionVersion(assertion);
  const issuer = checkAssertionIssuer(assertion, ctx);
  const subject = requiredChild(assertion, NS.assertion, 'Subject');
  const nameId = readNameId(subject, ctx);
  const confirmationEnd = checkBearerConfirmation(subject, ctx);
  const conditions = checkConditions(assertion, ctx);
  const authn = readAuthnStatement(assertion, ctx);
  // Decrypted, when encrypted, before the assertion is recorded as used: a refused one is not spent.
  const attributes = readAttributes(assertion, decryptionOf(ctx));
  const notOnOrAfter = new Date(Math.min(confirmationEnd, conditions.notOnOrAfter ?? confirmationEnd));
  return {
    issuer,
    ...nameId,
    ...authn,
    attributes,
    notOnOrAfter,
    assertionId: attribute(assertion, 'ID')!,
    ...(conditions.proxyRestriction ? { proxyRestriction: conditions.proxyRestriction } : {}),
  };
}

/**
 * Profiles 4.1.4.5: the verified assertion's ID marked used in `replay` (shared by all replicas) until
 * the time checks refuse it anyway; SAML_REPLAY when it already was. `checkedAt`: what the assertion
 * was verified against, its `now` the clock reading its time checks were made at: the
 * marker's life is counted from that reading, not from a second one.
 */
export async function useAssertionOnce(
  replay: FlowStore,
  assertion: ValidatedAssertion,
  checkedAt: ExpectedAt,
): Promise<void> {
  const ctx = contextOf(checkedAt);
  const ttlSeconds = (assertion.notOnOrAfter.getTime() + ctx.skewMs - ctx.now) / 1000;
  await useOnce(replay, 'assertion', assertion.issuer, assertion.assertionId, ttlSeconds);
}

function contextOf(expected: ExpectedResponse): Context {
  const skew = expected.clockSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  if (!(skew >= 0 && skew <= MAX_CLOCK_SKEW_SECONDS)) {
    throw new RangeError(`clockSkewSeconds must be between 0 and ${MAX_CLOCK_SKEW_SECONDS}`);
  }
  return { expected, now: (expected.now ?? new Date()).getTime(), skewMs: skew * 1000 };
}

function checkResponseElement(doc: Document): Element {
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') {
    throw new SamlError('SAML_MESSAGE_TYPE_UNEXPECTED', 'the message is not a SAML Response');
  }
  if (attribute(root, 'Version') !== '2.0')
    throw new SamlError('SAML_VERSION_UNSUPPORTED', 'only SAML 2.0 is accepted');
  return root;
}

function verifyResponseSignatureIfPresent(doc: Document, response: Element, ctx: Context): Element {
  if (childElements(response, NS.dsig, 'Signature').length === 0) {
    if (ctx.expected.requireSignedAssertion === false) {
      // Something must be signed: with unsigned assertions allowed, the Response signature is required.
      throw new SamlError(
        'SAML_SIGNATURE_MISSING',
        'neither the Response nor the Assertion is required signed',
      );
    }
    return response;
  }
  return verifyEnvelopedSignature(
    doc,
    response,
    ctx.expected.idpCertificatesPem,
    ctx.expected.idpSignatureAlgorithm,
  );
}

function checkStatusSuccess(response: Element): void {
  const { code, second } = statusOf(response);
  if (code !== STATUS_SUCCESS) throw new SamlStatusError(code, second);
}

/** Bindings 3.5.5.2: a signed Response must carry Destination; when present it must be our ACS. */
function checkDestination(response: Element, ctx: Context, signed: boolean): void {
  const destination = attribute(response, 'Destination');
  if (destination === undefined && !signed) return;
  if (destination !== ctx.expected.acsUrl) {
    throw new SamlError('SAML_DESTINATION_MISMATCH', 'the Response is addressed to another endpoint');
  }
}

function checkResponseInResponseTo(response: Element, ctx: Context): void {
  if (attribute(response, 'InResponseTo') !== ctx.expected.inResponseTo) {
    throw new SamlError('SAML_IN_RESPONSE_TO_MISMATCH', 'the Response answers another request (or none)');
  }
}

/** Profiles 4.1.4.2: the Response Issuer MAY be omitted; when present it names the IdP. */
function checkResponseIssuer(response: Element, ctx: Context): void {
  const issuer = optionalChild(response, NS.assertion, 'Issuer');
  if (issuer) checkIssuer(issuer, ctx.expected.idpEntityId);
}

/**
 * Exactly one Assertion in the whole document, as a direct child of the Response: copies hidden in
 * Extensions, Status, Signature/Object or wrapped in another assertion (XSW3–XSW8) are refused
 * outright instead of being told apart. Or, instead, exactly one EncryptedAssertion there and no
 * Assertion anywhere: the Assertion decrypted from it is held to the same rules (ADR 0338).
 */
function verifiedSingleAssertion(doc: Document, original: Element, response: Element, ctx: Context): Element {
  if (descendants(doc, NS.assertion, 'EncryptedAssertion').length > 0)
    return verifiedDecryptedAssertion(doc, original, response, ctx);
  const all = descendants(doc, NS.assertion, 'Assertion');
  const direct = childElements(original, NS.assertion, 'Assertion');
  if (all.length !== 1 || direct.length !== 1) {
    throw new SamlError('SAML_ASSERTION_COUNT', 'the Response must contain exactly one Assertion');
  }
  // Unsigned assertion allowed: read it from the verified Response.
  return verifiedAssertion(doc, direct[0]!, () => requiredChild(response, NS.assertion, 'Assertion'), ctx);
}

/**
 * The one EncryptedAssertion, read from the verified Response when it is signed (so AES-CBC may be
 * decrypted from the tenant's one SAML IdP, its ciphertext being that IdP's), decrypted, and then
 * checked as a plain one: one Assertion, nothing wrapped in it, its own signature required as for a
 * plain one.
 */
function verifiedDecryptedAssertion(
  doc: Document,
  original: Element,
  response: Element,
  ctx: Context,
): Element {
  const keys = decryptionKeys(ctx, 'assertions');
  const direct = childElements(original, NS.assertion, 'EncryptedAssertion');
  if (
    direct.length !== 1 ||
    descendants(doc, NS.assertion, 'EncryptedAssertion').length !== 1 ||
    descendants(doc, NS.assertion, 'Assertion').length !== 0
  ) {
    throw new SamlError('SAML_ASSERTION_COUNT', 'the Response must contain exactly one (Encrypted)Assertion');
  }
  const encrypted = requiredChild(response, NS.assertion, 'EncryptedAssertion');
  const plaintext = decryptElement(encrypted, keys, {
    signed: response !== original,
    soleIdp: ctx.expected.soleSamlIdp === true,
  });
  const decrypted = decryptedInItsNamespaces(plaintext, direct[0]!, encrypted);
  if (
    descendants(decrypted.doc, NS.assertion, 'Assertion').length !== 1 ||
    descendants(decrypted.doc, NS.assertion, 'EncryptedAssertion').length !== 0
  ) {
    throw new SamlError('SAML_ASSERTION_COUNT', 'the decrypted Assertion wraps another');
  }
  // Unsigned assertion allowed: the Response that carried it is signed, and it was read from that.
  return verifiedAssertion(decrypted.doc, decrypted.element, () => decrypted.element, ctx);
}

/** The broker's decryption keys; refused without one, naming what it had to decrypt. */
function decryptionKeys(ctx: Context, what: string): readonly KeyObject[] {
  const keys = ctx.expected.decryptionKeys ?? [];
  if (keys.length === 0)
    throw new SamlError('SAML_ENCRYPTED_ASSERTION_UNSUPPORTED', `the broker has no key to decrypt ${what}`);
  return keys;
}

/**
 * How an EncryptedID or EncryptedAttribute of the verified Assertion is decrypted: inside the signature
 * that covers it, with the broker's keys (ADR 0346, 0355).
 */
function decryptionOf(ctx: Context): ElementDecryption {
  return { keys: ctx.expected.decryptionKeys ?? [], soleIdp: ctx.expected.soleSamlIdp === true };
}

/**
 * XML Encryption 4.3: the plaintext is read in the namespaces around the EncryptedAssertion `posted`
 * (xmlsec1 writes it without its ancestors' declarations, e.g. `xsi:` declared only on the Response).
 * A signed Response's exclusive c14n covers only the declarations used outside the ciphertext, so one
 * only the plaintext uses may have been rebound after it was signed: the posted ones are kept for an
 * Assertion carrying its own Signature, whose c14n covers the namespace of every prefix it visibly uses
 * (a rebound one breaks it); any other is read in the namespaces of the Response as `verified`, where
 * such a prefix is undeclared (fail-closed). ADR 0344.
 */
function decryptedInItsNamespaces(plaintext: Buffer, posted: Element, verified: Element): DecryptedElement {
  const asPosted = parseDecryptedElement(plaintext, posted);
  if (posted === verified || childElements(asPosted.element, NS.dsig, 'Signature').length > 0)
    return asPosted;
  return parseDecryptedElement(plaintext, verified);
}

/** The Assertion as signed; `unsigned` for one the Response's verified signature covers, when allowed. */
function verifiedAssertion(
  doc: Document,
  assertion: Element,
  unsigned: () => Element,
  ctx: Context,
): Element {
  const signed = childElements(assertion, NS.dsig, 'Signature').length > 0;
  if (signed || ctx.expected.requireSignedAssertion !== false) {
    return verifyEnvelopedSignature(
      doc,
      assertion,
      ctx.expected.idpCertificatesPem,
      ctx.expected.idpSignatureAlgorithm,
    );
  }
  return unsigned();
}

function checkAssertionVersion(assertion: Element): void {
  if (attribute(assertion, 'Version') !== '2.0')
    throw new SamlError('SAML_VERSION_UNSUPPORTED', 'only SAML 2.0 is accepted');
  if (!attribute(assertion, 'ID')) throw new SamlError('SAML_XML_INVALID', 'the Assertion has no ID');
}

function checkAssertionIssuer(assertion: Element, ctx: Context): string {
  return checkIssuer(requiredChild(assertion, NS.assertion, 'Issuer'), ctx.expected.idpEntityId);
}

/**
 * The NameID as signed. The element was re-parsed from canonical octets, so a comment injected
 * after signing (`user@evil.test<!---->.good.test`) is gone and the full text is read; a processing
 * instruction or child element inside NameID is refused. A BaseID is not supported.
 */
function readNameId(
  subject: Element,
  ctx: Context,
): {
  nameId: string;
  nameIdFormat: string;
  nameIdQualifiers: NameIdQualifiers;
} {
  const element = oneNameId(subject, decryptionOf(ctx));
  const nameId = stringContent(element, 'SAML_NAMEID_INVALID');
  if (trimXmlWhitespace(nameId) === '' || nameId.length > 1024)
    throw new SamlError('SAML_NAMEID_INVALID', 'the NameID is empty or too long');
  return {
    nameId,
    nameIdFormat: attribute(element, 'Format') ?? NAMEID_UNSPECIFIED,
    nameIdQualifiers: nameIdQualifiersOf(element),
  };
}

/**
 * Profiles 4.1.4.2: a bearer SubjectConfirmation whose data names our ACS as Recipient, answers our
 * request, has no NotBefore and has not expired. Returns its NotOnOrAfter. When none fits, the first bearer
 * confirmation's failure is reported.
 */
function checkBearerConfirmation(subject: Element, ctx: Context): number {
  const bearers = childElements(subject, NS.assertion, 'SubjectConfirmation').filter(
    (c) => attribute(c, 'Method') === BEARER,
  );
  if (bearers.length === 0) {
    throw new SamlError('SAML_SUBJECT_CONFIRMATION_INVALID', 'the Subject has no bearer confirmation');
  }
  let firstFailure: unknown;
  for (const bearer of bearers) {
    try {
      return checkConfirmationData(bearer, ctx);
    } catch (err) {
      firstFailure ??= err;
    }
  }
  throw firstFailure;
}

function checkConfirmationData(bearer: Element, ctx: Context): number {
  const data = optionalChild(bearer, NS.assertion, 'SubjectConfirmationData');
  if (!data) throw new SamlError('SAML_SUBJECT_CONFIRMATION_INVALID', 'the bearer confirmation has no data');
  if (attribute(data, 'Recipient') !== ctx.expected.acsUrl) {
    throw new SamlError('SAML_RECIPIENT_MISMATCH', 'the assertion is meant for another endpoint');
  }
  if (attribute(data, 'InResponseTo') !== ctx.expected.inResponseTo) {
    throw new SamlError('SAML_IN_RESPONSE_TO_MISMATCH', 'the assertion answers another request');
  }
  const notOnOrAfter = instant(data, 'NotOnOrAfter');
  if (notOnOrAfter === undefined) {
    throw new SamlError('SAML_SUBJECT_CONFIRMATION_INVALID', 'the bearer confirmation has no NotOnOrAfter');
  }
  // Profiles 4.1.4.2: the bearer's data "MUST NOT contain a NotBefore attribute"; one that does is
  // not a Web SSO confirmation, whatever time it names (ADR 0174).
  if (attribute(data, 'NotBefore') !== undefined) {
    throw new SamlError('SAML_SUBJECT_CONFIRMATION_INVALID', 'the bearer confirmation has a NotBefore');
  }
  checkWindow(undefined, notOnOrAfter, ctx);
  return notOnOrAfter;
}

/** The conditions core 2.5.1 defines; anything else makes the assertion Indeterminate (2.5.1.1). */
const UNDERSTOOD_CONDITIONS = new Set(['AudienceRestriction', 'OneTimeUse', 'ProxyRestriction']);

/**
 * Conditions with NotBefore/NotOnOrAfter and at least one AudienceRestriction, each naming us; no
 * condition we do not understand (core 2.5.1.1: an assertion with one is Indeterminate, not valid),
 * at most one OneTimeUse (met: the assertion ID is used once) and one ProxyRestriction (returned for
 * a proxy to honour).
 */
function checkConditions(
  assertion: Element,
  ctx: Context,
): { notOnOrAfter: number | undefined; proxyRestriction?: ProxyRestriction } {
  const conditions = optionalChild(assertion, NS.assertion, 'Conditions');
  if (!conditions) throw new SamlError('SAML_AUDIENCE_MISMATCH', 'the assertion has no audience restriction');
  const notOnOrAfter = instant(conditions, 'NotOnOrAfter');
  checkWindow(instant(conditions, 'NotBefore'), notOnOrAfter, ctx);
  for (const condition of Array.from(conditions.childNodes).filter(isElement)) {
    if (condition.namespaceURI !== NS.assertion || !UNDERSTOOD_CONDITIONS.has(condition.localName!)) {
      throw new SamlError(
        'SAML_CONDITION_UNSUPPORTED',
        `the assertion has a condition not understood: ${condition.localName}`,
      );
    }
  }
  const restrictions = childElements(conditions, NS.assertion, 'AudienceRestriction');
  // Core 2.5.1.4: several AudienceRestrictions all apply; the assertion is for us only if each names us.
  const forUs = (r: Element) => audiencesOf(r).includes(ctx.expected.spEntityId);
  if (restrictions.length === 0 || !restrictions.every(forUs)) {
    throw new SamlError('SAML_AUDIENCE_MISMATCH', 'the assertion is meant for another service provider');
  }
  // Core 2.5.1.5 and 2.5.1.6: a Conditions element holds at most one of each.
  for (const name of ['OneTimeUse', 'ProxyRestriction']) {
    if (childElements(conditions, NS.assertion, name).length > 1)
      throw new SamlError('SAML_CONDITION_UNSUPPORTED', `the assertion has two ${name}`);
  }
  const proxy = childElements(conditions, NS.assertion, 'ProxyRestriction')[0];
  return proxy ? { notOnOrAfter, proxyRestriction: proxyRestrictionOf(proxy) } : { notOnOrAfter };
}

function audiencesOf(element: Element): string[] {
  return childElements(element, NS.assertion, 'Audience').map((a) => simpleText(a));
}

function proxyRestrictionOf(element: Element): ProxyRestriction {
  const count = attribute(element, 'Count');
  if (count !== undefined && !/^\d{1,9}$/.test(count)) {
    throw new SamlError('SAML_XML_INVALID', 'ProxyRestriction/@Count is not a non-negative integer');
  }
  return { ...(count === undefined ? {} : { count: Number(count) }), audiences: audiencesOf(element) };
}

function checkWindow(notBefore: number | undefined, notOnOrAfter: number | undefined, ctx: Context): void {
  if (notBefore !== undefined && ctx.now + ctx.skewMs < notBefore) {
    throw new SamlError('SAML_NOT_YET_VALID', 'the assertion is not valid yet');
  }
  if (notOnOrAfter !== undefined && ctx.now - ctx.skewMs >= notOnOrAfter) {
    throw new SamlError('SAML_EXPIRED', 'the assertion has expired');
  }
  // Core 2.5.1.2 and 2.4.1.2: NotBefore "MUST be less than" NotOnOrAfter. A window that ends before it
  // begins is valid at no instant, yet passes the two checks above while both ends lie within the skew.
  if (notBefore !== undefined && notOnOrAfter !== undefined && notBefore >= notOnOrAfter) {
    throw new SamlError('SAML_XML_INVALID', 'the validity window ends before it begins');
  }
}

/**
 * Core 2.7.2: past SessionNotOnOrAfter the session "MUST be considered ended". Without the clock skew
 * the other windows get: a session accepted within it would be one that has ended by this clock, and
 * the session made from it would end at once, sending the person through sign-in again to an IdP whose
 * clock, behind, answers with the same end for up to the skew (ADR 0252).
 */
function checkSessionNotEnded(sessionEnd: number | undefined, ctx: Context): void {
  if (sessionEnd !== undefined && ctx.now >= sessionEnd)
    throw new SamlError('SAML_EXPIRED', 'the session the assertion starts has already ended');
}

/**
 * Core 2.7.2: AuthnInstant is "the time at which the authentication took place", so not later than now
 * beyond the clock skew. One ahead would be asserted on to the portal as it came, and would pass a
 * ForceAuthn's freshness check however old the IdP's session was: the twin of an OIDC `auth_time` in
 * the future (ADR 0198, 0269).
 */
function checkAuthenticatedBy(authnInstant: number | undefined, ctx: Context): void {
  if (authnInstant !== undefined && authnInstant - ctx.now > ctx.skewMs)
    throw new SamlError(
      'SAML_NOT_YET_VALID',
      'the assertion says the authentication took place in the future',
    );
}

function readAuthnStatement(
  assertion: Element,
  ctx: Context,
): {
  sessionIndex?: string;
  authnContextClassRef?: string;
  authenticatingAuthorities: string[];
  authnInstant?: Date;
  sessionNotOnOrAfter?: Date;
} {
  const statements = childElements(assertion, NS.assertion, 'AuthnStatement');
  if (statements.length === 0)
    throw new SamlError('SAML_AUTHN_STATEMENT_MISSING', 'the assertion has no AuthnStatement');
  const statement = statements[0]!;
  const sessionEnd = instant(statement, 'SessionNotOnOrAfter');
  checkSessionNotEnded(sessionEnd, ctx);
  const out: ReturnType<typeof readAuthnStatement> = { authenticatingAuthorities: [] };
  if (sessionEnd !== undefined) out.sessionNotOnOrAfter = new Date(sessionEnd);
  const sessionIndex = attribute(statement, 'SessionIndex');
  if (sessionIndex) out.sessionIndex = sessionIndex;
  const authnInstant = instant(statement, 'AuthnInstant');
  checkAuthenticatedBy(authnInstant, ctx);
  if (authnInstant !== undefined) out.authnInstant = new Date(authnInstant);
  const context = optionalChild(statement, NS.assertion, 'AuthnContext');
  const classRef = context ? optionalChild(context, NS.assertion, 'AuthnContextClassRef') : undefined;
  if (classRef) out.authnContextClassRef = simpleText(classRef);
  if (context) {
    out.authenticatingAuthorities = childElements(context, NS.assertion, 'AuthenticatingAuthority').map((a) =>
      simpleText(a),
    );
  }
  return out;
}
