import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';
import { html } from '../../common/http/html.js';
import { allowFormAction, pageNonce, setSecurityHeaders } from '../../common/http/security-headers.js';
import {
  enableFrontchannelLogout,
  FRONTCHANNEL_CLIENT_METADATA,
  validateFrontchannelMetadata,
} from './frontchannel-logout.js';
import { claimsOf, DEV_PASSWORD, DEV_USERS, type DevUser } from './users.js';

/**
 * A development OpenID Connect provider: panva's oidc-provider with a plain login page and the
 * seeded users. For `npm start` and for tests that need a real provider; never for production.
 */

export const DEV_ACR = 'urn:jsm-sso:dev:password';
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export interface DevIdpOptions {
  port?: number;
  host?: string;
  clients: ClientMetadata[];
  /** Required to listen on a non-loopback address. */
  allowNonLoopback?: boolean;
  /** The people this IdP knows (default: every seeded user). */
  users?: readonly DevUser[];
  /** Serve HTTPS with this PEM key and certificate (the issuer is then https://). */
  tls?: { key: string; cert: string };
  /** The URL clients reach it at, when that is not its own address (a proxy in front of it, in tests). */
  issuer?: string;
  /** Private signing JWKs, published in this order; the first signs (default: one new RS256 key). */
  signingKeys?: JWK[];
  /**
   * Koa middleware run around the provider's own, on every start (tests: an answer the provider
   * cannot be configured to give, such as a Cache-Control header on its JWKS).
   */
  middleware?: Array<Parameters<Provider['use']>[0]>;
}

export interface DevIdp {
  issuer: string;
  provider: Provider;
  /** The listening server (tests count its connections). */
  server: Server;
  /**
   * Restarts the provider (same issuer, port, clients and people) with these private signing JWKs,
   * as an IdP's redeployment rotates its keys: the first signs from the next token on, and the JWKS
   * publishes exactly these from the same moment.
   */
  restartWithSigningKeys(keys: JWK[]): Promise<void>;
  close(): Promise<void>;
}

/** A new RS256 private signing JWK with a random kid, for `signingKeys`. */
export async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') };
}

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? DEV_USERS;
  if (!LOOPBACK.test(host) && !options.allowNonLoopback) {
    throw new Error(
      `the development IdP listens only on loopback (asked for ${host}); see --i-know-this-is-not-production`,
    );
  }
  // The issuer names the port, so the server listens before the provider exists; a request that
  // arrives in between is held until the handler is ready, never left unanswered.
  let attach!: (handler: RequestListener) => void;
  const handlerReady = new Promise<RequestListener>((resolve) => {
    attach = resolve;
  });
  const handle: RequestListener = (req, res) => void handlerReady.then((handler) => handler(req, res));
  const server: Server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer =
    options.issuer ??
    `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const formAction = loginFormAction(options.clients);
  const handlerFor = (provider: Provider): RequestListener => {
    for (const middleware of options.middleware ?? []) provider.use(middleware);
    const oidc = provider.callback();
    return (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const interaction = /^\/interaction\/([-\w]+)(\/login)?$/.exec(path);
      if (interaction) {
        handleInteraction(provider, req, res, interaction[2] !== undefined, formAction, users).catch(() => {
          if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
          res.end('this sign-in attempt has expired; start again\n');
        });
        return;
      }
      oidc(req, res);
    };
  };
  let provider: Provider;
  try {
    provider = await createProvider(
      issuer,
      options.clients,
      users,
      options.signingKeys ?? [await newSigningKey()],
    );
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  let current = handlerFor(provider);
  attach((req, res) => current(req, res));
  const idp: DevIdp = {
    issuer,
    provider,
    server,
    async restartWithSigningKeys(keys) {
      idp.provider = await createProvider(issuer, options.clients, users, keys);
      current = handlerFor(idp.provider);
    },
    close: () => closeServer(server),
  };
  return idp;
}

async function createProvider(
  issuer: string,
  clients: ClientMetadata[],
  users: readonly DevUser[],
  signingKeys: JWK[],
): Promise<Provider> {
  const provider = new Provider(issuer, {
    clients,
    // Front-Channel Logout 1.0's client metadata, which oidc-provider no longer knows (frontchannel-logout.ts).
    extraClientMetadata: {
      properties: FRONTCHANNEL_CLIENT_METADATA,
      validator: (_ctx, key, value) => validateFrontchannelMetadata(key, value),
    },
    jwks: { keys: signingKeys },
    cookies: { keys: [randomBytes(32).toString('base64')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    acrValues: [DEV_ACR],
    pkce: { required: () => true },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      // A client registered with a backchannel_logout_uri gets a logout token at sign-out (the
      // broker's /oidc/backchannel-logout/<idp>, ADR 0150).
      backchannelLogout: { enabled: true },
      // A client registered with userinfo_signed_response_alg gets its userinfo as a signed JWT,
      // whatever it asks for (the broker checks it as it checks the ID token, ADR 0198).
      jwtUserinfo: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // oidc-provider's own fetch refuses loopback addresses (an SSRF guard, set as `dispatcher`);
    // the development IdP's clients are on loopback, and its back-channel logout must reach them.
    fetch: (url, init) => {
      const { dispatcher: _ssrfGuard, ...options } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, options);
    },
    findAccount: (_ctx, id) => {
      const user = users.find((u) => u.sub === id);
      return user ? { accountId: id, claims: () => claimsOf(user) as { sub: string } } : undefined;
    },
    // Every registered client is first-party here: consent is implied for the scopes it asks for.
    loadExistingGrant: async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const existing = ctx.oidc.session?.grantIdFor(clientId);
      if (existing) {
        const grant = await ctx.oidc.provider.Grant.find(existing);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope([...(ctx.oidc.requestParamScopes ?? [])].join(' '));
      await grant.save();
      return grant;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'text/plain';
      ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
    },
  });
  enableFrontchannelLogout(provider);
  return provider;
}

/**
 * CSP `form-action` for the login page. Chromium applies it to every redirect that follows the
 * form's POST, and a successful sign-in goes on (through /auth) to a client's redirect_uri: so the
 * registered clients' redirect_uri origins must be allowed besides 'self', or the IdP blocks its own
 * answer. Origins come from the registration (never from the request) and are serialized by URL.
 */
export function loginFormAction(clients: readonly ClientMetadata[]): string[] {
  const origins = new Set<string>();
  for (const client of clients) {
    for (const uri of client.redirect_uris ?? []) {
      const url = URL.canParse(uri) ? new URL(uri) : undefined;
      if (url && (url.protocol === 'https:' || url.protocol === 'http:')) origins.add(url.origin);
    }
  }
  return [...origins];
}

async function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  submitted: boolean,
  formAction: readonly string[],
  users: readonly DevUser[],
) {
  const details = await provider.interactionDetails(req, res);
  if (!submitted) {
    // The e-mail the person gave the broker's choice page, so she does not type it twice.
    const hint = details.params['login_hint'];
    return renderLogin(res, details.uid, '', formAction, users, typeof hint === 'string' ? hint : '');
  }
  const form = new URLSearchParams(await readBody(req));
  const email = form.get('email') ?? '';
  const user = users.find((u) => u.email === email.trim().toLowerCase());
  const password = Buffer.from(form.get('password') ?? '');
  if (
    !user ||
    password.length !== DEV_PASSWORD.length ||
    !timingSafeEqual(password, Buffer.from(DEV_PASSWORD))
  ) {
    return renderLogin(res, details.uid, 'Unknown e-mail or wrong password.', formAction, users, email);
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub, acr: DEV_ACR, amr: ['pwd'] } },
    { mergeWithLastSubmission: false },
  );
}

function renderLogin(
  res: ServerResponse,
  uid: string,
  error: string,
  formAction: readonly string[],
  users: readonly DevUser[],
  email: string,
): void {
  setSecurityHeaders(res, { secure: false });
  allowFormAction(res, formAction);
  const nonce = pageNonce(res);
  res.statusCode = error ? 401 : 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(
    html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>DEVELOPMENT IdP - sign in</title>
<style nonce="${nonce}">body{font-family:sans-serif;max-width:28em;margin:2em auto}.banner{background:#b00;color:#fff;padding:.5em;font-weight:bold}label{display:block;margin:.5em 0}</style></head>
<body><p class="banner">DEVELOPMENT IdP - not for production use</p><h1>Sign in</h1>
${error ? html`<p role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
${
  email
    ? html`<label>E-mail <input name="email" type="email" autocomplete="username" required value="${email}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required autofocus></label>`
    : html`<label>E-mail <input name="email" type="email" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>`
}
<button type="submit">Sign in</button></form>
<p>Seeded users (password <code>${DEV_PASSWORD}</code>):</p><ul>${users.map((u) => html`<li>${u.email}</li>`)}</ul></body></html>`
      .value,
  );
}

async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>DEVELOPMENT IdP - sign out</title></head>
<body><p>DEVELOPMENT IdP - not for production use</p><h1>Sign out?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></body></html>`;
}

async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = 'html';
  ctx.body =
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><p>You are signed out of the DEVELOPMENT IdP.</p></body></html>';
}

async function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('form too large');
  }
  return body;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
