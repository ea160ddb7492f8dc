import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { brokerEndpoints } from '../../common/config/broker-endpoints.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  closeServer,
  createPki,
  devClient,
  expectBrokerRefusal,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  loginThroughBroker,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';

/**
 * What ADR 0237 found and left (ADR 0243), against oidc-provider, which compares redirect_uri as a
 * string (RFC 6749 4.1.3) and sends RFC 9207 `iss`: a plain OAuth 2.0 server whose issuer has a path,
 * one that sends no `iss`, a broker URL not written in canonical form, and a user id beyond 2^53.
 */
describe('broker: plain OAuth 2.0 issuer, canonical redirect_uri, exact numeric subject (ADR 0243)', () => {
  let pki: ReturnType<typeof createPki>;
  let idp: DevIdp;
  let userEndpoint: Server;
  /** The JSON text the user endpoint answers with (a number written as the IdP writes it). */
  let userAnswer = '';
  /** Whether the user endpoint sends the broker on to another address of its server, and how often that was asked. */
  let userEndpointRedirects = false;
  let userEndpointRedirected = 0;
  /** Whether the server answers the next authorization request with an error (prompt=none, no session). */
  let answerWithError = false;
  /** The token_type the server's token responses name, when not its own Bearer. */
  let tokenType: string | undefined;
  /** The RFC 9207 `iss` the server writes into its authorization responses in place of its own. */
  let issWritten: string | undefined;
  /** How many requests reached the server's user endpoint. */
  let userEndpointCalls = 0;
  /** How many requests reached the server's token endpoint. */
  let tokenRequests = 0;
  const brokers: Record<string, BrokerUnderTest> = {};
  const kinds = ['issuer', 'standIn', 'noIss', 'nonCanonical', 'bigId', 'partner'] as const;
  /** The broker URL as the tenant wrote it: 127.000.000.001 is 127.0.0.1, in no canonical form. */
  const writtenUrl = (url: string) => url.replace('127.0.0.1', '127.000.000.001');

  before(async () => {
    pki = createPki();
    userEndpoint = createServer((req, res) => {
      if (req.url === '/elsewhere') userEndpointRedirected++;
      else if (userEndpointRedirects) {
        res.statusCode = 302;
        res.setHeader(
          'location',
          `http://127.0.0.1:${(userEndpoint.address() as AddressInfo).port}/elsewhere`,
        );
        return res.end();
      }
      res.setHeader('content-type', userAnswer.startsWith('{') ? 'application/json' : 'application/jwt');
      res.end(userAnswer);
    });
    await new Promise<void>((resolve) => userEndpoint.listen(0, '127.0.0.1', resolve));
    const placeholders = Object.fromEntries(
      await Promise.all(kinds.map(async (kind) => [kind, await listenPlaceholder()] as const)),
    );
    const urls: Record<string, string> = Object.fromEntries(
      kinds.map((kind) => [
        kind,
        kind === 'nonCanonical' ? writtenUrl(placeholders[kind]!.url) : placeholders[kind]!.url,
      ]),
    );
    // An issuer with a path (a Keycloak realm, a tenant of a multi-tenant server), served at the root.
    const port = await freePort();
    idp = await startDevIdp({
      port,
      issuer: `http://127.0.0.1:${port}/tenant1`,
      // Each client registers the redirect URI the broker's status names (what an admin copies).
      clients: kinds.map((kind) =>
        devClient(urls[kind]!, {
          client_id: `jsm-sso-${kind}`,
          redirect_uris: [brokerEndpoints(urls[kind]!).redirectUri(kind, 1)],
        }),
      ),
      middleware: [
        // An error answer of the server's own: prompt=none with no session is login_required.
        async (ctx, next) => {
          if (answerWithError && ctx.path === '/auth') ctx.querystring = `${ctx.querystring}&prompt=none`;
          await next();
        },
        // The requests the user and token endpoints receive; a token response naming another token
        // type than Bearer (RFC 6749 7.1).
        async (ctx, next) => {
          if (ctx.path === '/me') userEndpointCalls++;
          if (ctx.path === '/token') tokenRequests++;
          await next();
          if (tokenType !== undefined && ctx.path === '/token' && ctx.status === 200)
            ctx.body = { ...(ctx.body as object), token_type: tokenType };
        },
        // An authorization server that sends no RFC 9207 `iss` to the noIss broker, and `issWritten`
        // in place of its own to the others when a test sets it.
        async (ctx, next) => {
          await next();
          const location = ctx.response.get('location');
          if (typeof location !== 'string' || !location.includes('/oidc/callback')) return;
          const url = new URL(location);
          if (location.startsWith(`${urls['noIss']}/oidc/callback`)) url.searchParams.delete('iss');
          else if (issWritten !== undefined) url.searchParams.set('iss', issWritten);
          ctx.set('location', url.href);
        },
      ],
    });
    const plain = (kind: string, more: Record<string, unknown> = {}): IdpDoc => ({
      name: 'plain',
      oauth2: {
        authorizationEndpoint: `${new URL(idp.issuer).origin}/auth`,
        tokenEndpoint: `${new URL(idp.issuer).origin}/token`,
        userinfoEndpoint: `${new URL(idp.issuer).origin}/me`,
        clientId: `jsm-sso-${kind}`,
        clientSecretRef: { name: 'idp-client' },
        scopes: ['openid', 'email', 'profile'],
        issuer: idp.issuer,
        ...more,
      },
      attributeMapping: { email: 'claims.email', userId: 'claims.id' },
      emailTrust: 'verifiedClaim',
    });
    const answeredByTest = {
      userinfoEndpoint: `http://127.0.0.1:${(userEndpoint.address() as AddressInfo).port}/me`,
    };
    const specs: Record<(typeof kinds)[number], IdpDoc> = {
      issuer: plain('issuer'),
      standIn: plain('standIn'),
      noIss: plain('noIss'),
      nonCanonical: plain('nonCanonical'),
      bigId: plain('bigId', answeredByTest),
      // A partner's server, authoritative for partner.test alone (the tenant's only IdP may list its domains).
      partner: { ...plain('partner', answeredByTest), emailDomains: ['partner.test'] },
    };
    delete specs.standIn['oauth2'].issuer;
    for (const kind of kinds) {
      const { server } = placeholders[kind]!;
      brokers[kind] = await serveBroker(server, urls[kind]!, tenantFor(urls[kind]!, [specs[kind]]), pki);
    }
  });
  after(async () => {
    for (const broker of Object.values(brokers)) await broker.close();
    await idp?.close();
    if (userEndpoint) await closeServer(userEndpoint);
    pki?.cleanup();
  });

  async function login(kind: (typeof kinds)[number]) {
    const broker = brokers[kind]!;
    const portal = portalSp(broker.url, pki);
    // The browser follows redirects as URLs, written canonically.
    const result = await loginThroughBroker({ portal, brokerUrl: new URL(broker.url).origin }, new Browser());
    return { ...result, portal, broker };
  }

  it('signs in through a plain OAuth 2.0 server whose configured issuer has a path, its RFC 9207 iss compared with it and named as AuthenticatingAuthority', async () => {
    const { page, html, fields, portal } = await login('issuer');
    expect(page.status, html).to.equal(200);
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    expect(/<saml:AuthenticatingAuthority>([^<]*)</.exec(xml)?.[1]).to.equal(idp.issuer);
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('alice@acme.test');
  });

  it("keeps the stand-in issuer (the authorization endpoint's origin) when none is configured: that server's iss with a path is refused, 400 OIDC_ISSUER_MISMATCH", async () => {
    const { page, html, broker } = await login('standIn');
    expect(page.status, html).to.equal(400);
    expect(pageReason(html)).to.equal('OIDC_ISSUER_MISMATCH');
    expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(
      'OIDC_ISSUER_MISMATCH',
    );
  });

  it('refuses an empty iss from a server whose issuer is the stand-in, as one not the issuer (RFC 9207 2.4): 400 OIDC_ISSUER_MISMATCH, its code sent to no token endpoint', async () => {
    issWritten = '';
    const tokenRequestsBefore = tokenRequests;
    const { page, html, callbackUrl, broker } = await login('standIn').finally(
      () => (issWritten = undefined),
    );
    expect(new URL(callbackUrl).searchParams.getAll('iss'), 'the middleware emptied iss').to.deep.equal(['']);
    await expectBrokerRefusal(broker, { status: page.status, html }, 'OIDC_ISSUER_MISMATCH');
    expect(tokenRequests, 'codes presented at the token endpoint').to.equal(tokenRequestsBefore);
  });

  it('refuses an authorization response without iss from a server whose issuer is configured (RFC 9207 2.4), 400 OIDC_ISSUER_MISMATCH', async () => {
    const { page, html, callbackUrl, broker } = await login('noIss');
    expect(new URL(callbackUrl).searchParams.has('iss'), 'the middleware took iss out').to.equal(false);
    expect(page.status, html).to.equal(400);
    expect(pageReason(html)).to.equal('OIDC_ISSUER_MISMATCH');
    expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(
      'OIDC_ISSUER_MISMATCH',
    );
  });

  it("refuses the server's error answer without iss from a server whose issuer is configured (RFC 9207 2.4): 400 OIDC_ISSUER_MISMATCH, not the IdP's error relayed to the portal", async () => {
    const answers: Record<string, { status: number; reason?: string; samlResponse: boolean; iss: boolean }> =
      {};
    for (const kind of ['noIss', 'issuer'] as const) {
      const broker = brokers[kind]!;
      const browser = new Browser();
      const portal = portalSp(broker.url, pki);
      const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-1', undefined, {}));
      answerWithError = true;
      const { location } = await browser
        .follow(sso.headers.get('location')!, `${broker.url}/oidc/callback`)
        .finally(() => (answerWithError = false));
      const callback = new URL(location!);
      expect(callback.searchParams.get('error'), kind).to.equal('login_required');
      const page = await browser.request(callback.href);
      const html = await page.text();
      answers[kind] = {
        status: page.status,
        ...(pageReason(html) ? { reason: pageReason(html)! } : {}),
        samlResponse: formFields(html)['SAMLResponse'] !== undefined,
        iss: callback.searchParams.has('iss'),
      };
      if (kind === 'noIss')
        expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
          result: 'refused',
          reason: 'OIDC_ISSUER_MISMATCH',
        });
    }
    expect(answers).to.deep.equal({
      noIss: { status: 400, reason: 'OIDC_ISSUER_MISMATCH', samlResponse: false, iss: false },
      // The same error with iss is the IdP's own, told to the portal in a signed Response.
      issuer: { status: 200, samlResponse: true, iss: true },
    });
  });

  it('sends one redirect_uri, the one its status names, in the authorization and the token request when spec.broker.url is not written canonically (RFC 6749 4.1.3)', async () => {
    const { page, html, callbackUrl } = await login('nonCanonical');
    expect(page.status, html).to.equal(200);
    const registered = brokerEndpoints(brokers.nonCanonical!.url).redirectUri('nonCanonical', 1);
    expect(registered, 'the status names the canonical form').to.equal(
      `${new URL(callbackUrl).origin}/oidc/callback`,
    );
  });

  it('keeps every digit of a numeric user id beyond 2^53: two people whose ids differ in the last digit are two subjects', async () => {
    const subjects: unknown[] = [];
    for (const id of ['9007199254740992', '9007199254740993']) {
      userAnswer = `{"id":${id},"email":"alice@acme.test","email_verified":true}`;
      const { page, html, fields, portal, broker } = await login('bigId');
      expect(page.status, html).to.equal(200);
      expect((await portal.validatePostResponseAsync(fields)).profile?.['userId']).to.equal(id);
      subjects.push(broker.logs.findLast((l) => l['event'] === 'broker.login')?.['subjectHash']);
    }
    expect(subjects[0]).to.be.a('string');
    expect(subjects[0]).not.to.equal(subjects[1]);
  });

  it('refuses a user id that is a number beyond 2^53 not written as an integer, 502 OAUTH2_USERINFO_INVALID', async () => {
    userAnswer = '{"id":9.007199254740993e15,"email":"alice@acme.test","email_verified":true}';
    const { page, html, broker } = await login('bigId');
    expect(page.status, html).to.equal(502);
    expect(pageReason(html)).to.equal('OAUTH2_USERINFO_INVALID');
    expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(
      'OAUTH2_USERINFO_INVALID',
    );
  });

  // The identity checks run on the mapping's output whatever the upstream kind: a plain OAuth 2.0 user
  // endpoint's e-mail is judged as an ID token's is (ADR 0172, 0366).
  for (const [what, answer, reason] of [
    ["another domain's address", '"email":"alice@acme.test"', 'IDP_NOT_AUTHORITATIVE'],
    [
      "its own address, then another domain's under the same key",
      '"email":"pat@partner.test","email":"alice@acme.test"',
      'IDP_NOT_AUTHORITATIVE',
    ],
    // Two values for the one NameID the default mapping makes of `email`: no one is named.
    [
      "a list holding another domain's address",
      '"email":["pat@partner.test","alice@acme.test"]',
      'MAPPING_NAMEID_EMPTY',
    ],
    [
      "a quoted local part holding another domain's address",
      '"email":"\\"alice@acme.test\\"@partner.test"',
      'IDP_EMAIL_INVALID',
    ],
    [
      'an invisible combining grapheme joiner in the local part',
      '"email":"p\\u034Fat@partner.test"',
      'IDP_EMAIL_INVALID',
    ],
  ] as const) {
    it(`refuses a plain OAuth 2.0 user endpoint answering ${what}: 403 ${reason}`, async () => {
      userAnswer = `{"id":7,${answer},"email_verified":true}`;
      const { page, html, broker } = await login('partner');
      expect(page.status, html).to.equal(403);
      expect(pageReason(html)).to.equal(reason);
      expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
        result: 'refused',
        reason,
      });
    });
  }

  it("signs in the partner's own person through the plain OAuth 2.0 server", async () => {
    userAnswer = '{"id":7,"email":"Pat@Partner.test","email_verified":true}';
    const { page, html, fields, portal } = await login('partner');
    expect(page.status, html).to.equal(200);
    expect((await portal.validatePostResponseAsync(fields)).profile?.['email']).to.equal('pat@partner.test');
  });

  // ADR 0324: the broker presents its access token as a bearer token (RFC 6750) only.
  for (const type of ['DPoP', 'mac']) {
    it(`refuses a token response whose token_type is ${type}, sending its access token to no user endpoint: 400 OIDC_TOKEN_TYPE_UNSUPPORTED`, async () => {
      tokenType = type;
      const callsBefore = userEndpointCalls;
      try {
        const { page, html } = await login('issuer');
        expect([page.status, pageReason(html)], html).to.deep.equal([400, 'OIDC_TOKEN_TYPE_UNSUPPORTED']);
        expect(userEndpointCalls).to.equal(callsBefore);
      } finally {
        tokenType = undefined;
      }
    });
  }

  // ADR 0333: a plain OAuth 2.0 server issues no ID token, so no nonce binds a code to its sign-in; the
  // PKCE S256 challenge the broker sends, which this server enforces, is the one defence (RFC 9700 4.5).
  it("refuses a person's fresh code injected into another sign-in: the server holding it to her PKCE challenge answers invalid_grant, 400 OIDC_CODE_INVALID", async () => {
    const portal = portalSp(brokers['issuer']!.url, pki);
    const person = new Browser();
    const toIdp = await person.request(await portal.getAuthorizeUrlAsync('rs-person', undefined, {}));
    const authorize = new URL(toIdp.headers.get('location')!);
    const callback = authorize.searchParams.get('redirect_uri')!;
    const loginPage = (await person.follow(authorize.href, callback)).response!;
    const action = /action="([^"]+)"/.exec(await loginPage.text())![1]!;
    const back = await person.follow(new URL(action, loginPage.url).href, callback, {
      form: { email: 'alice@acme.test', password: 'demo' },
    });
    const code = new URL(back.location!).searchParams.get('code')!;
    const attacker = new Browser();
    const attackerToIdp = await attacker.request(
      await portal.getAuthorizeUrlAsync('rs-attacker', undefined, {}),
    );
    const state = new URL(attackerToIdp.headers.get('location')!).searchParams.get('state')!;
    const injected = await attacker.request(
      `${callback}?code=${code}&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
    );
    expect([injected.status, pageReason(await injected.text())]).to.deep.equal([400, 'OIDC_CODE_INVALID']);
  });

  // ADR 0324: RFC 6749 7 has the resource server take the access token; a redirect would carry it on.
  it('follows no redirect of the user endpoint (the access token would go along): 502 OIDC_IDP_UNAVAILABLE, the IdP failing', async () => {
    userAnswer = '{"id":"7","email":"alice@acme.test","email_verified":true}';
    userEndpointRedirects = true;
    try {
      const { page, html } = await login('bigId');
      expect([page.status, pageReason(html)], html).to.deep.equal([502, 'OIDC_IDP_UNAVAILABLE']);
      expect(userEndpointRedirected).to.equal(0);
    } finally {
      userEndpointRedirects = false;
    }
  });

  it('refuses a user endpoint answering a JWT (application/jwt), which a plain OAuth 2.0 client has no key to verify: 502 OAUTH2_USERINFO_INVALID', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    userAnswer = `${b64({ alg: 'none' })}.${b64({ sub: '7', email: 'alice@acme.test', email_verified: true })}.`;
    const { page, html } = await login('bigId');
    expect([page.status, pageReason(html)], html).to.deep.equal([502, 'OAUTH2_USERINFO_INVALID']);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}
