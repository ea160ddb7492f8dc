import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { expect } from 'chai';
import { CompactEncrypt, exportSPKI, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { BACKCHANNEL_SLOTS_PER_PERSON } from '../../broker/flows.js';
import { portalLogoutSender } from '../../broker/portal-logout.js';
import type { BrokerSettings } from '../../broker/settings.js';
import { checkTenant } from '../../common/config/load.js';
import type { JsmSsoError } from '../../common/errors.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { HOP_SIGNATURE_ALGORITHMS, MAX_MESSAGE_AGE_SECONDS, parseSamlXml } from '../../common/saml/index.js';
import { soapBodyMessage } from '../../common/saml/soap-binding.js';
import type { TlsFetch } from '../../common/tls/index.js';
import { type DevIdp, newSigningKey } from '../../dev/idp/provider.js';
import { type BrokerUnderTest, type Browser, brokerReplica, oidcIdp } from '../../testkit/broker-harness.js';
import { type HoldingStore, holdingStore } from '../../testkit/holding-store.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { type LocalRedis, startLocalRedis, whileStalled } from '../../testkit/local-redis.js';
import { type OidcLogoutChain, startOidcLogoutChain } from '../../testkit/oidc-logout-chain.js';
import { TEST_PLACEMENT, tenantAt, withHost } from '../../testkit/pool.js';
import type { Harness } from '../../testkit/portal-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * OpenID Connect Back-Channel Logout 1.0 through the whole chain (ADR 0150): the real portal signs
 * in through the broker at oidc-provider; the person signs out at oidc-provider, which posts its
 * logout token to the broker; the broker ends its session and, over the SAML SOAP binding, the
 * portal's. Every check of section 2.6 is attacked with a token that names the signed-in person,
 * so a check left out would end her session.
 */
describe('broker: OIDC back-channel logout ends the portal session', function () {
  this.timeout(60_000);
  let chain: OidcLogoutChain;
  let idp: DevIdp;
  let signingKey: JWK;
  let portal: Harness;
  let broker: BrokerUnderTest;
  const logoutPath = '/oidc/backchannel-logout/corporate';
  /** The broker's own redis-server, so that a test can stall it (SIGSTOP) without touching others'. */
  let redis: LocalRedis;
  /** The portal's, likewise. */
  let portalRedis: LocalRedis;
  /** The broker's store, which can hold the steps of a sign-in while a logout token arrives. */
  let brokerStore: HoldingStore;
  /** A key the IdP publishes for encryption only (`use: enc`), never to verify a signature with. */
  let encryptionKey: JWK;

  before(async () => {
    signingKey = await newSigningKey();
    encryptionKey = { ...(await newSigningKey()), use: 'enc', alg: 'RSA-OAEP-256' };
    redis = await startLocalRedis();
    portalRedis = await startLocalRedis();
    brokerStore = holdingStore(await connectedFlowStore('acme', redis.url));
    chain = await startOidcLogoutChain({
      logoutRegistration: (url) => ({
        backchannel_logout_uri: `${url}${logoutPath}`,
        backchannel_logout_session_required: true,
      }),
      idp: {
        signingKeys: [signingKey],
        // oidc-provider publishes no key it does not use itself; its JWKS answer gets one more, for
        // encryption, as an IdP that also encrypts would publish it.
        middleware: [
          async (ctx, next) => {
            await next();
            if (ctx.path !== '/jwks') return;
            const { d, p, q, dp, dq, qi, ...publicKey } = encryptionKey;
            const body = ctx.body as { keys: JWK[] };
            ctx.body = { keys: [...body.keys, publicKey] };
          },
        ],
      },
      store: brokerStore.store,
      portalStore: await connectedFlowStore('acme', portalRedis.url),
    });
    ({ idp, portal, broker } = chain);
  });

  after(async () => {
    await chain?.close();
    // The broker does not close the store it is given (the portal's harness closes its own).
    await brokerStore?.store.close();
    for (const server of [redis, portalRedis]) {
      if (!server) continue;
      server.process.kill('SIGCONT');
      await server.stop();
    }
  });

  /** The person signs in at the portal, through the broker and the IdP; her browser. */
  const signedIn = async (email?: string) => (await chain.signedIn(email)).browser;
  const portalPage = (browser: Browser) => chain.portalPage(browser);

  /** oidc-provider's own sign-out: end_session, the person confirms. */
  async function signOutAtIdp(browser: Browser): Promise<void> {
    const endSession = `${idp.issuer}/session/end?client_id=jsm-sso`;
    const html = await (await browser.request(endSession)).text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await browser.request(new URL(action, endSession).href, { form: { xsrf, logout: 'yes' } });
    await done.arrayBuffer();
  }

  /** A logout token as the IdP signs it, with `claims` and `header` changed by the attack. */
  async function logoutToken(
    claims: JWTPayload = {},
    header: Record<string, unknown> = {},
    key: JWK = signingKey,
  ): Promise<string> {
    const payload: JWTPayload = {
      iss: idp.issuer,
      aud: 'jsm-sso',
      iat: Math.floor(Date.now() / 1000),
      // Required since the errata (section 2.4); oidc-provider's tokens live two minutes.
      exp: Math.floor(Date.now() / 1000) + 120,
      jti: randomBytes(12).toString('hex'),
      sub: 'alice',
      events: { [EVENT]: {} },
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'logout+jwt', ...header })
      .sign(await importJWK(key, 'RS256'));
  }

  /**
   * POSTs the token as the IdP does, to `url` (default the broker) with Host `host` (default the
   * URL's); `body` and `contentType` replace the form for attacks on the request itself.
   */
  async function post(
    token: string,
    options: { url?: string; host?: string; body?: string; contentType?: string } = {},
  ): Promise<{ status: number; body: string; cacheControl: string | undefined; type: string | undefined }> {
    const body = options.body ?? new URLSearchParams({ logout_token: token }).toString();
    const contentType = options.contentType ?? 'application/x-www-form-urlencoded';
    const res = await withHost(options.url ?? broker.url, options.host, logoutPath, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return {
      status: res.status,
      body: res.body,
      cacheControl: res.headers['cache-control'],
      type: res.headers['content-type'],
    };
  }

  function backchannelLines() {
    return broker.logs.filter((l) => l['event'] === 'broker.backchannel_logout');
  }

  it('ends the portal session when the person signs out at the IdP, which posts its logout token', async () => {
    const browser = await signedIn();
    const delivered = new Promise<void>((resolve, reject) => {
      idp.provider.once('backchannel.success', () => resolve());
      idp.provider.once('backchannel.error', (_ctx, err: Error) => reject(err));
    });
    const linesBefore = backchannelLines().length;
    await signOutAtIdp(browser);
    await delivered;
    expect(await portalPage(browser), 'the portal session is gone').to.equal(303);
    const [line] = backchannelLines().slice(linesBefore);
    expect(line).to.include({ idp: 'corporate', result: 'ended' });
    const logged = JSON.stringify([...broker.logs, ...portal.logs]);
    expect(logged).not.to.include('alice@acme.test');
    expect(portal.logs.some((l) => l['event'] === 'portal.logout' && l['initiator'] === 'broker')).to.equal(
      true,
    );
  });

  it('answers a valid token 200 with Cache-Control no-store, and refuses it the second time (jti once)', async () => {
    const browser = await signedIn();
    const token = await logoutToken();
    const first = await post(token);
    expect(first.status).to.equal(200);
    expect(first.cacheControl).to.equal('no-store');
    expect(await portalPage(browser), 'the sub alone ends the sessions of the person').to.equal(303);
    const again = await post(token);
    expect(again.status).to.equal(400);
    expect(again.cacheControl).to.equal('no-store');
    expect(JSON.parse(again.body)).to.include({ error: 'invalid_request' });
    expect(backchannelLines().at(-1)).to.include({ result: 'refused', reason: 'OIDC_LOGOUT_TOKEN_REPLAYED' });
  });

  it('ends only the session signed out at the IdP when it names its sid; her other browser stays in', async () => {
    const laptop = await signedIn();
    const phone = await signedIn();
    const delivered = new Promise<void>((resolve) =>
      idp.provider.once('backchannel.success', () => resolve()),
    );
    await signOutAtIdp(laptop);
    await delivered;
    expect(await portalPage(laptop), 'signed out there').to.equal(303);
    expect(await portalPage(phone), 'another IdP session, another portal session').to.equal(200);
    expect((await post(await logoutToken())).status).to.equal(200);
    expect(await portalPage(phone), 'a token naming only her ends the rest').to.equal(303);
  });

  it("ends nothing when the token's sub and sid name different people (bob's sub, alice's sid)", async () => {
    const { browser, sid } = await chain.signedIn();
    expect((await post(await logoutToken({ sub: 'bob', sid }))).status).to.equal(200);
    expect(backchannelLines().at(-1)).to.include({ result: 'no_session' });
    expect(await portalPage(browser), 'alice stays signed in').to.equal(200);
    expect((await post(await logoutToken({ sub: 'alice', sid }))).status).to.equal(200);
    expect(await portalPage(browser), 'her own sub with her sid ends it').to.equal(303);
  });

  it("ends every session of the person when the token names only the sub (section 2.7), nobody else's", async () => {
    const browsers = [await signedIn(), await signedIn(), await signedIn()];
    const bob = await signedIn('bob@acme.test');
    expect((await post(await logoutToken())).status).to.equal(200);
    for (const browser of browsers) expect(await portalPage(browser)).to.equal(303);
    expect(await portalPage(bob), 'bob stays signed in').to.equal(200);
    expect(backchannelLines().at(-1)).to.include({ result: 'ended' });
    // Nothing of hers is left to find: the slots went with the sessions.
    expect((await post(await logoutToken())).status).to.equal(200);
    expect(backchannelLines().at(-1)).to.include({ result: 'no_session' });
  });

  it('ends every session of the person past the slots the broker finds her by, asking the portal for all of them (ADR 0218)', async function () {
    this.timeout(120_000);
    // Two more live sessions than the broker keeps slots for: those two it cannot find by her sub.
    const browsers: Browser[] = [];
    for (let i = 0; i < BACKCHANNEL_SLOTS_PER_PERSON + 2; i++) browsers.push(await signedIn());
    const bob = await signedIn('bob@acme.test');
    expect((await post(await logoutToken())).status).to.equal(200);
    const pages = await Promise.all(browsers.map((browser) => portalPage(browser)));
    expect(pages, 'every one of her portal sessions').to.deep.equal(browsers.map(() => 303));
    expect(await portalPage(bob), 'bob stays signed in').to.equal(200);
    expect(backchannelLines().at(-1)).to.include({ result: 'ended' });
  });

  describe('refuses every token that fails a check of section 2.6, ending nothing', () => {
    let browser: Browser;
    before(async () => {
      browser = await signedIn();
    });

    const unsigned = async () => {
      const [, payload] = (await logoutToken()).split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url');
      return `${header}.${payload}.`;
    };
    const now = () => Math.floor(Date.now() / 1000);
    const attacks: Array<[string, string, () => Promise<string>]> = [
      ['unsigned (alg none)', 'alg', unsigned],
      [
        'signed with another key under the IdP key id',
        'signature',
        async () => logoutToken({}, {}, await newSigningKey()),
      ],
      [
        'signed with an algorithm other than the registered one',
        'alg',
        async () => {
          const [, payload] = (await logoutToken()).split('.');
          const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'logout+jwt' })).toString(
            'base64url',
          );
          return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
        },
      ],
      ['from another issuer', 'iss', () => logoutToken({ iss: 'https://idp.evil.test' })],
      ['for another client', 'aud', () => logoutToken({ aud: 'another-client' })],
      ['without iat', 'iat', () => logoutToken({ iat: undefined })],
      ['issued an hour ago', 'iat', () => logoutToken({ iat: now() - 3600 })],
      ['issued an hour in the future', 'iat', () => logoutToken({ iat: now() + 3600 })],
      ['expired', 'exp', () => logoutToken({ exp: now() - 120 })],
      // Back-Channel Logout 1.0 with errata set 1, section 2.4: exp is REQUIRED (ADR 0224).
      ['without exp', 'exp', () => logoutToken({ exp: undefined })],
      ['without jti', 'jti', () => logoutToken({ jti: undefined })],
      ['without events', 'events', () => logoutToken({ events: undefined })],
      [
        'with another event only',
        'events',
        () => logoutToken({ events: { 'https://schemas.example/other': {} } }),
      ],
      ['whose event is not a JSON object', 'events', () => logoutToken({ events: { [EVENT]: true } })],
      ['whose events is an array', 'events', () => logoutToken({ events: [EVENT] })],
      ['naming neither sub nor sid', 'subject', () => logoutToken({ sub: undefined })],
      ['with a nonce (an ID token)', 'nonce', () => logoutToken({ nonce: 'n-0S6_WzA2Mj' })],
      ['typed as an access token', 'typ', () => logoutToken({}, { typ: 'at+jwt' })],
      ['that is no JWT', 'malformed', async () => 'not-a-jwt'],
      [
        'signed HS256 with the IdP public key as the secret (algorithm confusion)',
        'alg',
        async () => {
          const { d, p, q, dp, dq, qi, ...publicJwk } = signingKey;
          const pem = await exportSPKI((await importJWK(publicJwk, 'RS256')) as CryptoKey);
          return new SignJWT({
            iss: idp.issuer,
            aud: 'jsm-sso',
            iat: now(),
            jti: randomBytes(12).toString('hex'),
            sub: 'alice',
            events: { [EVENT]: {} },
          })
            .setProtectedHeader({ alg: 'HS256', kid: signingKey.kid!, typ: 'logout+jwt' })
            .sign(new TextEncoder().encode(pem));
        },
      ],
      [
        'signed with a key the IdP publishes for encryption only (use enc)',
        'key',
        () => logoutToken({}, { kid: encryptionKey.kid! }, encryptionKey),
      ],
      [
        'wrapped in a JWE (five parts)',
        'malformed',
        async () =>
          new CompactEncrypt(new TextEncoder().encode(await logoutToken()))
            .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'JWT' })
            .encrypt(randomBytes(32)),
      ],
      [
        'for several audiences without an authorized party (azp)',
        'aud',
        () => logoutToken({ aud: ['jsm-sso', 'another-client'] }),
      ],
      [
        'for several audiences, authorized for another client',
        'aud',
        () => logoutToken({ aud: ['jsm-sso', 'another-client'], azp: 'another-client' }),
      ],
      // As for ID tokens (ADR 0198): the broker trusts no audience but its own.
      [
        'for several audiences that names us its authorized party (azp)',
        'aud',
        () => logoutToken({ aud: ['jsm-sso', 'another-client'], azp: 'jsm-sso', sid: 'unknown' }),
      ],
      [
        'for us alone, authorized for another client (azp)',
        'azp',
        () => logoutToken({ azp: 'another-client', sid: 'unknown' }),
      ],
      [
        'issued an hour ago with an exp far in the future',
        'iat',
        () => logoutToken({ iat: now() - 3600, exp: now() + 100 * 365 * 86_400 }),
      ],
    ];

    for (const [label, check, make] of attacks) {
      it(`refuses a token ${label} (400, detail ${check})`, async () => {
        const answer = await post(await make());
        expect(answer.status).to.equal(400);
        expect(answer.cacheControl).to.equal('no-store');
        expect(answer.type).to.match(/^application\/json/);
        expect(JSON.parse(answer.body)).to.include({ error: 'invalid_request' });
        expect(backchannelLines().at(-1)).to.include({
          result: 'refused',
          reason: 'OIDC_LOGOUT_TOKEN_INVALID',
          detail: check,
        });
        expect(await portalPage(browser), 'still signed in').to.equal(200);
      });
    }

    it('accepts a token naming us as its authorized party (azp) beside our one audience', async () => {
      const token = await logoutToken({ azp: 'jsm-sso', sid: 'unknown' });
      expect((await post(token)).status).to.equal(200);
      expect(backchannelLines().at(-1)).to.include({ result: 'no_session' });
      expect(await portalPage(browser)).to.equal(200);
    });

    const requestAttacks: Array<[string, number, string, () => Promise<Parameters<typeof post>[1]>]> = [
      [
        'her valid token posted as JSON',
        415,
        'HTTP_FORM_EXPECTED',
        async () => ({
          body: JSON.stringify({ logout_token: await logoutToken() }),
          contentType: 'application/json',
        }),
      ],
      [
        'her valid token posted as text/plain',
        415,
        'HTTP_FORM_EXPECTED',
        async () => ({ body: `logout_token=${await logoutToken()}`, contentType: 'text/plain' }),
      ],
      [
        'logout_token twice (an unknown sid, then her valid token)',
        400,
        'HTTP_PARAMETER_REPEATED',
        async () => ({
          body: new URLSearchParams([
            ['logout_token', await logoutToken({ sub: undefined, sid: 'unknown' })],
            ['logout_token', await logoutToken()],
          ]).toString(),
        }),
      ],
      [
        'a form over 16 KiB (her valid token padded with a large claim)',
        413,
        'HTTP_BODY_TOO_LARGE',
        async () => ({
          body: new URLSearchParams({
            logout_token: await logoutToken({ pad: 'x'.repeat(20_000) }),
          }).toString(),
        }),
      ],
    ];
    for (const [label, status, reason, make] of requestAttacks) {
      it(`refuses ${label} (${status} ${reason}), ending nothing`, async () => {
        const answer = await post('', await make());
        expect(answer.status).to.equal(status);
        expect(answer.cacheControl).to.equal('no-store');
        expect(JSON.parse(answer.body)).to.include({ error: 'invalid_request' });
        expect(await portalPage(browser), 'still signed in').to.equal(200);
        const refused = broker.logs.filter((l) => l['reason'] === reason);
        expect(refused, `${reason} is logged`).not.to.have.length(0);
      });
    }

    it('refuses a post without logout_token', async () => {
      const answer = await post('');
      expect(answer.status).to.equal(400);
      expect(backchannelLines().at(-1)).to.include({ detail: 'missing' });
    });

    it('accepts an untyped token and one typed JWT (OPs before section 4.1), which end the session', async () => {
      expect((await post(await logoutToken({ sid: 'unknown-sid' }, { typ: undefined }))).status).to.equal(
        200,
      );
      expect((await post(await logoutToken({ sid: 'unknown-sid' }, { typ: 'JWT' }))).status).to.equal(200);
      expect(await portalPage(browser), 'a sid of no session here ends nothing').to.equal(200);
      expect(backchannelLines().at(-1)).to.include({ result: 'no_session' });
      expect((await post(await logoutToken({}, { typ: 'application/logout+jwt' }))).status).to.equal(200);
      expect(await portalPage(browser), 'the valid token with her sub ends it').to.equal(303);
    });
  });

  const replicaOf = (
    change: Parameters<typeof brokerReplica>[1],
    store?: Parameters<typeof brokerReplica>[2],
  ) => brokerReplica(broker, change, store);

  it('leaves both sessions when the portal cannot be reached, and ends them when the IdP sends the token again', async () => {
    const browser = await signedIn();
    // A replica that reaches the portal at an address where nothing listens (the portal is down).
    const cutOff = await replicaOf((tenant) =>
      tenantAt(tenant, 'portal', tenant.metadata!.name!, 'http://127.0.0.1:1'),
    );
    try {
      const token = await logoutToken();
      const failed = await post(token, { url: cutOff.url });
      expect(failed.status).to.equal(400);
      expect(failed.cacheControl).to.equal('no-store');
      expect(JSON.parse(failed.body)).to.include({ error: 'temporarily_unavailable' });
      expect(backchannelLines().at(-1)).to.include({ result: 'error', reason: 'PORTAL_LOGOUT_UNCONFIRMED' });
      expect(await portalPage(browser), 'still signed in').to.equal(200);
      // The same token again, as an IdP retries: its jti was released, and the sessions are still found.
      expect((await post(token)).status).to.equal(200);
      expect(await portalPage(browser)).to.equal(303);
    } finally {
      await cutOff.close();
    }
  });

  it('ends her sessions once when the same token, and two tokens naming her, arrive at the same time', async () => {
    const browsers = [await signedIn(), await signedIn()];
    const token = await logoutToken();
    const from = backchannelLines().length;
    const other = await logoutToken();
    const answers = await Promise.all([post(token), post(token), post(other)]);
    // A copy that arrives once the first is done is a replay; copies in flight together both end her.
    for (const answer of answers) expect([200, 400], answer.body).to.include(answer.status);
    // The other token, finding a session of hers claimed by the first, leaves it to it (ADR 0382) and
    // is answered as not done; its retry finds her sessions ended.
    if (answers[2]!.status === 400) {
      expect(JSON.parse(answers[2]!.body)).to.include({ error: 'temporarily_unavailable' });
      expect((await post(other)).status).to.equal(200);
    }
    for (const browser of browsers) expect(await portalPage(browser)).to.equal(303);
    const lines = backchannelLines().slice(from);
    expect(lines.map((l) => l['result'])).not.to.include('error');
    for (const line of lines.filter((l) => l['result'] === 'refused'))
      expect(line).to.include({ reason: 'OIDC_LOGOUT_TOKEN_REPLAYED' });
  });

  it('answers temporarily_unavailable while its Redis does not answer, loses nothing, and the retry ends the sessions', async () => {
    const browser = await signedIn();
    const token = await logoutToken();
    const stalled = await whileStalled(redis, () => post(token));
    expect(stalled.status).to.equal(400);
    expect(stalled.cacheControl).to.equal('no-store');
    expect(JSON.parse(stalled.body)).to.include({ error: 'temporarily_unavailable' });
    expect(backchannelLines().at(-1)).to.include({ result: 'error', reason: 'FLOW_STORE_UNAVAILABLE' });
    expect(await portalPage(browser), 'still signed in').to.equal(200);
    // The IdP retries the same token once Redis answers again: it is not taken for a replay.
    const retried = await post(token);
    expect(retried.status, retried.body).to.equal(200);
    expect(await portalPage(browser)).to.equal(303);
  });

  it("answers temporarily_unavailable while the portal's Redis does not answer (a signed Responder), keeps both sessions, and the retry ends them (ADR 0164)", async () => {
    const browser = await signedIn();
    const token = await logoutToken();
    const stalled = await whileStalled(portalRedis, () => post(token));
    expect(stalled.status).to.equal(400);
    expect(JSON.parse(stalled.body)).to.include({ error: 'temporarily_unavailable' });
    expect(backchannelLines().at(-1)).to.include({ result: 'error', reason: 'PORTAL_LOGOUT_UNCONFIRMED' });
    expect(portal.logs.findLast((l) => l['event'] === 'portal.error')).to.include({
      reason: 'FLOW_STORE_UNAVAILABLE',
    });
    expect(await portalPage(browser), 'still signed in').to.equal(200);
    // The broker session was kept: the IdP's retry finds it and ends the portal session.
    const retried = await post(token);
    expect(retried.status, retried.body).to.equal(200);
    expect(await portalPage(browser)).to.equal(303);
  });

  describe('a logout token for her IdP session racing her sign-in with it (ADR 0170: she is not signed in)', () => {
    it('refuses the sign-in whose session the broker was saving when the token came, and removes that session', async () => {
      // Held once the broker has verified her ID token and named her, before its session writes.
      const saving = brokerStore.hold(
        (command, key) =>
          (command === 'put' || command === 'putInFirstFree') &&
          /^(session|backchannel-session|backchannel-person):/.test(key),
      );
      const signingIn = chain.signIn();
      await Promise.race([saving.reached, signingIn]);
      const sid = chain.sids.at(-1)!;
      const answer = await post(await logoutToken({ sid }));
      saving.release();
      expect(answer.status, answer.body).to.equal(200);
      expect(backchannelLines().at(-1), 'the token found no session yet').to.include({
        result: 'no_session',
      });
      const { browser, brokerAnswer, portalAnswer } = await signingIn;
      expect(brokerAnswer.status, 'a refusal page, not a Response').to.equal(403);
      expect(brokerAnswer.html).to.include('IDP_SESSION_ENDED');
      expect(portalAnswer, 'no Response reached the portal').to.equal(undefined);
      expect(broker.logs.filter((l) => l['event'] === 'broker.login').at(-1)).to.include({
        result: 'refused',
        reason: 'IDP_SESSION_ENDED',
      });
      expect(broker.logs.filter((l) => l['event'] === 'broker.refusal').at(-1)).to.include({
        reason: 'IDP_SESSION_ENDED',
        status: 403,
      });
      expect(await portalPage(browser), 'not signed in at the portal').to.equal(303);
      // The session saved went with the refusal: a token naming the sid again finds none.
      expect((await post(await logoutToken({ sid }))).status).to.equal(200);
      expect(backchannelLines().at(-1)).to.include({ result: 'no_session' });
    });

    it('ends at the portal the sign-in whose Response was on its way there when the token came', async () => {
      let answer: Awaited<ReturnType<typeof post>> | undefined;
      const from = portal.logs.length;
      const { browser, portalAnswer } = await chain.signIn('alice@acme.test', async () => {
        answer = await post(await logoutToken({ sid: chain.sids.at(-1)! }));
      });
      expect(answer?.status, answer?.body).to.equal(200);
      // The broker found its session and ended it; the portal, asked first, had none yet.
      expect(backchannelLines().at(-1)).to.include({ result: 'ended' });
      expect(portalAnswer?.status, 'the portal ends the session it just made').to.equal(401);
      expect(await portalAnswer?.text()).to.include('sign in again');
      expect(
        portal.logs.slice(from).find((l) => l['event'] === 'portal.refused'),
        'the reason is logged',
      ).to.include({ reason: 'PORTAL_SIGN_IN_ENDED_AT_IDP', status: 401 });
      expect(portal.logs.slice(from).some((l) => l['event'] === 'portal.login')).to.equal(false);
      expect(await portalPage(browser), 'not signed in at the portal').to.equal(303);
    });
  });

  it("ends nothing when her sid is posted at another IdP's address of the same tenant (same issuer and client)", async () => {
    const { browser, sid } = await chain.signedIn();
    // A replica of this tenant (same store) with a second IdP entry trusting the same issuer and
    // client: the token is valid at its address too, so only the per-IdP index keeps it from her.
    const twoIdps = await replicaOf((tenant) => {
      const [corporate] = tenant.spec.identityProviders;
      const partner = oidcIdp('partner', idp.issuer, { emailDomains: ['partner.test'] });
      // Read as the broker reads a tenant: the two entries are valid together.
      return checkTenant({
        ...structuredClone(tenant),
        spec: { ...tenant.spec, identityProviders: [{ ...corporate, authority: 'catchAll' }, partner] },
      });
    });
    try {
      const token = await logoutToken({ sub: 'alice', sid });
      const there = await withHost(twoIdps.url, undefined, '/oidc/backchannel-logout/partner', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      expect(there.status, 'valid there, and nothing of hers is found').to.equal(200);
      expect(await portalPage(browser), 'still signed in').to.equal(200);
      expect((await post(token)).status, 'her own IdP still takes it').to.equal(200);
      expect(await portalPage(browser)).to.equal(303);
    } finally {
      await twoIdps.close();
    }
  });

  it('answers temporarily_unavailable when the portal accepts the SOAP call and never answers, and the retry ends the sessions', async () => {
    const browser = await signedIn();
    // A portal that takes the connection and says nothing: the broker's IdP deadline must end the wait.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const stalled = await replicaOf((tenant) =>
      tenantAt(tenant, 'portal', tenant.metadata!.name!, `http://127.0.0.1:${port}`),
    );
    try {
      const token = await logoutToken();
      const failed = await post(token, { url: stalled.url });
      expect(failed.status).to.equal(400);
      expect(JSON.parse(failed.body)).to.include({ error: 'temporarily_unavailable' });
      expect(held, 'the portal was called').not.to.have.length(0);
      expect(backchannelLines().at(-1)).to.include({ result: 'error', reason: 'PORTAL_LOGOUT_UNCONFIRMED' });
      expect(await portalPage(browser), 'still signed in').to.equal(200);
      expect((await post(token)).status).to.equal(200);
      expect(await portalPage(browser)).to.equal(303);
    } finally {
      await stalled.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe("a token for this tenant posted at another tenant's address", () => {
    let other: { url: string; host?: string; close(): Promise<void> };
    before(async () => {
      if (TEST_PLACEMENT === 'pool') {
        // The pool's other tenants are copies of this one at 127.0.0.2 and .3 (testkit/pool.ts).
        const { port } = new URL(broker.url);
        other = { url: broker.url, host: `127.0.0.2:${port}`, close: async () => {} };
        return;
      }
      other = await replicaOf(
        (tenant) => tenantAt(tenant, 'broker', 'acme-other', 'http://127.0.0.1:1'),
        new MemoryFlowStore(),
      );
    });
    after(async () => other?.close());

    it('ends nothing there and leaves the token usable here (sessions and jti are per tenant)', async () => {
      const browser = await signedIn();
      const token = await logoutToken();
      const there = await post(token, other);
      // The copy trusts the same IdP and client: the token is valid there, and finds nothing.
      expect(there.status).to.equal(200);
      expect(await portalPage(browser), 'still signed in here').to.equal(200);
      expect((await post(token)).status).to.equal(200);
      expect(await portalPage(browser)).to.equal(303);
    });
  });
});

describe("broker: the LogoutRequest it sends the portal over SOAP (the broker as the portal's session authority)", () => {
  it('sets NotOnOrAfter, as far ahead as the portal takes its IssueInstant (core 3.7.3.2, ADR 0228)', async () => {
    const key = makeKeyPair('broker.example.test');
    const store = new MemoryFlowStore();
    const issuedAt = new Date('2030-05-01T12:00:00.000Z');
    let sent = '';
    const send = portalLogoutSender({
      settings: {
        entityId: 'https://broker.example.test/saml/metadata',
        sloUrl: 'https://broker.example.test/saml/slo',
        signingKeyPem: key.keyPem,
        signingCertPem: key.certPem,
        signing: { algorithm: HOP_SIGNATURE_ALGORITHMS['rsa-sha256'] },
        sp: {
          entityId: 'https://portal.example.test/saml/metadata',
          sloUrl: 'https://portal.example.test/saml/slo',
          certificatesPem: [key.certPem],
        },
      } as unknown as BrokerSettings,
      // The portal's answer is not what is under test: a failure, so that only the request is read.
      fetch: (async (_url: string, init: { body: string }) => {
        sent = init.body;
        return new Response('down', { status: 503 });
      }) as unknown as TlsFetch,
      store,
      now: () => issuedAt,
      timeoutMs: 1000,
    });
    const refused = await send({ nameId: 'alice@acme.test', sessionIndex: '_s1' }).then(
      () => undefined,
      (err: JsmSsoError) => err.code,
    );
    await store.close();
    expect(refused).to.equal('PORTAL_LOGOUT_UNCONFIRMED');
    const request = soapBodyMessage(parseSamlXml(sent));
    expect(request.localName).to.equal('LogoutRequest');
    expect(request.getAttribute('IssueInstant')).to.equal('2030-05-01T12:00:00.000Z');
    expect(request.getAttribute('NotOnOrAfter')).to.equal(
      new Date(issuedAt.getTime() + MAX_MESSAGE_AGE_SECONDS * 1000).toISOString(),
    );
  });
});
