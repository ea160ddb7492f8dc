import { expect } from 'chai';
import { inflateRedirectPayload } from '../../common/saml/deflate.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  issueErrorResponse,
  loadSigningCredential,
} from '../../common/saml/index.js';
import { verifyRedirectSignature } from '../../common/saml/redirect-binding.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  BROKER_ENTITY_ID,
  BROKER_URL,
  Browser,
  brokerResponse,
  type Harness,
  reasons,
  signIn,
  startLogin,
  useHarness,
} from '../../testkit/portal-harness.js';
import { editXml } from '../../testkit/saml-fixtures.js';
import { UNLOADABLE_SIGNATURES } from '../saml/message-attacks.js';

describe('portal SAML sign-in', () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  it('publishes SP metadata with its entityID, POST ACS, Redirect SLO and signing certificate', async () => {
    const res = await fetch(`${h.url}/saml/metadata`);
    const xml = await res.text();
    expect(xml).to.include(`entityID="${h.url}/saml/metadata"`);
    expect(xml).to.include(
      `Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${h.url}/saml/acs"`,
    );
    expect(xml).to.include(`Location="${h.url}/saml/slo"`);
    expect(xml).to.include('<ds:X509Certificate>');
  });

  it('sends a signed AuthnRequest to the broker over HTTP-Redirect', async () => {
    const browser = new Browser(h.url);
    const { location } = await startLogin(browser);
    expect(location.startsWith(`${BROKER_URL}/saml/sso?`)).to.equal(true);
    const portalCert = (await (await fetch(`${h.url}/saml/metadata`)).text()).match(
      /<ds:X509Certificate>([^<]+)</,
    )![1]!;
    const verified = verifyRedirectSignature(location.split('?')[1]!, 'SAMLRequest', [portalCert]);
    expect(verified.xml).to.include(`AssertionConsumerServiceURL="${h.url}/saml/acs"`);
    expect(verified.xml).to.include(`Destination="${BROKER_URL}/saml/sso"`);
    expect(inflateRedirectPayload(new URL(location).searchParams.get('SAMLRequest')!)).to.include(
      '<saml:Issuer>',
    );
  });

  it('signs a known customer in with a fresh __Host-less loopback session cookie and no e-mail kept', async () => {
    const browser = new Browser(h.url);
    browser.cookies.set(cookiePolicy(h.url).session, 'attacker-chosen-session-id-aaaaaaaaaaaaaaaaaaa');
    const { requestId } = await startLogin(browser, '/requests?status=all');
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/requests?status=all');
    const setCookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${cookiePolicy(h.url).session}=`))!;
    expect(setCookie)
      .to.match(/HttpOnly/)
      .and.match(/SameSite=Lax/)
      .and.match(/Path=\//);
    expect(browser.cookies.get(cookiePolicy(h.url).session)).to.not.equal(
      'attacker-chosen-session-id-aaaaaaaaaaaaaaaaaaa',
    );
    const home = await browser.text('/');
    expect(home.status).to.equal(200);
    expect(home.body).to.include('Alice Anders');
    expect(home.body).to.include('IT Help');
    const stored = (await h.storedValues()).join('\n');
    // The display name is sealed like the NameID (portal/session.ts); only the accountId is plain.
    expect(stored).to.not.include('Alice Anders');
    expect(stored).to.not.include('alice@acme.test');
  });

  it('keeps the page to come back to sealed while the sign-in is under way: no search text or e-mail in the store', async () => {
    // An admin's bookmarked search of the activity page, or a customer's search of their requests,
    // reaches /login as the return path when the session has ended: it waits in the store for the
    // broker's answer, and must not wait there as the e-mail or the words someone typed.
    const browser = new Browser(h.url);
    const returnPath = '/activity?q=dana.diaz@acme.test&since=day';
    const { requestId } = await startLogin(browser, returnPath);
    const stored = (await h.storedValues()).join('\n');
    expect(stored).to.not.include('dana.diaz');
    expect(stored).to.not.include('dana.diaz%40acme.test');
    expect(stored).to.not.include('/activity');
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal(returnPath);
  });

  for (const acs of ['/SAML/ACS', '/saml/acs/']) {
    it(`takes the broker's cross-site post to its ACS written ${acs}, as the router does (ADR 0306, 0309)`, async () => {
      const browser = new Browser(h.url);
      const { requestId } = await startLogin(browser, '/requests');
      const res = await browser.post(
        acs,
        { SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }) },
        // As a browser sends the broker's auto-posting form: from the broker's origin.
        { origin: 'https://broker.acme.test' },
      );
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal('/requests');
    });
  }

  it('refuses an unsolicited Response (no login started in this browser)', async () => {
    const browser = new Browser(h.url);
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: '_unsolicited' }),
    });
    expect(res.status).to.equal(400);
    expect(reasons(h, from)).to.include('PORTAL_LOGIN_FLOW_MISSING');
    expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
  });

  for (const second of ['RequestDenied', 'NoPassive', 'AuthnFailed', 'RequestUnsupported']) {
    it(`answers the broker's signed Responder/${second} (the IdP's error= answer) with a page, not a 500 or a new sign-in`, async () => {
      const browser = new Browser(h.url);
      const { requestId } = await startLogin(browser);
      const { xml } = await issueErrorResponse(
        loadSigningCredential(h.brokerKey.keyPem, h.brokerKey.certPem),
        {
          issuer: BROKER_ENTITY_ID,
          acsUrl: `${h.url}/saml/acs`,
          inResponseTo: requestId,
          secondLevelStatus: `urn:oasis:names:tc:SAML:2.0:status:${second}`,
          now: new Date(),
        },
      );
      const from = h.logs.length;
      const res = await browser.post('/saml/acs', { SAMLResponse: Buffer.from(xml).toString('base64') });
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
      expect(res.headers.get('content-type')).to.match(/text\/html/);
      expect(reasons(h, from)).to.deep.equal(['SAML_STATUS_NOT_SUCCESS']);
      expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
      // The login is spent: posting the answer again starts nothing either.
      const again = await browser.post('/saml/acs', { SAMLResponse: Buffer.from(xml).toString('base64') });
      expect([again.status, again.headers.get('location')]).to.deep.equal([400, null]);
    });
  }

  it('refuses a Response for another browser’s login (InResponseTo bound to the login cookie)', async () => {
    const victim = new Browser(h.url);
    const { requestId } = await startLogin(victim);
    const attacker = new Browser(h.url);
    await startLogin(attacker);
    const from = h.logs.length;
    const res = await attacker.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.include('could not be verified');
    expect(reasons(h, from)).to.include('SAML_IN_RESPONSE_TO_MISMATCH');
  });

  it('refuses a replayed assertion', async () => {
    const first = new Browser(h.url);
    const { requestId } = await startLogin(first);
    const assertionId = `_replay${Date.now()}`;
    const ok = await first.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'bob@acme.test', inResponseTo: requestId, assertionId }),
    });
    expect(ok.status).to.equal(303);
    // The same assertion ID again, in a new flow whose InResponseTo matches.
    const second = new Browser(h.url);
    const again = await startLogin(second);
    const from = h.logs.length;
    const res = await second.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'bob@acme.test', inResponseTo: again.requestId, assertionId }),
    });
    expect(res.status).to.equal(400);
    expect(second.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
    expect(reasons(h, from)).to.include('SAML_REPLAY');
  });

  for (const [when, minutes, reason] of [
    ['issued 20 minutes ago', -20, 'SAML_EXPIRED'],
    ['dated 20 minutes in the future', 20, 'SAML_NOT_YET_VALID'],
  ] as const) {
    it(`refuses a Response ${when} (IssueInstant beyond the clock skew): ${reason}`, async () => {
      const browser = new Browser(h.url);
      const { requestId } = await startLogin(browser);
      // The Response envelope is not signed here (the Assertion is), so its IssueInstant can be set.
      const xml = editXml(
        Buffer.from(
          brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
          'base64',
        ).toString(),
        (root) => root.setAttribute('IssueInstant', new Date(Date.now() + minutes * 60_000).toISOString()),
      );
      const from = h.logs.length;
      const res = await browser.post('/saml/acs', { SAMLResponse: Buffer.from(xml).toString('base64') });
      expect(res.status).to.equal(400);
      expect(reasons(h, from)).to.include(reason);
    });
  }

  it('refuses an assertion whose Conditions NotBefore is after its NotOnOrAfter, though both are within the skew (core 2.5.1.2)', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const now = Date.now();
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, {
        email: 'alice@acme.test',
        inResponseTo: requestId,
        conditionsWindow: { notBefore: new Date(now + 60_000), notOnOrAfter: new Date(now + 30_000) },
      }),
    });
    expect(res.status).to.equal(400);
    expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
    expect(reasons(h, from)).to.include('SAML_XML_INVALID');
  });

  it('refuses an assertion whose Audience is another SP', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, {
        email: 'alice@acme.test',
        inResponseTo: requestId,
        audience: 'https://other-sp.test/saml/metadata',
      }),
    });
    expect(res.status).to.equal(400);
    expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
    expect(reasons(h, from)).to.include('SAML_AUDIENCE_MISMATCH');
  });

  it('refuses a signed assertion that names no e-mail address: 403 PORTAL_EMAIL_MISSING, no session, nobody created', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const users = h.emulator.state.users.size;
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'opaque-subject-4711', inResponseTo: requestId }),
    });
    expect(res.status).to.equal(403);
    expect(await res.text()).to.include('did not give your e-mail address');
    expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
    expect(reasons(h, from)).to.include('PORTAL_EMAIL_MISSING');
    expect(h.emulator.state.users.size).to.equal(users);
  });

  it('refuses a Response signed by a key that is not the broker’s', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, {
        email: 'alice@acme.test',
        inResponseTo: requestId,
        key: makeKeyPair('attacker.example.test'),
      }),
    });
    expect(res.status).to.equal(400);
    expect(reasons(h, from)).to.include('SAML_SIGNATURE_INVALID');
  });

  /** The broker's signed Response to a sign-in `browser` starts, as XML, for a test to tamper with. */
  async function genuineResponseXml(browser: Browser): Promise<string> {
    const { requestId } = await startLogin(browser);
    return Buffer.from(
      brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
      'base64',
    ).toString('utf8');
  }

  for (const shape of UNLOADABLE_SIGNATURES) {
    it(`refuses a Response whose signature by the broker has ${shape.has}: 400 SAML_SIGNATURE_INVALID, no internal error (ADR 0228)`, async () => {
      const browser = new Browser(h.url);
      const genuine = await genuineResponseXml(browser);
      const from = h.logs.length;
      const res = await browser.post('/saml/acs', {
        SAMLResponse: Buffer.from(shape.tamper(genuine)).toString('base64'),
      });
      expect(res.status).to.equal(400);
      expect(reasons(h, from)).to.include('SAML_SIGNATURE_INVALID');
      expect(reasons(h, from)).to.not.include('PORTAL_INTERNAL');
      expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
    });
  }

  it('refuses a Response padded with 50,000 empty elements inside its Assertion before checking the signature (ADR 0238)', async () => {
    // Anyone with a sign-in started may post one: under the broken signature xml-crypto walked every
    // element five times, most of a second of the portal, before SAML_SIGNATURE_INVALID.
    const browser = new Browser(h.url);
    const genuine = await genuineResponseXml(browser);
    const padded = genuine.replace(/(<saml:Subject>)/, `${'<x/>'.repeat(50_000)}$1`);
    expect(padded).to.not.equal(genuine);
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', { SAMLResponse: Buffer.from(padded).toString('base64') });
    expect(res.status).to.equal(400);
    expect(reasons(h, from)).to.include('SAML_MESSAGE_TOO_LARGE');
    expect(browser.cookies.has(cookiePolicy(h.url).session)).to.equal(false);
  });

  it('signs in a person whose Response the ACS reads however the form percent-encodes its base64 (ADR 0317)', async () => {
    // U+07FF is two octets whose base64 is rich in '+' and '/', which a browser's form encoding writes as
    // three characters each: a Response within the 256 KiB the ACS reads, yet a form past 400 KB.
    const groups = Array.from({ length: 190 }, (_, n) => `${n}-${'\u07FF'.repeat(600)}`);
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const SAMLResponse = brokerResponse(h, { email: 'alice@acme.test', groups, inResponseTo: requestId });
    expect(Buffer.from(SAMLResponse, 'base64').length).to.be.at.most(DEFAULT_MAX_MESSAGE_BYTES);
    expect(new URLSearchParams({ SAMLResponse }).toString().length).to.be.above(400 * 1024);
    const from = h.logs.length;
    const res = await browser.post('/saml/acs', { SAMLResponse }, { origin: 'null' });
    expect([res.status, reasons(h, from)], await res.text()).to.deep.equal([303, []]);
  });

  it('sends only a relative return path after sign-in (open redirect)', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser, '//evil.test/phish');
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    expect(res.headers.get('location')).to.equal('/');
  });

  /**
   * Alice signed in from `/login?return=<query>`, the query sent as written: the reasons its start
   * logged, and where the ACS then sent her.
   */
  async function signInReturningTo(query: string) {
    const browser = new Browser(h.url);
    const from = h.logs.length;
    const start = await browser.fetch(`/login?return=${query}`);
    const logged = reasons(h, from);
    const samlRequest = new URL(start.headers.get('location')!).searchParams.get('SAMLRequest')!;
    const requestId = /ID="([^"]+)"/.exec(inflateRedirectPayload(samlRequest))![1]!;
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, { email: 'alice@acme.test', inResponseTo: requestId }),
    });
    return { logged, status: res.status, location: res.headers.get('location') };
  }
  const landedHome = { logged: ['PORTAL_RETURN_PATH_UNSAFE'], status: 303, location: '/' };

  // As sent from outside, unencoded in the query: each ended in `Location: //evil.example/` once.
  for (const query of [
    '/.//evil.example/',
    '/..//evil.example/',
    '/x/..//evil.example/',
    '/%2e//evil.example/',
    '/%2E%2E//evil.example/',
    '/%5C%5Cevil.example/',
  ]) {
    it(`lands on / after sign-in from /login?return=${query} (open redirect)`, async () => {
      expect(await signInReturningTo(query)).to.deep.equal(landedHome);
    });
  }

  // One link nesting the sign-in as its own page to come back to ran the browser through a sign-in at the
  // broker, the IdP and the tenant's Atlassian per level, until her account's ACS posts (10 a minute)
  // were spent (ADR 0326).
  for (const query of [
    '/login?return=/login?return=/login?return=/requests',
    '/LOGIN/?return=/requests',
    '/%6cogin',
    '/requests/../login',
  ]) {
    it(`lands on / after a sign-in whose page to come back to is the sign-in itself: ${query}`, async () => {
      expect(await signInReturningTo(query)).to.deep.equal(landedHome);
    });
  }

  it('creates an unknown person as a customer on first sign-in and puts them in their domain’s organization', async () => {
    const browser = await signIn(h, 'newcomer@acme.test', { displayName: 'New Comer' });
    const profile = await browser.text('/profile');
    expect(profile.body).to.include('New Comer');
    expect(profile.body).to.include('Acme Corp');
    const user = [...h.emulator.state.users.values()].find((u) => u.email === 'newcomer@acme.test');
    expect(user, 'customer created in Atlassian').to.not.equal(undefined);
  });

  it('ends the session at the SessionNotOnOrAfter of the Response it signed in with, before its own timeouts (core 2.7.2, ADR 0244)', async () => {
    const browser = new Browser(h.url);
    const { requestId } = await startLogin(browser);
    const end = new Date(Date.now() + 3_000);
    const res = await browser.post('/saml/acs', {
      SAMLResponse: brokerResponse(h, {
        email: 'alice@acme.test',
        inResponseTo: requestId,
        sessionNotOnOrAfter: end,
      }),
    });
    expect(res.status).to.equal(303);
    // The cookie goes with the session, not after the portal's absolute timeout.
    const setCookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${cookiePolicy(h.url).session}=`))!;
    expect(Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])).to.be.within(1, 3);
    expect((await browser.fetch('/requests')).status).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, end.getTime() - Date.now() + 100));
    const after = await browser.fetch('/requests');
    expect([after.status, after.headers.get('location')]).to.deep.equal([303, '/login?return=%2Frequests']);
  });

  it('redirects a signed-out visitor to sign-in and keeps the page to come back to', async () => {
    const res = await new Browser(h.url).fetch('/requests/IT-1');
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('/login?return=%2Frequests%2FIT-1');
  });

  it('signs out through the broker with a signed LogoutRequest and ends the local session', async () => {
    const browser = await signIn(h, 'alice@acme.test');
    const profile = await browser.text('/profile');
    const token = /name="_csrf" value="([^"]+)"/.exec(profile.body)![1]!;
    const cookiesBefore = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await browser.post('/logout', { _csrf: token });
    expect(res.status).to.equal(200);
    const target = /<a id="continue" href="([^"]+)"/
      .exec(await res.text())![1]!
      .replace(/&amp;/g, '&')
      .replace(/&#61;/g, '=');
    expect(target.startsWith(`${BROKER_URL}/saml/slo?SAMLRequest=`)).to.equal(true);
    const portalCert = (await (await fetch(`${h.url}/saml/metadata`)).text()).match(
      /<ds:X509Certificate>([^<]+)</,
    )![1]!;
    const logout = verifyRedirectSignature(target.split('?')[1]!, 'SAMLRequest', [portalCert]);
    expect(logout.xml).to.include(
      '<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@acme.test</saml:NameID>',
    );
    expect((await browser.fetch('/profile')).status).to.equal(303);
    // The old cookie, kept by a thief or another tab, opens nothing either: the session is gone.
    const replayed = await fetch(`${h.url}/profile`, {
      headers: { cookie: cookiesBefore },
      redirect: 'manual',
    });
    expect(replayed.status).to.equal(303);
  });

  it('shows the activity page to tenant admins only, with accountIds and no e-mail', async () => {
    const customer = await signIn(h, 'bob@acme.test');
    expect((await customer.fetch('/activity')).status).to.equal(404);
    const admin = await signIn(h, 'alice@acme.test', { groups: ['portal-admins'] });
    const page = await admin.text('/activity');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('127.0.0.1');
    expect(page.body).to.not.include('@acme.test');
    // The groups decided the admin flag at sign-in; the session does not keep them.
    expect((await h.storedValues()).join('\n')).to.not.include('portal-admins');
  });
});
