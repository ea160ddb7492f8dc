import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { BrokerAppOptions } from '../../broker/app.js';
import type { FlowStore } from '../../common/flowstore/index.js';
import {
  type BrokerUnderTest,
  CLIENT_SECRET,
  createPki,
  type IdpDoc,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';

/**
 * Fault injection only: an OIDC provider that answers the token request with an ID token forged
 * the way a test asks (wrong iss/aud/nonce, alg none, HS256 keyed with the public key, signed by
 * another key, expired), a userinfo answer about someone else or signed (application/jwt) the
 * way a test asks, or a token endpoint that fails.
 * A real provider cannot be made to produce these.
 */
export type Forgery =
  | 'valid'
  | 'wrong-iss'
  | 'wrong-aud'
  | 'wrong-nonce'
  | 'alg-none'
  | 'hs256-public-key'
  | 'foreign-key'
  | 'unknown-kid'
  | 'expired'
  | 'userinfo-other-sub'
  | 'userinfo-no-sub'
  | 'userinfo-empty-sub'
  | 'token-endpoint-down'
  | 'token-endpoint-html'
  | 'token-endpoint-truncated'
  | 'hs256-client-secret'
  | 'extra-audience-no-azp'
  | 'not-yet-valid'
  | 'token-type-mac'
  | 'token-type-dpop'
  | 'stale-auth-time'
  | 'no-auth-time'
  | 'no-iat'
  | 'no-sub'
  | 'empty-sub'
  | 'iat-ahead'
  | 'no-kid'
  | 'no-aud'
  | 'auth-time-ahead'
  | 'extra-audience-azp-self'
  | 'azp-other'
  | 'userinfo-jwt'
  | 'userinfo-jwt-foreign-key'
  | 'userinfo-jwt-alg-none'
  | 'userinfo-jwt-no-iss'
  | 'userinfo-jwt-no-aud'
  | 'userinfo-jwt-other-aud'
  | 'userinfo-jwt-other-iss'
  | 'no-nonce'
  | 'header-jwk'
  | 'header-jku'
  | 'header-crit'
  | 'userinfo-invalid-token'
  | 'no-exp'
  | 'long-sub'
  | 'token-hashes'
  | 'at-hash-other'
  | 'c-hash-other'
  | 'token-endpoint-redirect'
  | 'userinfo-redirect';

export interface FakeOidc {
  issuer: string;
  forgery: Forgery;
  /** The nonce of the last authorization request, as the IdP saw it. */
  lastNonce?: string;
  /**
   * The nonce of each authorization request, by its state: a token request whose code is that
   * state gets an ID token with that nonce (flows under way at once), any other the last nonce.
   */
  nonceByState: Map<string, string>;
  /** Claims about the person the next ID tokens carry (e-mail, email_verified, groups). */
  person: Record<string, unknown>;
  /** What its userinfo endpoint says of the person, when not `person` (an IdP whose two answers differ). */
  userinfoPerson?: Record<string, unknown>;
  /** How many times its JWKS was read. */
  jwksFetches: number;
  /** Keys its JWKS publishes after its own (a second key; keys of a type no one knows). */
  extraKeys: Array<Record<string, unknown>>;
  /** Whether its JWKS names no key IDs (its own key published without `kid`). */
  keysWithoutKid: boolean;
  /** The `issuer` its discovery document names, when not its own. */
  discoveryIssuer?: string;
  /** The `authorization_endpoint` its discovery document names, when not its own. */
  discoveryAuthorizationEndpoint?: string;
  /** Endpoints its discovery document names in place of its own (a `token_endpoint` over plain http). */
  discoveryEndpoints?: Record<string, string>;
  /** Whether its discovery endpoint holds every request unanswered (an IdP down behind a proxy that waits). */
  discoveryStalls?: boolean;
  /**
   * Cuts the connections of the discovery requests it holds: the reads waiting on them fail as at their
   * deadline, without a test waiting the deadline out.
   */
  dropStalledDiscovery(): void;
  /** Whether its discovery names an `end_session_endpoint` (RP-Initiated Logout; `/logout`, never served). */
  endSession?: boolean;
  /** Every code presented at its token endpoint, in order. */
  tokenCodes: string[];
  /** The PKCE code_verifier of each token request, in order (none sent: an empty string). */
  codeVerifiers: string[];
  /** How each request to its userinfo endpoint came: method, Authorization header, query string. */
  userinfoRequests: Array<{ method: string; authorization?: string; search: string }>;
  /** How many requests reached the place its redirecting token or userinfo endpoint names. */
  redirectedRequests: number;
  /** How many times the key set a `header-jku` ID token points to was read. */
  attackerJwksFetches: number;
  /** The public key of the key `foreign-key` forgeries are signed with, as a JWK (to publish it in `extraKeys`). */
  foreignJwk: Record<string, unknown>;
  close(): Promise<void>;
}

const SUBJECT = 'forged-user';
/** One character past OIDC Core 2's limit for `sub` (255 ASCII characters). */
const LONG_SUBJECT = 's'.repeat(256);
const subjectOf = (forgery: Forgery): string => (forgery === 'long-sub' ? LONG_SUBJECT : SUBJECT);
/** The token_type of the token response, when a forgery changes it (RFC 6749 7.1). */
const TOKEN_TYPES: Partial<Record<Forgery, string>> = { 'token-type-mac': 'mac', 'token-type-dpop': 'DPoP' };

/** The `sub` of the userinfo answer, when a forgery makes it another than the ID token's (OIDC Core 5.3.2). */
const USERINFO_SUBJECTS: Partial<Record<Forgery, string>> = {
  'userinfo-other-sub': 'someone-else',
  'userinfo-empty-sub': '',
};

/** The access token every token response of the fake carries. */
const ACCESS_TOKEN = 'at';

/** OIDC Core 3.1.3.6: the left half of the SHA-256 hash (RS256, ES256) of the value's ASCII octets. */
const tokenHash = (value: string) =>
  createHash('sha256').update(value, 'ascii').digest().subarray(0, 16).toString('base64url');

/** The `at_hash` and `c_hash` an ID token carries: of its own access token and code, or of others. */
function tokenHashes(forgery: Forgery, code: string | null): { at_hash?: string; c_hash?: string } {
  if (forgery === 'token-hashes') return { at_hash: tokenHash(ACCESS_TOKEN), c_hash: tokenHash(code ?? '') };
  if (forgery === 'at-hash-other') return { at_hash: tokenHash('another-access-token') };
  if (forgery === 'c-hash-other') return { c_hash: tokenHash('another-code') };
  return {};
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A JWS of the claims as JSON.stringify writes them: SignJWT copies its claims with structuredClone,
 * which refuses a number written with JSON.rawJSON (an integer beyond 2^53, ADR 0253).
 */
function signed(claims: object, header: { alg: string; kid?: string }, key: CryptoKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(key);
}

export async function startFakeOidc(
  clientId: string,
  options: {
    /** Whether its discovery says it sends RFC 9207 `iss` with every authorization response (default true). */
    issParameter?: boolean;
    /** The algorithm of its signing key (default RS256). */
    signingAlg?: 'RS256' | 'ES256';
    /** The `code_challenge_methods_supported` its discovery names (none by default). */
    pkceMethods?: string[];
  } = {},
): Promise<FakeOidc> {
  const alg = options.signingAlg ?? 'RS256';
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const foreign = await generateKeyPair(alg);
  const foreignKey = foreign.privateKey;
  const foreignJwk = { ...(await exportJWK(foreign.publicKey)), alg, use: 'sig' };
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
  const publicPem = await exportSPKI(publicKey);
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** The connections of the discovery requests held while `discoveryStalls`. */
  const stalledDiscovery = new Set<Socket>();
  const fake: FakeOidc = {
    issuer,
    forgery: 'valid',
    person: { email: 'mallory@acme.test', email_verified: true },
    jwksFetches: 0,
    dropStalledDiscovery: () => {
      for (const socket of stalledDiscovery) socket.destroy();
      stalledDiscovery.clear();
    },
    extraKeys: [],
    keysWithoutKid: false,
    tokenCodes: [],
    codeVerifiers: [],
    userinfoRequests: [],
    attackerJwksFetches: 0,
    redirectedRequests: 0,
    foreignJwk,
    nonceByState: new Map(),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };

  async function idToken(code: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const forgery = fake.forgery;
    const claims = {
      iss: forgery === 'wrong-iss' ? 'http://127.0.0.1:1' : issuer,
      aud:
        forgery === 'wrong-aud'
          ? 'someone-else'
          : forgery === 'extra-audience-no-azp' || forgery === 'extra-audience-azp-self'
            ? [clientId, 'someone-else']
            : clientId,
      ...(forgery === 'extra-audience-azp-self' ? { azp: clientId } : {}),
      ...(forgery === 'azp-other' ? { azp: 'someone-else' } : {}),
      sub: subjectOf(forgery),
      ...fake.person,
      nonce:
        forgery === 'wrong-nonce' ? 'not-the-nonce' : (fake.nonceByState.get(code ?? '') ?? fake.lastNonce),
      iat: forgery === 'expired' ? now - 3600 : forgery === 'iat-ahead' ? now + 1800 : now,
      exp: forgery === 'expired' ? now - 1800 : now + 300,
      ...(forgery === 'not-yet-valid' ? { nbf: now + 1800 } : {}),
      ...tokenHashes(forgery, code),
      ...(forgery === 'no-auth-time'
        ? {}
        : {
            auth_time:
              forgery === 'stale-auth-time' ? now - 3600 : forgery === 'auth-time-ahead' ? now + 1800 : now,
          }),
    };
    if (forgery === 'no-iat') delete (claims as Partial<typeof claims>).iat;
    if (forgery === 'no-sub') delete (claims as Partial<typeof claims>).sub;
    if (forgery === 'empty-sub') claims.sub = '';
    if (forgery === 'no-exp') delete (claims as Partial<typeof claims>).exp;
    if (forgery === 'no-aud') delete (claims as Partial<typeof claims>).aud;
    if (forgery === 'no-nonce') delete (claims as Partial<typeof claims>).nonce;
    if (forgery === 'hs256-client-secret') {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode(CLIENT_SECRET));
    }
    if (fake.forgery === 'alg-none') return `${b64url({ alg: 'none' })}.${b64url(claims)}.`;
    if (fake.forgery === 'hs256-public-key') {
      const input = `${b64url({ alg: 'HS256', kid: 'k1' })}.${b64url(claims)}`;
      return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    }
    // RFC 8725 3.10: keys the token brings along (a JWK, a key set URL), which only the foreign key fits.
    if (forgery === 'header-jwk' || forgery === 'header-jku')
      return new SignJWT(claims)
        .setProtectedHeader(
          forgery === 'header-jwk'
            ? { alg, jwk: foreignJwk }
            : { alg, kid: 'attacker', jku: `${issuer}/attacker-jwks` },
        )
        .sign(foreignKey);
    // Signed by the IdP's own key, with an extension the receiver must understand (RFC 7515 4.1.11).
    if (forgery === 'header-crit')
      return new SignJWT(claims)
        .setProtectedHeader({
          alg,
          kid: 'k1',
          crit: ['urn:example:must-understand'],
          'urn:example:must-understand': true,
        })
        .sign(privateKey, { crit: { 'urn:example:must-understand': true } });
    // A key ID the IdP never published, new each time (signed by the foreign key).
    const kid = forgery === 'unknown-kid' ? randomBytes(8).toString('hex') : 'k1';
    return signed(
      claims,
      forgery === 'no-kid' ? { alg } : { alg, kid },
      forgery === 'foreign-key' || forgery === 'unknown-kid' ? foreignKey : privateKey,
    );
  }

  /** The userinfo answer as a JWT (OIDC Core 5.3.2), signed or not and with the iss/aud a test asks. */
  async function signedUserinfo(): Promise<string> {
    const forgery = fake.forgery;
    const claims = {
      ...(fake.userinfoPerson ?? fake.person),
      sub: SUBJECT,
      ...(forgery === 'userinfo-jwt-no-iss'
        ? {}
        : { iss: forgery === 'userinfo-jwt-other-iss' ? 'http://127.0.0.1:1' : issuer }),
      ...(forgery === 'userinfo-jwt-no-aud'
        ? {}
        : { aud: forgery === 'userinfo-jwt-other-aud' ? 'someone-else' : clientId }),
    };
    if (forgery === 'userinfo-jwt-alg-none') return `${b64url({ alg: 'none' })}.${b64url(claims)}.`;
    return signed(
      claims,
      { alg, kid: 'k1' },
      forgery === 'userinfo-jwt-foreign-key' ? foreignKey : privateKey,
    );
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      if (fake.discoveryStalls) {
        stalledDiscovery.add(req.socket);
        return;
      }
      return json({
        issuer: fake.discoveryIssuer ?? issuer,
        authorization_endpoint: fake.discoveryAuthorizationEndpoint ?? `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        ...(fake.endSession ? { end_session_endpoint: `${issuer}/logout` } : {}),
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [alg],
        // An OP that may answer userinfo as a JWT, and says it may leave it unsigned.
        userinfo_signing_alg_values_supported: [alg, 'none'],
        authorization_response_iss_parameter_supported: options.issParameter ?? true,
        ...(options.pkceMethods ? { code_challenge_methods_supported: options.pkceMethods } : {}),
        ...fake.discoveryEndpoints,
      });
    }
    if (url.pathname === '/jwks') {
      fake.jwksFetches++;
      const { kid: _kid, ...withoutKid } = jwk;
      return json({ keys: [fake.keysWithoutKid ? withoutKid : jwk, ...fake.extraKeys] });
    }
    if (url.pathname === '/attacker-jwks') {
      fake.attackerJwksFetches++;
      return json({ keys: [{ ...foreignJwk, kid: 'attacker' }] });
    }
    if (url.pathname === '/authorize') {
      fake.lastNonce = url.searchParams.get('nonce') ?? undefined;
      const state = url.searchParams.get('state');
      if (state && fake.lastNonce) fake.nonceByState.set(state, fake.lastNonce);
      res.statusCode = 204;
      return res.end();
    }
    if (url.pathname === '/elsewhere') {
      fake.redirectedRequests++;
      req.resume();
      return json({});
    }
    if (url.pathname === '/userinfo')
      fake.userinfoRequests.push({
        method: req.method ?? '',
        ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
        search: url.search,
      });
    // The token endpoint (307: the code, the PKCE verifier and the client's credentials would go again)
    // or the userinfo endpoint (302: the access token would) sending the broker on somewhere else.
    if (
      (url.pathname === '/token' && fake.forgery === 'token-endpoint-redirect') ||
      (url.pathname === '/userinfo' && fake.forgery === 'userinfo-redirect')
    ) {
      req.resume();
      res.statusCode = url.pathname === '/token' ? 307 : 302;
      res.setHeader('location', `${issuer}/elsewhere`);
      return res.end();
    }
    if (url.pathname === '/userinfo' && fake.forgery.startsWith('userinfo-jwt')) {
      void signedUserinfo().then((jwt) => {
        res.setHeader('content-type', 'application/jwt');
        res.end(jwt);
      });
      return;
    }
    // The userinfo endpoint refusing the token its own token endpoint just issued (RFC 6750 3.1).
    if (url.pathname === '/userinfo' && fake.forgery === 'userinfo-invalid-token') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return res.end();
    }
    if (url.pathname === '/userinfo') {
      const person = fake.userinfoPerson ?? fake.person;
      if (fake.forgery === 'userinfo-no-sub') return json(person);
      return json({ ...person, sub: USERINFO_SUBJECTS[fake.forgery] ?? subjectOf(fake.forgery) });
    }
    if (url.pathname === '/token' && fake.forgery === 'token-endpoint-down') {
      req.resume();
      res.statusCode = 503;
      res.setHeader('content-type', 'text/html');
      return res.end('<h1>Service Unavailable</h1>');
    }
    // Something in the IdP's place answering 200: a proxy's maintenance or sign-in page.
    if (url.pathname === '/token' && fake.forgery === 'token-endpoint-html') {
      req.resume();
      res.setHeader('content-type', 'text/html');
      return res.end('<html><body>Down for maintenance</body></html>');
    }
    // A JSON answer cut short by the IdP itself (its chunked body ended properly, the document not).
    if (url.pathname === '/token' && fake.forgery === 'token-endpoint-truncated') {
      req.resume();
      res.setHeader('content-type', 'application/json');
      return res.end('{"access_token":"at","token_type":"Bearer","id_tok');
    }
    if (url.pathname === '/token') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const code = form.get('code');
        if (code !== null) fake.tokenCodes.push(code);
        fake.codeVerifiers.push(form.get('code_verifier') ?? '');
        void idToken(code).then((id_token) =>
          json({
            access_token: ACCESS_TOKEN,
            token_type: TOKEN_TYPES[fake.forgery] ?? 'Bearer',
            expires_in: 300,
            id_token,
          }),
        );
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  return fake;
}

/**
 * A broker with two fake OIDC IdPs, `alpha` (acme.test) and `beta` (beta.test), so that every login
 * goes through the choice page; `extra` adjusts the tenant's spec.
 */
export interface TwoIdpBroker {
  pki: Pki;
  idpA: FakeOidc;
  idpB: FakeOidc;
  broker: BrokerUnderTest;
  close(): Promise<void>;
}

export async function startTwoIdpBroker(
  idpMore: { alpha?: IdpDoc; beta?: IdpDoc } = {},
  extra?: (spec: IdpDoc) => void,
  fakeOptions: Parameters<typeof startFakeOidc>[1] = {},
  /** The broker's flow store (default: its own memory store). */
  store?: FlowStore,
  brokerOptions?: BrokerAppOptions,
): Promise<TwoIdpBroker> {
  const pki = createPki();
  const idpA = await startFakeOidc('jsm-sso', fakeOptions);
  const idpB = await startFakeOidc('jsm-sso', fakeOptions);
  const { server, url } = await listenPlaceholder();
  const tenant = tenantFor(
    url,
    [
      oidcIdp('alpha', idpA.issuer, { emailDomains: ['acme.test'], ...idpMore.alpha }),
      oidcIdp('beta', idpB.issuer, { emailDomains: ['beta.test'], ...idpMore.beta }),
    ],
    extra,
  );
  const broker = await serveBroker(server, url, tenant, pki, store, brokerOptions);
  return {
    pki,
    idpA,
    idpB,
    broker,
    close: async () => {
      await broker.close();
      await idpA.close();
      await idpB.close();
      pki.cleanup();
    },
  };
}
