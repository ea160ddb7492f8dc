import { createHash } from 'node:crypto';
import { type ErrorCode, JsmSsoError } from '../../common/errors.js';
import type { FlowStore } from '../../common/flowstore/index.js';
import type { SupportedLocale } from '../../common/i18n/index.js';
import type { Logger } from '../../common/log.js';
import { type IdpList, type RequestedAuthnContext, unverifiedIssuer } from '../../common/saml/index.js';
import type { SignInBudget } from '../sign-in-budget.js';
import type { AuthenticatedSubject } from '../subject.js';
import type { IdpKeysKind } from './key-read-health.js';

/**
 * The one interface every backend (OIDC, OAuth 2.0, SAML) implements, in the spirit of SATOSA's
 * backend modules: the frontend starts a login, hands the IdP's answer back to the backend that
 * started it, and receives a neutral AuthenticatedSubject. Whatever a backend needs across the
 * redirect is an opaque string it encodes and decodes itself; the frontend only keeps it.
 */

/** What the portal's AuthnRequest asked of the login (ForceAuthn, IsPassive, its language). */
export interface LoginPrompt {
  forceAuthn: boolean;
  isPassive: boolean;
  /** The language of the portal's pages (ADR 0097), for an IdP that can show its own in it. */
  locale?: SupportedLocale;
  /** The authentication context classes the SP asks for (its RequestedAuthnContext), to pass on. */
  acrValues?: readonly string[];
  /**
   * The e-mail the person typed on the broker's choice page (home-realm discovery), so that an OIDC
   * IdP fills in its sign-in form and she does not type it twice (login_hint, OIDC Core 3.1.2.1).
   * Only a hint: the IdP decides who signs in, and the broker judges its answer as any other.
   */
  loginHint?: string;
  /**
   * How many times the IdP may proxy the login in turn: one less than the SP allowed (SAML Scoping
   * ProxyCount, core 3.4.1.5.1). OIDC has no such parameter; undefined: no limit.
   */
  proxyCount?: number;
  /**
   * For an upstream SAML IdP (core 3.4.1.5.1: the proxied request carries the same authentication
   * context policy and the IDPList): the SP's RequestedAuthnContext and its Scoping IDPList.
   */
  requestedAuthnContext?: RequestedAuthnContext;
  idpList?: IdpList;
  /**
   * For an upstream SAML IdP: on whose behalf the login is asked (Scoping RequesterID, core 3.4.1.2),
   * the RequesterIDs of the SP's request, then the SP itself (3.4.1.5.1). OIDC has no such parameter.
   */
  requesterIds?: readonly string[];
}

/**
 * How far an IdP's clock may be off ours when the broker compares the time it says the person
 * authenticated at with its own: openid-client's tolerance for an ID token's time claims. One for
 * every protocol, so that a ForceAuthn login is as fresh through a SAML IdP as through an OIDC one;
 * not the SAML clock skew of the assertion's validity window (180 s, ADR 0139), under which a session
 * at the IdP under three minutes old passed for the fresh sign-in asked for (ADR 0380).
 */
export const IDP_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * ForceAuthn honoured (SAML core 3.4.1, ADR 0139): the IdP says the person authenticated at
 * `authTime` (seconds), no earlier than `after` (when the login was sent to it) less the IdP clock
 * tolerance. No authentication time is no proof of a fresh authentication.
 */
export function authenticatedSince(authTime: number | undefined, after: number): boolean {
  return authTime !== undefined && authTime >= after - IDP_CLOCK_TOLERANCE_SECONDS;
}

/** An HTTP request at a backend's endpoint, as the frontend read it. */
export interface EndpointRequest {
  /** The raw query string (signatures of the HTTP-Redirect binding are over it). */
  rawQuery: string;
  /** The POSTed form (POST endpoints only). */
  form?: URLSearchParams;
}

const requestIssuers = new WeakMap<EndpointRequest, string | undefined>();

/**
 * The Issuer of the request's Redirect-binding SAMLRequest, read unverified (unverifiedIssuer) only
 * to route it, and read once per request: the portal's claim and each SAML IdP's on the shared
 * /saml/slo ask it of the same message, which anyone may send inflating to 64 KiB (ADR 0274).
 */
export function requestIssuer(request: EndpointRequest): string | undefined {
  if (!requestIssuers.has(request))
    requestIssuers.set(request, unverifiedIssuer(request.rawQuery, 'SAMLRequest'));
  return requestIssuers.get(request);
}

export interface LoginStart {
  redirectUrl: string;
  /** The backend's own state for this login, opaque to everyone else. */
  state: string;
}

export interface LoginCompletion {
  subject: AuthenticatedSubject;
  /** What this backend needs to end the session at the IdP later; opaque, and never the IdP's tokens. */
  logoutHandle?: string;
  /**
   * How the IdP will name this session in its own logout request, already hashed by the backend
   * (never a NameID or e-mail in clear); absent when the IdP cannot end sessions at the broker.
   */
  upstreamSessionKey?: string;
  /** How the IdP's back-channel logout will name this session; absent when the IdP cannot send one. */
  backchannelKeys?: BackchannelKeys;
  /**
   * The IdP session this login came from, as the IdP's own logout names it (an OIDC `sid`, a SAML
   * SessionIndex), with its person; absent when the IdP named none. A logout of it arriving while the
   * login completes is found by it (ADR 0170, 0171).
   */
  idpSession?: IdpSessionKeys;
}

/**
 * One IdP session as the IdP's own logout names it, and the person it is of: keyed hashes, the
 * session's (OIDC `sid`, SAML SessionIndex) and the person's (OIDC `sub`, SAML NameID), each as the
 * backend keys that logout's index.
 */
export interface IdpSessionKeys {
  session: string;
  person: string;
}

/**
 * The keys (already keyed hashes, never the IdP's values) under which the broker finds a session
 * again from the IdP's back-channel logout.
 */
export interface BackchannelKeys {
  /** The person at the IdP (OIDC `sub`): a logout naming only them ends each of their sessions. */
  person: string;
  /** The IdP's session the login came from (OIDC `sid`), when the IdP names one. */
  session?: string;
}

/**
 * Why the IdP itself said no (checked to be its answer for this login), in neutral terms; or
 * `authn_context_unmet`: it signed the person in, but not with a context the SP asked for;
 * `proxy_count_exceeded`: it would have had to proxy further than the SP's ProxyCount allows.
 */
export type IdpRefusalKind =
  | 'interaction_required'
  | 'access_denied'
  | 'failed'
  | 'authn_context_unmet'
  | 'proxy_count_exceeded';

/** The login cannot be asserted as the SP asked (see IdpRefusalKind): the portal is told it failed. */
export class IdpRefusal extends JsmSsoError {
  constructor(
    code: ErrorCode,
    readonly kind: IdpRefusalKind,
    cause?: unknown,
  ) {
    super(code, 'the identity provider did not sign you in', { status: 403, cause });
    this.name = 'IdpRefusal';
  }
}

/**
 * What the store knows a login flow by: the SHA-256 of its ID. The ID is the flow cookie (and an
 * upstream SAML IdP's RelayState), the browser's proof that it started the flow, so the store never
 * holds it: a dump neither chooses for a sign-in nor finishes one in another browser (ADR 0190).
 */
export type FlowKey = string & { readonly __flowKey: unique symbol };

export function flowKeyOf(flowId: string): FlowKey {
  return createHash('sha256').update(flowId).digest('base64url') as FlowKey;
}

/** Where the IdP sends the browser back after login; one path may serve several IdPs of a kind. */
export interface LoginCallback {
  path: string;
  method: 'GET' | 'POST';
  /**
   * The login flow this answer continues, found by the backend's own one-time index and consumed:
   * a second answer for the same login finds nothing and is refused with a reason code. Its key,
   * never its ID: the index holds no more than the store's own key (`flowKeyOf`).
   */
  flowOf(request: EndpointRequest): Promise<FlowKey>;
  /** The longest form a POST answer may be; the broker's MAX_FORM_BYTES when not said. */
  formLimit?: number;
  /**
   * Whether the browser's flow cookie comes along (a top-level GET redirect carries SameSite=Lax
   * cookies; a cross-site POST does not), so the flow can be bound to the browser that started it.
   */
  browserBound: boolean;
}

/** Where the IdP sends the browser back after logout. */
export interface LogoutCallback {
  path: string;
  /** Whether this request is this backend's (several parties may answer on one path). */
  claims(request: EndpointRequest): boolean;
  /** The logout this answer continues (read, not consumed: a forged answer must not cancel it). */
  logoutOf(request: EndpointRequest): string | undefined;
}

/**
 * Where the IdP posts its logout token (OpenID Connect Back-Channel Logout 1.0), one path per IdP,
 * and the backend's judgement of the token.
 */
export interface BackchannelLogout {
  path: string;
  /** Checks the token (every check of section 2.6 but the one-time `jti`, which is the frontend's). */
  verify(logoutToken: string): Promise<BackchannelLogoutEvent>;
}

/**
 * What an IdP's own logout ends, by `LoginCompletion.backchannelKeys`: the one IdP session it names
 * (OIDC `sid`; with `person` when the token also named a `sub`, whose session it must be), or every
 * session of the person (`sub` alone, Back-Channel Logout section 2.7).
 */
export type IdpLogoutTarget = { session: string; person?: string } | { person: string };

export interface BackchannelLogoutEvent {
  /**
   * The token's `sid` when it names one, else its `sub`: keyed under each key the broker holds, the
   * sealing one's first, as sessions saved before a swap of its key are indexed (ADR 0304).
   */
  ends: IdpLogoutTarget[];
  /** The token's `jti`, with the issuer: accepted once (section 2.6 step 7). */
  tokenId: string;
}

/**
 * Where the IdP posts its own LogoutRequest over the SAML SOAP binding (bindings 3.2, profiles
 * 4.4.3), one path per IdP, and the backend's answer (ADR 0160).
 */
export interface SoapLogout {
  path: string;
  /**
   * The SOAP envelope answering `envelope`: the signed LogoutResponse. Throws (the frontend
   * answers a SOAP fault) for what is not shown to be the IdP's own request.
   */
  answer(envelope: string): Promise<SoapLogoutAnswer>;
}

export interface SoapLogoutAnswer {
  envelope: string;
  /**
   * The check that refused a request the IdP itself signed (answered Requester): for the refusal
   * count, with its `detail` where one code covers several causes (a decryption's, ADR 0351).
   */
  refused?: { reason: ErrorCode; detail?: string };
  /** Why a request the IdP itself signed was not acted on now (answered Responder, ADR 0164): for the error count. */
  unavailable?: JsmSsoError;
}

/**
 * What the IdP's logout page frames (OpenID Connect Front-Channel Logout 1.0, ADR 0159), one path
 * per IdP, and the backend's judgement of its query.
 */
export interface FrontchannelLogout {
  path: string;
  /**
   * Checks the query's `iss` and `sid` (both present, `iss` this IdP's issuer) and names the session
   * `sid` is, under each key the broker holds (as BackchannelLogoutEvent's); throws
   * FrontchannelLogoutRefusal.
   */
  verify(query: { iss: string | undefined; sid: string | undefined }): Array<{ session: string }>;
  /** The origins of the IdP's pages, which alone may frame the answer (its CSP frame-ancestors). */
  frameAncestors(): Promise<string[]>;
}

/** What a backend's own endpoint (metadata, IdP-initiated logout) answers. */
export type ServiceAnswer =
  | {
      kind: 'redirect';
      location: string;
      /** The IdP's own request, answered with a status that refuses it: its reason code and `detail`. */
      refused?: { reason: string; idp: string; detail?: string };
    }
  | { kind: 'metadata'; xml: string }
  /** The person is signed out and there is nowhere to send them: the broker says so. */
  | { kind: 'signedOut' };

/** An endpoint the IdP itself calls that is neither a login nor a logout answer. */
export interface ServiceEndpoint {
  path: string;
  method: 'GET' | 'POST';
  /** The same answer from every backend of the kind (e.g. SP metadata): served by the first. */
  samePerKind?: boolean;
  /** A GET that acts on nothing (metadata): HEAD is answered as it, without the content. */
  readOnly?: true;
  /** Whether this request is this backend's (several parties may share a path). */
  claims(request: EndpointRequest): Promise<boolean>;
  serve(request: EndpointRequest): Promise<ServiceAnswer>;
}

export interface Backend {
  /** Name of the IdP in the tenant. */
  readonly idp: string;
  readonly loginCallback: LoginCallback;
  readonly logoutCallback?: LogoutCallback;
  readonly services: readonly ServiceEndpoint[];
  readonly backchannelLogout?: BackchannelLogout;
  readonly soapLogout?: SoapLogout;
  readonly frontchannelLogout?: FrontchannelLogout;
  /**
   * Whether the IdP can be asked for a login that shows the person nothing (SAML IsPassive, OIDC
   * prompt=none). A plain OAuth 2.0 server "MUST ignore unrecognized request parameters" (RFC 6749
   * 3.1), prompt among them, so a passive request through it is answered NoPassive at once (ADR 0174).
   */
  readonly logsInPassively: boolean;
  /**
   * Whether the IdP can be asked for a fresh login and its answer shows one (SAML ForceAuthn and
   * AuthnInstant, OIDC max_age=0 and auth_time). A plain OAuth 2.0 server can do neither, so ForceAuthn
   * through it is refused rather than asserted with an AuthnInstant the broker never saw (ADR 0174).
   */
  readonly showsFreshLogin: boolean;
  /**
   * The origin `startLogin` sends the browser to, when it can be known (undefined while the IdP is
   * unreachable): the choice page's CSP form-action must allow it, because Chromium also checks the
   * redirect that answers a form post.
   */
  loginOrigin(): Promise<string | undefined>;
  /**
   * The identifier the broker names the IdP by in its assertions' AuthenticatingAuthority (core
   * 3.4.1.5.1): a SAML IdP's entityID, an OIDC issuer, a plain OAuth 2.0 server's issuer or its stand-in;
   * an SP's Scoping IDPList is read by it (ADR 0411). Undefined while the IdP cannot be read.
   */
  authority(): Promise<string | undefined>;
  /** Sends the person to the IdP for the flow `flowId`. */
  startLogin(flowId: string, prompt: LoginPrompt): Promise<LoginStart>;
  /**
   * Checks the IdP's answer against the state `startLogin` returned; throws IdpRefusal for the IdP's
   * own "no". The IdP calls it waits for are within `budget` (the callback's, ADR 0276; none given,
   * each call's own deadline only). A backend whose callback is not `browserBound` calls `verified`
   * once the answer is shown to be the IdP's own for this flow and before it writes anything: the
   * callback carries nothing else that ties it to the flow (ADR 0403).
   */
  finishLogin(
    request: EndpointRequest,
    state: string,
    budget?: SignInBudget,
    verified?: () => void,
  ): Promise<LoginCompletion>;
  /**
   * Ends the session at the IdP: where to send the browser (carrying `logoutId` back) and the
   * backend's state for the answer; undefined when the IdP cannot end sessions.
   */
  startLogout(
    logoutHandle: string | undefined,
    logoutId: string,
  ): Promise<{ redirectUrl: string; state: string } | undefined>;
  /** Checks the IdP's logout answer; `success` false when the IdP could not end every session. */
  finishLogout(request: EndpointRequest, state: string): Promise<{ success: boolean }>;
}

/**
 * What an IdP-initiated logout ended: the broker session and the portal session made from it
 * (`ended`), the broker session only, the portal's not confirmed ended (`portal_session_left`),
 * nothing, no session of the person being found (`no_session`) or only one asserted under another
 * identifier (`other_identifier`), or nothing yet, another of the IdP's LogoutRequests ending that
 * session at this moment (`already_ending`, ADR 0373).
 */
export type UpstreamLogoutOutcome =
  | 'ended'
  | 'portal_session_left'
  | 'no_session'
  | 'already_ending'
  | 'other_identifier';

/** What an upstream IdP's own LogoutRequest names, as its backend reads it. */
export interface UpstreamLogoutTarget {
  /** The LogoutRequest's ID: the one request that ends a session, or that same request sent again (ADR 0373). */
  requestId: string;
  /**
   * The backend's key of the person, as the login's `upstreamSessionKey` has it: under each key the
   * broker holds, the sealing one's first, as sessions saved before a swap of its key are indexed
   * (ADR 0304).
   */
  upstreamSessionKeys: string[];
  /**
   * Each IdP session the request names (its SessionIndexes), as logins' `idpSession` have them, under
   * each key the broker holds; none when it names the person only.
   */
  idpSessions: IdpSessionKeys[];
  /**
   * Whether a session's logout handle is one the request names (`named`), one of the person's value
   * and session but under another NameID Format or qualifier than the IdP asserted (`other_identifier`,
   * ADR 0373), or another's (`other`).
   */
  matches: (logoutHandle: string | undefined) => 'named' | 'other_identifier' | 'other';
}

/** The sessions an IdP-initiated logout may end (the frontend's, offered to backends). */
export interface SessionDirectory {
  /**
   * Ends the broker session the IdP names by `upstreamSessionKeys` and, back-channel, the portal
   * session it signed in (ADR 0158); resolves within the IdP deadline whatever the portal does.
   */
  endUpstreamSession(idp: string, named: UpstreamLogoutTarget): Promise<UpstreamLogoutOutcome>;
}

/** What every backend gets from the broker. */
export interface BackendContext {
  store: FlowStore;
  sessions: SessionDirectory;
  flowTtlSeconds: number;
  now: () => Date;
  logger: Logger;
  /** Every call to the IdP (discovery, JWKS, token, userinfo, SAML metadata) gives up after this, body included. */
  idpTimeoutMs: number;
  /** Counts a failed read of an IdP's keys (its JWKS, its SAML metadata): the broker's telemetry. */
  keyReadFailed: (idp: string, keys: IdpKeysKind) => void;
}

/** A backend's state across the redirect, as JSON; a value that does not parse is an expired flow. */
export function encodeState(value: object): string {
  return JSON.stringify(value);
}

export function decodeState<T>(state: string): T {
  try {
    return JSON.parse(state) as T;
  } catch (cause) {
    throw new JsmSsoError('FLOW_UNKNOWN', 'this sign-in has expired; start again from the help center', {
      cause,
    });
  }
}
