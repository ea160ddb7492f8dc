import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader, exportJWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import * as client from 'openid-client';
import { pkceS256Challenge } from '../../broker/backends/oidc-backend.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  devOAuth2Idp,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  loginAtDevIdp,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  pageReason,
  portalAuthnRequestUrl,
  portalSp,
  serveBroker,
  signedStatusCodes,
  tenantFor,
} from '../../testkit/broker-harness.js';

const RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder';

/** Client authentication methods, plain OAuth 2.0, prompts and IdP errors against oidc-provider. */
describe('broker: OIDC / OAuth 2.0 backends against oidc-provider', () => {
  let pki: Pki;
  let idp: DevIdp;
  const brokers: Record<string, BrokerUnderTest> = {};
  const placeholders: Record<string, Awaited<ReturnType<typeof listenPlaceholder>>> = {};
  const kinds = [
    'basic',
    'post',
    'jwt',
    'oauth2',
    'oauth2NoSubject',
    'signedUserinfo',
    'rejectedBasic',
    'rejectedPost',
    'promptLogin',
    'promptConsent',
  ] as const;
  /** The media type of each userinfo answer oidc-provider gave. */
  const userinfoTypes: string[] = [];
  /** Each private_key_jwt client assertion a token request brought, as oidc-provider read it. */
  const clientAssertions: string[] = [];

  before(async () => {
    pki = createPki();
    // private_key_jwt: the broker signs with the PEM key in its Secret; the IdP knows the public JWK.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    mkdirSync(join(pki.dir, 'idp-key'));
    writeFileSync(
      join(pki.dir, 'idp-key', 'private.pem'),
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const jwk = { ...(await exportJWK(publicKey)), use: 'sig', alg: 'RS256' };
    for (const kind of kinds) placeholders[kind] = await listenPlaceholder();
    const client = (kind: string, more: Partial<ClientMetadata>) =>
      devClient(placeholders[kind]!.url, { client_id: `jsm-sso-${kind}`, ...more });
    idp = await startDevIdp({
      clients: [
        client('basic', {}),
        client('post', { token_endpoint_auth_method: 'client_secret_post' }),
        client('jwt', {
          client_secret: undefined,
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [jwk] },
        }),
        client('oauth2', {}),
        // auth_time in every ID token, max_age or not: what an IdP that ignores prompt says of an old session.
        client('promptLogin', { require_auth_time: true }),
        client('promptConsent', {}),
        client('oauth2NoSubject', {}),
        // Registered at the OP for signed userinfo, which the broker never asks for.
        client('signedUserinfo', { userinfo_signed_response_alg: 'RS256' }),
        // The OP holds another secret than the broker's Secret (rotated at one end only).
        client('rejectedBasic', { client_secret: 'rotated-at-the-idp' }),
        client('rejectedPost', {
          client_secret: 'rotated-at-the-idp',
          token_endpoint_auth_method: 'client_secret_post',
        }),
      ],
      middleware: [
        async (ctx, next) => {
          await next();
          if (ctx.path === '/me') userinfoTypes.push(ctx.response.type);
          const assertion = ctx.oidc?.params?.['client_assertion'];
          if (ctx.path === '/token' && typeof assertion === 'string') clientAssertions.push(assertion);
        },
      ],
    });
    const plain = devOAuth2Idp(idp.issuer, 'jsm-sso-oauth2');
    const specs: Record<(typeof kinds)[number], IdpDoc> = {
      basic: oidcIdp('corporate', idp.issuer),
      post: oidcIdp('corporate', idp.issuer),
      jwt: oidcIdp('corporate', idp.issuer),
      signedUserinfo: oidcIdp('corporate', idp.issuer),
      rejectedBasic: oidcIdp('corporate', idp.issuer),
      rejectedPost: oidcIdp('corporate', idp.issuer),
      promptLogin: oidcIdp('corporate', idp.issuer),
      promptConsent: oidcIdp('corporate', idp.issuer),
      oauth2: plain,
      // A user endpoint configured wrong: the IdP's key set answers 200 JSON that names nobody.
      oauth2NoSubject: {
        ...plain,
        oauth2: {
          ...plain['oauth2'],
          clientId: 'jsm-sso-oauth2NoSubject',
          userinfoEndpoint: `${idp.issuer}/jwks`,
        },
      },
    };
    specs.basic['oidc'].clientId = 'jsm-sso-basic';
    specs.post['oidc'].clientId = 'jsm-sso-post';
    specs.post['oidc'].clientAuthMethod = 'client_secret_post';
    // The tenant asks for an authentication at most 5 minutes old (ADR 0186).
    specs.post['oidc'].extraAuthorizationParams = { max_age: '300' };
    // The tenant asks its IdP for a fresh sign-in every time (ADR 0297).
    specs.promptLogin['oidc'].clientId = 'jsm-sso-promptLogin';
    specs.promptLogin['oidc'].extraAuthorizationParams = { prompt: 'login' };
    // The tenant has its IdP ask every person for consent (ADR 0301).
    specs.promptConsent['oidc'].clientId = 'jsm-sso-promptConsent';
    specs.promptConsent['oidc'].extraAuthorizationParams = { prompt: 'consent' };
    specs.signedUserinfo['oidc'].clientId = 'jsm-sso-signedUserinfo';
    specs.rejectedBasic['oidc'].clientId = 'jsm-sso-rejectedBasic';
    specs.rejectedPost['oidc'].clientId = 'jsm-sso-rejectedPost';
    specs.rejectedPost['oidc'].clientAuthMethod = 'client_secret_post';
    specs.jwt['oidc'].clientId = 'jsm-sso-jwt';
    specs.jwt['oidc'].clientAuthMethod = 'private_key_jwt';
    specs.jwt['oidc'].privateKeySecretRef = { name: 'idp-key' };
    delete specs.jwt['oidc'].clientSecretRef;
    for (const kind of kinds) {
      const { server, url } = placeholders[kind]!;
      brokers[kind] = await serveBroker(server, url, tenantFor(url, [specs[kind]]), pki);
    }
  });
  after(async () => {
    for (const broker of Object.values(brokers)) await broker.close();
    await idp?.close();
    pki.cleanup();
  });

  async function login(kind: (typeof kinds)[number]) {
    const broker = brokers[kind]!;
    const portal = portalSp(broker.url, pki);
    const { page, fields } = await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
    expect(page.status).to.equal(200);
    return (await portal.validatePostResponseAsync(fields)).profile;
  }

  it('authenticates to the token endpoint with client_secret_post', async () => {
    expect((await login('post'))?.nameID).to.equal('alice@acme.test');
  });

  it("sends the tenant's max_age to oidc-provider, which answers with an auth_time the broker holds to it", async () => {
    const broker = brokers.post!;
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const authorize = new URL(sso.headers.get('location')!);
    expect(authorize.searchParams.get('max_age')).to.equal('300');
    const { page, fields } = await loginAtDevIdp(browser, authorize.href, { brokerUrl: broker.url });
    expect(page.status).to.equal(200);
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('alice@acme.test');
  });

  it('signs in with the userinfo answer oidc-provider signs for a client registered so, its signature, iss and aud checked (ADR 0198)', async () => {
    const before = userinfoTypes.length;
    const profile = await login('signedUserinfo');
    expect(userinfoTypes.slice(before)).to.deep.equal(['application/jwt']);
    expect(profile?.nameID).to.equal('alice@acme.test');
    // The e-mail and name come only from the userinfo answer (oidc-provider keeps scope claims out
    // of the code flow's ID token).
    expect(profile?.['displayName']).to.equal('Alice Anders');
  });

  it('authenticates to the token endpoint with private_key_jwt (PEM key from the Secret)', async () => {
    expect((await login('jwt'))?.nameID).to.equal('alice@acme.test');
  });

  // An assertion whose aud is the token endpoint (or a list naming it) is one an IdP whose discovery
  // names another server's endpoint could present there as the broker (the 2025 audience injection:
  // rfc7523bis has aud be the issuer alone). The issuer is the configured one (identicalIssuer).
  it('signs each private_key_jwt assertion for the issuer alone, with a jti of its own and a lifetime of a minute (RFC 7523 3, rfc7523bis)', async () => {
    const before = clientAssertions.length;
    await login('jwt');
    await login('jwt');
    const sent = clientAssertions.slice(before);
    expect(sent).to.have.length(2);
    for (const assertion of sent) {
      expect(decodeProtectedHeader(assertion).alg).to.equal('RS256');
      const claims = decodeJwt(assertion);
      expect(claims.aud).to.equal(idp.issuer);
      expect(claims.iss).to.equal('jsm-sso-jwt');
      expect(claims.sub).to.equal('jsm-sso-jwt');
      expect(claims.exp! - claims.iat!).to.be.within(1, 60);
      expect(claims.jti).to.be.a('string').with.length.of.at.least(22);
    }
    expect(decodeJwt(sent[0]!).jti).to.not.equal(decodeJwt(sent[1]!).jti);
  });

  it("names a plain OAuth 2.0 IdP by its authorization server's identifier (its authorization endpoint's origin) as AuthenticatingAuthority (core 3.4.1.5.1, ADR 0228)", async () => {
    const broker = brokers.oauth2!;
    const portal = portalSp(broker.url, pki);
    const { fields } = await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    expect(/<saml:AuthenticatingAuthority>([^<]*)</.exec(xml)?.[1]).to.equal(new URL(idp.issuer).origin);
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('alice@acme.test');
  });

  it('signs in through a plain OAuth 2.0 IdP with claims from its userinfo endpoint', async () => {
    const profile = await login('oauth2');
    expect(profile?.nameID).to.equal('alice@acme.test');
    expect(profile?.['displayName']).to.equal('Alice Anders');
    expect(profile?.['groups']).to.deep.equal(['jsm-customers', 'jsm-admins']);
  });

  it('answers 502 OAUTH2_USERINFO_INVALID when the OAuth 2.0 user endpoint names no sub or id', async () => {
    const broker = brokers.oauth2NoSubject!;
    const { page, html } = await loginThroughBroker(
      { portal: portalSp(broker.url, pki), brokerUrl: broker.url },
      new Browser(),
    );
    expect(page.status, html).to.equal(502);
    expect(pageReason(html)).to.equal('OAUTH2_USERINFO_INVALID');
    expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(
      'OAUTH2_USERINFO_INVALID',
    );
  });

  it('does not ask a plain OAuth 2.0 IdP for a nonce', async () => {
    const broker = brokers.oauth2!;
    const sso = await new Browser().request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    expect(new URL(sso.headers.get('location')!).searchParams.has('nonce')).to.equal(false);
  });

  it('passes the language of the portal’s pages to an OIDC IdP as ui_locales, and nothing to a plain OAuth 2.0 IdP', async () => {
    const authorize = async (broker: BrokerUnderTest, uiLocales?: string[]) => {
      const sso = await new Browser().request(
        portalAuthnRequestUrl(broker.url, pki, uiLocales ? { uiLocales } : {}),
      );
      expect(sso.status).to.equal(302);
      return new URL(sso.headers.get('location')!).searchParams;
    };
    expect((await authorize(brokers.basic!, ['de-CH'])).get('ui_locales')).to.equal('de');
    expect((await authorize(brokers.basic!)).has('ui_locales'), 'no hint, none sent').to.equal(false);
    expect((await authorize(brokers.oauth2!, ['ja'])).has('ui_locales'), 'OAuth 2.0').to.equal(false);
  });

  it('turns ForceAuthn into prompt=login and max_age=0: a person with a session at the IdP signs in again, and the fresh auth_time is accepted', async () => {
    const broker = brokers.basic!;
    const browser = new Browser();
    await loginThroughBroker({ portal: portalSp(broker.url, pki), brokerUrl: broker.url }, browser);
    const portal = portalSp(broker.url, pki);
    portal.options.forceAuthn = true;
    await signInAfresh(browser, broker, portal);
  });

  // The dev IdP implies consent and has no page to answer prompt=consent with: what is sent is judged.
  it("sends ForceAuthn as prompt=login beside the tenant's own prompt=consent, which it keeps (ADR 0301)", async () => {
    const broker = brokers.promptConsent!;
    const portal = portalSp(broker.url, pki);
    portal.options.forceAuthn = true;
    const sso = await new Browser().request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const authorize = new URL(sso.headers.get('location')!);
    expect([authorize.searchParams.get('prompt'), authorize.searchParams.get('max_age')]).to.deep.equal([
      'consent login',
      '0',
    ]);
  });

  /**
   * A sign-in the portal starts that asks the IdP for a fresh one (prompt=login, max_age=0): the
   * person, though she has a session there, fills in its login form again and is signed in.
   */
  async function signInAfresh(
    browser: Browser,
    broker: BrokerUnderTest,
    portal: ReturnType<typeof portalSp>,
  ) {
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const authorize = new URL(sso.headers.get('location')!);
    expect([authorize.searchParams.get('prompt'), authorize.searchParams.get('max_age')]).to.deep.equal([
      'login',
      '0',
    ]);
    // loginAtDevIdp fills the IdP's login form: oidc-provider shows it again despite the session.
    const { page, fields } = await loginAtDevIdp(browser, authorize.href, { brokerUrl: broker.url });
    expect(page.status).to.equal(200);
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('alice@acme.test');
  }

  /**
   * A browser whose person signed in through `broker`, her session at the IdP (its `_session`
   * cookie) then made an hour old: a sign-in there long before, beyond any clock tolerance, with no
   * waiting.
   */
  async function withHourOldIdpSession(broker: BrokerUnderTest) {
    const browser = new Browser();
    await loginThroughBroker({ portal: portalSp(broker.url, pki), brokerUrl: broker.url }, browser);
    const sessionId = browser.cookies.get(new URL(idp.issuer).hostname)?.get('_session');
    const session = await idp.provider.Session.find(sessionId ?? '');
    if (!session?.loginTs) throw new Error('the browser has no session at the IdP');
    session.loginTs -= 3600;
    await session.save(3600);
    return browser;
  }

  /** Where the broker sends the browser for a sign-in the portal starts (passive or not). */
  async function authorizationUrl(
    browser: Browser,
    broker: BrokerUnderTest,
    options: { passive?: boolean } = {},
  ) {
    const portal = portalSp(broker.url, pki);
    if (options.passive) portal.options.passive = true;
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-l', undefined, {}));
    expect(sso.status).to.equal(302);
    return new URL(sso.headers.get('location')!);
  }

  /** The IdP's answer, given at once (no page shown), and the broker's page that posts it on to the portal. */
  async function answeredAtOnce(browser: Browser, broker: BrokerUnderTest, authorize: URL) {
    const back = await browser.follow(authorize.href, `${broker.url}/oidc/callback`);
    expect(back.location, 'the IdP answers at once').to.be.a('string');
    const page = await browser.request(back.location!);
    expect(page.status).to.equal(200);
    return formFields(await page.text());
  }

  it("holds a tenant's own prompt=login to auth_time: a person who strips it from the authorization URL and reuses an hour-old IdP session is answered Responder/AuthnFailed (ADR 0297)", async () => {
    const broker = brokers.promptLogin!;
    const browser = await withHourOldIdpSession(broker);
    const authorize = await authorizationUrl(browser, broker);
    // What she deletes in her browser (an IdP that ignores prompt does the same): the IdP then
    // signs her in with the session it has.
    authorize.searchParams.delete('prompt');
    authorize.searchParams.delete('max_age');
    const fields = await answeredAtOnce(browser, broker, authorize);
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
    ]);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      result: 'refused',
      reason: 'OIDC_AUTHENTICATION_NOT_FRESH',
    });
  });

  it("sends a tenant's own prompt=login with max_age=0, as ForceAuthn: a person with an hour-old session at the IdP signs in again, and the fresh auth_time is accepted", async () => {
    const broker = brokers.promptLogin!;
    await signInAfresh(await withHourOldIdpSession(broker), broker, portalSp(broker.url, pki));
  });

  it('answers a passive request through an IdP the tenant asks for prompt=login with NoPassive: prompt=none goes with max_age=0, which no session can meet without a sign-in', async () => {
    const broker = brokers.promptLogin!;
    const browser = await withHourOldIdpSession(broker);
    const authorize = await authorizationUrl(browser, broker, { passive: true });
    expect([authorize.searchParams.get('prompt'), authorize.searchParams.get('max_age')]).to.deep.equal([
      'none',
      '0',
    ]);
    const fields = await answeredAtOnce(browser, broker, authorize);
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
  });

  /** A passive AuthnRequest: the browser goes to the IdP and comes back without any page shown. */
  async function passiveLogin(browser: Browser) {
    const broker = brokers.basic!;
    const portal = portalSp(broker.url, pki);
    portal.options.passive = true;
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-p', undefined, {}));
    const authorize = new URL(sso.headers.get('location')!);
    expect(authorize.searchParams.get('prompt')).to.equal('none');
    const back = await browser.follow(authorize.href, `${broker.url}/oidc/callback`);
    expect(back.location, 'the IdP answers at once').to.be.a('string');
    const page = await browser.request(back.location!);
    expect(page.status).to.equal(200);
    return { portal, fields: formFields(await page.text()) };
  }

  it('turns IsPassive into prompt=none and answers login_required with a signed Responder/NoPassive Response', async () => {
    const { fields } = await passiveLogin(new Browser());
    expect(fields['RelayState']).to.equal('rs-p');
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
    const audit = brokers.basic!.logs.findLast((l) => l['event'] === 'broker.login');
    expect(audit).to.include({ result: 'refused', reason: 'OIDC_IDP_ERROR' });
  });

  it('answers a passive request through a plain OAuth 2.0 IdP with a signed NoPassive Response at once (RFC 6749 3.1: the server ignores prompt)', async () => {
    const broker = brokers.oauth2!;
    const portal = portalSp(broker.url, pki);
    portal.options.passive = true;
    const page = await new Browser().request(await portal.getAuthorizeUrlAsync('rs-p', undefined, {}));
    expect(page.status, page.headers.get('location') ?? '').to.equal(200);
    const fields = formFields(await page.text());
    expect(fields['RelayState']).to.equal('rs-p');
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_PASSIVE_NOT_POSSIBLE',
    );
  });

  it('answers ForceAuthn through a plain OAuth 2.0 IdP with a signed Responder/RequestUnsupported Response at once (it can neither be asked for a fresh login nor show one)', async () => {
    const broker = brokers.oauth2!;
    const portal = portalSp(broker.url, pki);
    portal.options.forceAuthn = true;
    const page = await new Browser().request(await portal.getAuthorizeUrlAsync('rs-f', undefined, {}));
    expect(page.status, page.headers.get('location') ?? '').to.equal(200);
    const fields = formFields(await page.text());
    expect(fields['RelayState']).to.equal('rs-f');
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported',
    ]);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_FORCE_AUTHN_NOT_POSSIBLE',
    );
  });

  it('signs in passively when the person already has a session at the IdP', async () => {
    const browser = new Browser();
    await loginThroughBroker(
      { portal: portalSp(brokers.basic!.url, pki), brokerUrl: brokers.basic!.url },
      browser,
    );
    const { portal, fields } = await passiveLogin(browser);
    expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal('alice@acme.test');
  });

  it("sends the IdP's access_denied back to the portal as a signed Responder/RequestDenied Response", async () => {
    const broker = brokers.basic!;
    const browser = new Browser();
    const sso = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs-d', undefined, {}),
    );
    const state = new URL(sso.headers.get('location')!).searchParams.get('state')!;
    // What the IdP redirects to when the person declines (RFC 6749 4.1.2.1, RFC 9207 iss).
    const page = await browser.request(
      `${broker.url}/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`,
    );
    expect(page.status).to.equal(200);
    const fields = formFields(await page.text());
    expect(fields['RelayState']).to.equal('rs-d');
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      RESPONDER,
      'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
    ]);
  });

  it('refuses an IdP error answer whose iss names another issuer (no Response is sent)', async () => {
    const broker = brokers.basic!;
    const browser = new Browser();
    const sso = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    const state = new URL(sso.headers.get('location')!).searchParams.get('state')!;
    const page = await browser.request(
      `${broker.url}/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent('https://evil.example')}`,
    );
    expect(page.status).to.equal(400);
    expect(await page.text()).to.contain('OIDC_ISSUER_MISMATCH');
  });

  it('answers NoPassive at once for a passive request that would need the IdP choice page', async () => {
    const { server, url } = await listenPlaceholder();
    const broker = await serveBroker(
      server,
      url,
      tenantFor(url, [
        oidcIdp('one', idp.issuer, { emailDomains: ['acme.test'] }),
        oidcIdp('two', idp.issuer, { authority: 'catchAll' }),
      ]),
      pki,
    );
    try {
      const portal = portalSp(url, pki);
      portal.options.passive = true;
      const page = await new Browser().request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
      expect(page.status).to.equal(200);
      const fields = formFields(await page.text());
      expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
        RESPONDER,
        'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
      ]);
    } finally {
      await broker.close();
    }
  });

  interface SignInAttempt {
    status: number;
    reason: string | undefined;
    location: string | null;
  }

  /**
   * Runs `steps` against a broker whose one IdP authenticates with private_key_jwt from Secret
   * `secretName`, key private.pem, first holding `pem`; `signIn` starts a sign-in at the broker.
   */
  async function withPrivateKeyJwtBroker(
    secretName: string,
    pem: string,
    steps: (broker: {
      keyFile: string;
      signIn: () => Promise<SignInAttempt>;
      logs: Record<string, unknown>[];
    }) => Promise<void>,
  ): Promise<void> {
    const keyFile = join(pki.dir, secretName, 'private.pem');
    mkdirSync(join(pki.dir, secretName));
    writeFileSync(keyFile, pem);
    const spec = oidcIdp('corporate', idp.issuer);
    spec['oidc'].clientAuthMethod = 'private_key_jwt';
    spec['oidc'].privateKeySecretRef = { name: secretName };
    delete spec['oidc'].clientSecretRef;
    const { server, url } = await listenPlaceholder();
    const broker = await serveBroker(server, url, tenantFor(url, [spec]), pki);
    const signIn = async (): Promise<SignInAttempt> => {
      const page = await new Browser().request(
        await portalSp(url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      const html = await page.text();
      return { status: page.status, reason: pageReason(html), location: page.headers.get('location') };
    };
    try {
      await steps({ keyFile, signIn, logs: broker.logs });
    } finally {
      await broker.close();
    }
  }

  /** The one log line of the failed sign-in: reason, status, the Secret and key, and no key material. */
  function expectConfigurationFault(
    logs: Record<string, unknown>[],
    reason: string,
    secretName: string,
  ): void {
    const line = logs.findLast((l) => l['event'] === 'broker.unavailable');
    expect(line).to.include({ reason, status: 500, secretName, secretKeyName: 'private.pem' });
    expect(JSON.stringify(logs)).to.not.include('PRIVATE KEY');
  }

  it('answers 500 OIDC_CLIENT_KEY_UNSUPPORTED for a private_key_jwt key of a type it cannot sign with (Ed448)', async () => {
    const ed448 = generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' });
    await withPrivateKeyJwtBroker('idp-key-ed448', ed448.toString(), async ({ signIn, logs }) => {
      expect(await signIn()).to.include({ status: 500, reason: 'OIDC_CLIENT_KEY_UNSUPPORTED' });
      expectConfigurationFault(logs, 'OIDC_CLIENT_KEY_UNSUPPORTED', 'idp-key-ed448');
    });
  });

  it('answers 500 OIDC_CLIENT_KEY_UNSUPPORTED for a private_key_jwt Secret that holds no PEM private key', async () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
    await withPrivateKeyJwtBroker('idp-key-garbage', garbage, async ({ signIn, logs }) => {
      expect(await signIn()).to.include({ status: 500, reason: 'OIDC_CLIENT_KEY_UNSUPPORTED' });
      expectConfigurationFault(logs, 'OIDC_CLIENT_KEY_UNSUPPORTED', 'idp-key-garbage');
    });
  });

  it('answers 500 SECRET_MISSING, not OIDC_DISCOVERY_FAILED, when the private_key_jwt key file is gone, naming the Secret and key in the log, and signs in again once it is back', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = rsa.export({ type: 'pkcs8', format: 'pem' }).toString();
    await withPrivateKeyJwtBroker('idp-key-gone', pem, async ({ keyFile, signIn, logs }) => {
      rmSync(keyFile);
      expect(await signIn()).to.include({ status: 500, reason: 'SECRET_MISSING' });
      expectConfigurationFault(logs, 'SECRET_MISSING', 'idp-key-gone');
      expect(logs.some((l) => l['reason'] === 'OIDC_DISCOVERY_FAILED')).to.equal(false);
      // The Secret is mounted again: the next sign-in reads it, without a restart.
      writeFileSync(keyFile, pem);
      const again = await signIn();
      expect(again.status).to.equal(302);
      expect(again.location).to.match(new RegExp(`^${idp.issuer}/`));
    });
  });

  // RFC 6749 5.2: invalid_client, 401 with a Basic challenge for client_secret_basic. The broker's
  // registration at the IdP is at fault, never the person or her answer (ADR 0093, ADR 0237).
  it("answers 500 OIDC_CLIENT_REJECTED, logged as a fault, when the IdP refuses the broker's client secret (invalid_client), Basic and in the body", async () => {
    for (const kind of ['rejectedBasic', 'rejectedPost'] as const) {
      const broker = brokers[kind]!;
      const from = broker.logs.length;
      const { page, html } = await loginThroughBroker(
        { portal: portalSp(broker.url, pki), brokerUrl: broker.url },
        new Browser(),
      );
      expect([kind, page.status, pageReason(html)]).to.deep.equal([kind, 500, 'OIDC_CLIENT_REJECTED']);
      const logs = broker.logs.slice(from);
      expect(logs.find((l) => l['event'] === 'broker.unavailable')).to.include({
        reason: 'OIDC_CLIENT_REJECTED',
        status: 500,
      });
      expect(logs.filter((l) => l['event'] === 'broker.refusal')).to.deep.equal([]);
      expect(JSON.stringify(logs)).to.not.include('rotated-at-the-idp');
    }
  });

  it('keeps client_secret_basic working (the default)', async () => {
    expect((await login('basic'))?.nameID).to.equal('alice@acme.test');
  });
});

describe('broker: PKCE S256 challenge', () => {
  it('is BASE64URL(SHA-256(verifier)): the RFC 7636 appendix B example, and openid-client agrees', async () => {
    expect(pkceS256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).to.equal(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    for (let i = 0; i < 20; i++) {
      const verifier = client.randomPKCECodeVerifier();
      expect(pkceS256Challenge(verifier)).to.equal(await client.calculatePKCECodeChallenge(verifier));
    }
  });
});
