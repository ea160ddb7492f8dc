import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { importPKCS8 } from 'jose';
import * as client from 'openid-client';
import type { OAuth2IdpSpec, OidcIdpSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import type { KeyMaterial } from '../../common/key-material.js';
import { keyedHash } from '../../common/keyed-hash.js';
import type { SecretReader } from '../../common/pool/source.js';
import type { Sealer } from '../../common/sealer.js';
import { single } from '../http.js';
import { UNBOUNDED } from '../sign-in-budget.js';
import { type AuthenticatedSubject, subjectHasher, subjectHashes } from '../subject.js';
import { checkAuthorizationResponseIssuer } from './authorization-response-issuer.js';
import {
  authenticatedSince,
  type BackchannelKeys,
  type Backend,
  type BackendContext,
  decodeState,
  encodeState,
  type FlowKey,
  flowKeyOf,
  IDP_CLOCK_TOLERANCE_SECONDS,
  IdpRefusal,
  type LoginPrompt,
} from './backend.js';
import { jwtPayloadAsWritten, objectAsWritten } from './exact-json.js';
import { callTimedOut, idpCallTimeout } from './idp-call-timeout.js';
import { userOfAnswer } from './oauth2-user.js';
import { audienceFault } from './oidc-audience.js';
import { frontchannelSid } from './oidc-frontchannel-logout.js';
import { type LogoutTokenClaims, verifyLogoutToken } from './oidc-logout-token.js';
import {
  type ClaimsOf,
  idpFailingStatus,
  idpUnavailable,
  ownRefusalIn,
  protocolRefusal,
} from './oidc-refusals.js';
import {
  checkSignedUserinfo,
  type SignedUserinfoKeeper,
  signedUserinfoKeeper,
} from './oidc-signed-userinfo.js';
import {
  type IdpSigningKeys,
  type IdTokenSignatureCheck,
  idpSigningKeys,
  idTokenSignatureCheck,
} from './oidc-signing-keys.js';
import { tokenHashFault } from './oidc-token-hashes.js';
import { type SignInCalls, signInCalls } from './sign-in-calls.js';

/**
 * The broker as an OpenID Connect relying party (or plain OAuth 2.0 client) toward one of the
 * tenant's IdPs: authorization code flow with PKCE S256, state and nonce always sent and checked,
 * the expected issuer kept with the state (RFC 9207 `iss` checked when sent, mix-up defence),
 * ID token signature checked against the IdP's JWKS with only the registered algorithm
 * (oidc-signing-keys.ts, which reads the JWKS again when the IdP signs with a key it just rotated in).
 */

/** What must survive between the redirect to the IdP and its callback: this backend's opaque state. */
interface PendingAuthorization {
  /** The issuer this authorization was sent to; the callback must come from the same one. */
  issuer: string;
  state: string;
  nonce?: string;
  codeVerifier: string;
  /**
   * For a login that sent `max_age` (OIDC only: the 0 of ForceAuthn or of the tenant's prompt=login,
   * or the tenant's own): when the authorization request was sent less that max_age, in seconds. The
   * ID token's `auth_time` must not be earlier, or the IdP relied on a session older than the request
   * allowed.
   */
  authenticatedAfter?: number;
  /**
   * The login was passive (`prompt=none`): an answer older than `max_age` allowed is one the IdP could
   * give only without the sign-in max_age asked for (OIDC Core 3.1.2.1: it MUST answer login_required
   * then), so the portal hears NoPassive, as for that error, not AuthnFailed (ADR 0376).
   */
  passive?: true;
  /**
   * The classes the tenant's own `acr_values` (extraAuthorizationParams) listed (OIDC only): the ID
   * token's `acr` must be one of them. Kept from when the request left, as the max_age is.
   */
  acrValues?: string[];
}

/** What RP-initiated logout needs later: no token, no personal data (only an opaque hint). */
interface OidcLogoutHandle {
  /** The ID token's `login_hint` claim (an opaque value some IdPs, e.g. Entra ID, issue for this). */
  logoutHint?: string;
}

export interface OAuthBackendOptions {
  secrets: SecretReader;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** Where this IdP posts its back-channel logout tokens (OIDC only; its own path per IdP). */
  backchannelLogoutUri: string;
  /** What this IdP's logout page frames (OIDC only; its own path per IdP, ADR 0159). */
  frontchannelLogoutUri: string;
  /**
   * Secret material every replica shares (the broker's signing key, and the previous or next one
   * during a rotation, ADR 0298): keys the hashes of `sub` and `sid`.
   */
  sessionKeyMaterial: KeyMaterial;
  /** Every call to the IdP (discovery, JWKS, token, userinfo) goes through it (common/tls). */
  fetch: typeof globalThis.fetch;
  context: BackendContext;
  /** Seals the logout handle kept in the session store: it holds the IdP's `login_hint` for the person. */
  sealer: Sealer;
}

/** The protocol-specific half: how to reach the IdP and what its tokens say about the person. */
interface OAuthProtocol {
  configuration(): Promise<client.Configuration>;
  scope: string;
  extraAuthorizationParams: Record<string, string | undefined> | undefined;
  /** OIDC: a nonce is sent, and the token response must carry an ID token bound to it. */
  withNonce: boolean;
  /**
   * OIDC: what openid-client does not check of the ID token (its signature, an audience or azp
   * other than the broker, its at_hash and c_hash), once it has checked its claims; `code` is the one
   * the broker presented for it.
   */
  checkIdToken?(
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
    code: string,
  ): Promise<void>;
  /** OIDC: the person's language goes as `ui_locales` (Core 3.1.2.1); OAuth 2.0 defines none. */
  sendsUiLocales: boolean;
  /**
   * OIDC: `prompt=none` asks for a login without interaction, `max_age=0` for a fresh one whose
   * `auth_time` the ID token carries (Core 3.1.2.1, 2); OAuth 2.0 defines neither.
   */
  prompts: boolean;
  /** Who the person is, from the token response the code grant checked (oauthBackend.finishLogin). */
  identify(
    c: client.Configuration,
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): Promise<{ subject: AuthenticatedSubject; logout?: OidcLogoutHandle }>;
  /** Whether the IdP offers RP-initiated logout. */
  endSessionEndpoint(c: client.Configuration): boolean;
  /** The configuration's fetch: the token and userinfo calls of a sign-in cut at its budget (ADR 0283). */
  calls: SignInCalls;
  /** OIDC: a back-channel logout token, checked against this IdP's keys, issuer and client_id. */
  verifyLogoutToken?(logoutToken: string): Promise<LogoutTokenClaims>;
  /** OIDC: the issuer identifier, which a front-channel logout's `iss` must be. */
  issuer?: string;
}

/** What a consumed state's key holds afterwards; never a flow ID (those are 32 base64url characters). */
const STATE_USED = 'used';

const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/;

export function createOidcBackend(name: string, spec: OidcIdpSpec, options: OAuthBackendOptions): Backend {
  return oauthBackend(name, oidcProtocol(name, spec, options), options);
}

export function createOAuth2Backend(
  name: string,
  spec: OAuth2IdpSpec,
  options: OAuthBackendOptions,
): Backend {
  return oauthBackend(name, oauth2Protocol(name, spec, options), options);
}

/**
 * The backend shared by OIDC and plain OAuth 2.0: the `state` indexes the flow (consumed by the
 * first callback, which leaves it marked used so a replay is told apart from a forgery), and the callback is
 * judged only against this IdP's issuer. The nonce needs no marker of its own: it lives only in the
 * flow that its state finds, and that flow is taken once (ADR 0092).
 */
function oauthBackend(name: string, protocol: OAuthProtocol, options: OAuthBackendOptions): Backend {
  const { store, flowTtlSeconds } = options.context;
  // A state is `<flow's index>.<random>`: the index, a keyed hash of the flow's cookie, is the same for
  // each of the flow's authorization requests, so each choice replaces the one key `state:` holds for
  // the flow, however many are posted (a key per choice let one sign-in's choice form, posted again and
  // again, fill the store: ADR 0248); the random part is checked against the flow's own state, so the
  // answer to a superseded choice is still refused (ADR 0092).
  const flowIndexOf = keyedHash(options.sessionKeyMaterial, 'jsm-sso-broker', 'oidc-state');
  const stateKey = (state: string) => `state:${state.split('.')[0]}`;
  const sessionKeys = backchannelSessionKeys(options.sessionKeyMaterial);
  const verifyLogoutToken = protocol.verifyLogoutToken;
  const issuer = protocol.issuer;
  return {
    idp: name,
    logsInPassively: protocol.prompts,
    showsFreshLogin: protocol.prompts,
    loginCallback: {
      path: new URL(options.redirectUri).pathname,
      method: 'GET',
      browserBound: true,
      async flowOf(request) {
        const state = single(new URLSearchParams(request.rawQuery), 'state');
        if (!state)
          throw new JsmSsoError('OIDC_STATE_MISSING', "the identity provider's answer has no state");
        // One round trip: the flow's key comes back and STATE_USED stays in its place until the
        // state would have expired, so a second answer with it is a replay, not an unknown state.
        const flowKey = await store.takeLeaving(stateKey(state), STATE_USED, flowTtlSeconds);
        if (flowKey === undefined || flowKey === STATE_USED) {
          throw new JsmSsoError(
            flowKey === STATE_USED ? 'OIDC_STATE_REPLAYED' : 'OIDC_STATE_UNKNOWN',
            'this sign-in has expired or was already completed; start again from the help center',
          );
        }
        // What startLogin wrote: a flowKeyOf.
        return flowKey as FlowKey;
      },
    },
    logoutCallback: {
      path: new URL(options.postLogoutRedirectUri).pathname,
      claims: () => true,
      logoutOf: (request) => single(new URLSearchParams(request.rawQuery), 'state'),
    },
    services: [],
    ...(verifyLogoutToken
      ? {
          backchannelLogout: {
            path: new URL(options.backchannelLogoutUri).pathname,
            async verify(logoutToken) {
              const claims = await verifyLogoutToken(logoutToken);
              // The token's sid names one session at the IdP, which must be its sub's when it names
              // both (a token naming bob's sub and alice's sid ends neither); a sub alone, the
              // person's sessions (section 2.7). Each under every key held, a sid with the sub under the
              // same key, as a login keyed them (ADR 0304).
              const persons = claims.sub === undefined ? undefined : sessionKeys.subs(claims.sub);
              return {
                ends:
                  claims.sid === undefined
                    ? persons!.map((person) => ({ person }))
                    : sessionKeys.sids(claims.sid).map((session, i) => ({
                        session,
                        ...(persons === undefined ? {} : { person: persons[i]! }),
                      })),
                tokenId: claims.jti,
              };
            },
          },
        }
      : {}),
    ...(issuer
      ? {
          frontchannelLogout: {
            path: new URL(options.frontchannelLogoutUri).pathname,
            // The same index as a back-channel token's sid: the ID token's sid, hashed at sign-in.
            verify: (query) =>
              sessionKeys.sids(frontchannelSid(query, issuer)).map((session) => ({ session })),
            async frameAncestors() {
              // The issuer's pages, and its end_session_endpoint's when that is another origin (an
              // IdP with a separate sign-out host) and discovery has been read (which refuses one that
              // is no URL, or plain http off loopback: usableEndpoint).
              const c = await protocol.configuration().catch(() => undefined);
              const endSession = c ? metadataOf(c).end_session_endpoint : undefined;
              const origins = [issuer, ...(endSession ? [endSession] : [])];
              return [...new Set(origins.map((url) => new URL(url).origin))];
            },
          },
        }
      : {}),
    async loginOrigin() {
      const c = await protocol.configuration().catch(() => undefined);
      const endpoint = (c ? metadataOf(c) : undefined)?.authorization_endpoint;
      // Discovery refuses an endpoint that is no URL (usableEndpoint); a throw here would make the
      // choice page a 500 for every IdP of the tenant, so this one IdP is left out instead.
      return endpoint && URL.canParse(endpoint) ? new URL(endpoint).origin : undefined;
    },
    async authority() {
      const c = await protocol.configuration().catch(() => undefined);
      return c ? metadataOf(c).issuer : undefined;
    },
    async startLogin(flowId, prompt) {
      const c = await protocol.configuration();
      const { redirectUrl, pending } = await authorizationRequest(
        c,
        options.redirectUri,
        protocol.scope,
        protocol.extraAuthorizationParams,
        `${flowIndexOf(flowId)}.${client.randomState()}`,
        { withNonce: protocol.withNonce, sendsUiLocales: protocol.sendsUiLocales, ...prompt },
      );
      await store.put(stateKey(pending.state), flowKeyOf(flowId), flowTtlSeconds);
      return { redirectUrl, state: encodeState(pending) };
    },
    async finishLogin(request, state, budget = UNBOUNDED) {
      const pending = decodeState<PendingAuthorization>(state);
      // Each step that waits for the IdP (discovery if not yet read, the code grant, the JWKS, userinfo)
      // within the callback's budget (ADR 0276); the calls this sign-in alone makes, the code grant's and
      // userinfo's, are cut when it runs out (ADR 0283).
      const c = await budget.within(() => protocol.configuration());
      // The IdP this login was sent to, not whichever the tenant's entry names by the time the answer
      // comes (its issuer changed mid-flow): its code and PKCE verifier go to no other token endpoint
      // (RFC 9700 4.4, ADR 0268).
      if (pending.issuer !== metadataOf(c).issuer)
        throw new JsmSsoError(
          'FLOW_IDP_MISMATCH',
          'the answer came from another sign-in method than the one chosen; start again from the help center',
        );
      const callbackUrl = new URL(`${options.redirectUri}?${request.rawQuery}`);
      checkAuthorizationResponseIssuer(callbackUrl.searchParams, metadataOf(c).issuer);
      // The code grant with every check of the answer: state, PKCE, and for OIDC the ID token
      // (signature, iss, aud, nonce); openid-client's refusals become reason codes (guardProtocol).
      const tokens = await budget.within(() =>
        protocol.calls.cutWith({ codeVerifier: pending.codeVerifier }, budget.signal, () =>
          guardProtocol(c, () =>
            client.authorizationCodeGrant(c, callbackUrl, {
              pkceCodeVerifier: pending.codeVerifier,
              expectedState: pending.state,
              ...(protocol.withNonce ? { expectedNonce: pending.nonce, idTokenExpected: true } : {}),
            }),
          ),
        ),
      );
      const { checkIdToken } = protocol;
      // The grant above took the answer's one code (a repeated one is refused) to the token endpoint.
      const code = callbackUrl.searchParams.get('code')!;
      if (checkIdToken) await budget.within(() => checkIdToken(tokens, code));
      // RFC 6750 is the only token type the broker presents; a DPoP-bound token would be sent
      // as a bearer token it is not (RFC 9449 7.1), and any other type is unknown.
      if (tokens.token_type !== 'bearer') throw tokenTypeUnsupported();
      checkIdTokenClaims(tokens);
      if (pending.authenticatedAfter !== undefined)
        checkFreshAuthentication(tokens, pending.authenticatedAfter, pending.passive === true);
      if (pending.acrValues !== undefined) checkAuthenticationClass(tokens, pending.acrValues);
      const { subject, logout } = await budget.within(() =>
        protocol.calls.cutWith({ accessToken: tokens.access_token }, budget.signal, () =>
          protocol.identify(c, tokens),
        ),
      );
      // The IdP the person was sent to (core 3.4.1.5.1): the OIDC issuer, or the plain OAuth 2.0
      // server's configured issuer, else its stand-in (its authorization endpoint's origin).
      subject.authenticatingAuthorities = [metadataOf(c).issuer];
      const backchannelKeys = verifyLogoutToken ? backchannelKeysOf(tokens, sessionKeys) : undefined;
      return {
        subject,
        // Sealed: Entra ID's login_hint is opaque to us, yet the IdP's way to name the person (ADR 0233).
        ...(logout ? { logoutHandle: options.sealer.seal(encodeState(logout)) } : {}),
        ...(backchannelKeys ? { backchannelKeys } : {}),
        // Its back-channel or front-channel logout names the IdP session by the sid (ADR 0170).
        ...(backchannelKeys?.session === undefined
          ? {}
          : { idpSession: { session: backchannelKeys.session, person: backchannelKeys.person } }),
      };
    },
    async startLogout(logoutHandle, logoutId) {
      const c = await protocol.configuration();
      if (!protocol.endSessionEndpoint(c)) return undefined;
      // A handle that does not open (kept unsealed before, a key rotated since) gives no hint.
      const opened = options.sealer.openOrUndefined(logoutHandle);
      const handle = opened ? decodeState<OidcLogoutHandle>(opened) : {};
      // RP-Initiated Logout 1.0 section 2: client_id names the RP when no id_token_hint is sent; the
      // broker keeps no ID token, so nothing from the IdP rests in its session store.
      const url = client.buildEndSessionUrl(c, {
        client_id: c.clientMetadata().client_id,
        post_logout_redirect_uri: options.postLogoutRedirectUri,
        state: logoutId,
        ...(handle.logoutHint ? { logout_hint: handle.logoutHint } : {}),
      });
      return { redirectUrl: url.toString(), state: '' };
    },
    async finishLogout() {
      // The OP's redirect carries only our state: nothing more to check than that it is ours.
      return { success: true };
    },
  };
}

/**
 * How the broker indexes a session for back-channel logout: keyed hashes of the ID token's `sub`
 * and `sid` (ADR 0143's reasons: a sub is often an e-mail or a staff id), one key per kind so a sid
 * can never be taken for a sub. The issuer needs no place in the key: the index is per IdP. A login
 * is indexed under the sealing material (`sub`, `sid`); a logout looks under each material held
 * (`subs`, `sids`), so that it finds the sessions saved before a swap of the key (ADR 0304).
 */
function backchannelSessionKeys(keyMaterial: KeyMaterial) {
  const hash = subjectHasher(keyMaterial, 'backchannel-logout-session');
  const hashes = subjectHashes(keyMaterial, 'backchannel-logout-session');
  return {
    sub: (sub: string) => `sub:${hash('sub', sub)}`,
    sid: (sid: string) => `sid:${hash('sid', sid)}`,
    subs: (sub: string) => hashes('sub', sub).map((h) => `sub:${h}`),
    sids: (sid: string) => hashes('sid', sid).map((h) => `sid:${h}`),
  };
}

function backchannelKeysOf(
  tokens: client.TokenEndpointResponseHelpers,
  keys: ReturnType<typeof backchannelSessionKeys>,
): BackchannelKeys {
  const claims = tokens.claims()!;
  const sid = claims['sid'];
  return {
    person: keys.sub(claims.sub),
    ...(typeof sid === 'string' && sid !== '' ? { session: keys.sid(sid) } : {}),
  };
}

interface Discovered {
  c: client.Configuration;
  signature: IdTokenSignatureCheck;
  keys: IdpSigningKeys;
}

function oidcProtocol(name: string, spec: OidcIdpSpec, options: OAuthBackendOptions): OAuthProtocol {
  let discovered: Promise<Discovered> | undefined;
  const calls = signInCalls(options.fetch);
  const signedUserinfo = signedUserinfoKeeper(calls.fetch);
  // Discovery is cached once it succeeds; a failure is retried on the next login.
  const discovery = () => {
    discovered ??= discover(name, spec, options, signedUserinfo).catch((err: unknown) => {
      discovered = undefined;
      // A fault of the broker's own configuration (its client key type), or the outbound client's
      // refusal of the call (UPSTREAM_DNS_TIMEOUT: the IdP's name did not resolve, ADR 0206), is
      // reported as itself, not as the IdP being unreachable.
      const own = ownRefusalIn(err);
      if (own && own.status >= 500) throw own;
      // No answer, or no end of it, within the call's deadline: the IdP slow (ADR 0441).
      if (callTimedOut(err)) throw idpCallTimeout(err);
      throw new JsmSsoError('OIDC_DISCOVERY_FAILED', `the identity provider ${name} cannot be reached`, {
        status: 502,
        cause: err,
      });
    });
    return discovered;
  };
  // What a JWT from this IdP besides the ID token (a logout token, a signed userinfo answer) is held to.
  const tokenExpectations = async () => ({
    keys: (await discovery()).keys,
    algorithm: spec.idTokenSigningAlg,
    issuer: spec.issuer,
    clientId: spec.clientId,
  });
  return {
    configuration: async () => (await discovery()).c,
    async checkIdToken(tokens, code) {
      // openid-client was told an ID token is expected (idTokenExpected) and refuses an answer without one.
      await (await discovery()).signature(tokens.id_token!);
      checkAudience(tokens.claims()!, spec.clientId);
      checkTokenHashes(tokens, code, spec.idTokenSigningAlg);
    },
    scope: [...new Set(['openid', ...spec.scopes])].join(' '),
    extraAuthorizationParams: spec.extraAuthorizationParams,
    withNonce: true,
    sendsUiLocales: true,
    prompts: true,
    async identify(c, tokens) {
      const idToken = tokens.claims()!;
      // What the mapping reads: the checked answers read again, each number as the IdP wrote it
      // (exact-json.ts, ADR 0253); the checks above and below read openid-client's.
      let claims: Record<string, unknown> = { ...(jwtPayloadAsWritten(tokens.id_token!) ?? idToken) };
      if (metadataOf(c).userinfo_endpoint) {
        // fetchUserInfo refuses a userinfo `sub` that differs from the ID token's (OIDC Core 5.3.2).
        const {
          result: userinfo,
          jwt,
          json,
        } = await signedUserinfo.kept(tokens.access_token, () =>
          guardProtocol(c, () => client.fetchUserInfo(c, tokens.access_token, idToken.sub), 'userinfo'),
        );
        if (jwt !== undefined) await checkSignedUserinfo(jwt, await tokenExpectations());
        const asWritten =
          jwt !== undefined
            ? jwtPayloadAsWritten(jwt)
            : json === undefined
              ? undefined
              : objectAsWritten(json);
        claims = { ...(asWritten ?? userinfo), ...claims };
        const verified = emailVerifiedBeside(idToken, userinfo);
        if (verified === undefined) delete claims['email_verified'];
        else claims['email_verified'] = verified;
      }
      for (const protocolClaim of PROTOCOL_CLAIMS) delete claims[protocolClaim];
      const loginHint = idToken['login_hint'];
      return {
        subject: {
          idp: name,
          subject: idToken.sub,
          claims,
          emailVerified: saysEmailVerified(claims),
          ...(typeof idToken.acr === 'string' ? { authnContextClassRef: idToken.acr } : {}),
          ...(typeof idToken.auth_time === 'number' ? { authTime: new Date(idToken.auth_time * 1000) } : {}),
        },
        logout: typeof loginHint === 'string' ? { logoutHint: loginHint } : {},
      };
    },
    endSessionEndpoint: (c) => metadataOf(c).end_session_endpoint !== undefined,
    calls,
    issuer: spec.issuer,
    async verifyLogoutToken(logoutToken) {
      return verifyLogoutToken(logoutToken, {
        ...(await tokenExpectations()),
        now: options.context.now,
      });
    },
  };
}

/** OIDC Core 5.1: `email_verified` is a JSON boolean; the string "true" says nothing. */
function saysEmailVerified(claims: Record<string, unknown>): boolean {
  return claims['email_verified'] === true;
}

/**
 * The `email_verified` that speaks of the merged `email` (the ID token's, else the userinfo
 * answer's), undefined when none does. The flag says whether the address beside it was verified
 * (OIDC Core 5.1). For the ID token's address: its own flag, else the userinfo's only if the userinfo
 * names the same address; the userinfo's, about its own address, does not vouch for another (ADR
 * 0186). For the userinfo's address: its own flag; a bare flag in the ID token (no address beside
 * it) only when the userinfo has none, which keeps an IdP that splits one address across the two
 * answers working, and no longer overrides the userinfo's own `false` (ADR 0224).
 */
function emailVerifiedBeside(idToken: client.IDToken, userinfo: client.UserInfoResponse): unknown {
  if ('email' in idToken) {
    if ('email_verified' in idToken) return idToken['email_verified'];
    return userinfo.email === idToken['email'] ? userinfo.email_verified : undefined;
  }
  return 'email_verified' in userinfo ? userinfo.email_verified : idToken['email_verified'];
}

/** Claims about the token, not the person: never passed to the mapping. */
const PROTOCOL_CLAIMS = [
  'aud',
  'azp',
  'nonce',
  'at_hash',
  'c_hash',
  'sid',
  'exp',
  'iat',
  'nbf',
  'jti',
  'login_hint',
];

async function discover(
  name: string,
  spec: OidcIdpSpec,
  options: OAuthBackendOptions,
  signedUserinfo: SignedUserinfoKeeper,
): Promise<Discovered> {
  const auth = await clientAuthentication(spec, options.secrets);
  const c = await client.discovery(
    new URL(spec.issuer),
    spec.clientId,
    { id_token_signed_response_alg: spec.idTokenSigningAlg, redirect_uris: [options.redirectUri] },
    auth,
    {
      execute: insecureOnlyOnLoopback(spec.issuer),
      [client.customFetch]: customFetch(signedUserinfo.fetch),
      // Discovery's deadline; openid-client keeps it for every later call of the configuration
      // (token, userinfo).
      timeout: options.context.idpTimeoutMs / 1000,
    },
  );
  // Refused here, not at the first login that needs it: a discovery that fails is not cached, so the
  // IdP's corrected document is read at the next login, where one that succeeds is kept for good.
  identicalIssuer(name, c, spec.issuer);
  usableEndpoint(c, 'authorization_endpoint', spec.issuer);
  usableEndpoint(c, 'token_endpoint', spec.issuer);
  for (const optional of ['userinfo_endpoint', 'end_session_endpoint'] as const)
    if (metadataOf(c)[optional] !== undefined) usableEndpoint(c, optional, spec.issuer);
  // The ID token's signature is verified against the JWKS even though the token comes over TLS:
  // TLS alone would leave the broker trusting whatever the token endpoint's network path says.
  // One copy of the keys for ID tokens and logout tokens alike.
  const keys = idpSigningKeys({
    idp: name,
    jwksUri: usableEndpoint(c, 'jwks_uri', spec.issuer),
    fetch: options.fetch,
    timeoutMs: options.context.idpTimeoutMs,
    now: options.context.now,
    logger: options.context.logger,
    countFailedRead: () => options.context.keyReadFailed(name, 'oidc_jwks'),
  });
  return { c, signature: idTokenSignatureCheck(keys, spec.idTokenSigningAlg), keys };
}

/**
 * OIDC Discovery 1.0 section 4.3: the document's `issuer` is identical to the configured issuer, or
 * nothing in it is used. openid-client compares the two as parsed URLs (a trailing slash, letter
 * case, a dot segment, `2130706433` for 127.0.0.1 all pass) and not at all when the configured
 * issuer names `/.well-known/`; the document's issuer then judged ID tokens and RFC 9207 `iss`, the
 * configured one logout tokens, and the document could name another IdP's issuer (ADR 0237).
 */
function identicalIssuer(name: string, c: client.Configuration, issuer: string): void {
  const discovered = metadataOf(c).issuer;
  if (discovered === issuer) return;
  throw new JsmSsoError(
    'OIDC_DISCOVERY_FAILED',
    "the identity provider's discovery document names another issuer than the configured one",
    { status: 502, where: { idp: name, discoveredIssuer: discovered.slice(0, 256) } },
  );
}

/**
 * An endpoint of the discovery document the broker calls or sends the person to (jwks_uri,
 * authorization_endpoint, token_endpoint, userinfo_endpoint, end_session_endpoint), held to the rule
 * openid-client holds the endpoints it calls to: a URL, https, or plain http only on loopback for an IdP
 * on loopback. openid-client's discovery checks none: an authorization_endpoint that is no URL was kept,
 * and made the choice page a 500 (ADR 0224); a token or userinfo endpoint over plain http was found only
 * once the person had signed in at the IdP and its code was spent (ADR 0324); the person's browser was
 * sent to an end_session_endpoint over plain http with the IdP's logout_hint for her (ADR 0333).
 * The broker reads no other endpoint of the document (no registration, revocation or PAR).
 */
function usableEndpoint(
  c: client.Configuration,
  endpoint:
    | 'jwks_uri'
    | 'authorization_endpoint'
    | 'token_endpoint'
    | 'userinfo_endpoint'
    | 'end_session_endpoint',
  issuer: string,
): URL {
  const uri = metadataOf(c)[endpoint];
  const url = uri !== undefined && URL.canParse(uri) ? new URL(uri) : undefined;
  const loopbackHttp = url?.protocol === 'http:' && LOOPBACK_HTTP.test(issuer) && LOOPBACK_HTTP.test(uri!);
  if (!url || (url.protocol !== 'https:' && !loopbackHttp)) {
    throw new JsmSsoError(
      'OIDC_DISCOVERY_FAILED',
      `the identity provider's discovery document names no usable ${endpoint}`,
      { status: 502 },
    );
  }
  return url;
}

function oauth2Protocol(name: string, spec: OAuth2IdpSpec, options: OAuthBackendOptions): OAuthProtocol {
  const secret = options.secrets.read(spec.clientSecretRef.name, spec.clientSecretRef.key).trim();
  const auth =
    spec.clientAuthMethod === 'client_secret_post'
      ? client.ClientSecretPost(secret)
      : client.ClientSecretBasic(secret);
  // The tenant's configured issuer (RFC 8414), compared with RFC 9207 `iss` as written (its 2.4)
  // and then required with every authorization response: 2.4 has a client reject a response without
  // `iss` from a server that sends it "according to a client's configuration", and a server whose
  // issuer the tenant wrote down is one (ADR 0243). Else no issuer is known: the authorization
  // endpoint's origin stands in, so an `iss` that some servers send is still compared with
  // something this IdP owns, and none is required.
  const c = new client.Configuration(
    {
      issuer: spec.issuer ?? new URL(spec.authorizationEndpoint).origin,
      ...(spec.issuer === undefined ? {} : { authorization_response_iss_parameter_supported: true }),
      authorization_endpoint: spec.authorizationEndpoint,
      token_endpoint: spec.tokenEndpoint,
      userinfo_endpoint: spec.userinfoEndpoint,
    },
    spec.clientId,
    { redirect_uris: [options.redirectUri] },
    auth,
  );
  const calls = signInCalls(options.fetch);
  c[client.customFetch] = customFetch(calls.fetch);
  c.timeout = options.context.idpTimeoutMs / 1000;
  for (const step of insecureOnlyOnLoopback(spec.authorizationEndpoint)) step(c);
  return {
    configuration: async () => c,
    scope: (spec.scopes ?? []).join(' '),
    extraAuthorizationParams: spec.extraAuthorizationParams,
    withNonce: false,
    sendsUiLocales: false,
    prompts: false,
    async identify(c, tokens) {
      const response = await guardProtocol(c, () =>
        client.fetchProtectedResource(c, tokens.access_token, new URL(spec.userinfoEndpoint), 'GET'),
      );
      // A server error (a proxy's 503 in front of it) or a rate limit is the IdP failing, as for OIDC's
      // userinfo: not an answer the broker could not use.
      if (idpFailingStatus(response.status))
        throw idpUnavailable(`the identity provider's user endpoint answered HTTP ${response.status}`);
      const user = response.ok ? userOfAnswer(await response.text().catch(() => '')) : undefined;
      if (!user) {
        throw new JsmSsoError(
          'OAUTH2_USERINFO_INVALID',
          `the identity provider ${name} returned no usable user information`,
          {
            status: 502,
          },
        );
      }
      return {
        subject: { idp: name, ...user, emailVerified: saysEmailVerified(user.claims) },
      };
    },
    endSessionEndpoint: () => false,
    calls,
  };
}

async function authorizationRequest(
  c: client.Configuration,
  redirectUri: string,
  scope: string,
  extra: Record<string, string | undefined> | undefined,
  state: string,
  {
    withNonce,
    sendsUiLocales,
    forceAuthn,
    isPassive,
    locale,
    acrValues,
    loginHint,
  }: LoginPrompt & { withNonce: boolean; sendsUiLocales: boolean },
): Promise<{ redirectUrl: string; pending: PendingAuthorization }> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = withNonce ? client.randomNonce() : undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined) parameters[key] = value;
  // The tenant's own prompt=login asks for a fresh sign-in, as ForceAuthn does, and is held to the same
  // way (ADR 0297): max_age=0 makes auth_time a required claim (OIDC Core 3.1.2.1), checked below. The
  // prompt alone is only a request that crosses the person's browser, which can drop it, to an IdP
  // that may not honour it. With a passive request it goes with prompt=none, which no session can
  // then meet without a sign-in: NoPassive.
  if (withNonce && parameters['prompt']?.split(' ').includes('login')) parameters['max_age'] = '0';
  // The tenant's own acr_values is held to (checkAuthenticationClass); the SP's, added below, only with
  // spec.broker.requestedAuthnContext: Enforce (ADR 0140), by the frontend.
  const tenantAcrValues = withNonce ? parameters['acr_values']?.split(' ').filter(Boolean) : undefined;
  // The tenant's own ui_locales (extraAuthorizationParams), if it set one, stays.
  if (sendsUiLocales && locale && parameters['ui_locales'] === undefined) parameters['ui_locales'] = locale;
  // The SP's RequestedAuthnContext, as a voluntary acr request (OIDC Core 3.1.2.1); what comes back
  // is checked by the frontend. A tenant's own acr_values stays.
  if (withNonce && acrValues?.length && parameters['acr_values'] === undefined)
    parameters['acr_values'] = acrValues.join(' ');
  // OIDC's login_hint (plain OAuth 2.0 has none); a tenant's own login_hint stays.
  if (withNonce && loginHint && parameters['login_hint'] === undefined) parameters['login_hint'] = loginHint;
  Object.assign(parameters, {
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    state,
    code_challenge: pkceS256Challenge(codeVerifier),
    code_challenge_method: 'S256',
    ...(nonce ? { nonce } : {}),
    ...(isPassive ? { prompt: 'none' } : {}),
    // ForceAuthn (SAML core 3.4.1): prompt=login asks for it, beside the tenant's own prompt values
    // (consent, select_account), which it does not replace; max_age=0 makes `auth_time` a required
    // claim (OIDC Core 3.1.2.1), so that finishLogin can check the IdP did it.
    ...(forceAuthn && !isPassive
      ? { prompt: withLogin(parameters['prompt']), ...(withNonce ? { max_age: '0' } : {}) }
      : {}),
  });
  // Whatever max_age went out, ForceAuthn's, the tenant's prompt=login's or the tenant's own
  // (extraAuthorizationParams), is held to: OIDC Core 3.1.2.1 makes auth_time a required claim then,
  // and 3.1.3.7 (13) leaves the check to the client. Plain OAuth 2.0 has no auth_time (the CRD
  // refuses max_age and prompt=login for it).
  const maxAge = withNonce ? parameters['max_age'] : undefined;
  return {
    redirectUrl: client.buildAuthorizationUrl(c, parameters).toString(),
    pending: {
      issuer: metadataOf(c).issuer,
      state,
      codeVerifier,
      ...(nonce ? { nonce } : {}),
      ...(maxAge === undefined ? {} : { authenticatedAfter: Math.floor(Date.now() / 1000) - Number(maxAge) }),
      ...(maxAge !== undefined && isPassive ? { passive: true as const } : {}),
      ...(tenantAcrValues?.length ? { acrValues: tenantAcrValues } : {}),
    },
  };
}

/**
 * A `prompt` (OIDC Core 3.1.2.1: space-delimited values) that asks for a login, keeping the tenant's
 * other values, consent or select_account (ADR 0301); the tenant's own `none` is refused at admission.
 */
function withLogin(tenantPrompt: string | undefined): string {
  const kept = (tenantPrompt ?? '').split(' ').filter((value) => value !== '' && value !== 'login');
  return [...kept, 'login'].join(' ');
}

function tokenTypeUnsupported(): JsmSsoError {
  return new JsmSsoError(
    'OIDC_TOKEN_TYPE_UNSUPPORTED',
    "the identity provider's token is not a bearer token",
    {
      status: 400,
    },
  );
}

/** The ID token's `aud` and `azp` name the broker alone (oidc-audience.ts, ADR 0198). */
function checkAudience(idToken: client.IDToken, clientId: string): void {
  if (audienceFault(idToken, clientId) === undefined) return;
  throw new JsmSsoError('OIDC_ID_TOKEN_AUDIENCE_MISMATCH', 'the ID token is not for the broker alone', {
    status: 400,
  });
}

/** The ID token's `at_hash` and `c_hash`, when present, are of its access token and code (ADR 0324). */
function checkTokenHashes(
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  code: string,
  algorithm: OidcIdpSpec['idTokenSigningAlg'],
): void {
  const fault = tokenHashFault(tokens.claims()!, { accessToken: tokens.access_token, code }, algorithm);
  if (fault === undefined) return;
  throw new JsmSsoError(
    'OIDC_ID_TOKEN_HASH_MISMATCH',
    `the ID token's ${fault} is not of the ${fault === 'at_hash' ? 'access token' : 'code'} it came with`,
    { status: 400 },
  );
}

/** OIDC Core 2: `sub` "MUST NOT exceed 255 ASCII characters in length". */
const MAX_SUBJECT_LENGTH = 255;

/**
 * What openid-client leaves of OIDC Core 2's claims. An ID token issued in the future comes from a
 * clock not to be trusted (3.1.3.7 (10)): openid-client checks `exp` and `nbf` but only the type of
 * `iat`. The same of an `auth_time` in the future, which would pass any max_age and become the
 * Response's AuthnInstant (ADR 0198). And `sub` only as a string: an empty one is no identifier, and
 * an IdP sending it for several people would make them one subject for the audit hash and the
 * back-channel logout index (ADR 0253); nor its length, so a subject past OIDC Core 2's limit was
 * carried on into the hash, the index and the mapping (ADR 0301).
 */
function checkIdTokenClaims(tokens: client.TokenEndpointResponseHelpers): void {
  const claims = tokens.claims();
  if (claims?.sub === '')
    throw new JsmSsoError('OIDC_RESPONSE_INVALID', "the identity provider's ID token names no subject", {
      status: 400,
    });
  if (claims !== undefined && claims.sub.length > MAX_SUBJECT_LENGTH)
    throw new JsmSsoError(
      'OIDC_RESPONSE_INVALID',
      `the identity provider's ID token names a subject longer than ${MAX_SUBJECT_LENGTH} characters`,
      { status: 400 },
    );
  const latest = Date.now() / 1000 + IDP_CLOCK_TOLERANCE_SECONDS;
  for (const claim of ['iat', 'auth_time'] as const) {
    const instant = claims?.[claim];
    if (typeof instant === 'number' && instant > latest)
      throw new JsmSsoError(
        'OIDC_RESPONSE_INVALID',
        `the identity provider's ID token has ${claim} in the future`,
        {
          status: 400,
        },
      );
  }
}

/**
 * The max_age sent honoured (ForceAuthn's 0, ADR 0139, or the tenant's, ADR 0186): the ID token says
 * the person authenticated no earlier than max_age before the request was sent (within the clock
 * tolerance), not that an older session at the IdP was reused. Counted from when the request left,
 * not from now as openid-client's `maxAge` check does: the time the person spends at the IdP's login
 * form is not the age of her authentication. The IdP's answer for this login, checked to be its own:
 * the portal is told it failed (Responder/AuthnFailed), as for the IdP's own error; for a passive
 * login, that it could not be done without interaction (Responder/NoPassive, ADR 0376).
 */
function checkFreshAuthentication(
  tokens: client.TokenEndpointResponseHelpers,
  authenticatedAfter: number,
  passive: boolean,
): void {
  const authTime = tokens.claims()?.auth_time;
  if (!authenticatedSince(typeof authTime === 'number' ? authTime : undefined, authenticatedAfter)) {
    throw new IdpRefusal('OIDC_AUTHENTICATION_NOT_FRESH', passive ? 'interaction_required' : 'failed');
  }
}

/**
 * The tenant's own acr_values honoured (OIDC Core 3.1.3.7 (12): the client SHOULD check the asserted
 * `acr`; ADR 0268): the ID token's `acr` is one of the classes it listed. The request crosses the
 * person's browser, which can drop or change the parameter, and an IdP may ignore a voluntary request
 * and sign in with a weaker class (a password where the tenant asked for multi-factor). As for max_age,
 * the IdP's answer for this login, checked to be its own: the portal is told it failed.
 */
function checkAuthenticationClass(tokens: client.TokenEndpointResponseHelpers, acrValues: string[]): void {
  const acr = tokens.claims()?.acr;
  if (typeof acr !== 'string' || !acrValues.includes(acr)) throw new IdpRefusal('OIDC_ACR_NOT_MET', 'failed');
}

async function clientAuthentication(spec: OidcIdpSpec, secrets: SecretReader): Promise<client.ClientAuth> {
  if (spec.clientAuthMethod === 'private_key_jwt') {
    const ref = spec.privateKeySecretRef!;
    return client.PrivateKeyJwt(await importClientKey(secrets.read(ref.name, ref.key), ref));
  }
  const ref = spec.clientSecretRef!;
  const secret = secrets.read(ref.name, ref.key).trim();
  return spec.clientAuthMethod === 'client_secret_post'
    ? client.ClientSecretPost(secret)
    : client.ClientSecretBasic(secret);
}

/**
 * The private_key_jwt key from its Secret. A key that does not parse or is of a type the broker
 * cannot sign with is the tenant's configuration at fault, neither the person nor the IdP (500);
 * the log line names the Secret and key, never the key.
 */
function importClientKey(pem: string, ref: { name: string; key: string }) {
  const unsupported = (what: string) =>
    new JsmSsoError('OIDC_CLIENT_KEY_UNSUPPORTED', `private_key_jwt key ${what}`, {
      status: 500,
      where: { secretName: ref.name, secretKeyName: ref.key },
    });
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw unsupported('is not a PEM private key');
  }
  const type = key.asymmetricKeyType;
  const alg =
    type === 'rsa'
      ? 'RS256'
      : type === 'ed25519'
        ? 'EdDSA'
        : type === 'ec'
          ? ecAlg(key.asymmetricKeyDetails?.namedCurve)
          : undefined;
  if (!alg) throw unsupported(`type ${type} is not supported`);
  return importPKCS8(key.export({ type: 'pkcs8', format: 'pem' }).toString(), alg);
}

function ecAlg(curve: string | undefined): string | undefined {
  return { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[curve ?? ''];
}

/**
 * The IdP's metadata, read once per configuration. openid-client's `serverMetadata()` returns a
 * fresh structured clone on every call; the metadata never changes after discovery, and the
 * broker read it up to three times per sign-in.
 */
const metadataCache = new WeakMap<client.Configuration, client.ServerMetadata>();
function metadataOf(c: client.Configuration): client.ServerMetadata {
  let metadata = metadataCache.get(c);
  if (!metadata) {
    metadata = c.serverMetadata();
    metadataCache.set(c, metadata);
  }
  return metadata;
}

/**
 * RFC 7636 section 4.2 S256: BASE64URL(SHA-256(ASCII(code_verifier))). Hashed here with a one-shot
 * node:crypto digest: openid-client's WebCrypto digest is a threadpool job per sign-in for 43 octets.
 */
export function pkceS256Challenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/** openid-client's fetch hook: its request bodies (string, URLSearchParams) are fetch bodies. */
function customFetch(fetchImpl: typeof globalThis.fetch): client.CustomFetch {
  return (url, init) => fetchImpl(url, init as RequestInit);
}

function insecureOnlyOnLoopback(url: string): Array<(c: client.Configuration) => void> {
  return LOOPBACK_HTTP.test(url) ? [client.allowInsecureRequests] : [];
}

/** Runs an openid-client call; its refusals become broker refusals (oidc-refusals.ts). */
async function guardProtocol<T>(
  c: client.Configuration,
  operation: () => Promise<T>,
  claimsOf?: ClaimsOf,
): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw protocolRefusal(err, metadataOf(c).issuer, claimsOf);
  }
}
