import { createPrivateKey, type KeyObject } from 'node:crypto';
import { importPKCS8 } from 'jose';
import * as client from 'openid-client';
import type { SecretDirectory } from '../../common/config/secrets.js';
import type {
  IdentityProviderSpec,
  OAuth2IdpSpec,
  OidcIdpSpec,
} from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import type { AuthenticatedSubject } from '../subject.js';

/**
 * The broker as an OpenID Connect relying party (or plain OAuth 2.0 client) toward one of the
 * tenant's IdPs: authorization code flow with PKCE S256, state and nonce always sent and checked,
 * the expected issuer kept with the state (RFC 9207 `iss` checked when sent, mix-up defence),
 * ID token signature checked against the IdP's JWKS with only the registered algorithm.
 */

/** What must survive between the redirect to the IdP and its callback; kept in the flow store. */
export interface PendingAuthorization {
  idp: string;
  /** The issuer this authorization was sent to; the callback must come from the same one. */
  issuer: string;
  state: string;
  nonce?: string;
  codeVerifier: string;
}

export interface OidcLoginResult {
  subject: AuthenticatedSubject;
  /** Kept only for RP-initiated logout (`id_token_hint`). */
  idToken?: string;
}

export interface OAuthBackend {
  readonly idp: string;
  readonly protocol: 'oidc' | 'oauth2';
  startLogin(options: LoginPrompt): Promise<{ redirectUrl: string; pending: PendingAuthorization }>;
  /** `callbackUrl` is the full redirect URI with the IdP's query parameters. */
  handleCallback(callbackUrl: URL, pending: PendingAuthorization): Promise<OidcLoginResult>;
  /** The IdP's RP-initiated logout URL, or undefined when the IdP has no end_session_endpoint. */
  endSessionUrl(idTokenHint: string, state: string): Promise<string | undefined>;
}

/**
 * What the SAML AuthnRequest asked of the login: ForceAuthn becomes `prompt=login` (authenticate
 * again), IsPassive `prompt=none` (show nothing; the IdP answers login_required instead).
 */
export interface LoginPrompt {
  forceAuthn: boolean;
  isPassive?: boolean;
}

export interface OAuthBackendOptions {
  idp: IdentityProviderSpec;
  secrets: SecretDirectory;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** Every call to the IdP (discovery, JWKS, token, userinfo) goes through it (common/tls). */
  fetch: typeof globalThis.fetch;
}

/**
 * The IdP answered the authorization request with an OAuth error (RFC 6749 4.1.2.1), after the
 * answer's state and issuer were checked: the login failed at the IdP, and the SP is told so.
 */
export class IdpErrorResponse extends JsmSsoError {
  constructor(
    /** The OAuth `error` code, e.g. access_denied, login_required. */
    readonly idpError: string,
    cause: unknown,
  ) {
    super('OIDC_IDP_ERROR', 'the identity provider did not sign you in', { status: 403, cause });
    this.name = 'IdpErrorResponse';
  }
}

const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/;

export function createOAuthBackend(options: OAuthBackendOptions): OAuthBackend {
  const { idp } = options;
  if (idp.oidc) return oidcBackend(idp.name, idp.oidc, options);
  if (idp.oauth2) return oauth2Backend(idp.name, idp.oauth2, options);
  throw new JsmSsoError(
    'BACKEND_UNSUPPORTED',
    `identity provider ${idp.name} is not an OIDC or OAuth 2.0 provider`,
  );
}

function oidcBackend(name: string, spec: OidcIdpSpec, options: OAuthBackendOptions): OAuthBackend {
  let configuration: Promise<client.Configuration> | undefined;
  // Discovery is cached once it succeeds; a failure is retried on the next login.
  const config = () => {
    configuration ??= discover(spec, options).catch((err: unknown) => {
      configuration = undefined;
      throw new JsmSsoError('OIDC_DISCOVERY_FAILED', `the identity provider ${name} cannot be reached`, {
        status: 502,
        cause: err,
      });
    });
    return configuration;
  };
  return {
    idp: name,
    protocol: 'oidc',
    async startLogin(prompt) {
      const c = await config();
      const scopes = new Set(['openid', ...spec.scopes]);
      return authorizationRequest(
        c,
        name,
        options.redirectUri,
        [...scopes].join(' '),
        spec.extraAuthorizationParams,
        { withNonce: true, ...prompt },
      );
    },
    async handleCallback(callbackUrl, pending) {
      const c = await config();
      const tokens = await guardProtocol(() =>
        client.authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        }),
      );
      const idToken = tokens.claims()!;
      let claims: Record<string, unknown> = { ...idToken };
      if (c.serverMetadata().userinfo_endpoint) {
        // fetchUserInfo refuses a userinfo `sub` that differs from the ID token's (OIDC Core 5.3.2).
        const userinfo = await guardProtocol(() => client.fetchUserInfo(c, tokens.access_token, idToken.sub));
        claims = { ...userinfo, ...claims };
      }
      for (const protocolClaim of [
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
      ]) {
        delete claims[protocolClaim];
      }
      return {
        subject: {
          idp: name,
          subject: idToken.sub,
          claims,
          ...(typeof idToken.acr === 'string' ? { authnContextClassRef: idToken.acr } : {}),
          ...(typeof idToken.auth_time === 'number' ? { authTime: new Date(idToken.auth_time * 1000) } : {}),
        },
        ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
      };
    },
    async endSessionUrl(idTokenHint, state) {
      const c = await config();
      if (!c.serverMetadata().end_session_endpoint) return undefined;
      return client
        .buildEndSessionUrl(c, {
          id_token_hint: idTokenHint,
          post_logout_redirect_uri: options.postLogoutRedirectUri,
          state,
        })
        .toString();
    },
  };
}

async function discover(spec: OidcIdpSpec, options: OAuthBackendOptions): Promise<client.Configuration> {
  const auth = await clientAuthentication(spec, options.secrets);
  // discovery() refuses a document whose `issuer` is not exactly the configured one.
  const c = await client.discovery(
    new URL(spec.issuer),
    spec.clientId,
    { id_token_signed_response_alg: spec.idTokenSigningAlg, redirect_uris: [options.redirectUri] },
    auth,
    { execute: insecureOnlyOnLoopback(spec.issuer), [client.customFetch]: customFetch(options.fetch) },
  );
  // Verify ID token signatures against the JWKS even though they come over TLS: TLS alone would
  // leave the broker trusting whatever the token endpoint's network path says.
  client.enableNonRepudiationChecks(c);
  return c;
}

function oauth2Backend(name: string, spec: OAuth2IdpSpec, options: OAuthBackendOptions): OAuthBackend {
  const secret = options.secrets.read(spec.clientSecretRef.name, spec.clientSecretRef.key).trim();
  const auth =
    spec.clientAuthMethod === 'client_secret_post'
      ? client.ClientSecretPost(secret)
      : client.ClientSecretBasic(secret);
  // Plain OAuth 2.0 has no issuer identifier; the authorization endpoint's origin stands in so an
  // RFC 9207 `iss` that some servers send is still compared with something this IdP owns.
  const c = new client.Configuration(
    {
      issuer: new URL(spec.authorizationEndpoint).origin,
      authorization_endpoint: spec.authorizationEndpoint,
      token_endpoint: spec.tokenEndpoint,
      userinfo_endpoint: spec.userinfoEndpoint,
    },
    spec.clientId,
    { redirect_uris: [options.redirectUri] },
    auth,
  );
  c[client.customFetch] = customFetch(options.fetch);
  for (const step of insecureOnlyOnLoopback(spec.authorizationEndpoint)) step(c);
  return {
    idp: name,
    protocol: 'oauth2',
    async startLogin(prompt) {
      return authorizationRequest(
        c,
        name,
        options.redirectUri,
        (spec.scopes ?? []).join(' '),
        spec.extraAuthorizationParams,
        { withNonce: false, ...prompt },
      );
    },
    async handleCallback(callbackUrl, pending) {
      const tokens = await guardProtocol(() =>
        client.authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
        }),
      );
      const response = await guardProtocol(() =>
        client.fetchProtectedResource(c, tokens.access_token, new URL(spec.userinfoEndpoint), 'GET'),
      );
      const claims = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      const subject = claims?.['sub'] ?? claims?.['id'];
      if (!response.ok || !claims || (typeof subject !== 'string' && typeof subject !== 'number')) {
        throw new JsmSsoError(
          'OAUTH2_USERINFO_INVALID',
          `the identity provider ${name} returned no usable user information`,
          {
            status: 502,
          },
        );
      }
      return { subject: { idp: name, subject: String(subject), claims } };
    },
    async endSessionUrl() {
      return undefined;
    },
  };
}

async function authorizationRequest(
  c: client.Configuration,
  idp: string,
  redirectUri: string,
  scope: string,
  extra: Record<string, string | undefined> | undefined,
  { withNonce, forceAuthn, isPassive }: LoginPrompt & { withNonce: boolean },
): Promise<{ redirectUrl: string; pending: PendingAuthorization }> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = withNonce ? client.randomNonce() : undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra ?? {})) if (value !== undefined) parameters[key] = value;
  Object.assign(parameters, {
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...(nonce ? { nonce } : {}),
    ...(isPassive ? { prompt: 'none' } : forceAuthn ? { prompt: 'login' } : {}),
  });
  return {
    redirectUrl: client.buildAuthorizationUrl(c, parameters).toString(),
    pending: { idp, issuer: c.serverMetadata().issuer, state, codeVerifier, ...(nonce ? { nonce } : {}) },
  };
}

async function clientAuthentication(spec: OidcIdpSpec, secrets: SecretDirectory): Promise<client.ClientAuth> {
  if (spec.clientAuthMethod === 'private_key_jwt') {
    const ref = spec.privateKeySecretRef!;
    return client.PrivateKeyJwt(await importClientKey(createPrivateKey(secrets.read(ref.name, ref.key))));
  }
  const ref = spec.clientSecretRef!;
  const secret = secrets.read(ref.name, ref.key).trim();
  return spec.clientAuthMethod === 'client_secret_post'
    ? client.ClientSecretPost(secret)
    : client.ClientSecretBasic(secret);
}

function importClientKey(key: KeyObject) {
  const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const type = key.asymmetricKeyType;
  const alg =
    type === 'rsa'
      ? 'RS256'
      : type === 'ed25519'
        ? 'EdDSA'
        : type === 'ec'
          ? ecAlg(key.asymmetricKeyDetails?.namedCurve)
          : undefined;
  if (!alg)
    throw new JsmSsoError('OIDC_CLIENT_KEY_UNSUPPORTED', `private_key_jwt key type ${type} is not supported`);
  return importPKCS8(pkcs8, alg);
}

function ecAlg(curve: string | undefined): string | undefined {
  return { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[curve ?? ''];
}

/** openid-client's fetch hook: its request bodies (string, URLSearchParams) are fetch bodies. */
function customFetch(fetchImpl: typeof globalThis.fetch): client.CustomFetch {
  return (url, init) => fetchImpl(url, init as RequestInit);
}

function insecureOnlyOnLoopback(url: string): Array<(c: client.Configuration) => void> {
  return LOOPBACK_HTTP.test(url) ? [client.allowInsecureRequests] : [];
}

/**
 * openid-client's refusals become broker refusals with a stable reason; the IdP's own error
 * response (e.g. access_denied) is a refusal too. Anything else (network) is a 502.
 */
async function guardProtocol<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw protocolRefusal(err);
  }
}

const REFUSALS: Array<[RegExp, string]> = [
  [/"iss" \(issuer\) response parameter|response parameter "iss"/, 'OIDC_ISSUER_MISMATCH'],
  [/"state" response parameter|response parameter "state"/, 'OIDC_STATE_MISMATCH'],
  [/"iss" \(issuer\) claim/, 'OIDC_ID_TOKEN_ISSUER_MISMATCH'],
  [/"aud" \(audience\) claim|untrusted audiences|"azp"/, 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH'],
  [/"nonce" claim/, 'OIDC_ID_TOKEN_NONCE_MISMATCH'],
  [/"alg" header|algorithm/i, 'OIDC_ID_TOKEN_ALG_FORBIDDEN'],
  [/signature verification failed/, 'OIDC_ID_TOKEN_SIGNATURE_INVALID'],
  [/"sub"/, 'OIDC_USERINFO_SUBJECT_MISMATCH'],
];

function causeChain(err: unknown): string[] {
  const messages: string[] = [];
  for (let e = err; e instanceof Error && messages.length < 5; e = e.cause) messages.push(e.message);
  return messages;
}

function protocolRefusal(err: unknown): JsmSsoError {
  if (err instanceof JsmSsoError) return err;
  if (err instanceof client.AuthorizationResponseError) return new IdpErrorResponse(err.error, err);
  // openid-client wraps oauth4webapi's precise error (the one naming the failed check) as `cause`.
  const message = causeChain(err).join('\n');
  const code = (err as { code?: unknown }).code;
  for (const [pattern, reason] of REFUSALS) {
    if (pattern.test(message))
      return new JsmSsoError(reason, "the identity provider's answer failed a security check", {
        status: 400,
        cause: err,
      });
  }
  if (typeof code === 'string' && code.startsWith('OAUTH_') && code !== 'OAUTH_RESPONSE_BODY_ERROR') {
    return new JsmSsoError(
      'OIDC_RESPONSE_INVALID',
      "the identity provider's answer failed a security check",
      { status: 400, cause: err },
    );
  }
  return new JsmSsoError('OIDC_IDP_UNAVAILABLE', 'the identity provider could not complete the sign-in', {
    status: 502,
    cause: err,
  });
}
