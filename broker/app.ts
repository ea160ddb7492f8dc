import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { brokerBasePath } from '../common/config/broker-endpoints.js';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import { STORE_FULL_RETRY_AFTER_SECONDS, storeRefusalOf } from '../common/flowstore/refusal-answer.js';
import { clientIp } from '../common/http/client-ip.js';
import { parseCookies, serializeCookie } from '../common/http/cookies.js';
import { SIGN_IN_BUDGET_MS } from '../common/http/request-time.js';
import { securityHeaderSetter } from '../common/http/security-headers.js';
import type { SupportedLocale } from '../common/i18n/index.js';
import { isOneOf, keyedHash, keyedHashes } from '../common/keyed-hash.js';
import { unexpectedErrorFields } from '../common/log.js';
import { tenantLabels } from '../common/metrics.js';
import type { PartContext } from '../common/runtime.js';
import { newSamlId } from '../common/saml/canonical-xml.js';
import { SamlError } from '../common/saml/errors.js';
import {
  AUTHN_CONTEXT_UNSPECIFIED,
  buildIdpMetadata,
  type IdpList,
  issueErrorResponse,
  issueSignedResponse,
  type LogoutOutcome,
  logoutResponse,
  type MessageBinding,
  NAMEID_TRANSIENT,
  OtherNameIdentifier,
  refusalOutcome,
  SenderMessageRefused,
  STATUS_AUTHN_FAILED,
  STATUS_INVALID_NAMEID_POLICY,
  STATUS_NO_AUTHN_CONTEXT,
  STATUS_NO_AVAILABLE_IDP,
  STATUS_NO_PASSIVE,
  STATUS_NO_SUPPORTED_IDP,
  STATUS_PROXY_COUNT_EXCEEDED,
  STATUS_REQUEST_DENIED,
  STATUS_REQUEST_UNSUPPORTED,
  STATUS_REQUESTER,
  sameNameIdentifier,
  signedRedirectUrl,
  sizeFault,
} from '../common/saml/index.js';
import { createSealer } from '../common/sealer.js';
import { createTlsFetch, outboundOptions } from '../common/tls/index.js';
import { homeRealmFor } from './authority.js';
import { answer, backchannelLogoutHandler } from './backchannel-logout.js';
import {
  type Backend,
  type EndpointRequest,
  flowKeyOf,
  IdpRefusal,
  type IdpRefusalKind,
  type LoginCallback,
  type LoginCompletion,
  requestIssuer,
} from './backends/backend.js';
import { createBackends } from './backends/factory.js';
import { BrokerState, type LoginFlow, type LoginSession, newToken, type PendingLogout } from './flows.js';
import { frontchannelLogoutHandler } from './frontchannel-logout.js';
import { MAX_FORM_BYTES, readForm, single } from './http.js';
import { idpSessionsEnder } from './idp-logout.js';
import { offeredLocale, pageLanguage } from './language.js';
import { loginOrigins } from './login-origins.js';
import { nameIdFormatOf } from './mapping.js';
import {
  brandingOf,
  type IdpChoice,
  type PageContext,
  sendChoicePage,
  sendFrontchannelLogoutPage,
  sendMessagePage,
  sendPostBindingPage,
} from './pages.js';
import { portalLogoutSender, portalSubjectSealer } from './portal-logout.js';
import { FAULT_TEXT, refusalText } from './refusal-text.js';
import { routeLabels } from './route-labels.js';
import {
  type AcceptedAuthnRequest,
  type AcceptedLogoutRequest,
  AuthnRequestAnsweredWithStatus,
  acceptAuthnRequest,
  acceptLogoutRequest,
  acrValuesFor,
  authnContextMet,
  authnContextSatisfiable,
} from './saml/inbound.js';
import { resolveBrokerSettings } from './settings.js';
import { signInBudget } from './sign-in-budget.js';
import { sendSoapFault, serveSoapLogout } from './soap-logout.js';
import { afterAuthenticationSteps, runSteps } from './steps/index.js';
import { type AuthenticatedSubject, subjectHasher, subjectHashes } from './subject.js';
import { createBrokerTelemetry } from './telemetry.js';
import { upstreamLogoutDirectory } from './upstream-logout.js';

/**
 * The broker for one tenant: the SAML IdP toward the portal (this file, the frontend) wired to
 * one backend per tenant IdP (broker/backends, behind one interface) and the after-authentication
 * steps (broker/steps) between them. The frontend never knows which protocol a backend speaks.
 */

export interface BrokerAppOptions {
  /** The clock used for SAML validity checks and issued timestamps (tests move it). */
  now?: () => Date;
  /** How long one call to an IdP may take (default IDP_TIMEOUT_MS; tests shorten it). */
  idpTimeoutMs?: number;
  /** How long a sign-in's IdP calls may take together (default SIGN_IN_BUDGET_MS; tests shorten it). */
  signInBudgetMs?: number;
}

/** A logout token is a JWT of a kilobyte or two; the form carries nothing else. */
const BACKCHANNEL_FORM_LIMIT = 16 * 1024;

/**
 * One call to an IdP gives up after 10 s (openid-client's own default is 30 s): the person is
 * waiting on a page, and a balancer in front may give up sooner. The answer is then 502
 * IDP_CALL_TIMEOUT, the IdP slow rather than down (ADR 0441).
 */
export const IDP_TIMEOUT_MS = 10_000;

/**
 * How long the choice page waits for each IdP's login origin (its discovery or metadata, read at
 * the first page): a healthy IdP answers in well under this (login-origins.ts, ADR 0237).
 */
export const CHOICE_PAGE_ORIGIN_WAIT_MS = 2_000;

export interface BrokerApp {
  handler: RequestListener;
  ready: () => Promise<void>;
  close: () => Promise<void>;
}

/** What a Response to the portal answers: its AuthnRequest's ID and the RelayState that came with it. */
type AnsweredRequest = Pick<LoginFlow, 'requestId' | 'relayState'>;

/** The portal's LogoutRequest the broker's LogoutResponse answers. */
type PortalLogout = Pick<PendingLogout, 'requestId' | 'relayState'>;

const answering = (requestId: string, relayState: string | undefined): AnsweredRequest => ({
  requestId,
  ...(relayState === undefined ? {} : { relayState }),
});

/** The second-level SAML status (under Responder) telling the portal why the IdP said no. */
const SAML_STATUS_FOR_REFUSAL: Record<IdpRefusalKind, string> = {
  interaction_required: STATUS_NO_PASSIVE,
  access_denied: STATUS_REQUEST_DENIED,
  failed: STATUS_AUTHN_FAILED,
  authn_context_unmet: STATUS_NO_AUTHN_CONTEXT,
  proxy_count_exceeded: STATUS_PROXY_COUNT_EXCEEDED,
};

/**
 * How far a login callback is shown to continue its flow: not yet; sent by the browser that started
 * it (its flow cookie came along, for a backend whose callback carries it); the IdP's answer verified
 * by the backend as its own for this flow, nothing yet written (an upstream SAML IdP's, ADR 0403); or
 * that answer accepted.
 */
type CallbackShown = 'unchecked' | 'this-browser' | 'verified' | 'accepted';

/** One party that may answer a request on a path: a backend's endpoint, or the frontend's. */
interface Candidate {
  method: string;
  formLimit?: number;
  /** The handler reads the body itself (a SOAP message, not a form). */
  readsBody?: true;
  /** A GET that acts on nothing (metadata): HEAD is answered as it, without the content. */
  readOnly?: true;
  claims(request: EndpointRequest): boolean | Promise<boolean>;
  handle(req: IncomingMessage, res: ServerResponse, request: EndpointRequest): Promise<void> | void;
}

export async function createBrokerApp(
  context: PartContext,
  options: BrokerAppOptions = {},
): Promise<BrokerApp> {
  const now = options.now ?? (() => new Date());
  const { tenant, store, logger } = context;
  const settings = resolveBrokerSettings(tenant, context.secrets);
  const state = new BrokerState(store, settings.flowTtlSeconds, settings.sessionTtlSeconds);
  const telemetry = createBrokerTelemetry(
    context.registry,
    logger,
    tenantLabels(context.tenantId, context.pooled),
    settings.signingKeyPem,
  );
  const idps = tenant.spec.identityProviders;
  /** The broker's own endpoints, under its URL's base path as the backends' are (brokerEndpoints). */
  const own = (path: string) => `${brokerBasePath(tenant.spec.broker.url)}${path}`;
  /** The help center's look, and the way back to it, on every page the broker shows. */
  const brand = brandingOf(tenant.spec);
  const setSecurityHeaders = securityHeaderSetter({ logoUrl: brand.logoUrl, secure: settings.secureCookies });
  /** The language of the flow a request continues, kept for any page it ends in (a refusal too). */
  const flowLanguage = new WeakMap<IncomingMessage, SupportedLocale>();
  const useFlowLanguage = (req: IncomingMessage, flow: LoginFlow) => {
    if (flow.locale) flowLanguage.set(req, flow.locale);
  };
  /** A page for this request: in its flow's language when it has one, else the browser's. */
  const pageFor = (req: IncomingMessage): PageContext => ({
    brand,
    i18n: pageLanguage(req.headers['accept-language'], flowLanguage.get(req)),
  });
  const steps = afterAuthenticationSteps(idps, (problem) => telemetry.mappingProblem(problem));
  const idpTimeoutMs = options.idpTimeoutMs ?? IDP_TIMEOUT_MS;
  const signInBudgetMs = options.signInBudgetMs ?? SIGN_IN_BUDGET_MS;
  /** The portal's SOAP SingleLogoutService is reached as the browser reaches the portal: public TLS. */
  const portalFetch = createTlsFetch(outboundOptions(context.outbound));
  const portalSubjects = portalSubjectSealer(
    createSealer(settings.stateKeyMaterial, 'jsm-sso-broker', 'portal-subject'),
  );
  // A backend's state across the redirect to the IdP holds what its answer is checked against (an
  // OIDC flow's PKCE verifier and nonce): secrets, kept in the flow store sealed (ADR 0180).
  // A flow's backend state that does not open (an older release's, or altered) is no state.
  const backendStates = createSealer(settings.stateKeyMaterial, 'jsm-sso-broker', 'backend-state');
  // The IdP (or the person's browser on its page) waits for the answer; the portal gets the same
  // deadline as a call to the IdP.
  const portalLogout = portalLogoutSender({
    settings,
    fetch: portalFetch,
    store,
    now,
    timeoutMs: idpTimeoutMs,
  });
  const { backends, outbound } = createBackends(
    idps,
    context,
    settings,
    {
      store,
      sessions: upstreamLogoutDirectory({ state, portalLogout, portalSubjects, logger }),
      flowTtlSeconds: settings.flowTtlSeconds,
      now,
      logger,
      idpTimeoutMs,
      keyReadFailed: (idp, keys) => telemetry.keyReadFailed(idp, keys),
    },
    createSealer(settings.stateKeyMaterial, 'jsm-sso-broker', 'logout-handle'),
  );
  const endIdpSessions = idpSessionsEnder({ state, portalLogout, portalSubjects });
  const backchannelLogout = backchannelLogoutHandler({
    store,
    endSessions: endIdpSessions,
    telemetry,
    logger,
  });
  const frontchannelLogout = frontchannelLogoutHandler({
    endSessions: endIdpSessions,
    telemetry,
    logger,
    sendSignedOut: (req, res) => sendFrontchannelLogoutPage(res, pageFor(req)),
    sendFailure: (req, res, err) => sendFailurePage(req, res, err),
  });
  const choices: IdpChoice[] = idps.map((idp) => ({
    name: idp.name,
    displayName: idp.displayName ?? idp.name,
  }));
  const metadata = buildIdpMetadata({
    entityId: settings.entityId,
    ssoUrl: settings.ssoUrl,
    sloUrl: settings.sloUrl,
    signingCertificates: settings.metadataCertificates,
    nameIdFormats: idps.map(nameIdFormatOf),
  });
  /** The NameID given to the portal, as a session keeps it: keyed, so the store names nobody (ADR 0143). */
  const hashNameId = subjectHasher(settings.stateKeyMaterial, 'logout-name-id');
  const portalNameIdHash = (nameId: string) => hashNameId(settings.sp.entityId, nameId);
  // As the portal's LogoutRequest finds it: under each key held, so that a session saved before a
  // swap of the broker's key, keyed under the old one, is found (ADR 0304).
  const hashesOfNameId = subjectHashes(settings.stateKeyMaterial, 'logout-name-id');
  const portalNameIdHashes = (nameId: string) => hashesOfNameId(settings.sp.entityId, nameId);

  const readFlowCookie = (req: IncomingMessage) => parseCookies(req.headers.cookie).get(settings.flowCookie);
  // The choice form's token, of the flow's ID (the cookie), which the store never holds: kept
  // nowhere, made again to check (ADR 0190).
  const choiceTokenOf = keyedHash(settings.stateKeyMaterial, 'jsm-sso-broker', 'choice-form');
  // A form shown before a swap of the broker's key is accepted while the old key is held (ADR 0298).
  const acceptedChoiceTokensOf = keyedHashes(settings.stateKeyMaterial, 'jsm-sso-broker', 'choice-form');

  function setFlowCookie(res: ServerResponse, flowId: string | undefined): void {
    res.setHeader(
      'set-cookie',
      serializeCookie({ secure: settings.secureCookies }, settings.flowCookie, flowId ?? '', {
        sameSite: 'Lax',
        maxAgeSeconds: flowId ? settings.flowTtlSeconds : 0,
      }),
    );
  }

  /**
   * Sends the browser on with GET. After a POST (an AuthnRequest by the HTTP-POST binding, the IdP
   * chosen) 303 See Other, the status that says the next request is a GET (RFC 9110 15.4.4): a 302
   * lets a client post the form again to the IdP (ADR 0347). After a GET (an AuthnRequest or a
   * LogoutRequest by the HTTP-Redirect binding), 302 Found, as before.
   */
  function redirect(res: ServerResponse, location: string): void {
    res.statusCode = res.req.method === 'POST' ? 303 : 302;
    res.setHeader('location', location);
    res.end();
  }

  async function receiveAuthnRequest(
    req: IncomingMessage,
    res: ServerResponse,
    binding: MessageBinding,
  ): Promise<void> {
    let request: AcceptedAuthnRequest;
    try {
      request = await acceptAuthnRequest(binding, settings.sp, {
        url: settings.ssoUrl,
        now: now(),
        replay: store,
      });
    } catch (err) {
      if (!(err instanceof AuthnRequestAnsweredWithStatus)) throw err;
      telemetry.refusal(err.code, 200);
      const answered = answering(err.requestId, err.relayState);
      return sendErrorResponse(req, res, answered, err.secondLevelStatus, err.topLevelStatus);
    }
    const locale = offeredLocale(request.uiLocales);
    const flow: LoginFlow = {
      requestId: request.id,
      forceAuthn: request.forceAuthn,
      isPassive: request.isPassive,
      startedAt: Date.now(),
      ...(request.relayState === undefined ? {} : { relayState: request.relayState }),
      ...(locale === undefined ? {} : { locale }),
      ...(request.nameIdFormat === undefined ? {} : { nameIdFormat: request.nameIdFormat }),
      ...(request.authnContext === undefined ? {} : { authnContext: request.authnContext }),
      ...(request.proxyCount === undefined ? {} : { proxyCount: request.proxyCount }),
      ...(request.idpList === undefined ? {} : { idpList: request.idpList }),
      ...(request.requesterIds.length === 0 ? {} : { requesterIds: request.requesterIds }),
    };
    useFlowLanguage(req, flow);
    // What the broker cannot grant is answered at once, signed, to the registered ACS (ADR 0140).
    if (request.namesSubject) {
      telemetry.refusal('SAML_SUBJECT_UNSUPPORTED', 200);
      return sendErrorResponse(req, res, flow, STATUS_REQUEST_UNSUPPORTED, STATUS_REQUESTER);
    }
    if (request.proxyCount === 0) {
      telemetry.refusal('SAML_PROXY_COUNT_EXCEEDED', 200);
      return sendErrorResponse(req, res, flow, STATUS_PROXY_COUNT_EXCEEDED);
    }
    const offered = await idpsListed(flow.idpList);
    if (offered.length === 0) {
      telemetry.refusal('SAML_NO_SUPPORTED_IDP', 200);
      return sendErrorResponse(req, res, flow, STATUS_NO_SUPPORTED_IDP);
    }
    if (request.nameIdForAnother || !nameIdPolicyMet(flow, offered))
      return refuseNameIdPolicy(req, res, flow);
    const enforcedContext = settings.enforcesRequestedAuthnContext ? flow.authnContext : undefined;
    if (enforcedContext && !authnContextSatisfiable(enforcedContext)) {
      telemetry.refusal('SAML_AUTHN_CONTEXT_NOT_MET', 200);
      return sendErrorResponse(req, res, flow, STATUS_NO_AUTHN_CONTEXT);
    }
    // A passive request may not show the choice page, cannot be a fresh authentication either
    // (core 3.4.1), and cannot go to an IdP that has no passive login: answer NoPassive at once
    // instead of showing anything.
    if (
      flow.isPassive &&
      (offered.length > 1 || flow.forceAuthn || !backends.get(offered[0]!.name)!.logsInPassively)
    ) {
      telemetry.refusal('SAML_PASSIVE_NOT_POSSIBLE', 200);
      return sendErrorResponse(req, res, flow, STATUS_NO_PASSIVE);
    }
    const flowId = newToken();
    setFlowCookie(res, flowId);
    // With one IdP the flow is written once, already naming it and holding its backend's state.
    if (offered.length === 1) {
      try {
        return await startAtIdp(req, res, flowId, flow, offered[0]!.name);
      } catch (err) {
        // The request is the portal's, validated: a passive one hears a fault at its ACS (ADR 0391).
        const status = flow.isPassive ? faultStatusOf(err) : undefined;
        if (status === undefined) throw err;
        return answerWithStatus(req, res, flow, err, status);
      }
    }
    await state.saveFlow(flowKeyOf(flowId), flow);
    sendChoicePage(res, pageFor(req), {
      idps: choicesOf(offered),
      csrf: choiceTokenOf(flowId),
      action: own('/saml/choose'),
      idpOrigins: await idpOrigins(),
    });
  }

  /**
   * The tenant's IdPs a Scoping IDPList lets the broker choose among (core 3.4.1.3.1, ADR 0411): each
   * one when there is no list or the list names the broker itself; else those it names by the
   * identifier the broker asserts them by (`Backend.authority`, its AuthenticatingAuthority). An IdP
   * that cannot be read now is not available, so a list naming only it is answered NoSupportedIDP.
   */
  async function idpsListed(idpList: IdpList | undefined): Promise<readonly IdentityProviderSpec[]> {
    if (!idpList) return idps;
    const named = new Set(idpList.entries.map((entry) => entry.providerId));
    if (named.has(settings.entityId)) return idps;
    const authorities = await Promise.all(idps.map((idp) => backends.get(idp.name)!.authority()));
    return idps.filter((_, i) => authorities[i] !== undefined && named.has(authorities[i]));
  }

  /** The choice page's buttons for the IdPs `offered`. */
  function choicesOf(offered: readonly IdentityProviderSpec[]): IdpChoice[] {
    const names = new Set(offered.map((idp) => idp.name));
    return choices.filter((choice) => names.has(choice.name));
  }

  /**
   * Whether one of `candidates` issues the NameID format the request asks for (core 3.4.1.1). A
   * transient one any login can have: the broker makes it (`assertedNameId`).
   */
  function nameIdPolicyMet(flow: LoginFlow, candidates: readonly IdentityProviderSpec[]): boolean {
    return (
      flow.nameIdFormat === undefined ||
      flow.nameIdFormat === NAMEID_TRANSIENT ||
      candidates.some((idp) => nameIdFormatOf(idp) === flow.nameIdFormat)
    );
  }

  /**
   * A NameID format no IdP (or not the chosen one) is asserted with: the ACS is the registered one,
   * so the answer is the signed Requester/InvalidNameIDPolicy status core 3.4.1.1 names, before
   * anyone signs in, not a page at the broker.
   */
  function refuseNameIdPolicy(req: IncomingMessage, res: ServerResponse, flow: LoginFlow): Promise<void> {
    telemetry.refusal('SAML_NAMEID_POLICY_UNSUPPORTED', 200);
    return sendErrorResponse(req, res, flow, STATUS_INVALID_NAMEID_POLICY, STATUS_REQUESTER);
  }

  /**
   * Tells the portal, with a signed Response to its ACS, that the login failed at the IdP side
   * (profiles 4.1.4.2), so the portal can show its own page instead of a dead end at the broker;
   * or, with Requester, that the request itself cannot be granted.
   */
  async function sendErrorResponse(
    req: IncomingMessage,
    res: ServerResponse,
    flow: AnsweredRequest,
    secondLevelStatus: string | undefined,
    topLevelStatus?: string,
  ): Promise<void> {
    const response = await issueErrorResponse(settings.signing, {
      issuer: settings.entityId,
      acsUrl: settings.sp.acsUrl,
      inResponseTo: flow.requestId,
      secondLevelStatus,
      ...(topLevelStatus === undefined ? {} : { topLevelStatus }),
      now: now(),
    });
    sendResponseToPortal(req, res, flow, response.xml);
  }

  function sendResponseToPortal(
    req: IncomingMessage,
    res: ServerResponse,
    flow: AnsweredRequest,
    xml: string,
  ): void {
    setFlowCookie(res, undefined);
    // RelayState goes back unchanged, and only to the registered ACS (never to a URL it names).
    sendPostBindingPage(res, pageFor(req), {
      action: settings.sp.acsUrl,
      field: 'SAMLResponse',
      message: Buffer.from(xml, 'utf8').toString('base64'),
      ...(flow.relayState === undefined ? {} : { relayState: flow.relayState }),
    });
  }

  async function startAtIdp(
    req: IncomingMessage,
    res: ServerResponse,
    flowId: string,
    flow: LoginFlow,
    idp: string,
    loginHint?: string,
  ): Promise<void> {
    const backend = backends.get(idp)!;
    // Core 3.4.1: ForceAuthn "MUST authenticate the presenter directly"; through an IdP that can
    // neither be asked for that nor show it, the broker would assert a login it never saw.
    if (flow.forceAuthn && !backend.showsFreshLogin) {
      await state.takeFlow(flowKeyOf(flowId));
      telemetry.refusal('SAML_FORCE_AUTHN_NOT_POSSIBLE', 200);
      return sendErrorResponse(req, res, flow, STATUS_REQUEST_UNSUPPORTED);
    }
    const { redirectUrl, state: backendState } = await backend.startLogin(flowId, {
      ...(loginHint === undefined ? {} : { loginHint }),
      forceAuthn: flow.forceAuthn,
      isPassive: flow.isPassive === true,
      ...(flow.locale === undefined ? {} : { locale: flow.locale }),
      ...(flow.authnContext === undefined ? {} : { acrValues: acrValuesFor(flow.authnContext) }),
      // The broker is one proxy already (core 3.4.1.5.1); a count of 0 was answered before this.
      ...(flow.proxyCount === undefined ? {} : { proxyCount: flow.proxyCount - 1 }),
      // Passed on as they are to an upstream SAML IdP (core 3.4.1.5.1, ADR 0228).
      ...(flow.authnContext === undefined ? {} : { requestedAuthnContext: flow.authnContext }),
      ...(flow.idpList === undefined ? {} : { idpList: flow.idpList }),
      ...requesterChain(flow),
    });
    await state.saveFlow(flowKeyOf(flowId), { ...flow, idp, backendState: backendStates.seal(backendState) });
    redirect(res, redirectUrl);
  }

  /**
   * Scoping's RequesterIDs for the upstream request: those of the portal's request, then the portal
   * (core 3.4.1.2, 3.4.1.5.1). Only for a request the portal scoped, so that its Scoping goes on whole:
   * Entra ID documents RequesterID as unsupported and AD FS has refused Scoping, so an unscoped
   * request stays without one (ADR 0252).
   */
  function requesterChain(flow: LoginFlow): { requesterIds?: string[] } {
    const scoped =
      flow.proxyCount !== undefined || flow.idpList !== undefined || flow.requesterIds !== undefined;
    return scoped ? { requesterIds: [...(flow.requesterIds ?? []), settings.sp.entityId] } : {};
  }

  /** The choice form posts to the broker, which answers with a redirect to one of these. */
  const idpOrigins = loginOrigins([...backends.values()], CHOICE_PAGE_ORIGIN_WAIT_MS);

  async function choose(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): Promise<void> {
    const flowId = readFlowCookie(req);
    const flow = flowId ? await state.getFlow(flowKeyOf(flowId)) : undefined;
    if (!flowId || !flow)
      throw new JsmSsoError('FLOW_UNKNOWN', 'this sign-in has expired; start again from the help center');
    useFlowLanguage(req, flow);
    if (!isOneOf(single(form, 'csrf') ?? '', acceptedChoiceTokensOf(flowId))) {
      throw new JsmSsoError('CSRF_TOKEN_INVALID', 'this form was not sent from the sign-in page', {
        status: 403,
      });
    }
    const idpName = single(form, 'idp');
    // What the person typed or pasted: spaces around it are hers, not part of an address (ADR 0186).
    // It only chooses the IdP and fills in its form; the IdP's answer is judged as asserted.
    const email = single(form, 'email')?.trim();
    // Only among the IdPs the request's IDPList names (ADR 0411), read again against the tenant's IdPs
    // of now: the page may come from a pod of another configuration, an IdP renamed or removed since
    // (ADR 0420). None left is the answer the request would have had here.
    const offered = await idpsListed(flow.idpList);
    if (offered.length === 0) {
      await state.takeFlow(flowKeyOf(flowId));
      telemetry.refusal('SAML_NO_SUPPORTED_IDP', 200);
      return sendErrorResponse(req, res, flow, STATUS_NO_SUPPORTED_IDP);
    }
    // An address's home realm is found among all the tenant's IdPs, by the rule the authority step
    // holds the IdP to: found among the listed alone, a listed catchAll would be given an address of
    // an unlisted IdP's domain and refused once she had signed in there (ADR 0420).
    const home = email === undefined ? undefined : homeRealmFor(idps, email);
    const idp =
      idpName !== undefined ? offered.find((i) => i.name === idpName) : offered.find((i) => i === home);
    if (idpName !== undefined && !idp)
      throw new JsmSsoError('IDP_UNKNOWN', 'there is no such sign-in method');
    if (idp && !nameIdPolicyMet(flow, [idp])) {
      await state.takeFlow(flowKeyOf(flowId));
      return refuseNameIdPolicy(req, res, flow);
    }
    if (!idp) {
      return sendChoicePage(res, pageFor(req), {
        idps: choicesOf(offered),
        csrf: choiceTokenOf(flowId),
        action: own('/saml/choose'),
        idpOrigins: await idpOrigins(),
        emailNotice: home === undefined ? 'noMethodForDomain' : 'methodNotOffered',
      });
    }
    // Chosen by the e-mail she typed: the IdP may fill it in for her.
    await startAtIdp(req, res, flowId, flow, idp.name, idpName === undefined ? email : undefined);
  }

  /**
   * The IdP's answer to a login, on the path of the backend that started it: the backend finds
   * the flow by its own one-time index, the flow names the backend that may judge the answer
   * (mix-up defence, RFC 9700 4.4), and nothing but that backend reads it.
   */
  async function loginCallback(
    req: IncomingMessage,
    res: ServerResponse,
    request: EndpointRequest,
    callback: LoginCallback,
  ): Promise<void> {
    const flowKey = await callback.flowOf(request);
    const flow = await state.takeFlow(flowKey);
    if (flow) useFlowLanguage(req, flow);
    const backend = flow?.idp === undefined ? undefined : backends.get(flow.idp);
    const backendState = backendStates.openOrUndefined(flow?.backendState);
    if (!flow || !backend || backendState === undefined) {
      throw new JsmSsoError('FLOW_UNKNOWN', 'this sign-in has expired; start again from the help center');
    }
    // An answer at another IdP's address is another IdP's, whatever flow it names: the flow, taken
    // above, ends here, and its IdP never sees what came (RFC 9700 4.4.2, ADR 0175).
    if (backend.loginCallback.path !== callback.path) {
      throw new JsmSsoError(
        'FLOW_IDP_MISMATCH',
        'the answer came from another sign-in method than the one chosen; start again from the help center',
      );
    }
    let shown: CallbackShown = 'unchecked';
    try {
      if (callback.browserBound) {
        const cookie = readFlowCookie(req);
        if (cookie === undefined || flowKeyOf(cookie) !== flowKey) {
          throw new JsmSsoError('FLOW_BROWSER_MISMATCH', 'this sign-in was started in another browser', {
            status: 403,
          });
        }
        shown = 'this-browser';
      }
      // The IdP's calls for this answer share one budget (ADR 0276), each still within its own deadline.
      const budget = signInBudget(signInBudgetMs);
      const completion = await backend
        .finishLogin(request, backendState, budget, () => {
          shown = 'verified';
        })
        .finally(() => budget.release());
      shown = 'accepted';
      const asserted = completion.subject.authnContextClassRef ?? AUTHN_CONTEXT_UNSPECIFIED;
      if (
        settings.enforcesRequestedAuthnContext &&
        flow.authnContext &&
        !authnContextMet(flow.authnContext, asserted)
      )
        throw new IdpRefusal('SAML_AUTHN_CONTEXT_NOT_MET', 'authn_context_unmet');
      await completeLogin(req, res, flow, completion.subject, completion);
    } catch (err) {
      recordFailedLogin(req, backend.idp, err);
      const status = refusalStatusOf(err, flow, shown);
      if (status === undefined) throw err;
      await answerWithStatus(req, res, flow, err, status, backend.idp);
    }
  }

  /** `err` told to the portal's ACS as `status` instead of a page, counted as a refusal or, a fault, as unavailable. */
  function answerWithStatus(
    req: IncomingMessage,
    res: ServerResponse,
    flow: LoginFlow,
    err: unknown,
    status: { secondLevel?: string },
    idp?: string,
  ): Promise<void> {
    if (err instanceof JsmSsoError && err.status < 500) telemetry.refusal(err.code, err.status, idp);
    else recordFault(err);
    return sendErrorResponse(req, res, flow, status.secondLevel);
  }

  /**
   * The status a fault (5xx) of a passive sign-in is told with (ADR 0391), undefined for a refusal:
   * NoAvailableIDP for the IdP's (502, a gateway's upstream failing, core 3.2.2.2: "none of the
   * supported identity providers are available"), no second level for the broker's own (the store,
   * a defect). Neither is NoPassive (asking actively would fail the same) nor AuthnFailed (nobody
   * was refused).
   */
  function faultStatusOf(err: unknown): { secondLevel?: string } | undefined {
    const status = err instanceof JsmSsoError ? err.status : 500;
    if (status < 500) return undefined;
    return status === 502 ? { secondLevel: STATUS_NO_AVAILABLE_IDP } : {};
  }

  /**
   * The refusal of a login that goes back to the portal as a signed Responder status, with its
   * second-level code; undefined for the page. The IdP's own "no" (checked to come from it, for this
   * flow) always. Under IsPassive, also the broker's own refusal of the person once the IdP's answer
   * was accepted (authority, verified e-mail, the NameID, the assertion's size, the IdP session ended):
   * a passive request may show the customer nothing (core 3.4.1, profiles 4.1.4.2), so its ACS hears
   * AuthnFailed (ADR 0380); and a fault once the callback is shown to be the flow's, from its browser
   * or by an answer verified or accepted (faultStatusOf, ADR 0391, 0403). The page stays for what is
   * not shown to continue the flow (a forged or replayed callback, another browser's, another IdP's,
   * an answer not yet verified: nothing is signed in reply to what anyone may send), and for a refusal
   * of an answer verified but not accepted (its replay).
   */
  function refusalStatusOf(
    err: unknown,
    flow: LoginFlow,
    shown: CallbackShown,
  ): { secondLevel?: string } | undefined {
    if (err instanceof IdpRefusal) return { secondLevel: SAML_STATUS_FOR_REFUSAL[err.kind] };
    if (flow.isPassive !== true) return undefined;
    if (err instanceof JsmSsoError && err.status < 500)
      return shown === 'accepted' ? { secondLevel: STATUS_AUTHN_FAILED } : undefined;
    return shown === 'unchecked' ? undefined : faultStatusOf(err);
  }

  function recordFailedLogin(req: IncomingMessage, idp: string, err: unknown): void {
    const status = err instanceof JsmSsoError ? err.status : 500;
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    telemetry.login({
      idp,
      result: status < 500 ? 'refused' : 'error',
      clientIp: clientIp(req, context.trustedProxyHops),
      reason,
      detail: refusalDetail(err),
    });
  }

  /**
   * The NameID of the assertion: the mapped one, or, when the SP asked for a transient identifier,
   * a new random one (core 8.3.8: opaque, for this assertion only; the attributes still say who).
   */
  function assertedNameId(
    flow: LoginFlow,
    mapped: { nameId: string; nameIdFormat: string },
  ): { nameId: string; nameIdFormat: string } {
    if (flow.nameIdFormat !== NAMEID_TRANSIENT)
      return { nameId: mapped.nameId, nameIdFormat: mapped.nameIdFormat };
    return { nameId: newSamlId(randomBytes), nameIdFormat: NAMEID_TRANSIENT };
  }

  /**
   * When the session this sign-in starts ends: the broker's own session lifetime (its record of it lives
   * as long), or the IdP's end of its session when that comes first (ADR 0244).
   */
  function sessionEndOf(subject: AuthenticatedSubject, issuedAt: Date): Date {
    const own = issuedAt.getTime() + settings.sessionTtlSeconds * 1000;
    return new Date(Math.min(own, subject.sessionNotOnOrAfter?.getTime() ?? own));
  }

  async function completeLogin(
    req: IncomingMessage,
    res: ServerResponse,
    flow: LoginFlow,
    subject: AuthenticatedSubject,
    logout: Omit<LoginCompletion, 'subject'>,
  ): Promise<void> {
    const mapped = runSteps(steps, subject, flow.nameIdFormat);
    const sessionIndex = newSamlId(randomBytes);
    const issuedAt = now();
    const nameId = assertedNameId(flow, mapped);
    const response = await issueSignedResponse(settings.signing, {
      issuer: settings.entityId,
      audience: settings.sp.entityId,
      acsUrl: settings.sp.acsUrl,
      inResponseTo: flow.requestId,
      ...nameId,
      attributes: mapped.attributes,
      sessionIndex,
      authnInstant: subject.authTime ?? issuedAt,
      sessionNotOnOrAfter: sessionEndOf(subject, issuedAt),
      now: issuedAt,
      lifetimeSeconds: settings.assertionLifetimeSeconds,
      ...(subject.authnContextClassRef ? { authnContextClassRef: subject.authnContextClassRef } : {}),
      ...(subject.authenticatingAuthorities
        ? { authenticatingAuthorities: subject.authenticatingAuthorities }
        : {}),
      ...(subject.proxyRestriction ? { proxyRestriction: subject.proxyRestriction } : {}),
    });
    // The portal's ACS reads no more than common/saml's bounds (ADR 0238): a Response past them, a person
    // in thousands of groups, is refused here, where the log says why, not there after a success here.
    const tooLarge = sizeFault(response.xml);
    if (tooLarge)
      throw new JsmSsoError(
        'MAPPING_ASSERTION_TOO_LARGE',
        "the assertion for this sign-in would be larger than the portal reads: the identity provider's attributes are too many",
        { status: 403, cause: tooLarge },
      );
    const session: LoginSession = {
      idp: subject.idp,
      nameIdHash: portalNameIdHash(nameId.nameId),
      nameIdFormat: nameId.nameIdFormat,
      ...(logout.logoutHandle === undefined ? {} : { logoutHandle: logout.logoutHandle }),
      ...(logout.upstreamSessionKey === undefined ? {} : { upstreamSessionKey: logout.upstreamSessionKey }),
      ...(logout.backchannelKeys === undefined ? {} : { backchannelKeys: logout.backchannelKeys }),
      // What the portal's session is named by, for the LogoutRequest that ends it when the IdP's own
      // logout ends this session; kept only where that can come (ADR 0150, 0158).
      ...(logout.backchannelKeys || logout.upstreamSessionKey
        ? { portalSubject: portalSubjects.seal(nameId) }
        : {}),
    };
    await state.saveSession(sessionIndex, session);
    // The IdP may have ended the IdP session of this sign-in while it was saved: its logout then
    // found nothing to end, so this one ends here (ADR 0170; an upstream SAML IdP's, ADR 0171).
    if (await state.endIfIdpSessionEnded(sessionIndex, subject.idp, logout.idpSession))
      throw new JsmSsoError('IDP_SESSION_ENDED', 'the identity provider ended this sign-in session', {
        status: 403,
      });
    telemetry.login({
      idp: subject.idp,
      subject: subject.subject,
      result: 'success',
      clientIp: clientIp(req, context.trustedProxyHops),
      startedAt: flow.startedAt,
    });
    sendResponseToPortal(req, res, flow, response.xml);
  }

  /**
   * The portal's LogoutRequest: ends the broker session, then the IdP's when its backend can. One
   * the portal signed that a later check refuses ends nothing and is answered at the portal's
   * registered SLO URL: VersionMismatch for another Version (core 3.2.2.2, ADR 0204), else
   * Requester/RequestDenied (ADR 0252).
   */
  async function singleLogout(res: ServerResponse, rawQuery: string): Promise<void> {
    let request: AcceptedLogoutRequest;
    try {
      request = await acceptLogoutRequest({ kind: 'redirect', rawQuery }, settings.sp, {
        url: settings.sloUrl,
        now: now(),
        replay: store,
      });
    } catch (err) {
      // Shown to be the portal's (signature, Issuer): it hears why through its own SLO endpoint
      // (core 3.7.2, profiles 4.4.4.2, ADR 0252); anything else gets the page, answering nothing.
      if (!(err instanceof SenderMessageRefused)) throw err;
      return answerRefused(res, err);
    }
    const portalLogout: PortalLogout = {
      requestId: request.id,
      ...(request.relayState === undefined ? {} : { relayState: request.relayState }),
    };
    const named = namedIdentifier(request);
    // Core 3.7.3.1: naming no SessionIndex asks for every session of the person (ADR 0234).
    if (request.sessionIndexes.length === 0) return endEverySessionNamed(res, named, portalLogout);
    const found = await Promise.all(request.sessionIndexes.map((index) => state.session(index)));
    if (named.otherIdentifier(found.filter((s) => s !== undefined))) return answerRefused(res, named.refusal);
    // Core 3.7.3.2: a SessionIndex ends a session only of the person the NameID names. A session
    // saved before the hash was kept (no nameIdHash) ends by its index alone until it expires.
    const owned = (s: LoginSession) => s.nameIdHash === undefined || named.names(s);
    const sessions = await Promise.all(request.sessionIndexes.map((index) => state.endSession(index, owned)));
    await answerEnded(
      res,
      sessions.filter((s) => s !== undefined),
      true,
      portalLogout,
    );
  }

  /** A LogoutRequest of the portal's that a check refused, answered at its SLO URL (ADR 0204, 0252, 0373). */
  function answerRefused(res: ServerResponse, err: SenderMessageRefused): void {
    telemetry.refusal(err.code, 302);
    redirect(res, logoutResponseUrl(answering(err.messageId, err.relayState), refusalOutcome(err)));
  }

  /**
   * Whom the portal's LogoutRequest names (core 2.2.2): the NameID's value, by its keyed hashes, and the
   * identifier, its Format and qualifiers, which must be the one the broker asserted (it writes no
   * qualifier; an absent one of a transient or persistent NameID stands for the broker's and the
   * portal's entityIDs, core 8.3.7-8). A session saved before its Format was kept is judged by the value.
   */
  function namedIdentifier(request: AcceptedLogoutRequest) {
    const hashes = portalNameIdHashes(request.nameId);
    const ofValue = (s: LoginSession) => s.nameIdHash !== undefined && isOneOf(s.nameIdHash, hashes);
    const asAsserted = (s: LoginSession) =>
      s.nameIdFormat === undefined ||
      sameNameIdentifier(
        { format: s.nameIdFormat, qualifiers: {} },
        { format: request.nameIdFormat, qualifiers: request.nameIdQualifiers },
        { asserting: settings.entityId, relying: settings.sp.entityId },
      );
    return {
      hashes,
      names: (s: LoginSession) => ofValue(s) && asAsserted(s),
      /**
       * Whether, of `sessions`, those of the value named are all of another identifier: the request
       * names no session of hers, under a name the broker did not give (ADR 0373).
       */
      otherIdentifier: (sessions: LoginSession[]) => {
        const ofHers = sessions.filter(ofValue);
        return ofHers.length > 0 && !ofHers.some(asAsserted);
      },
      refusal: new SenderMessageRefused(request.id, new OtherNameIdentifier(), request.relayState),
    };
  }

  /** The portal's LogoutRequest named the person alone: every session of theirs the NameID's slots find ends. */
  async function endEverySessionNamed(
    res: ServerResponse,
    named: ReturnType<typeof namedIdentifier>,
    portalLogout: PortalLogout,
  ) {
    // A session is kept under the one hash it was saved with: the keys' finds do not overlap.
    const perKey = await Promise.all(named.hashes.map((hash) => state.sessionsNamed(hash)));
    const found = perKey.flatMap((under) => under.found);
    if (named.otherIdentifier(found.map(({ session }) => session))) return answerRefused(res, named.refusal);
    const complete = perKey.every((under) => under.complete);
    const ended = (
      await Promise.all(found.map(({ sessionIndex }) => state.endSession(sessionIndex, named.names)))
    ).filter((session) => session !== undefined);
    await answerEnded(res, ended, complete, portalLogout);
  }

  /**
   * The portal's LogoutRequest ended `ended` (`complete`: all its person's sessions were found). The
   * browser can be sent to one IdP: with one session, its IdP's logout follows; with several
   * (perhaps at several IdPs: several SessionIndexes, or the person alone named), or more than the
   * slots hold, the IdP sessions are left and the portal hears PartialLogout (core 3.7.3.2, ADR 0363).
   */
  async function answerEnded(
    res: ServerResponse,
    ended: LoginSession[],
    complete: boolean,
    portalLogout: PortalLogout,
  ) {
    if (complete && ended.length <= 1) return endAtIdp(res, ended[0], portalLogout);
    logger.info(
      {
        event: 'broker.logout',
        initiator: 'portal',
        result: 'partial',
        cause: 'several_sessions',
        ended: ended.length,
      },
      "the portal's LogoutRequest ended several sessions: their IdP sessions left",
    );
    redirect(res, logoutResponseUrl(portalLogout, 'partial'));
  }

  /** After `session` ended (undefined: none was found), its IdP's logout when its backend has one. */
  async function endAtIdp(
    res: ServerResponse,
    session: LoginSession | undefined,
    portalLogout: PortalLogout,
  ) {
    const backend = session ? backends.get(session.idp) : undefined;
    if (session && backend) {
      const logoutId = newToken();
      const upstream = await upstreamLogout(backend, session.logoutHandle, logoutId);
      if (upstream) {
        await state.savePendingLogout(logoutId, {
          ...portalLogout,
          idp: session.idp,
          backendState: upstream.state,
        });
        return redirect(res, upstream.redirectUrl);
      }
    }
    // Without an IdP logout the person stays signed in there: say so (PartialLogout).
    redirect(res, logoutResponseUrl(portalLogout, session === undefined ? nothingFoundOutcome() : 'partial'));
  }

  /**
   * The portal's LogoutRequest found no session: nothing of the person's was here (ended by the
   * IdP's logout, expired, or never) and nothing is left to end: Success. Unless a full memory
   * store dropped sessions that would still live (ADR 0357): hers may be one, its IdP session left,
   * and Success would say it ended (core 3.7.3.2): PartialLogout (ADR 0363).
   */
  function nothingFoundOutcome(): LogoutOutcome {
    if (!state.mayHaveLostSessions()) return 'success';
    logger.info(
      { event: 'broker.logout', initiator: 'portal', result: 'partial', cause: 'sessions_evicted' },
      "the portal's LogoutRequest found no session, and the memory store dropped sessions that would still live: its IdP session may be left",
    );
    return 'partial';
  }

  /**
   * The IdP's logout, or undefined when it cannot be had: an IdP that cannot be reached (a replica
   * that never read its discovery or metadata) is no reason to leave the person on an error page.
   * The broker session is already ended; the portal hears PartialLogout within the IdP deadline.
   */
  async function upstreamLogout(backend: Backend, logoutHandle: string | undefined, logoutId: string) {
    try {
      return await backend.startLogout(logoutHandle, logoutId);
    } catch (err) {
      const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
      if (reason === 'BROKER_INTERNAL')
        logger.error({ event: 'broker.internal_error', ...unexpectedErrorFields(err) }, 'internal error');
      logger.warn(
        { event: 'broker.logout', idp: backend.idp, result: 'partial', reason },
        'the identity provider could not be asked to end its session',
      );
      return undefined;
    }
  }

  /**
   * The IdP's answer to the logout a backend started: checked by that backend, then the portal
   * gets Success, or PartialLogout when the IdP could not end it all.
   */
  async function logoutCallback(res: ServerResponse, request: EndpointRequest, logoutId: string | undefined) {
    const pending = logoutId ? await state.getPendingLogout(logoutId) : undefined;
    const backend = pending ? backends.get(pending.idp) : undefined;
    if (!logoutId || !pending || !backend)
      throw new JsmSsoError('LOGOUT_STATE_UNKNOWN', 'this sign-out has expired or was already completed');
    const { success } = await backend.finishLogout(request, pending.backendState);
    // Consumed only once the answer checks out; a second (replayed) answer finds nothing.
    if (!(await state.takePendingLogout(logoutId)))
      throw new JsmSsoError('LOGOUT_STATE_UNKNOWN', 'this sign-out has expired or was already completed');
    logger.info(
      { event: 'broker.logout', idp: pending.idp, result: success ? 'success' : 'partial' },
      'upstream logout answered',
    );
    redirect(res, logoutResponseUrl(pending, success ? 'success' : 'partial'));
  }

  function logoutResponseUrl(
    logout: { requestId: string; relayState?: string },
    outcome: LogoutOutcome,
  ): string {
    const destination = settings.sp.sloUrl;
    const message = logoutResponse({
      issuer: settings.entityId,
      destination,
      inResponseTo: logout.requestId,
      outcome,
      now: now(),
    });
    return signedRedirectUrl('SAMLResponse', destination, message, {
      keyPem: settings.signingKeyPem,
      relayState: logout.relayState,
    });
  }

  const table = routeTable(backends, {
    loginCallback,
    logoutCallback,
    serve: async (req, res, answer) => {
      if (answer.kind === 'redirect') {
        const { refused } = answer;
        if (refused) telemetry.refusal(refused.reason, 302, refused.idp, refused.detail);
        return redirect(res, answer.location);
      }
      if (answer.kind === 'metadata') return sendXml(res, answer.xml);
      sendMessagePage(res, pageFor(req), 200, {
        title: 'broker.signedOut.title',
        message: 'broker.signedOut.message',
      });
    },
  });
  const frontend: Record<string, Candidate[]> = {
    [own('/saml/metadata')]: [
      { method: 'GET', readOnly: true, claims: () => true, handle: (_req, res) => sendXml(res, metadata) },
    ],
    [own('/saml/sso')]: [
      {
        method: 'GET',
        claims: () => true,
        handle: (req, res, request) =>
          receiveAuthnRequest(req, res, { kind: 'redirect', rawQuery: request.rawQuery }),
      },
      {
        method: 'POST',
        claims: () => true,
        handle: (req, res, { form }) => {
          const message = single(form!, 'SAMLRequest');
          const relayState = single(form!, 'RelayState');
          if (!message) throw new JsmSsoError('SAML_BINDING_INVALID', 'the form carries no SAMLRequest');
          return receiveAuthnRequest(req, res, {
            kind: 'post',
            message,
            ...(relayState === undefined ? {} : { relayState }),
          });
        },
      },
    ],
    [own('/saml/choose')]: [
      {
        method: 'POST',
        formLimit: 16 * 1024,
        claims: () => true,
        handle: (req, res, { form }) => choose(req, res, form!),
      },
    ],
    // Shared with the backends' logout endpoints: what none of them claims is the portal's.
    [own('/saml/slo')]: [
      {
        method: 'GET',
        claims: () => true,
        handle: (_req, res, request) => singleLogout(res, request.rawQuery),
      },
    ],
  };
  // OpenID Connect Back-Channel Logout 1.0: each IdP posts its logout tokens to its own path.
  const backchannelPaths = new Set<string>();
  for (const backend of backends.values()) {
    const endpoint = backend.backchannelLogout;
    if (!endpoint) continue;
    backchannelPaths.add(endpoint.path);
    frontend[endpoint.path] = [
      {
        method: 'POST',
        formLimit: BACKCHANNEL_FORM_LIMIT,
        claims: () => true,
        handle: (_req, res, { form }) => backchannelLogout(res, backend.idp, endpoint, form!),
      },
    ];
  }
  // The SAML SOAP binding: each SAML IdP posts its LogoutRequests to its own path (ADR 0160).
  const soapPaths = new Set<string>();
  for (const backend of backends.values()) {
    const endpoint = backend.soapLogout;
    if (!endpoint) continue;
    soapPaths.add(endpoint.path);
    frontend[endpoint.path] = [
      {
        method: 'POST',
        readsBody: true,
        claims: () => true,
        handle: (req, res) => serveSoapLogout(req, res, backend.idp, endpoint, telemetry),
      },
    ];
  }
  // OpenID Connect Front-Channel Logout 1.0: each IdP's logout page frames its own path.
  for (const backend of backends.values()) {
    const endpoint = backend.frontchannelLogout;
    if (!endpoint) continue;
    frontend[endpoint.path] = [
      {
        method: 'GET',
        claims: () => true,
        handle: (req, res, { rawQuery }) => frontchannelLogout(req, res, backend.idp, endpoint, rawQuery),
      },
    ];
  }
  for (const [path, candidates] of Object.entries(frontend))
    table.set(path, [...(table.get(path) ?? []), ...candidates]);
  // The portal's LogoutRequest (its Issuer, read unverified, only routes it) is the frontend's before
  // any backend is asked: a backend's claims may read its IdP's metadata, and the portal is answered
  // whatever state that is in (core 3.7.2, ADR 0145 decision 2, ADR 0228).
  table.set(own('/saml/slo'), [
    {
      method: 'GET',
      claims: (request) => requestIssuer(request) === settings.sp.entityId,
      handle: (_req, res, request) => singleLogout(res, request.rawQuery),
    },
    ...(table.get(own('/saml/slo')) ?? []),
  ]);

  async function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    candidates: Candidate[],
    rawQuery: string,
  ) {
    const method = req.method ?? '';
    const eligible = candidates.filter((c) => c.method === method || (method === 'HEAD' && answersHead(c)));
    if (eligible.length === 0) {
      const allowed = candidates.flatMap((c) => (answersHead(c) ? [c.method, 'HEAD'] : [c.method]));
      res.setHeader('allow', [...new Set(allowed)].join(', '));
      throw new JsmSsoError('METHOD_NOT_ALLOWED', 'this address does not accept that kind of request', {
        status: 405,
      });
    }
    const request: EndpointRequest = { rawQuery };
    if (method === 'POST' && !eligible.some((c) => c.readsBody))
      request.form = await readForm(req, Math.min(...eligible.map((c) => c.formLimit ?? MAX_FORM_BYTES)));
    for (const candidate of eligible) {
      if (await candidate.claims(request)) return candidate.handle(req, res, request);
    }
    throw new JsmSsoError('NOT_FOUND', 'there is nothing here', { status: 404 });
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown, path: string): void {
    // The IdP's server, not a person, reads a back-channel logout answer: JSON, as section 2.8 has it.
    if (backchannelPaths.has(path) && err instanceof JsmSsoError && err.status < 500) {
      telemetry.refusal(err.code, err.status);
      answer(res, err.status, { error: 'invalid_request', error_description: err.message });
      return;
    }
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    const status = err instanceof JsmSsoError ? err.status : 500;
    if (status < 500) telemetry.refusal(reason, status, undefined, refusalDetail(err));
    else recordFault(err);
    // Retry-After only where asking again can help: a full store gets room back as entries expire.
    if (storeRefusalOf(err) === 'full' && !res.headersSent)
      res.setHeader('Retry-After', String(STORE_FULL_RETRY_AFTER_SECONDS));
    // An IdP's server reads a SOAP endpoint's answer: a fault naming the reason, never a page.
    if (!soapPaths.has(path)) sendFailurePage(req, res, err);
    else if (!res.headersSent) sendSoapFault(res, status, reason);
  }

  /** A fault (5xx), whether a page or a status to the portal answers it: logged and counted as unavailable. */
  function recordFault(err: unknown): void {
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    telemetry.unavailable(
      reason,
      err instanceof JsmSsoError ? err.status : 500,
      err instanceof JsmSsoError ? err.where : undefined,
    );
    if (reason === 'BROKER_INTERNAL')
      logger.error({ event: 'broker.internal_error', ...unexpectedErrorFields(err) }, 'internal error');
  }

  /** The page for a refusal (its reason's sentence) or a fault (the broker is unavailable). */
  function sendFailurePage(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.headersSent) return;
    if (err instanceof JsmSsoError && err.status < 500) {
      sendMessagePage(res, pageFor(req), err.status, { ...refusalText(err.code), reason: err.code });
      return;
    }
    sendMessagePage(res, pageFor(req), err instanceof JsmSsoError ? err.status : 500, {
      ...FAULT_TEXT[storeRefusalOf(err) ?? 'other'],
      reason: err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL',
    });
  }

  const routes = routeLabels(
    table.keys(),
    tenant.spec.broker.url,
    idps.map((idp) => idp.name),
  );
  const handler: RequestListener = (req, res) => {
    const started = process.hrtime.bigint();
    setSecurityHeaders(res);
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    const rawQuery = mark < 0 ? '' : target.slice(mark + 1);
    const candidates = table.get(path);
    const done = () =>
      telemetry.observeRequest(routes.get(path) ?? 'other', Number(process.hrtime.bigint() - started) / 1e9);
    Promise.resolve()
      .then(() => {
        if (!candidates) throw new JsmSsoError('NOT_FOUND', 'there is nothing here', { status: 404 });
        return dispatch(req, res, candidates, rawQuery);
      })
      .catch((err: unknown) => fail(req, res, err, path))
      .finally(done);
  };

  return {
    handler,
    // Its one dependency, the flow store, is what every process's readiness probes already
    // (partReadiness): pinging it here too cost each probe a second round trip (ADR 0302).
    ready: async () => {},
    close: async () => {
      await Promise.all([...outbound, portalFetch].map((f) => f.close()));
    },
  };
}

/**
 * The backends' endpoints by path: one login callback per path (backends of one kind share it and
 * find their flow the same way), then logout answers and the IdPs' own endpoints, each asked in
 * turn whether a request is theirs.
 */
function routeTable(
  backends: Map<string, Backend>,
  frontend: {
    loginCallback: (
      req: IncomingMessage,
      res: ServerResponse,
      request: EndpointRequest,
      callback: LoginCallback,
    ) => Promise<void>;
    logoutCallback: (
      res: ServerResponse,
      request: EndpointRequest,
      logoutId: string | undefined,
    ) => Promise<void>;
    serve: (
      req: IncomingMessage,
      res: ServerResponse,
      answer: Awaited<ReturnType<Backend['services'][number]['serve']>>,
    ) => Promise<void>;
  },
): Map<string, Candidate[]> {
  const table = new Map<string, Candidate[]>();
  const add = (path: string, candidate: Candidate) =>
    table.set(path, [...(table.get(path) ?? []), candidate]);
  const loginPaths = new Set<string>();
  const logoutPaths = new Set<string>();
  const servicePaths = new Set<string>();
  for (const backend of backends.values()) {
    const login = backend.loginCallback;
    if (!loginPaths.has(login.path)) {
      loginPaths.add(login.path);
      add(login.path, {
        method: login.method,
        ...(login.formLimit === undefined ? {} : { formLimit: login.formLimit }),
        claims: () => true,
        handle: (req, res, request) => frontend.loginCallback(req, res, request, login),
      });
    }
    const logout = backend.logoutCallback;
    if (logout && !logoutPaths.has(logout.path)) {
      logoutPaths.add(logout.path);
      add(logout.path, {
        method: 'GET',
        claims: (request) => logout.claims(request),
        handle: (_req, res, request) => frontend.logoutCallback(res, request, logout.logoutOf(request)),
      });
    }
    for (const service of backend.services) {
      const key = `${service.method} ${service.path}`;
      if (service.samePerKind && servicePaths.has(key)) continue;
      servicePaths.add(key);
      add(service.path, {
        method: service.method,
        ...(service.readOnly ? { readOnly: true } : {}),
        claims: (request) => service.claims(request),
        handle: async (req, res, request) => frontend.serve(req, res, await service.serve(request)),
      });
    }
  }
  return table;
}

/**
 * RFC 9110 9.3.2: HEAD is GET without the content, for a monitor or a link checker. Only a GET that
 * acts on nothing takes it; the others (a sign-in started, a flow or a logout spent) answer 405
 * rather than act for a HEAD (ADR 0202).
 */
function answersHead(candidate: Candidate): boolean {
  return candidate.method === 'GET' && candidate.readOnly === true;
}

function sendXml(res: ServerResponse, xml: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/samlmetadata+xml; charset=utf-8');
  res.setHeader('cache-control', 'public, max-age=300');
  // Node leaves it out of a HEAD answer, which should carry GET's header fields (RFC 9110 9.3.2).
  res.setHeader('content-length', Buffer.byteLength(xml));
  res.end(xml);
}

/**
 * Which check refused, where one reason code covers several (a SAML decryption's: what the IdP's
 * admin must change), for the log line only: the page and the metric name the reason alone.
 */
function refusalDetail(err: unknown): string | undefined {
  return err instanceof SamlError ? err.detail : undefined;
}
