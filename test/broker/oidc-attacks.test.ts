import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import { KEY_REFETCH_COOLDOWN_MS } from '../../broker/backends/oidc-signing-keys.js';
import {
  type BrokerUnderTest,
  Browser,
  expectBrokerRefusal,
  formFields,
  type Pki,
  PORTAL_URL,
  pageReason,
  portalSp,
  signedStatusCodes,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { expectPageSecurityHeaders } from '../../testkit/security-headers.js';
import { type FakeOidc, type Forgery, startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

describe('broker: OIDC backend refuses forged or mixed-up answers', () => {
  let pki: Pki;
  let idpA: FakeOidc;
  let idpB: FakeOidc;
  let broker: BrokerUnderTest;
  let stack: TwoIdpBroker;

  before(async () => {
    stack = await startTwoIdpBroker();
    ({ pki, idpA, idpB, broker } = stack);
  });
  after(async () => stack.close());

  /** Starts a login, picks `idp` on the choice page, returns the state sent to the IdP. */
  async function startAt(
    browser: Browser,
    idp: 'alpha' | 'beta',
    options: { forceAuthn?: boolean } = {},
  ): Promise<string> {
    const portal = portalSp(broker.url, pki);
    portal.options.forceAuthn = options.forceAuthn === true;
    const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    expect(choice.status).to.equal(200);
    const { csrf } = formFields(await choice.text());
    const toIdp = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp } });
    expect(toIdp.status).to.equal(303);
    const authorize = new URL(toIdp.headers.get('location')!);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    await fetch(authorize);
    return authorize.searchParams.get('state')!;
  }

  async function callbackWith(
    forgery: Forgery,
    /** The RFC 9207 `iss` the callback carries; null sends none. */
    iss: string | null = idpA.issuer,
    options: { forceAuthn?: boolean; extra?: string } = {},
  ): Promise<Response> {
    const browser = new Browser();
    const state = await startAt(browser, 'alpha', options);
    idpA.forgery = forgery;
    const issParam = iss === null ? '' : `&iss=${encodeURIComponent(iss)}`;
    // The code is the state: the fake IdP answers it with the nonce of this flow (fake-oidc.ts).
    return browser.request(
      `${broker.url}/oidc/callback/alpha?code=${state}&state=${state}${issParam}${options.extra ?? ''}`,
    );
  }

  const expectRefused = (response: Response, reason: string) => expectBrokerRefusal(broker, response, reason);

  it('accepts a correctly signed ID token from the IdP the flow was sent to', async () => {
    const response = await callbackWith('valid');
    expect(response.status).to.equal(200);
    // The page carrying the SAMLResponse: posts only to the portal, leaks no Referer, is never cached.
    expectPageSecurityHeaders(response, { formAction: `'self' ${PORTAL_URL}`, https: false });
    expect(formFields(await response.text())['SAMLResponse']).to.be.a('string');
  });

  // rp-userinfo-bearer-header: an OP may refuse a token anywhere else (RFC 6750 2.1 SHOULD; 2.3, the
  // query, SHOULD NOT); oidc-provider takes it in a form body too, so only a recording OP shows where it went.
  it('presents the access token to the userinfo endpoint as a Bearer header alone, in no query or body (rp-userinfo-bearer-header)', async () => {
    idpA.userinfoRequests.length = 0;
    expect((await callbackWith('valid')).status).to.equal(200);
    expect(idpA.userinfoRequests).to.deep.equal([{ method: 'GET', authorization: 'Bearer at', search: '' }]);
  });

  it('refuses an ID token with another issuer', async () =>
    expectRefused(await callbackWith('wrong-iss'), 'OIDC_ID_TOKEN_ISSUER_MISMATCH'));
  it('refuses an ID token for another audience', async () =>
    expectRefused(await callbackWith('wrong-aud'), 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH'));
  it('refuses an ID token with another nonce', async () =>
    expectRefused(await callbackWith('wrong-nonce'), 'OIDC_ID_TOKEN_NONCE_MISMATCH'));
  it('refuses an ID token without nonce, which the broker always sends: a required claim missing', async () =>
    expectRefused(await callbackWith('no-nonce'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an unsigned (alg none) ID token', async () =>
    expectRefused(await callbackWith('alg-none'), 'OIDC_ID_TOKEN_ALG_FORBIDDEN'));
  it('refuses an HS256 ID token keyed with the IdP public key', async () =>
    expectRefused(await callbackWith('hs256-public-key'), 'OIDC_ID_TOKEN_ALG_FORBIDDEN'));
  it("refuses an ID token signed by a key that is not the IdP's (same kid), reading the JWKS again at most once per cooldown for such tokens", async () => {
    const fetchesBefore = idpA.jwksFetches;
    const started = performance.now();
    // A signature that fails under a kid the broker has reads the keys again (the IdP may have
    // replaced the key under its kid, ADR 0268); forged ones, at once or one after another, are spaced.
    const burst = await Promise.all(Array.from({ length: 6 }, () => callbackWith('foreign-key')));
    for (const response of burst) {
      const body = await response.text();
      expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_ID_TOKEN_SIGNATURE_INVALID']);
    }
    await expectRefused(await callbackWith('foreign-key'), 'OIDC_ID_TOKEN_SIGNATURE_INVALID');
    const reads = idpA.jwksFetches - fetchesBefore;
    expect(reads)
      .to.be.at.least(1)
      .and.at.most(1 + Math.floor((performance.now() - started) / KEY_REFETCH_COOLDOWN_MS));
    const refetches = broker.logs.filter(
      (l) => l['event'] === 'broker.oidc_keys_refetch' && l['cause'] === 'signature_failed',
    );
    expect(refetches).to.have.length(reads);
  });
  it('reads the JWKS again at most once per cooldown however many ID tokens name keys it does not publish', async () => {
    const fetchesBefore = idpA.jwksFetches;
    const logsBefore = broker.logs.length;
    const started = performance.now();
    // At once (the first read claims the cooldown before it answers), then one after another.
    const burst = await Promise.all(Array.from({ length: 8 }, () => callbackWith('unknown-kid')));
    for (const response of burst) {
      const body = await response.text();
      expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_ID_TOKEN_KEY_UNKNOWN']);
    }
    for (let i = 0; i < 4; i++)
      await expectRefused(await callbackWith('unknown-kid'), 'OIDC_ID_TOKEN_KEY_UNKNOWN');
    const elapsed = performance.now() - started;
    const reads = idpA.jwksFetches - fetchesBefore;
    expect(reads)
      .to.be.at.least(1)
      .and.at.most(1 + Math.floor(elapsed / KEY_REFETCH_COOLDOWN_MS));
    // One line per refused token: the read it caused, or the read it was denied (a token that
    // shared another's read under way and still found no key was denied one of its own).
    const lines = broker.logs.slice(logsBefore).filter((l) => l['idp'] === 'alpha');
    const refetches = lines.filter((l) => l['event'] === 'broker.oidc_keys_refetch').length;
    const held = lines.filter((l) => l['event'] === 'broker.oidc_keys_refetch_held').length;
    expect(refetches).to.equal(reads);
    expect(refetches + held).to.equal(12);
    // The IdP's own key still signs people in.
    expect((await callbackWith('valid')).status).to.equal(200);
  });

  // RFC 8725 3.10: a key the token names or carries is never taken; only the IdP's key set counts.
  it('refuses an ID token that brings its own key: an embedded jwk, a jku naming another key set', async () => {
    await expectRefused(await callbackWith('header-jwk'), 'OIDC_ID_TOKEN_SIGNATURE_INVALID');
    await expectRefused(await callbackWith('header-jku'), 'OIDC_ID_TOKEN_KEY_UNKNOWN');
    expect(idpA.attackerJwksFetches).to.equal(0);
  });
  it('refuses an ID token signed by the IdP with a critical header extension it does not understand (RFC 7515 4.1.11)', async () =>
    expectRefused(await callbackWith('header-crit'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an expired ID token as an invalid answer', async () =>
    expectRefused(await callbackWith('expired'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an HS256 ID token keyed with the client secret (the IdP registered RS256)', async () =>
    expectRefused(await callbackWith('hs256-client-secret'), 'OIDC_ID_TOKEN_ALG_FORBIDDEN'));
  it('refuses an ID token naming a second audience without azp', async () =>
    expectRefused(await callbackWith('extra-audience-no-azp'), 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH'));
  // OIDC Core 3.1.3.7 (3): an ID token naming audiences the client does not trust MUST be refused;
  // openid-client lets any extra audience pass when azp names the client (rp-id_token-aud).
  it('refuses an ID token naming a second audience even with azp naming the broker', async () =>
    expectRefused(await callbackWith('extra-audience-azp-self'), 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH'));
  // 3.1.3.7 (5): an azp present must be the client_id; openid-client looks at it only beside a
  // second audience.
  it('refuses an ID token whose azp names another party, though its aud is the broker alone', async () =>
    expectRefused(await callbackWith('azp-other'), 'OIDC_ID_TOKEN_AUDIENCE_MISMATCH'));
  it('refuses an ID token that is not yet valid (nbf 30 minutes ahead)', async () =>
    expectRefused(await callbackWith('not-yet-valid'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an ID token without iat, or without sub (OIDC Core 2: both required)', async () => {
    await expectRefused(await callbackWith('no-iat'), 'OIDC_RESPONSE_INVALID');
    await expectRefused(await callbackWith('no-sub'), 'OIDC_RESPONSE_INVALID');
  });
  // oauth4webapi holds sub to be a string, not a non-empty one: an IdP sending "" for several people
  // would make them one subject for the audit hash and the back-channel logout index (ADR 0253).
  it('refuses an ID token whose sub is empty (OIDC Core 2: an identifier)', async () =>
    expectRefused(await callbackWith('empty-sub'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an ID token without exp (OIDC Core 2: required)', async () =>
    expectRefused(await callbackWith('no-exp'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an ID token whose sub is longer than 255 ASCII characters (OIDC Core 2)', async () =>
    expectRefused(await callbackWith('long-sub'), 'OIDC_RESPONSE_INVALID'));
  // RFC 6749 3.1: request and response parameters MUST NOT be included more than once; which of two
  // states, codes or issuers would be judged is not left to a parser. The broker reads state itself,
  // openid-client the rest of the answer.
  const repeatedParameters = [
    ['state', 'state=other', 'HTTP_PARAMETER_REPEATED'],
    ['code', 'code=other', 'OIDC_RESPONSE_INVALID'],
    ['iss', `iss=${encodeURIComponent('http://127.0.0.1:1')}`, 'OIDC_ISSUER_MISMATCH'],
  ] as const;
  for (const [name, repeated, reason] of repeatedParameters) {
    it(`refuses a callback carrying ${name} twice, sending no code to the token endpoint`, async () => {
      const codesSent = idpA.tokenCodes.length;
      const response = await callbackWith('valid', idpA.issuer, { extra: `&${repeated}` });
      expect(response.status).to.equal(400);
      expect(pageReason(await response.text())).to.equal(reason);
      expect(idpA.tokenCodes).to.have.length(codesSent);
    });
  }
  it('refuses an ID token without aud (OIDC Core 2: required)', async () =>
    expectRefused(await callbackWith('no-aud'), 'OIDC_RESPONSE_INVALID'));
  it('refuses an ID token issued 30 minutes in the future (iat beyond the clock tolerance)', async () =>
    expectRefused(await callbackWith('iat-ahead'), 'OIDC_RESPONSE_INVALID'));
  // It would become the AuthnInstant of the Response (ADR 0198), and passes any max_age.
  it('refuses an ID token whose auth_time is 30 minutes in the future (beyond the clock tolerance)', async () =>
    expectRefused(await callbackWith('auth-time-ahead'), 'OIDC_RESPONSE_INVALID'));
  // OIDC Core 3.1.3.8: an ID token from the token endpoint may carry at_hash; what it carries is held
  // to, as openid-client 5 did (ADR 0324): the access token it vouches for is the one the userinfo is read with.
  it('signs in an ID token whose at_hash and c_hash are the hashes of the access token and code it came with', async () => {
    const response = await callbackWith('token-hashes');
    expect(response.status, pageReason(await response.clone().text())).to.equal(200);
    expect(formFields(await response.text())['SAMLResponse']).to.be.a('string');
  });
  it('refuses an ID token whose at_hash is not the hash of the access token beside it (OIDC Core 3.1.3.8)', async () =>
    expectRefused(await callbackWith('at-hash-other'), 'OIDC_ID_TOKEN_HASH_MISMATCH'));
  it('refuses an ID token whose c_hash is not the hash of the code it was issued for (OIDC Core 3.3.2.11)', async () =>
    expectRefused(await callbackWith('c-hash-other'), 'OIDC_ID_TOKEN_HASH_MISMATCH'));
  for (const forgery of ['token-type-mac', 'token-type-dpop'] as const) {
    it(`refuses a token response whose token_type is not Bearer (${forgery})`, async () =>
      expectRefused(await callbackWith(forgery), 'OIDC_TOKEN_TYPE_UNSUPPORTED'));
  }
  it('refuses a callback without iss from an IdP that advertises authorization_response_iss_parameter_supported (RFC 9207)', async () =>
    expectRefused(await callbackWith('valid', null), 'OIDC_ISSUER_MISMATCH'));
  it('signs nobody in from a callback carrying both a code and an error: the error is what the portal hears', async () => {
    const response = await callbackWith('valid', idpA.issuer, { extra: '&error=access_denied' });
    expect(response.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await response.text())['SAMLResponse']!, pki.brokerCert),
    ).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
    ]);
  });
  it("does not reflect the IdP's error_description or error_uri into the page", async () => {
    const browser = new Browser();
    const state = await startAt(browser, 'alpha');
    const description = '<script>alert(1)</script><a href="https://evil.example">call us</a>';
    const errorUri = 'javascript:alert(1)//https://evil.example/help';
    const response = await browser.request(
      `${broker.url}/oidc/callback/alpha?error=server_error&error_description=${encodeURIComponent(description)}&error_uri=${encodeURIComponent(errorUri)}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
    );
    const body = await response.text();
    expect(response.status, body).to.equal(200);
    expect(body).to.not.include('evil.example').and.not.include('alert(1)');
    const fields = formFields(body);
    expect(Buffer.from(fields['SAMLResponse']!, 'base64').toString()).to.not.include('evil.example');
    expect(JSON.stringify(broker.logs)).to.not.include('evil.example');
  });
  it('logs no code, state, claim or error_description of a callback it accepts, refuses or hears an error on', async () => {
    const from = broker.logs.length;
    const person = idpA.person;
    idpA.person = { ...person, name: 'Zephyrine Quillbottom', email: 'zephyrine@acme.test' };
    const code = 'Quokka-code-4f1b9c';
    const description = 'Quokka-description: zephyrine@acme.test is locked';
    const states: string[] = [];
    try {
      for (const forgery of ['valid', 'foreign-key', 'token-endpoint-down'] as const) {
        const browser = new Browser();
        const state = await startAt(browser, 'alpha');
        states.push(state);
        idpA.forgery = forgery;
        const response = await browser.request(
          `${broker.url}/oidc/callback/alpha?code=${code}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
        );
        expect(response.status, forgery).to.equal(
          forgery === 'valid' ? 200 : forgery === 'foreign-key' ? 400 : 502,
        );
      }
      const browser = new Browser();
      const state = await startAt(browser, 'alpha');
      states.push(state);
      await browser.request(
        `${broker.url}/oidc/callback/alpha?error=access_denied&error_description=${encodeURIComponent(description)}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
      );
    } finally {
      idpA.person = person;
      idpA.forgery = 'valid';
    }
    const lines = broker.logs.slice(from).map((l) => JSON.stringify(l));
    expect(lines.length).to.be.greaterThan(3);
    for (const secret of [
      code,
      description,
      'Quokka-description',
      'Zephyrine',
      'zephyrine@acme.test',
      ...states,
    ])
      expect(
        lines.filter((l) => l.includes(secret)),
        `log lines quoting ${secret}`,
      ).to.deep.equal([]);
  });
  it('turns ForceAuthn into prompt=login with max_age=0, and accepts an ID token whose auth_time is now', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    portal.options.forceAuthn = true;
    const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    const { csrf } = formFields(await choice.text());
    const toIdp = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp: 'alpha' } });
    const authorize = new URL(toIdp.headers.get('location')!).searchParams;
    expect([authorize.get('prompt'), authorize.get('max_age')]).to.deep.equal(['login', '0']);
    const response = await callbackWith('valid', idpA.issuer, { forceAuthn: true });
    expect(response.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await response.text())['SAMLResponse']!, pki.brokerCert),
    ).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
  });
  it('answers the portal Responder/AuthnFailed, for a ForceAuthn request, to an ID token whose auth_time is an hour old (the IdP did not authenticate again)', async () =>
    expectAuthnFailed(
      broker,
      pki,
      await callbackWith('stale-auth-time', idpA.issuer, { forceAuthn: true }),
      'OIDC_AUTHENTICATION_NOT_FRESH',
    ));
  it('answers the portal Responder/AuthnFailed, for a ForceAuthn request, to an ID token without auth_time', async () =>
    expectAuthnFailed(
      broker,
      pki,
      await callbackWith('no-auth-time', idpA.issuer, { forceAuthn: true }),
      'OIDC_AUTHENTICATION_NOT_FRESH',
    ));
  it('refuses a callback whose iss names the other IdP (mix-up)', async () =>
    expectRefused(await callbackWith('valid', idpB.issuer), 'OIDC_ISSUER_MISMATCH'));

  it('refuses a userinfo answer about another subject than the ID token (OIDC Core 5.3.2)', async () =>
    expectRefused(await callbackWith('userinfo-other-sub'), 'OIDC_USERINFO_SUBJECT_MISMATCH'));

  it('refuses a userinfo answer without sub, or with an empty one, as OIDC_RESPONSE_INVALID (OIDC Core 5.3.2: sub is always returned)', async () => {
    await expectRefused(await callbackWith('userinfo-no-sub'), 'OIDC_RESPONSE_INVALID');
    await expectRefused(await callbackWith('userinfo-empty-sub'), 'OIDC_RESPONSE_INVALID');
  });

  // OIDC Core 5.3.2 and 5.3.4: a signed userinfo answer (application/jwt), which the broker does
  // not ask for but an OP may send (its client registered userinfo_signed_response_alg), is
  // checked like an ID token: the IdP's keys and the tenant's algorithm, iss and aud required.
  it('accepts a userinfo answer signed with the IdP key, naming the IdP as iss and the broker as aud', async () =>
    expect((await callbackWith('userinfo-jwt')).status).to.equal(200));
  it("refuses a signed userinfo answer whose signature is not the IdP's", async () =>
    expectRefused(await callbackWith('userinfo-jwt-foreign-key'), 'OIDC_USERINFO_SIGNATURE_INVALID'));
  it('refuses an unsigned (alg none) userinfo JWT, though the IdP lists none as a userinfo algorithm', async () =>
    expectRefused(await callbackWith('userinfo-jwt-alg-none'), 'OIDC_USERINFO_SIGNATURE_INVALID'));
  it('refuses a signed userinfo answer naming another issuer', async () =>
    expectRefused(await callbackWith('userinfo-jwt-other-iss'), 'OIDC_USERINFO_NOT_FOR_BROKER'));
  it('refuses a signed userinfo answer without iss, without aud, or for another audience', async () => {
    await expectRefused(await callbackWith('userinfo-jwt-no-iss'), 'OIDC_USERINFO_NOT_FOR_BROKER');
    await expectRefused(await callbackWith('userinfo-jwt-no-aud'), 'OIDC_USERINFO_NOT_FOR_BROKER');
    await expectRefused(await callbackWith('userinfo-jwt-other-aud'), 'OIDC_USERINFO_NOT_FOR_BROKER');
  });

  it('answers 502 OIDC_IDP_UNAVAILABLE when the token endpoint fails, blaming the IdP, not the person', async () => {
    const response = await callbackWith('token-endpoint-down');
    const body = await response.text();
    expect(response.status, body).to.equal(502);
    expect(pageReason(body)).to.equal('OIDC_IDP_UNAVAILABLE');
    expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(
      'OIDC_IDP_UNAVAILABLE',
    );
  });

  // ADR 0314: both were 400 OIDC_RESPONSE_INVALID, "failed a security check", counted as the person's.
  for (const [forgery, what] of [
    ['token-endpoint-html', 'answers 200 with an HTML page (a proxy in its place)'],
    ['token-endpoint-truncated', 'answers 200 with JSON cut short'],
  ] as const) {
    it(`answers 502 OIDC_IDP_UNAVAILABLE when the token endpoint ${what}, blaming the IdP, not the person`, async () => {
      const from = broker.logs.length;
      const response = await callbackWith(forgery);
      const body = await response.text();
      expect([response.status, pageReason(body)], body).to.deep.equal([502, 'OIDC_IDP_UNAVAILABLE']);
      expect(
        broker.logs
          .slice(from)
          .filter((l) => l['reason'] !== undefined)
          .map((l) => [l['event'], l['reason']]),
      ).to.deep.include(['broker.unavailable', 'OIDC_IDP_UNAVAILABLE']);
    });
  }

  for (const [forgery, what] of [
    [
      'token-endpoint-redirect',
      'the token endpoint answers 307 (the code, PKCE verifier and client secret would go again)',
    ],
    ['userinfo-redirect', 'the userinfo endpoint answers 302 (the access token would go again)'],
  ] as const) {
    it(`follows no redirect of the IdP's endpoints: ${what}`, async () => {
      const from = broker.logs.length;
      const response = await callbackWith(forgery);
      const body = await response.text();
      expect(idpA.redirectedRequests).to.equal(0);
      expect([response.status, pageReason(body)], body).to.deep.equal([502, 'OIDC_IDP_UNAVAILABLE']);
      expect(broker.logs.slice(from).map((l) => l['reason'])).to.include('OIDC_IDP_UNAVAILABLE');
    });
  }

  // ADR 0237: it was 400 OIDC_RESPONSE_INVALID, a refusal of the person's answer.
  it('answers 502 OIDC_IDP_UNAVAILABLE when the userinfo endpoint refuses the token the IdP just issued (401 invalid_token)', async () => {
    const response = await callbackWith('userinfo-invalid-token');
    const body = await response.text();
    expect([response.status, pageReason(body)]).to.deep.equal([502, 'OIDC_IDP_UNAVAILABLE']);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.unavailable')?.['reason']).to.equal(
      'OIDC_IDP_UNAVAILABLE',
    );
  });

  it('refuses the answer to a superseded choice of the same flow as OIDC_STATE_MISMATCH (the flow waits for the later state)', async () => {
    // The person picks the IdP, goes back and picks it again: one flow, two authorization
    // requests. Only the later one may complete it; the earlier answer still finds the flow by its
    // state, and is refused by the state check against the flow's own, not signed into it.
    const browser = new Browser();
    const choice = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    const { csrf } = formFields(await choice.text());
    const stateOf = async () => {
      const toIdp = await browser.request(`${broker.url}/saml/choose`, {
        form: { csrf: csrf!, idp: 'alpha' },
      });
      expect(toIdp.status).to.equal(303);
      return new URL(toIdp.headers.get('location')!).searchParams.get('state')!;
    };
    const first = await stateOf();
    const second = await stateOf();
    expect(second).to.not.equal(first);
    idpA.forgery = 'valid';
    await expectRefused(
      await browser.request(
        `${broker.url}/oidc/callback/alpha?code=c1&state=${first}&iss=${encodeURIComponent(idpA.issuer)}`,
      ),
      'OIDC_STATE_MISMATCH',
    );
  });

  it('refuses a callback arriving in a browser that did not start the flow', async () => {
    const state = await startAt(new Browser(), 'alpha');
    idpA.forgery = 'valid';
    const response = await new Browser().request(
      `${broker.url}/oidc/callback/alpha?code=c1&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
    );
    expect(response.status).to.equal(403);
    expect(await response.text()).to.contain('FLOW_BROWSER_MISMATCH');
  });

  it('answers a passive request it cannot honour (two IdPs: the choice page would show) with a signed NoPassive Response at once', async () => {
    const portal = portalSp(broker.url, pki);
    portal.options.passive = true;
    const page = await new Browser().request(await portal.getAuthorizeUrlAsync('rs-p', undefined, {}));
    expect(page.status).to.equal(200);
    const fields = formFields(await page.text());
    expect(fields['RelayState']).to.equal('rs-p');
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_PASSIVE_NOT_POSSIBLE',
    );
  });

  it('answers InvalidNameIDPolicy when the chosen IdP is not asserted with the NameID format asked for, and goes to one that is', async () => {
    const persistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
    const mixed = await startTwoIdpBroker({
      beta: { nameId: { format: persistent, expression: 'claims.sub' } },
    });
    try {
      const choose = async (idp: string, format: string) => {
        const portal = portalSp(mixed.broker.url, mixed.pki);
        portal.options.identifierFormat = format;
        const browser = new Browser();
        const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs-n', undefined, {}));
        if (choice.status !== 200 || !/name="csrf"/.test(await choice.clone().text())) return choice;
        const { csrf } = formFields(await choice.text());
        return browser.request(`${mixed.broker.url}/saml/choose`, { form: { csrf: csrf!, idp } });
      };
      const statusOf = async (response: Response) =>
        signedStatusCodes(formFields(await response.text())['SAMLResponse']!, mixed.pki.brokerCert);
      const invalidPolicy = [
        'urn:oasis:names:tc:SAML:2.0:status:Requester',
        'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
      ];
      expect(await statusOf(await choose('alpha', persistent))).to.deep.equal(invalidPolicy);
      const toBeta = await choose('beta', persistent);
      expect(toBeta.status).to.equal(303);
      expect(toBeta.headers.get('location')).to.satisfy((l: string) => l.startsWith(mixed.idpB.issuer));
      // A format no IdP of the tenant is asserted with (transient the broker makes itself): answered at
      // once, without the choice page.
      expect(
        await statusOf(await choose('alpha', 'urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos')),
      ).to.deep.equal(invalidPolicy);
      expect(mixed.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
        'SAML_NAMEID_POLICY_UNSUPPORTED',
      );
    } finally {
      await mixed.close();
    }
  });

  it('refuses a choice form naming an IdP the tenant does not have', async () => {
    const browser = new Browser();
    const choice = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    const { csrf } = formFields(await choice.text());
    const response = await browser.request(`${broker.url}/saml/choose`, {
      form: { csrf: csrf!, idp: 'gamma' },
    });
    expect(response.status).to.equal(400);
    expect(await response.text()).to.contain('IDP_UNKNOWN');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal('IDP_UNKNOWN');
  });

  it("refuses a choice form without the page's CSRF token", async () => {
    const browser = new Browser();
    await browser.request(await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}));
    const response = await browser.request(`${broker.url}/saml/choose`, {
      form: { csrf: 'forged', idp: 'alpha' },
    });
    expect(response.status).to.equal(403);
    expect(await response.text()).to.contain('CSRF_TOKEN_INVALID');
  });

  it('routes by e-mail domain on the choice page (home-realm discovery)', async () => {
    const browser = new Browser();
    const choice = await browser.request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    expect(choice.headers.get('content-security-policy')).to.match(/nonce-/);
    // Chromium applies form-action to the redirect that answers the choice: the IdPs must be allowed.
    expect(choice.headers.get('content-security-policy')).to.include(
      `form-action 'self' ${idpA.issuer} ${idpB.issuer};`,
    );
    const { csrf } = formFields(await choice.text());
    const response = await browser.request(`${broker.url}/saml/choose`, {
      form: { csrf: csrf!, email: 'x@acme.test' },
    });
    expect(response.status).to.equal(303);
    expect(response.headers.get('location')).to.satisfy((l: string) => l.startsWith(idpA.issuer));
  });

  it('hands the e-mail typed for home-realm discovery to the IdP as login_hint, none for a choice by button', async () => {
    const authorizationTo = async (form: Record<string, string>) => {
      const browser = new Browser();
      const choice = await browser.request(
        await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      const { csrf } = formFields(await choice.text());
      const response = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, ...form } });
      expect(response.status).to.equal(303);
      return new URL(response.headers.get('location')!);
    };
    const byEmail = await authorizationTo({ email: ' Xavier@acme.test ' });
    expect(byEmail.origin + byEmail.pathname).to.satisfy((l: string) => l.startsWith(idpA.issuer));
    expect(byEmail.searchParams.get('login_hint')).to.equal('Xavier@acme.test');
    expect((await authorizationTo({ idp: 'alpha' })).searchParams.has('login_hint')).to.equal(false);
  });
});

/**
 * The IdP's verified answer for this login, but not the authentication asked for: the portal hears
 * a signed Responder/AuthnFailed (nothing asserted), and the broker's refusal line and metric name why.
 */
async function expectAuthnFailed(
  broker: BrokerUnderTest,
  pki: Pki,
  response: Response,
  reason: string,
): Promise<void> {
  const body = await response.text();
  expect(response.status, pageReason(body) ?? body.slice(0, 300)).to.equal(200);
  expect(signedStatusCodes(formFields(body)['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
    'urn:oasis:names:tc:SAML:2.0:status:Responder',
    'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  ]);
  expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(reason);
  expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
    result: 'refused',
    reason,
  });
}

/** A new login's choice of `alpha` on the choice page: the broker's answer (303 to the IdP, or a refusal). */
async function chooseAlpha(stack: TwoIdpBroker): Promise<Response> {
  const browser = new Browser();
  const portal = portalSp(stack.broker.url, stack.pki);
  const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
  const { csrf } = formFields(await choice.text());
  return browser.request(`${stack.broker.url}/saml/choose`, { form: { csrf: csrf!, idp: 'alpha' } });
}

/** A login at alpha whose ID token is forged as `forgery`; the authorization request and the answer. */
async function loginAtAlpha(
  stack: TwoIdpBroker,
  forgery: Forgery,
  options: { forceAuthn?: boolean; passive?: boolean } = {},
) {
  const { broker, pki, idpA } = stack;
  const browser = new Browser();
  const portal = portalSp(broker.url, pki);
  portal.options.forceAuthn = options.forceAuthn === true;
  portal.options.passive = options.passive === true;
  const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
  // Through the choice page; straight to the IdP when alpha is the tenant's only one.
  const toIdp =
    sso.status === 200
      ? await browser.request(`${broker.url}/saml/choose`, {
          form: { csrf: formFields(await sso.text())['csrf']!, idp: 'alpha' },
        })
      : sso;
  const authorize = new URL(toIdp.headers.get('location')!).searchParams;
  await fetch(toIdp.headers.get('location')!);
  idpA.forgery = forgery;
  const state = authorize.get('state')!;
  // The redirect URI the request named: alpha's own, or the one of a tenant's only IdP.
  const response = await browser.request(
    `${authorize.get('redirect_uri')}?code=${state}&state=${state}&iss=${encodeURIComponent(idpA.issuer)}`,
  );
  return { authorize, response };
}

describe("broker: a passive request through an OIDC IdP that answers prompt=none with a session older than the tenant's max_age (ADR 0376)", () => {
  let stack: TwoIdpBroker;
  const MAX_AGE = 600;

  before(async () => {
    stack = await startTwoIdpBroker({}, (spec) => {
      // alpha alone, so that a passive request goes to it (with two, the choice page would show: NoPassive).
      spec['identityProviders'] = [spec['identityProviders'][0]];
      spec['identityProviders'][0].oidc.extraAuthorizationParams = { max_age: String(MAX_AGE) };
    });
  });
  after(async () => stack.close());

  const statusOf = async (response: Response) => {
    const body = await response.text();
    expect(response.status, pageReason(body) ?? body.slice(0, 300)).to.equal(200);
    return signedStatusCodes(formFields(body)['SAMLResponse']!, stack.pki.brokerCert);
  };

  it('signs in a passive request whose ID token auth_time is within max_age', async () => {
    const { authorize, response } = await loginAtAlpha(stack, 'valid', { passive: true });
    expect([authorize.get('prompt'), authorize.get('max_age')]).to.deep.equal(['none', String(MAX_AGE)]);
    expect(await statusOf(response)).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
  });

  it('answers Responder/NoPassive, not AuthnFailed, to an auth_time an hour old: the IdP could sign the person in passively only with a session older than max_age', async () => {
    const { response } = await loginAtAlpha(stack, 'stale-auth-time', { passive: true });
    expect(await statusOf(response)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
    ]);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      result: 'refused',
      reason: 'OIDC_AUTHENTICATION_NOT_FRESH',
    });
  });
});

describe('broker: a passive request refused after an OIDC IdP answered is a signed status, never a page (ADR 0380)', () => {
  let stack: TwoIdpBroker;
  const MULTI_FACTOR = 'urn:example:acr:mfa';

  before(async () => {
    stack = await startTwoIdpBroker({}, (spec) => {
      // alpha alone (acme.test), so that a passive request goes to it; its sign-ins must be multi-factor.
      spec['identityProviders'] = [spec['identityProviders'][0]];
      spec['identityProviders'][0].oidc.extraAuthorizationParams = { acr_values: MULTI_FACTOR };
    });
  });
  after(async () => stack.close());

  /** A login at alpha, passive or not, whose ID token says `person`: the broker's page, and its answer to the portal if any. */
  const loginAs = async (person: Record<string, unknown>, passive: boolean) => {
    stack.idpA.person = person;
    const { response } = await loginAtAlpha(stack, 'valid', { passive });
    const body = await response.text();
    const samlResponse = formFields(body)['SAMLResponse'];
    return {
      status: response.status,
      reason: pageReason(body),
      codes: samlResponse === undefined ? undefined : signedStatusCodes(samlResponse, stack.pki.brokerCert),
    };
  };
  const lastLogin = () => stack.broker.logs.findLast((l) => l['event'] === 'broker.login');
  const AUTHN_FAILED = [
    'urn:oasis:names:tc:SAML:2.0:status:Responder',
    'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  ];

  it('answers Responder/AuthnFailed to an address alpha is not authoritative for, or one it did not verify; an active request keeps the page', async () => {
    const refusals = [
      [{ email: 'mallory@beta.test', email_verified: true, acr: MULTI_FACTOR }, 'IDP_NOT_AUTHORITATIVE'],
      [{ email: 'mallory@acme.test', email_verified: false, acr: MULTI_FACTOR }, 'IDP_EMAIL_UNVERIFIED'],
    ] as const;
    for (const [person, reason] of refusals) {
      const passive = await loginAs(person, true);
      expect([passive.status, passive.codes], reason).to.deep.equal([200, AUTHN_FAILED]);
      expect(lastLogin(), reason).to.include({ result: 'refused', reason });
      const active = await loginAs(person, false);
      expect([active.status, active.reason, active.codes], reason).to.deep.equal([403, reason, undefined]);
    }
  });

  it('answers Responder/AuthnFailed, as an active request, to a class the tenant did not list (OIDC_ACR_NOT_MET, the IdP ignoring acr_values under prompt=none)', async () => {
    const passive = await loginAs({ email: 'mallory@acme.test', email_verified: true }, true);
    expect([passive.status, passive.codes]).to.deep.equal([200, AUTHN_FAILED]);
    expect(lastLogin()).to.include({ result: 'refused', reason: 'OIDC_ACR_NOT_MET' });
    // The control: the class listed, the same passive request signs in.
    const signedIn = await loginAs(
      { email: 'mallory@acme.test', email_verified: true, acr: MULTI_FACTOR },
      true,
    );
    expect(signedIn.codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
  });
});

/**
 * RFC 9700 2.1.1 and 4.8.2 (PKCE downgrade): the broker chooses its PKCE method itself, S256 with every
 * authorization request whatever the IdP's discovery lists (`plain` alone, which would put the verifier
 * in the browser's URL, or no method at all), and the token request carries the verifier the challenge
 * is the hash of. Holding the code to it is the server's part: oidc-provider refuses a verifier for a
 * code issued without a challenge, and the dev IdP issues none without one (ADR 0410).
 */
describe('broker: PKCE S256 whatever the IdP lists (RFC 9700 2.1.1, 4.8.2)', () => {
  const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');
  for (const [what, pkceMethods] of [
    ['plain alone', ['plain']],
    ['no method', undefined],
  ] as const) {
    it(`sends S256 and, at the token endpoint, the verifier of its challenge to an IdP whose discovery lists ${what}`, async () => {
      const stack = await startTwoIdpBroker(
        {},
        undefined,
        pkceMethods ? { pkceMethods: [...pkceMethods] } : {},
      );
      try {
        const { authorize, response } = await loginAtAlpha(stack, 'valid');
        expect(response.status).to.equal(200);
        expect(authorize.get('code_challenge_method')).to.equal('S256');
        expect(stack.idpA.codeVerifiers.map(s256)).to.deep.equal([authorize.get('code_challenge')]);
      } finally {
        await stack.close();
      }
    });
  }
});

/**
 * The OpenID Foundation's RP tests of the OP's key set (oidcc-client-test-kid-absent-single-jwks,
 * -kid-absent-multiple-jwks, -ignores-unparseable-key-in-jwks; ADR 0198). Each case has a broker of
 * its own: the key set is what the IdP publishes from the broker's first read on. A jose-built OP:
 * oidc-provider always names its keys and publishes only keys it can use.
 */
describe("broker: an OIDC IdP's key set as the RP certification tests publish it", () => {
  let stack: TwoIdpBroker;
  beforeEach(async () => {
    stack = await startTwoIdpBroker();
  });
  afterEach(async () => stack.close());

  const signedIn = async (response: Response) => {
    const body = await response.text();
    expect(response.status, pageReason(body) ?? body.slice(0, 300)).to.equal(200);
    expect(signedStatusCodes(formFields(body)['SAMLResponse']!, stack.pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Success',
    ]);
  };

  it('signs in an ID token without kid when the IdP publishes a single key', async () => {
    stack.idpA.keysWithoutKid = true;
    await signedIn((await loginAtAlpha(stack, 'no-kid')).response);
  });

  it('refuses an ID token without kid when the IdP publishes two keys without kid, as OIDC_RESPONSE_INVALID', async () => {
    stack.idpA.keysWithoutKid = true;
    const { publicKey } = await generateKeyPair('RS256');
    stack.idpA.extraKeys = [{ ...(await exportJWK(publicKey)), alg: 'RS256', use: 'sig' }];
    const { response } = await loginAtAlpha(stack, 'no-kid');
    const body = await response.text();
    expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_RESPONSE_INVALID']);
  });

  it("never checks a signature with a key the IdP publishes for encryption (use enc), though it bears the token's kid", async () => {
    stack.idpA.extraKeys = [{ ...stack.idpA.foreignJwk, kid: 'k1', use: 'enc' }];
    const { response } = await loginAtAlpha(stack, 'foreign-key');
    const body = await response.text();
    expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_ID_TOKEN_SIGNATURE_INVALID']);
  });

  it('ignores keys it cannot use in the key set (a post-quantum-shaped key, a made-up key type)', async () => {
    stack.idpA.extraKeys = [
      { kty: 'AKP', kid: 'pq', alg: 'ML-DSA-99', pub: 'AAAA' },
      { kty: 'XYZ', kid: 'made-up', use: 'sig' },
    ];
    await signedIn((await loginAtAlpha(stack, 'valid')).response);
  });

  // oidcc-client-test-discovery-issuer-mismatch; openid-client's discovery compares the two.
  it('refuses an IdP whose discovery document names another issuer than the configured one', async () => {
    stack.idpA.discoveryIssuer = `${stack.idpA.issuer}/other`;
    const toIdp = await chooseAlpha(stack);
    const body = await toIdp.text();
    expect([toIdp.status, pageReason(body)]).to.deep.equal([502, 'OIDC_DISCOVERY_FAILED']);
  });

  // OIDC Discovery 1.0 section 4.3: "identical". openid-client compares the two as parsed URLs, so
  // each spelling below passed, and the document's issuer, not the configured one, judged ID tokens
  // and the authorization response's iss, while logout tokens were held to the configured one (ADR 0237).
  it('refuses a discovery document whose issuer is the configured one spelled otherwise (trailing slash, letter case, dot segment, IPv4 number)', async () => {
    const { idpA } = stack;
    const port = new URL(idpA.issuer).port;
    const spellings = [
      `${idpA.issuer}/`,
      idpA.issuer.replace('http://', 'HTTP://'),
      `${idpA.issuer}/x/..`,
      `http://2130706433:${port}`,
      `http://0x7f.0.0.1:${port}`,
    ];
    const answers = [];
    for (const spelling of spellings) {
      idpA.discoveryIssuer = spelling;
      const toIdp = await chooseAlpha(stack);
      answers.push([spelling, toIdp.status, pageReason(await toIdp.text())]);
    }
    expect(answers).to.deep.equal(spellings.map((s) => [s, 502, 'OIDC_DISCOVERY_FAILED']));
    const unavailable = stack.broker.logs.findLast((l) => l['event'] === 'broker.unavailable');
    expect(unavailable).to.include({
      reason: 'OIDC_DISCOVERY_FAILED',
      idp: 'alpha',
      discoveredIssuer: spellings.at(-1),
    });
    // Its own issuer, spelled as configured, is taken at the next login (a refusal is not cached).
    delete idpA.discoveryIssuer;
    expect((await chooseAlpha(stack)).status).to.equal(303);
  });

  // ADR 0324: found only at the end of a sign-in, after the person authenticated at the IdP and its code
  // was spent (for an https issuer, refused by openid-client as the person's answer failing a check).
  // ADR 0333: the end_session_endpoint, where the person's browser was sent in clear with the IdP's
  // logout_hint for her, and whose origin could frame the front-channel logout page.
  for (const endpoint of ['token_endpoint', 'userinfo_endpoint', 'end_session_endpoint'] as const) {
    it(`refuses a discovery document naming its ${endpoint} over plain http off loopback before sending anyone to the IdP`, async () => {
      const configured = await startTwoIdpBroker();
      try {
        configured.idpA.discoveryEndpoints = { [endpoint]: 'http://idp.example.test/endpoint' };
        const toIdp = await chooseAlpha(configured);
        expect([toIdp.status, pageReason(await toIdp.text())]).to.deep.equal([502, 'OIDC_DISCOVERY_FAILED']);
      } finally {
        await configured.close();
      }
    });
  }

  // openid-client reads an issuer naming /.well-known/ as the document's own address and compares
  // nothing: alpha's document could name beta's issuer, and alpha's tokens be taken as beta's (ADR 0237).
  it("refuses a configured issuer that names the discovery document itself, whose document names another IdP's issuer", async () => {
    const configured = await startTwoIdpBroker({}, (spec) => {
      spec['identityProviders'][0].oidc.issuer += '/.well-known/openid-configuration';
    });
    try {
      configured.idpA.discoveryIssuer = configured.idpB.issuer;
      const toIdp = await chooseAlpha(configured);
      expect([toIdp.status, pageReason(await toIdp.text())]).to.deep.equal([502, 'OIDC_DISCOVERY_FAILED']);
    } finally {
      await configured.close();
    }
  });

  // The choice page's CSP names every IdP's authorization_endpoint origin: one that is no URL made
  // it a 500 for the tenant's every IdP, and stayed in the cached discovery (ADR 0224).
  it('shows the choice page beside an IdP whose discovery names an authorization_endpoint that is no URL, and refuses that IdP until it is fixed', async () => {
    const { broker, pki, idpA, idpB } = stack;
    /** A new login's choice page, and the answer to choosing `idp` on it. */
    const choose = async (idp: 'alpha' | 'beta') => {
      const browser = new Browser();
      const choice = await browser.request(
        await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      const page = await choice.text();
      const { csrf } = formFields(page);
      const chosen = await browser.request(`${broker.url}/saml/choose`, { form: { csrf: csrf!, idp } });
      return { choice, page, chosen };
    };
    idpB.discoveryAuthorizationEndpoint = 'not a url';
    const { choice, page, chosen } = await choose('beta');
    expect([choice.status, pageReason(page)]).to.deep.equal([200, undefined]);
    expect(choice.headers.get('content-security-policy')).to.include(`form-action 'self' ${idpA.issuer};`);
    expect([chosen.status, pageReason(await chosen.text())]).to.deep.equal([502, 'OIDC_DISCOVERY_FAILED']);
    expect((await choose('alpha')).chosen.status).to.equal(303);
    // Refused at discovery, the document is read again: the IdP's fix is taken without a restart.
    delete idpB.discoveryAuthorizationEndpoint;
    const fixed = await choose('beta');
    expect(fixed.chosen.status).to.equal(303);
    expect(fixed.chosen.headers.get('location')).to.satisfy((l: string) =>
      l.startsWith(`${idpB.issuer}/authorize?`),
    );
  });
});

/** oidcc-client-test-idtoken-signed-using-es256 and -invalid-sig-es256, from a jose-built OP. */
describe('broker: an ES256 OIDC IdP (the tenant registers idTokenSigningAlg ES256)', () => {
  let stack: TwoIdpBroker;
  before(async () => {
    stack = await startTwoIdpBroker(
      {},
      (spec) => {
        for (const idp of spec['identityProviders']) idp.oidc.idTokenSigningAlg = 'ES256';
      },
      { signingAlg: 'ES256' },
    );
  });
  after(async () => stack.close());

  it('signs in an ID token and a signed userinfo answer signed with its ES256 key', async () => {
    for (const forgery of ['valid', 'userinfo-jwt'] as const) {
      const { response } = await loginAtAlpha(stack, forgery);
      expect(response.status, forgery).to.equal(200);
    }
  });

  it('refuses an ES256 ID token whose signature is not its key', async () => {
    const { response } = await loginAtAlpha(stack, 'foreign-key');
    const body = await response.text();
    expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_ID_TOKEN_SIGNATURE_INVALID']);
  });

  it('refuses an HS256 ID token keyed with its public key (algorithm confusion) when ES256 is registered', async () => {
    const { response } = await loginAtAlpha(stack, 'hs256-public-key');
    const body = await response.text();
    expect([response.status, pageReason(body)]).to.deep.equal([400, 'OIDC_ID_TOKEN_ALG_FORBIDDEN']);
  });
});

/**
 * One IdP of the tenant whose discovery endpoint holds every request (down behind a proxy that waits,
 * or an IdP that means to slow the others): the choice page names each IdP's login origin in its CSP,
 * and waited for this one's discovery until the IdP deadline, on every page, whichever IdP the person
 * wanted (ADR 0237).
 */
describe('broker: one IdP whose discovery never answers', () => {
  // Longer than a test may take (mocha's 60 s): a page that waits the deadline out fails by its
  // timeout, however loaded the machine, rather than passing slowly. Nothing is timed here; that a page
  // does not wait on a read an earlier page gave up on is test/broker/login-origins.test.ts's.
  const IDP_TIMEOUT_MS = 10 * 60_000;
  let stack: TwoIdpBroker;
  before(async () => {
    stack = await startTwoIdpBroker({}, undefined, {}, undefined, { idpTimeoutMs: IDP_TIMEOUT_MS });
    stack.idpB.discoveryStalls = true;
  });
  after(async () => {
    stack.idpB.dropStalledDiscovery();
    await stack.close();
  });

  it("shows the choice page without waiting out that IdP's deadline, and signs in through the other", async () => {
    for (let page = 0; page < 2; page++) {
      const browser = new Browser();
      const choice = await browser.request(
        await portalSp(stack.broker.url, stack.pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      expect(choice.status, `page ${page}`).to.equal(200);
      const csp = choice.headers.get('content-security-policy')!;
      expect(csp).to.include(`form-action 'self' ${stack.idpA.issuer};`);
      const { csrf } = formFields(await choice.text());
      const toIdp = await browser.request(`${stack.broker.url}/saml/choose`, {
        form: { csrf: csrf!, idp: 'alpha' },
      });
      expect(toIdp.headers.get('location')).to.satisfy((l: string) =>
        l.startsWith(`${stack.idpA.issuer}/authorize?`),
      );
    }
  });

  it('names that IdP on the choice page again once its discovery answers, without a restart', async () => {
    stack.idpB.discoveryStalls = false;
    // The read the pages stopped waiting for fails, as at the IdP deadline; a page after it reads again.
    stack.idpB.dropStalledDiscovery();
    const csp = await eventually(async () => {
      const choice = await new Browser().request(
        await portalSp(stack.broker.url, stack.pki).getAuthorizeUrlAsync('rs', undefined, {}),
      );
      const named = choice.headers.get('content-security-policy')!;
      return named.includes(stack.idpB.issuer) && named;
    }, 'a choice page naming that IdP');
    expect(csp).to.include(`form-action 'self' ${stack.idpA.issuer} ${stack.idpB.issuer};`);
  });
});

describe("broker: an OIDC IdP is held to the tenant's max_age (OIDC Core 3.1.2.1, 3.1.3.7 item 13)", () => {
  let stack: TwoIdpBroker;
  const MAX_AGE = 600;

  before(async () => {
    stack = await startTwoIdpBroker({}, (spec) => {
      spec['identityProviders'][0].oidc.extraAuthorizationParams = { max_age: String(MAX_AGE) };
    });
  });
  after(async () => stack.close());

  const loginWith = (forgery: Forgery, options: { forceAuthn?: boolean } = {}) =>
    loginAtAlpha(stack, forgery, options);

  it('sends the max_age and signs in an ID token whose auth_time is within it', async () => {
    const { authorize, response } = await loginWith('valid');
    expect(authorize.get('max_age')).to.equal(String(MAX_AGE));
    expect(response.status).to.equal(200);
    expect(
      signedStatusCodes(formFields(await response.text())['SAMLResponse']!, stack.pki.brokerCert),
    ).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
  });

  it('answers Responder/AuthnFailed to an auth_time an hour old: the IdP reused a session older than max_age', async () => {
    const { response } = await loginWith('stale-auth-time');
    await expectAuthnFailed(stack.broker, stack.pki, response, 'OIDC_AUTHENTICATION_NOT_FRESH');
  });

  it('answers Responder/AuthnFailed to an ID token without auth_time, which max_age makes required', async () => {
    const { response } = await loginWith('no-auth-time');
    await expectAuthnFailed(stack.broker, stack.pki, response, 'OIDC_AUTHENTICATION_NOT_FRESH');
  });

  it('sends ForceAuthn as max_age=0 in place of the tenant max_age', async () => {
    const { authorize, response } = await loginWith('valid', { forceAuthn: true });
    expect([authorize.get('prompt'), authorize.get('max_age')]).to.deep.equal(['login', '0']);
    expect(response.status).to.equal(200);
  });
});
