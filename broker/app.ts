import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import { clientIp } from '../common/http/client-ip.js';
import type { PartContext } from '../common/runtime.js';
import { MAX_CLOCK_SKEW_SECONDS, SamlError } from '../common/saml/index.js';
import { caBundleFor, createTlsFetch, type TlsFetch } from '../common/tls/index.js';
import {
  createOAuthBackend,
  IdpErrorResponse,
  type OAuthBackend,
  type PendingAuthorization,
} from './backends/oidc-backend.js';
import { createSamlBackend, type SamlBackend } from './backends/saml-backend.js';
import { unverifiedIssuer } from './backends/saml-logout.js';
import { BrokerState, type LoginFlow, newToken } from './flows.js';
import { readCookie, readForm, single } from './http.js';
import { type ClaimMapper, compileMapping } from './mapping.js';
import { type IdpChoice, sendChoicePage, sendMessagePage, sendPostBindingPage } from './pages.js';
import { newSamlId } from './saml/canonical-xml.js';
import { buildIdpMetadata } from './saml/idp-metadata.js';
import {
  acceptAuthnRequest,
  acceptLogoutRequest,
  type Binding,
  MAX_REQUEST_AGE_SECONDS,
} from './saml/inbound.js';
import {
  issueErrorResponse,
  issueSignedResponse,
  STATUS_AUTHN_FAILED,
  STATUS_NO_PASSIVE,
  STATUS_REQUEST_DENIED,
} from './saml/issue-response.js';
import { signedLogoutResponseUrl } from './saml/logout-response.js';
import { type BrokerSettings, resolveBrokerSettings } from './settings.js';
import type { AuthenticatedSubject } from './subject.js';
import { createBrokerTelemetry } from './telemetry.js';

/**
 * The broker for one tenant: SAML IdP toward the portal (frontend), OIDC / OAuth 2.0 / SAML
 * client toward the tenant's IdPs (backends), the neutral AuthenticatedSubject in between and
 * the tenant's claim mapping on the way out. All state is in the flow store.
 */

export interface BrokerAppOptions {
  /** The clock used for SAML validity checks and issued timestamps (tests move it). */
  now?: () => Date;
}

export interface BrokerApp {
  handler: RequestListener;
  ready: () => Promise<void>;
  close: () => Promise<void>;
}

type Backend = { kind: 'oauth'; backend: OAuthBackend } | { kind: 'saml'; backend: SamlBackend };

/**
 * OAuth `error` codes meaning "the person would have had to interact" (OIDC Core 3.1.2.6): the
 * answer to prompt=none, and so to a passive AuthnRequest.
 */
const INTERACTION_NEEDED = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/** The second-level SAML status (under Responder) for an IdP's OAuth error. */
function samlStatusForIdpError(error: string): string {
  if (INTERACTION_NEEDED.has(error)) return STATUS_NO_PASSIVE;
  if (error === 'access_denied') return STATUS_REQUEST_DENIED;
  return STATUS_AUTHN_FAILED;
}

/** A request older than this may have been recorded; its ID stays marked as used that long. */
const REQUEST_REPLAY_WINDOW_SECONDS = MAX_REQUEST_AGE_SECONDS + 2 * MAX_CLOCK_SKEW_SECONDS;

export async function createBrokerApp(
  context: PartContext,
  options: BrokerAppOptions = {},
): Promise<BrokerApp> {
  const now = options.now ?? (() => new Date());
  const { tenant, store, logger } = context;
  const settings = resolveBrokerSettings(tenant, context.secrets);
  const state = new BrokerState(store, settings.flowTtlSeconds, settings.sessionTtlSeconds);
  const telemetry = createBrokerTelemetry(context.registry, logger, context.tenantId);
  const idps = tenant.spec.identityProviders;
  const mappers = new Map<string, ClaimMapper>(idps.map((idp) => [idp.name, compileMapping(idp)]));
  const outbound = new Map<string, TlsFetch>();
  const backends = createBackends(idps, context, settings, outbound, now);
  const choices: IdpChoice[] = idps.map((idp) => ({
    name: idp.name,
    displayName: idp.displayName ?? idp.name,
  }));
  const metadata = buildIdpMetadata({
    entityId: settings.entityId,
    ssoUrl: settings.ssoUrl,
    sloUrl: settings.sloUrl,
    signingCertificates: settings.metadataCertificates,
    nameIdFormats: idps.map(
      (idp) => idp.nameId?.format ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    ),
  });
  const cookieName = settings.secureCookies ? '__Host-jsm_sso_flow' : 'jsm_sso_flow';

  function setFlowCookie(res: ServerResponse, flowId: string | undefined): void {
    const lifetime = flowId ? `Max-Age=${settings.flowTtlSeconds}` : 'Max-Age=0';
    res.setHeader(
      'set-cookie',
      `${cookieName}=${flowId ?? ''}; Path=/; HttpOnly; SameSite=Lax; ${lifetime}${settings.secureCookies ? '; Secure' : ''}`,
    );
  }

  function redirect(res: ServerResponse, location: string): void {
    res.statusCode = 302;
    res.setHeader('location', location);
    res.setHeader('cache-control', 'no-store');
    res.end();
  }

  async function receiveAuthnRequest(res: ServerResponse, binding: Binding): Promise<void> {
    const request = acceptAuthnRequest(binding, settings.sp, settings.ssoUrl, now());
    await state.useOnce('authnrequest', request.id, 'SAML_REPLAY', REQUEST_REPLAY_WINDOW_SECONDS);
    const flow: LoginFlow = {
      requestId: request.id,
      forceAuthn: request.forceAuthn,
      isPassive: request.isPassive,
      csrf: newToken(),
      startedAt: Date.now(),
      ...(request.relayState === undefined ? {} : { relayState: request.relayState }),
    };
    // A passive request may not show the choice page, and cannot be a fresh authentication
    // either (core 3.4.1): answer NoPassive at once instead of showing anything.
    if (flow.isPassive && (idps.length > 1 || flow.forceAuthn)) {
      telemetry.refusal('SAML_PASSIVE_NOT_POSSIBLE', 200);
      return sendErrorResponse(res, flow, STATUS_NO_PASSIVE);
    }
    const flowId = await state.startFlow(flow);
    setFlowCookie(res, flowId);
    if (idps.length === 1) return startAtIdp(res, flowId, flow, idps[0]!.name);
    sendChoicePage(res, { idps: choices, csrf: flow.csrf });
  }

  /**
   * Tells the portal, with a signed Response to its ACS, that the login failed at the IdP side
   * (profiles 4.1.4.2), so the portal can show its own page instead of a dead end at the broker.
   */
  async function sendErrorResponse(
    res: ServerResponse,
    flow: LoginFlow,
    secondLevelStatus: string,
  ): Promise<void> {
    const response = await issueErrorResponse(settings.signing, {
      issuer: settings.entityId,
      acsUrl: settings.sp.acsUrl,
      inResponseTo: flow.requestId,
      secondLevelStatus,
      now: now(),
    });
    sendResponseToPortal(res, flow, response.xml);
  }

  function sendResponseToPortal(res: ServerResponse, flow: LoginFlow, xml: string): void {
    setFlowCookie(res, undefined);
    // RelayState goes back unchanged, and only to the registered ACS (never to a URL it names).
    sendPostBindingPage(res, {
      action: settings.sp.acsUrl,
      field: 'SAMLResponse',
      message: Buffer.from(xml, 'utf8').toString('base64'),
      ...(flow.relayState === undefined ? {} : { relayState: flow.relayState }),
    });
  }

  async function startAtIdp(
    res: ServerResponse,
    flowId: string,
    flow: LoginFlow,
    idp: string,
  ): Promise<void> {
    const chosen = backends.get(idp)!;
    const prompt = { forceAuthn: flow.forceAuthn, isPassive: flow.isPassive === true };
    if (chosen.kind === 'oauth') {
      const { redirectUrl, pending } = await chosen.backend.startLogin(prompt);
      await state.updateFlow(flowId, { ...flow, idp, pending });
      await state.indexState(pending.state, flowId);
      return redirect(res, redirectUrl);
    }
    const { redirectUrl, requestId } = await chosen.backend.startLogin({ flowId, ...prompt });
    await state.updateFlow(flowId, { ...flow, idp, pending: { upstreamRequestId: requestId } });
    redirect(res, redirectUrl);
  }

  async function choose(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req, 16 * 1024);
    const flowId = readCookie(req, cookieName);
    const flow = flowId ? await state.getFlow(flowId) : undefined;
    if (!flowId || !flow)
      throw new JsmSsoError('FLOW_UNKNOWN', 'this sign-in has expired; start again from the help center');
    const csrf = Buffer.from(single(form, 'csrf') ?? '');
    const expected = Buffer.from(flow.csrf);
    if (csrf.length !== expected.length || !timingSafeEqual(csrf, expected)) {
      throw new JsmSsoError('CSRF_TOKEN_INVALID', 'this form was not sent from the sign-in page', {
        status: 403,
      });
    }
    const idpName = single(form, 'idp');
    const email = single(form, 'email');
    const idp =
      idpName !== undefined
        ? idps.find((i) => i.name === idpName)
        : email !== undefined
          ? idpForEmail(email)
          : undefined;
    if (idpName !== undefined && !idp)
      throw new JsmSsoError('IDP_UNKNOWN', 'there is no such sign-in method');
    if (!idp) {
      return sendChoicePage(res, {
        idps: choices,
        csrf: flow.csrf,
        notice: 'No sign-in method is set up for that e-mail domain. Choose one below.',
      });
    }
    await startAtIdp(res, flowId, flow, idp.name);
  }

  function idpForEmail(email: string): IdentityProviderSpec | undefined {
    const domain = email.trim().toLowerCase().split('@').pop() ?? '';
    return idps.find((idp) => idp.emailDomains?.includes(domain));
  }

  async function oidcCallback(req: IncomingMessage, res: ServerResponse, rawQuery: string): Promise<void> {
    const params = new URLSearchParams(rawQuery);
    const stateValue = single(params, 'state');
    if (!stateValue)
      throw new JsmSsoError('OIDC_STATE_MISSING', "the identity provider's answer has no state");
    const flowId = await state.takeStateFlowId(stateValue);
    if (!flowId) {
      const replayed = await state.wasUsed('state', stateValue);
      throw new JsmSsoError(
        replayed ? 'OIDC_STATE_REPLAYED' : 'OIDC_STATE_UNKNOWN',
        'this sign-in has expired or was already completed; start again from the help center',
      );
    }
    await state.useOnce('state', stateValue, 'OIDC_STATE_REPLAYED');
    const flow = await state.takeFlow(flowId);
    const pending = flow?.pending as PendingAuthorization | undefined;
    if (!flow || !pending || pending.state !== stateValue || pending.idp !== flow.idp) {
      throw new JsmSsoError(
        'OIDC_STATE_UNKNOWN',
        'this sign-in has expired; start again from the help center',
      );
    }
    const chosen = backends.get(pending.idp);
    try {
      if (readCookie(req, cookieName) !== flowId) {
        throw new JsmSsoError('FLOW_BROWSER_MISMATCH', 'this sign-in was started in another browser', {
          status: 403,
        });
      }
      if (chosen?.kind !== 'oauth') throw new JsmSsoError('OIDC_STATE_UNKNOWN', 'this sign-in has expired');
      // The callback is judged only by the IdP this flow was sent to (mix-up defence, RFC 9700 4.4).
      const result = await chosen.backend.handleCallback(
        new URL(`${settings.callbackUrl}?${rawQuery}`),
        pending,
      );
      if (pending.nonce) await state.useOnce('nonce', pending.nonce, 'OIDC_NONCE_REPLAYED');
      await completeLogin(req, res, flow, result.subject, result.idToken);
    } catch (err) {
      recordFailedLogin(req, pending.idp, err);
      // The IdP's own "no" (checked to come from it, for this flow) goes back to the portal.
      if (!(err instanceof IdpErrorResponse)) throw err;
      telemetry.refusal(err.code, err.status, pending.idp);
      await sendErrorResponse(res, flow, samlStatusForIdpError(err.idpError));
    }
  }

  function recordFailedLogin(req: IncomingMessage, idp: string, err: unknown): void {
    const status = err instanceof JsmSsoError ? err.status : 500;
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    telemetry.login({
      idp,
      result: status < 500 ? 'refused' : 'error',
      clientIp: clientIp(req, context.trustedProxyHops),
      reason,
    });
  }

  async function completeLogin(
    req: IncomingMessage,
    res: ServerResponse,
    flow: LoginFlow,
    subject: AuthenticatedSubject,
    idToken?: string,
  ): Promise<void> {
    const mapped = mappers.get(subject.idp)!(subject);
    const sessionIndex = newSamlId(randomBytes);
    const issuedAt = now();
    const response = await issueSignedResponse(settings.signing, {
      issuer: settings.entityId,
      audience: settings.sp.entityId,
      acsUrl: settings.sp.acsUrl,
      inResponseTo: flow.requestId,
      nameId: mapped.nameId,
      nameIdFormat: mapped.nameIdFormat,
      attributes: mapped.attributes,
      sessionIndex,
      authnInstant: subject.authTime ?? issuedAt,
      now: issuedAt,
      lifetimeSeconds: settings.assertionLifetimeSeconds,
      ...(subject.authnContextClassRef ? { authnContextClassRef: subject.authnContextClassRef } : {}),
    });
    await state.saveSession(sessionIndex, {
      idp: subject.idp,
      ...(idToken ? { idToken } : {}),
      ...(subject.samlSession ? { saml: subject.samlSession } : {}),
    });
    telemetry.login({
      idp: subject.idp,
      subject: subject.subject,
      result: 'success',
      clientIp: clientIp(req, context.trustedProxyHops),
      startedAt: flow.startedAt,
    });
    sendResponseToPortal(res, flow, response.xml);
  }

  async function samlAcs(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const samlResponse = single(form, 'SAMLResponse');
    const relayState = single(form, 'RelayState');
    if (!samlResponse || !relayState)
      throw new JsmSsoError('SAML_BINDING_INVALID', "the identity provider's answer is incomplete");
    // The upstream SAML IdP posts cross-site, so no cookie: RelayState is the flow's unguessable ID.
    const flow = await state.takeFlow(relayState);
    const chosen = flow?.idp ? backends.get(flow.idp) : undefined;
    const pending = flow?.pending;
    if (!flow || chosen?.kind !== 'saml' || !pending || !('upstreamRequestId' in pending)) {
      throw new JsmSsoError('FLOW_UNKNOWN', 'this sign-in has expired; start again from the help center');
    }
    try {
      const subject = await chosen.backend.handleAcs(samlResponse, relayState, pending);
      await completeLogin(req, res, flow, subject);
    } catch (err) {
      recordFailedLogin(req, flow.idp!, err);
      // The upstream IdP's non-success status: the login failed there; the portal is told so.
      if (!(err instanceof SamlError && err.code === 'SAML_STATUS_NOT_SUCCESS')) throw err;
      telemetry.refusal(err.code, err.status, flow.idp);
      await sendErrorResponse(res, flow, STATUS_AUTHN_FAILED);
    }
  }

  async function singleLogout(res: ServerResponse, rawQuery: string): Promise<void> {
    const request = acceptLogoutRequest({ kind: 'redirect', rawQuery }, settings.sp, settings.sloUrl, now());
    await state.useOnce('logoutrequest', request.id, 'SAML_REPLAY', REQUEST_REPLAY_WINDOW_SECONDS);
    const sessions = await Promise.all(request.sessionIndexes.map((index) => state.takeSession(index)));
    const session = sessions.find((s) => s !== undefined);
    const pendingLogout = {
      requestId: request.id,
      ...(request.relayState === undefined ? {} : { relayState: request.relayState }),
    };
    const chosen = session ? backends.get(session.idp) : undefined;
    const logoutState = newToken();
    if (session?.idToken && chosen?.kind === 'oauth') {
      const endSession = await chosen.backend.endSessionUrl(session.idToken, logoutState);
      if (endSession) {
        await state.savePendingLogout(logoutState, pendingLogout);
        return redirect(res, endSession);
      }
    }
    if (session?.saml && chosen?.kind === 'saml') {
      // The IdP's LogoutResponse comes back with this RelayState (bindings 3.4.3).
      const upstream = await chosen.backend.logoutUrl(session.saml, logoutState);
      if (upstream) {
        await state.savePendingLogout(logoutState, {
          ...pendingLogout,
          upstream: { idp: session.idp, requestId: upstream.requestId },
        });
        return redirect(res, upstream.redirectUrl);
      }
    }
    // Without an IdP logout the person stays signed in there: say so (PartialLogout).
    redirect(res, logoutResponseUrl(pendingLogout, session !== undefined));
  }

  /**
   * The upstream SAML IdP's LogoutResponse to the broker's LogoutRequest: verified with that IdP's
   * certificates, then the portal gets Success, or PartialLogout when the IdP could not end it all.
   */
  async function upstreamLogoutResponse(res: ServerResponse, rawQuery: string): Promise<void> {
    const logoutState = single(new URLSearchParams(rawQuery), 'RelayState');
    const pending = logoutState ? await state.getPendingLogout(logoutState) : undefined;
    const chosen = pending?.upstream ? backends.get(pending.upstream.idp) : undefined;
    if (!logoutState || !pending?.upstream || chosen?.kind !== 'saml')
      throw new JsmSsoError('LOGOUT_STATE_UNKNOWN', 'this sign-out has expired or was already completed');
    const { success } = await chosen.backend.acceptLogoutResponse(rawQuery, pending.upstream.requestId);
    // Consumed only once the answer checks out; a second (replayed) answer finds nothing.
    if (!(await state.takePendingLogout(logoutState)))
      throw new JsmSsoError('LOGOUT_STATE_UNKNOWN', 'this sign-out has expired or was already completed');
    logger.info(
      { event: 'broker.logout', idp: pending.upstream.idp, result: success ? 'success' : 'partial' },
      'upstream logout answered',
    );
    redirect(res, logoutResponseUrl(pending, !success));
  }

  /**
   * A LogoutRequest from an upstream SAML IdP (the person signed out there): ends the broker
   * session it names and answers the IdP. The portal's own session is not ended from here; it
   * ends by the portal's logout or its absolute timeout.
   */
  async function upstreamLogoutRequest(
    res: ServerResponse,
    rawQuery: string,
    idp: SamlBackend,
  ): Promise<void> {
    const request = await idp.acceptLogoutRequest(rawQuery);
    await state.useOnce(`logoutrequest:${idp.idp}`, request.id, 'SAML_REPLAY', REQUEST_REPLAY_WINDOW_SECONDS);
    const ended = await state.endUpstreamSession(idp.idp, request.nameId, request.sessionIndexes);
    logger.info(
      { event: 'broker.logout', idp: idp.idp, initiator: 'idp', result: ended ? 'success' : 'no_session' },
      'logout requested by the identity provider',
    );
    const answer = await idp.logoutResponseUrl(request.id, request.relayState);
    if (answer) return redirect(res, answer);
    sendMessagePage(res, 200, 'Signed out', 'You are signed out.');
  }

  /** The upstream SAML IdP a Redirect LogoutRequest claims to come from, if it names one. */
  async function upstreamSender(rawQuery: string): Promise<SamlBackend | undefined> {
    const issuer = unverifiedIssuer(rawQuery, 'SAMLRequest');
    if (issuer === undefined || issuer === settings.sp.entityId) return undefined;
    for (const candidate of backends.values()) {
      if (candidate.kind === 'saml' && (await candidate.backend.isIssuer(issuer))) return candidate.backend;
    }
    return undefined;
  }

  /**
   * `/saml/slo` is both the portal's SLO endpoint at the broker as IdP and the broker's own SLO
   * endpoint as SP of upstream SAML IdPs: a SAMLResponse is an IdP's LogoutResponse; a SAMLRequest
   * is the IdP's when its Issuer is one, else the portal's. The routing uses the unverified Issuer
   * only to choose whose certificates verify the message; everything else is checked as usual.
   */
  async function sloEndpoint(res: ServerResponse, rawQuery: string): Promise<void> {
    const params = new URLSearchParams(rawQuery);
    if (params.has('SAMLResponse') && !params.has('SAMLRequest'))
      return upstreamLogoutResponse(res, rawQuery);
    const idp = await upstreamSender(rawQuery);
    if (idp) return upstreamLogoutRequest(res, rawQuery, idp);
    return singleLogout(res, rawQuery);
  }

  function logoutResponseUrl(logout: { requestId: string; relayState?: string }, partial: boolean): string {
    return signedLogoutResponseUrl(settings.signingKeyPem, {
      issuer: settings.entityId,
      destination: settings.sp.sloUrl,
      inResponseTo: logout.requestId,
      partial,
      now: now(),
      ...(logout.relayState === undefined ? {} : { relayState: logout.relayState }),
    });
  }

  async function logoutCallback(res: ServerResponse, rawQuery: string): Promise<void> {
    const logoutState = single(new URLSearchParams(rawQuery), 'state');
    const pending = logoutState ? await state.takePendingLogout(logoutState) : undefined;
    if (!pending)
      throw new JsmSsoError('LOGOUT_STATE_UNKNOWN', 'this sign-out has expired or was already completed');
    redirect(res, logoutResponseUrl(pending, false));
  }

  function samlSpMetadata(res: ServerResponse): void {
    const saml = [...backends.values()].find((b) => b.kind === 'saml');
    if (saml?.kind !== 'saml')
      throw new JsmSsoError('NOT_FOUND', 'no SAML identity provider is configured', { status: 404 });
    sendXml(res, saml.backend.spMetadataXml());
  }

  type Route = {
    methods: string[];
    handle: (req: IncomingMessage, res: ServerResponse, rawQuery: string) => Promise<void> | void;
  };
  const routes: Record<string, Route> = {
    '/saml/metadata': { methods: ['GET'], handle: (_req, res) => sendXml(res, metadata) },
    '/saml/sso': {
      methods: ['GET', 'POST'],
      handle: async (req, res, rawQuery) => {
        if (req.method === 'GET') return receiveAuthnRequest(res, { kind: 'redirect', rawQuery });
        const form = await readForm(req);
        const message = single(form, 'SAMLRequest');
        const relayState = single(form, 'RelayState');
        if (!message) throw new JsmSsoError('SAML_BINDING_INVALID', 'the form carries no SAMLRequest');
        return receiveAuthnRequest(res, {
          kind: 'post',
          message,
          ...(relayState === undefined ? {} : { relayState }),
        });
      },
    },
    '/saml/choose': { methods: ['POST'], handle: (req, res) => choose(req, res) },
    '/oidc/callback': { methods: ['GET'], handle: (req, res, rawQuery) => oidcCallback(req, res, rawQuery) },
    '/saml/slo': { methods: ['GET'], handle: (_req, res, rawQuery) => sloEndpoint(res, rawQuery) },
    '/oidc/logout-callback': {
      methods: ['GET'],
      handle: (_req, res, rawQuery) => logoutCallback(res, rawQuery),
    },
    '/saml/acs': { methods: ['POST'], handle: (req, res) => samlAcs(req, res) },
    '/saml/sp-metadata': { methods: ['GET'], handle: (_req, res) => samlSpMetadata(res) },
  };

  function fail(res: ServerResponse, err: unknown): void {
    if (err instanceof JsmSsoError && err.status < 500) {
      telemetry.refusal(err.code, err.status);
      if (!res.headersSent) sendMessagePage(res, err.status, 'Sign-in refused', err.message, err.code);
      return;
    }
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    const status = err instanceof JsmSsoError ? err.status : 500;
    telemetry.unavailable(reason, status);
    if (reason === 'BROKER_INTERNAL')
      logger.error({ event: 'broker.internal_error', errorType: (err as Error)?.name }, 'internal error');
    if (!res.headersSent) {
      sendMessagePage(
        res,
        status,
        'Sign-in is temporarily unavailable',
        'Please try again in a few moments.',
        reason,
      );
    }
  }

  const handler: RequestListener = (req, res) => {
    const started = process.hrtime.bigint();
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    const path = mark < 0 ? target : target.slice(0, mark);
    const rawQuery = mark < 0 ? '' : target.slice(mark + 1);
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    const done = () =>
      telemetry.observeRequest(route ? path : 'other', Number(process.hrtime.bigint() - started) / 1e9);
    Promise.resolve()
      .then(() => {
        if (!route) throw new JsmSsoError('NOT_FOUND', 'there is nothing here', { status: 404 });
        if (!route.methods.includes(req.method ?? '')) {
          res.setHeader('allow', route.methods.join(', '));
          throw new JsmSsoError('METHOD_NOT_ALLOWED', 'this address does not accept that kind of request', {
            status: 405,
          });
        }
        return route.handle(req, res, rawQuery);
      })
      .catch((err: unknown) => fail(res, err))
      .finally(done);
  };

  return {
    handler,
    ready: () => store.ping(),
    close: async () => {
      await Promise.all([...outbound.values()].map((f) => f.close()));
    },
  };
}

function sendXml(res: ServerResponse, xml: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/samlmetadata+xml; charset=utf-8');
  res.setHeader('cache-control', 'public, max-age=300');
  res.end(xml);
}

function createBackends(
  idps: readonly IdentityProviderSpec[],
  context: PartContext,
  settings: BrokerSettings,
  outbound: Map<string, TlsFetch>,
  now: () => Date,
): Map<string, Backend> {
  const backends = new Map<string, Backend>();
  for (const idp of idps) {
    const protocol = idp.oidc ?? idp.oauth2 ?? idp.saml;
    // Every call to this IdP verifies TLS, trusting its private CA bundle on top of the public roots.
    const fetch = createTlsFetch({ extraCaPem: caBundleFor(context.secrets, protocol?.caBundleSecretRef) });
    outbound.set(idp.name, fetch);
    if (idp.saml) {
      const backend = createSamlBackend({
        idp,
        brokerUrl: context.tenant.spec.broker.url,
        spSigningKeyPem: settings.signingKeyPem,
        spCertPem: settings.signingCertPem,
        store: context.store,
        flowTtlSeconds: settings.flowTtlSeconds,
        fetch,
        now,
      });
      backends.set(idp.name, { kind: 'saml', backend });
    } else {
      const backend = createOAuthBackend({
        idp,
        secrets: context.secrets,
        redirectUri: settings.callbackUrl,
        postLogoutRedirectUri: settings.logoutCallbackUrl,
        fetch,
      });
      backends.set(idp.name, { kind: 'oauth', backend });
    }
  }
  return backends;
}
