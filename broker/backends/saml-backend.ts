import { brokerBasePath, brokerEndpoints } from '../../common/config/broker-endpoints.js';
import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import type { KeyMaterial } from '../../common/key-material.js';
import {
  authnRequest,
  buildSpMetadata,
  decodePostedMessage,
  type ExpectedAt,
  type IdpMetadata,
  type LogoutOutcome,
  logoutRequest,
  logoutResponse,
  MAX_POSTED_FORM_BYTES,
  NAMEID_EMAIL,
  OtherNameIdentifier,
  type ProxyRestriction,
  refusalOutcome,
  SamlError,
  SamlStatusError,
  SenderMessageRefused,
  STATUS_NO_AUTHN_CONTEXT,
  STATUS_NO_PASSIVE,
  STATUS_PROXY_COUNT_EXCEEDED,
  STATUS_REQUEST_DENIED,
  sameNameIdentifier,
  signedRedirectUrl,
  useAssertionOnce,
  type ValidatedAssertion,
  verifySamlResponse,
} from '../../common/saml/index.js';
import type { Sealer } from '../../common/sealer.js';
import type { DecryptionCredential } from '../decryption-credential.js';
import { single } from '../http.js';
import { type SignInBudget, UNBOUNDED } from '../sign-in-budget.js';
import { type AuthenticatedSubject, subjectHasher, subjectHashes } from '../subject.js';
import {
  authenticatedSince,
  type Backend,
  type BackendContext,
  decodeState,
  encodeState,
  flowKeyOf,
  IdpRefusal,
  type IdpRefusalKind,
  type IdpSessionKeys,
  requestIssuer,
  type ServiceEndpoint,
  type SoapLogout,
  type SoapLogoutAnswer,
} from './backend.js';
import {
  acceptLogoutRequest,
  acceptLogoutResponse,
  type SloEndpoint,
  soapLogoutResponse,
  type UpstreamLogoutRequest,
  type UpstreamSamlSession,
} from './saml-logout.js';
import { metadataSource } from './saml-metadata.js';

/**
 * The broker as a SAML 2.0 service provider toward a tenant's upstream IdP (Web Browser SSO
 * profile): signed AuthnRequest over HTTP-Redirect, Response over HTTP-POST to {brokerUrl}/saml/acs,
 * validated by common/saml (signed Assertion, audience, destination, recipient, InResponseTo bound
 * to the flow, time window, one-time use).
 */

export interface SamlBackendOptions {
  idp: IdentityProviderSpec;
  /** Public base URL of the broker, without trailing slash. */
  brokerUrl: string;
  spSigningKeyPem: string;
  spCertPem: string;
  /** The keys an EncryptedAssertion is decrypted with, published in the SP metadata (ADR 0338). */
  decryption?: DecryptionCredential;
  /**
   * This IdP is the tenant's only SAML IdP, so the only one the keys decrypt for: AES-CBC is offered
   * and taken from it (ADR 0350). With several, AES-GCM only.
   */
  soleSamlIdp: boolean;
  /**
   * Keys the store's indexes of a session for the IdP's LogoutRequest: the signing key, and the
   * previous or next one during a rotation (ADR 0298, 0304).
   */
  stateKeyMaterial: KeyMaterial;
  /** For metadataUrl; must verify TLS (the default fetch does). */
  fetch?: typeof fetch;
  context: BackendContext;
  /** Seals the logout handle: the upstream NameID is often an e-mail and must not rest in clear. */
  sealer: Sealer;
  /** The entityID of the SP the broker asserts on to (the portal): an upstream ProxyRestriction must allow it. */
  downstreamEntityId: string;
}

/** This backend's state across the redirect: the ID of the AuthnRequest sent upstream, kept once. */
interface PendingAuthnRequest {
  requestId: string;
  /** For a ForceAuthn login: when the AuthnRequest was sent, in seconds; AuthnInstant may not be earlier. */
  authenticatedAfter?: number;
}

/** Attribute names that commonly carry the e-mail address, in order of preference. */
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'emailAddress',
];

export function createSamlBackend(options: SamlBackendOptions): Backend {
  const spec = options.idp.saml;
  if (!spec)
    throw new SamlError(
      'SAML_METADATA_INVALID',
      `identity provider ${options.idp.name} is not a SAML provider`,
      { status: 500 },
    );
  const { now, sessions } = options.context;
  const name = options.idp.name;
  // How the IdP's LogoutRequest finds the session: a keyed hash, so the NameID (often an e-mail)
  // is no key in the store, nor one a staff list can confirm. A login is indexed under the sealing
  // material; a logout looks under each material held, so that it finds the sessions saved before
  // a swap of the key (ADR 0304).
  const upstreamSessionKey = subjectHasher(options.stateKeyMaterial, 'upstream-session-key');
  const upstreamSessionKeys = subjectHashes(options.stateKeyMaterial, 'upstream-session-key');
  // How a login and the IdP's LogoutRequest name the IdP session, its SessionIndex (ADR 0171): keyed
  // the same way, and apart from the person's key.
  const sessionIndexKey = subjectHasher(options.stateKeyMaterial, 'upstream-session-index');
  const sessionIndexKeys = subjectHashes(options.stateKeyMaterial, 'upstream-session-index');
  const idpSessionOf = (nameId: string, sessionIndex: string): IdpSessionKeys => ({
    session: sessionIndexKey(name, sessionIndex),
    person: upstreamSessionKey(name, nameId),
  });
  /** The IdP session as a logout names it: under each material held, each with the person under the same. */
  const idpSessionsOf = (nameId: string, sessionIndex: string): IdpSessionKeys[] => {
    const persons = upstreamSessionKeys(name, nameId);
    return sessionIndexKeys(name, sessionIndex).map((session, i) => ({ session, person: persons[i]! }));
  };
  const entityId = `${options.brokerUrl}/saml/sp-metadata`;
  const acsUrl = `${options.brokerUrl}/saml/acs`;
  const sloUrl = `${options.brokerUrl}/saml/slo`;
  const sloPath = new URL(sloUrl).pathname;
  const decryptionKeys = options.decryption?.keys ?? [];
  const identifierDecryption = { keys: decryptionKeys, soleIdp: options.soleSamlIdp };
  const sloEndpoint = (): SloEndpoint => ({
    url: sloUrl,
    now: now(),
    replay: options.context.store,
    decryption: identifierDecryption,
  });
  const endpoints = brokerEndpoints(options.brokerUrl);
  // This IdP's own SOAP address (ADR 0160): whose certificates judge a request never depends on it.
  const soapSloUrl = endpoints.samlBackchannelLogoutUrl(name);
  const soapSloEndpoint = (): SloEndpoint => ({ ...sloEndpoint(), url: soapSloUrl });
  // One SP toward every IdP: the same keys, in both forms of its metadata.
  const spKeys = {
    signingCertPem: options.spCertPem,
    encryptionCertificatesPem: options.decryption?.certificatesPem ?? [],
    cbcOffered: options.soleSamlIdp,
  };
  const metadata = metadataSource({
    idp: name,
    spec,
    fetch: options.fetch ?? fetch,
    now,
    timeoutMs: options.context.idpTimeoutMs,
    logger: options.context.logger,
    countFailedRead: () => options.context.keyReadFailed(name, 'saml_metadata'),
  });
  /**
   * Checks a message from the IdP with the metadata's certificates; when none verifies its
   * signature, once more with the metadata read again (the IdP may have rolled its certificate
   * over). The checks mark a message used only once they have all passed, so it may be checked twice.
   */
  async function withIdpCertificates<T>(
    check: (idp: IdpMetadata) => Promise<T>,
    budget: SignInBudget = UNBOUNDED,
  ): Promise<T> {
    // The reads of the metadata a sign-in waits for are within its budget (ADR 0276); the checks are
    // the broker's own work.
    const idp = await budget.within(() => metadata.current());
    try {
      return await check(idp);
    } catch (err) {
      if (!(err instanceof SamlError && err.code === 'SAML_SIGNATURE_INVALID')) throw err;
      const reread = await budget.within(() => metadata.afterSignatureFailure(idp));
      if (!reread || sameCertificates(reread, idp)) throw err;
      return check(reread);
    }
  }
  /** The sealed NameID and SessionIndex; undefined when it does not open (e.g. the key rotated since). */
  const sealedSession = (handle: string | undefined): UpstreamSamlSession | undefined => {
    const opened = options.sealer.openOrUndefined(handle);
    return opened === undefined ? undefined : decodeState<UpstreamSamlSession>(opened);
  };

  /**
   * The answer to the IdP's LogoutRequest (core 3.7.3.2): the broker is itself the session authority
   * of the portal, so Success only when every session it names ended, the portal's included;
   * otherwise PartialLogout (ADR 0145, 0158).
   */
  async function logoutResponseUrl(
    inResponseTo: string,
    outcome: LogoutOutcome,
    relayState?: string,
  ): Promise<string | undefined> {
    const idp = await metadata.current();
    // Metadata 2.2.2: a ResponseLocation, when named, is where responses go, not the Location.
    const destination = idp.sloResponseUrl ?? idp.sloUrl;
    if (!destination) return undefined;
    const message = logoutResponse({
      issuer: entityId,
      destination,
      inResponseTo,
      outcome,
      now: now(),
    });
    return signedRedirectUrl('SAMLResponse', destination, message, {
      keyPem: options.spSigningKeyPem,
      relayState,
    });
  }

  /**
   * Ends the broker session the IdP's verified LogoutRequest names and the portal session made from
   * it (back-channel, within the IdP deadline); whether anything may be left (PartialLogout).
   */
  async function endNamedSessions(message: UpstreamLogoutRequest, binding: 'redirect' | 'soap') {
    const outcome = await sessions.endUpstreamSession(name, {
      requestId: message.id,
      upstreamSessionKeys: upstreamSessionKeys(name, message.nameId),
      idpSessions: message.sessionIndexes.flatMap((index) => idpSessionsOf(message.nameId, index)),
      matches: (handle) => {
        const session = sealedSession(handle);
        const ofPerson =
          session?.nameId === message.nameId &&
          (message.sessionIndexes.length === 0 ||
            (session.sessionIndex !== undefined && message.sessionIndexes.includes(session.sessionIndex)));
        if (!ofPerson) return 'other';
        // Core 2.2.2: the NameID is its value with its Format and qualifiers, as the IdP asserted them
        // (a handle sealed before they were kept holds the Format only, ADR 0199).
        const asserted = sameNameIdentifier(
          { format: session.nameIdFormat, qualifiers: session.nameIdQualifiers },
          { format: message.nameIdFormat, qualifiers: message.nameIdQualifiers },
          { asserting: message.issuer, relying: entityId },
        );
        return asserted ? 'named' : 'other_identifier';
      },
    });
    // Answered Requester/UnknownPrincipal, ending nothing (ADR 0373).
    if (outcome === 'other_identifier')
      throw new SenderMessageRefused(message.id, new OtherNameIdentifier(), message.relayState);
    // Success only when the person's session here and at the portal both ended. Without a
    // SessionIndex the request ends every session of the person: the index finds the latest broker
    // session only (ADR 0145), and the portal is asked for every one of theirs (ADR 0218); older
    // broker sessions end at their timeout, their portal sessions gone. No session found may be an
    // older one the index no longer names: PartialLogout. So is a session another of the IdP's
    // requests is ending at this moment: this one cannot say the portal's ended (ADR 0373).
    const partial = outcome !== 'ended';
    options.context.logger.info(
      {
        event: 'broker.logout',
        idp: name,
        initiator: 'idp',
        binding,
        result: outcome === 'no_session' ? 'no_session' : partial ? 'partial' : 'success',
        ...(outcome === 'already_ending' ? { cause: outcome } : {}),
      },
      'logout requested by the identity provider',
    );
    return partial;
  }

  /**
   * The IdP's own LogoutRequest through the browser (the person signed out there). One it signed
   * that a later check refuses (Destination, time, replay, nobody named) ends nothing and is answered
   * at its SingleLogoutService: VersionMismatch for another Version (ADR 0204), else
   * Requester/RequestDenied (ADR 0252); an IdP whose metadata names none gets the page.
   */
  const idpLogout: ServiceEndpoint = {
    path: sloPath,
    method: 'GET',
    // Routed by the unverified Issuer only to choose whose certificates verify the message. Metadata
    // that cannot be read claims nothing: another party's message on the shared path is not held up
    // by it (the failed read is told by the metadata source's health line and metric, ADR 0228).
    async claims(request) {
      const issuer = requestIssuer(request);
      if (issuer === undefined) return false;
      const idp = await metadata.current().catch(() => undefined);
      return idp?.entityId === issuer;
    },
    async serve(request) {
      let partial: boolean;
      let message: Awaited<ReturnType<typeof acceptLogoutRequest>>;
      try {
        message = await withIdpCertificates((idp) =>
          acceptLogoutRequest({ kind: 'redirect', rawQuery: request.rawQuery }, idp, sloEndpoint()),
        );
        // Its replay check comes with the logout (ADR 0164), and is answered as the others.
        partial = await message.once(() => endNamedSessions(message, 'redirect'));
      } catch (err) {
        if (!(err instanceof SenderMessageRefused)) throw err;
        const answer = await logoutResponseUrl(err.messageId, refusalOutcome(err), err.relayState);
        if (!answer) throw err;
        const refused = { reason: err.code, idp: name, ...detailOf(err) };
        return { kind: 'redirect', location: answer, refused };
      }
      const answer = await logoutResponseUrl(message.id, partial ? 'partial' : 'success', message.relayState);
      return answer ? { kind: 'redirect', location: answer } : { kind: 'signedOut' };
    },
  };

  /**
   * The IdP's own LogoutRequest back-channel, over SOAP (ADR 0160): the same checks and the same
   * ending as through the browser, answered on the connection. A request the IdP signed that a
   * later check refused (Destination, time, replay) gets a signed Requester answer, one of another
   * Version a signed VersionMismatch (ADR 0204), and one the broker could not act on now (its store
   * did not answer) a signed Responder answer, its ID not spent, so that the IdP's retry ends the
   * sessions (ADR 0164); anything else that fails is thrown, for a SOAP fault.
   */
  const soapLogout: SoapLogout = {
    path: new URL(soapSloUrl).pathname,
    async answer(envelope) {
      try {
        const message = await withIdpCertificates((idp) =>
          acceptLogoutRequest({ kind: 'soap', envelope }, idp, soapSloEndpoint()),
        );
        return await soapLogoutOutcome(message);
      } catch (err) {
        if (!(err instanceof SenderMessageRefused)) throw err;
        const outcome = refusalOutcome(err);
        const refused = { reason: err.code, ...detailOf(err) };
        return { envelope: soapLogoutResponse(err.messageId, outcome, soapSigner()), refused };
      }
    },
  };
  async function soapLogoutOutcome(
    message: Awaited<ReturnType<typeof acceptLogoutRequest>>,
  ): Promise<SoapLogoutAnswer> {
    try {
      const partial = await message.once(() => endNamedSessions(message, 'soap'));
      return { envelope: soapLogoutResponse(message.id, partial ? 'partial' : 'success', soapSigner()) };
    } catch (err) {
      if (!(err instanceof JsmSsoError && err.status >= 500)) throw err;
      return { envelope: soapLogoutResponse(message.id, 'unavailable', soapSigner()), unavailable: err };
    }
  }
  const soapSigner = () => ({
    entityId,
    keyPem: options.spSigningKeyPem,
    certPem: options.spCertPem,
    now: now(),
  });

  return {
    idp: name,
    // IsPassive and ForceAuthn go on to the IdP's AuthnRequest; its NoPassive comes back as such,
    // and a ForceAuthn login's AuthnInstant is checked (SAML_AUTHENTICATION_NOT_FRESH).
    logsInPassively: true,
    showsFreshLogin: true,
    loginCallback: {
      path: new URL(acsUrl).pathname,
      method: 'POST',
      // The upstream IdP posts cross-site, so no cookie: RelayState is the flow's unguessable ID.
      browserBound: false,
      // Any form a Response within the SAML message bound (256 KiB) is posted in (ADR 0317).
      formLimit: MAX_POSTED_FORM_BYTES,
      async flowOf(request) {
        const form = request.form ?? new URLSearchParams();
        const relayState = single(form, 'RelayState');
        if (!single(form, 'SAMLResponse') || !relayState)
          throw new JsmSsoError('SAML_BINDING_INVALID', "the identity provider's answer is incomplete");
        return flowKeyOf(relayState);
      },
    },
    logoutCallback: {
      path: sloPath,
      claims: (request) => {
        const params = new URLSearchParams(request.rawQuery);
        return params.has('SAMLResponse') && !params.has('SAMLRequest');
      },
      logoutOf: (request) => single(new URLSearchParams(request.rawQuery), 'RelayState'),
    },
    services: [
      {
        path: `${brokerBasePath(options.brokerUrl)}/saml/sp-metadata`,
        method: 'GET',
        samePerKind: true,
        readOnly: true,
        claims: async () => true,
        serve: async () => ({
          kind: 'metadata',
          xml: buildSpMetadata({ entityId, acsUrl, sloUrl, ...spKeys }),
        }),
      },
      {
        // The same SP toward this IdP only, with its own SOAP SingleLogoutService (ADR 0160).
        path: new URL(endpoints.samlSpMetadataUrl(name)).pathname,
        method: 'GET',
        readOnly: true,
        claims: async () => true,
        serve: async () => ({
          kind: 'metadata',
          xml: buildSpMetadata({
            entityId,
            acsUrl,
            sloUrl,
            soapSloUrl,
            ...spKeys,
          }),
        }),
      },
      idpLogout,
    ],
    soapLogout,

    async loginOrigin() {
      return metadata.current().then(
        (idp) => new URL(idp.ssoUrl).origin,
        () => undefined,
      );
    },

    async authority() {
      return metadata.current().then(
        (idp) => idp.entityId,
        () => undefined,
      );
    },

    async startLogin(
      flowId,
      { forceAuthn, isPassive, proxyCount, requestedAuthnContext, idpList, requesterIds },
    ) {
      const idp = await metadata.current();
      const message = authnRequest({
        issuer: entityId,
        destination: idp.ssoUrl,
        now: now(),
        acsUrl,
        forceAuthn,
        isPassive,
        ...(proxyCount === undefined ? {} : { proxyCount }),
        // Core 3.4.1.5.1: the same context policy and IDPList as the portal's request (ADR 0228).
        ...(requestedAuthnContext === undefined ? {} : { requestedAuthnContext }),
        ...(idpList === undefined ? {} : { idpList }),
        ...(requesterIds === undefined ? {} : { requesterIds }),
      });
      const redirectUrl = signedRedirectUrl('SAMLRequest', idp.ssoUrl, message, {
        keyPem: options.spSigningKeyPem,
        relayState: flowId,
      });
      const pending: PendingAuthnRequest = {
        requestId: message.id,
        ...(forceAuthn && !isPassive ? { authenticatedAfter: Math.floor(now().getTime() / 1000) } : {}),
      };
      return { redirectUrl, state: encodeState(pending) };
    },

    async finishLogin(request, state, budget, verified) {
      // The request ID lives only in the flow, which the frontend consumed: a second Response for
      // the same flow finds no flow, and the Assertion ID is marked used once verified.
      const { requestId, authenticatedAfter } = decodeState<PendingAuthnRequest>(state);
      const xml = decodePostedMessage(request.form?.get('SAMLResponse') ?? '');
      try {
        const { assertion, expected } = await withIdpCertificates(async (idp) => {
          const expected: ExpectedAt = {
            idpEntityId: idp.entityId,
            idpCertificatesPem: idp.signingCertificatesPem,
            spEntityId: entityId,
            acsUrl,
            inResponseTo: requestId,
            now: now(),
            decryptionKeys,
            soleSamlIdp: options.soleSamlIdp,
          };
          return { assertion: verifySamlResponse(xml, expected), expected };
        }, budget);
        // Signed by the IdP, in response to this flow's request, for this SP: a fault from here on
        // (the marker's write) is the flow's, which the POST, without the flow cookie, cannot show.
        verified?.();
        await useAssertionOnce(options.context.store, assertion, expected);
        const authnInstant = assertion.authnInstant && assertion.authnInstant.getTime() / 1000;
        // Held to the IdP clock tolerance of the OIDC path, not to the assertion's clock skew (ADR 0380).
        if (authenticatedAfter !== undefined && !authenticatedSince(authnInstant, authenticatedAfter)) {
          // The IdP's own answer, verified, but not the fresh login asked for: the portal is told
          // it failed (Responder/AuthnFailed), as the OIDC backend tells it (ADR 0186).
          throw new IdpRefusal('SAML_AUTHENTICATION_NOT_FRESH', 'failed');
        }
        const session: UpstreamSamlSession = {
          nameId: assertion.nameId,
          nameIdFormat: assertion.nameIdFormat,
          nameIdQualifiers: assertion.nameIdQualifiers,
          ...(assertion.sessionIndex ? { sessionIndex: assertion.sessionIndex } : {}),
        };
        const subject = subjectFrom(name, assertion);
        const proxyRestriction = proxyRestrictionFor(assertion, options.downstreamEntityId);
        if (proxyRestriction) subject.proxyRestriction = proxyRestriction;
        return {
          subject,
          logoutHandle: options.sealer.seal(encodeState(session)),
          upstreamSessionKey: upstreamSessionKey(name, assertion.nameId),
          ...(assertion.sessionIndex
            ? { idpSession: idpSessionOf(assertion.nameId, assertion.sessionIndex) }
            : {}),
        };
      } catch (err) {
        // The upstream IdP's non-success status for this request: the portal is told why, in its terms.
        if (err instanceof SamlStatusError) throw new IdpRefusal(err.code, refusalKindOf(err), err);
        throw err;
      }
    },

    async startLogout(handle, logoutId) {
      const session = sealedSession(handle);
      const idp = await metadata.current();
      if (!session || !idp.sloUrl) return undefined;
      const message = logoutRequest({ issuer: entityId, destination: idp.sloUrl, now: now(), ...session });
      // The IdP's LogoutResponse comes back with this RelayState (bindings 3.4.3).
      const redirectUrl = signedRedirectUrl('SAMLRequest', idp.sloUrl, message, {
        keyPem: options.spSigningKeyPem,
        relayState: logoutId,
      });
      return { redirectUrl, state: message.id };
    },

    async finishLogout(request, requestId) {
      return withIdpCertificates((idp) =>
        acceptLogoutResponse(request.rawQuery, idp, sloEndpoint(), requestId),
      );
    },
  };
}

/**
 * A SAML IdP's verified flag (ADR 0195): the attribute `email_verified` holds exactly one value, an
 * xs:boolean true in one of its two lexical forms (XML Schema 2 3.2.2.1: "true" or "1", case-sensitive).
 * Read as signed, like every AttributeValue (ADR 0186): " true" is not trimmed into "true". Several
 * values are not one statement about the address, so they do not count, even if all are "true".
 */
function isXsBooleanTrue(values: readonly string[] | undefined): boolean {
  return values?.length === 1 && (values[0] === 'true' || values[0] === '1');
}

/**
 * SAML attributes become claims: one value -> string, several -> string[]. `nameId` and
 * `nameIdFormat` are added; `email` is filled from the usual e-mail attribute names, or from an
 * emailAddress-format NameID, when the IdP sent no `email` attribute.
 */
export function subjectFrom(idp: string, assertion: ValidatedAssertion): AuthenticatedSubject {
  // No prototype, as the attributes it copies: an attribute the IdP names `__proto__` is a claim like
  // any other, not the object's prototype (with several values it made `claims.length` resolve).
  const claims: Record<string, unknown> = Object.create(null);
  for (const [name, values] of Object.entries(assertion.attributes)) {
    if (values.length > 0) claims[name] = values.length === 1 ? values[0] : values;
  }
  claims['nameId'] = assertion.nameId;
  claims['nameIdFormat'] = assertion.nameIdFormat;
  if (claims['email'] === undefined) {
    const source = EMAIL_ATTRIBUTES.map((n) => assertion.attributes[n]?.[0]).find((v) => v !== undefined);
    const email = source ?? (assertion.nameIdFormat === NAMEID_EMAIL ? assertion.nameId : undefined);
    if (email !== undefined) claims['email'] = email;
  }
  const subject: AuthenticatedSubject = {
    idp,
    subject: assertion.nameId,
    claims,
    emailVerified: isXsBooleanTrue(assertion.attributes['email_verified']),
  };
  if (assertion.authnContextClassRef) subject.authnContextClassRef = assertion.authnContextClassRef;
  // Core 3.4.1.5.1: the IdP the broker referred the person to, after those its own assertion named.
  subject.authenticatingAuthorities = [...assertion.authenticatingAuthorities, assertion.issuer];
  if (assertion.authnInstant) subject.authTime = assertion.authnInstant;
  if (assertion.sessionNotOnOrAfter) subject.sessionNotOnOrAfter = assertion.sessionNotOnOrAfter;
  return subject;
}

function sameCertificates(a: IdpMetadata, b: IdpMetadata): boolean {
  const known = new Set(b.signingCertificatesPem);
  return (
    a.signingCertificatesPem.length === known.size && a.signingCertificatesPem.every((c) => known.has(c))
  );
}

/**
 * The IdP's second-level status (core 3.2.2.2) in the backends' neutral terms, which the frontend
 * turns back into the same status for the portal: a passive login that needed the person stays
 * NoPassive (the SP may then ask again, actively), a refusal stays RequestDenied, and an IdP that
 * could not proxy within the count the broker passed on from the portal's request stays
 * ProxyCountExceeded (core 3.4.1.5.1): the SP's own limit is why, not a failed login.
 */
function refusalKindOf(status: SamlStatusError): IdpRefusalKind {
  switch (status.secondLevelStatus) {
    case STATUS_NO_PASSIVE:
      return 'interaction_required';
    case STATUS_REQUEST_DENIED:
      return 'access_denied';
    case STATUS_NO_AUTHN_CONTEXT:
      return 'authn_context_unmet';
    case STATUS_PROXY_COUNT_EXCEEDED:
      return 'proxy_count_exceeded';
    default:
      return 'failed';
  }
}

/**
 * The broker asserts on what the upstream IdP asserted, so it is the relying party an upstream
 * ProxyRestriction (core 2.5.1.6) binds: Count 0 forbids any assertion on it, and listed Audiences
 * must include the portal. Otherwise the restriction, one less, goes into the broker's assertion.
 */
function proxyRestrictionFor(
  assertion: ValidatedAssertion,
  downstreamEntityId: string,
): ProxyRestriction | undefined {
  const restriction = assertion.proxyRestriction;
  if (!restriction) return undefined;
  const { count, audiences } = restriction;
  if (count === 0 || (audiences.length > 0 && !audiences.includes(downstreamEntityId))) {
    throw new IdpRefusal(
      'SAML_PROXY_RESTRICTED',
      'access_denied',
      new SamlError(
        'SAML_PROXY_RESTRICTED',
        'the identity provider does not let the broker assert on to the portal',
      ),
    );
  }
  return { ...(count === undefined ? {} : { count: count - 1 }), audiences };
}

/** A refusal's `detail` for its log line (ADR 0343), when it has one. */
function detailOf(err: SamlError): { detail?: string } {
  return err.detail === undefined ? {} : { detail: err.detail };
}
