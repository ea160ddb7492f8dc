import { createSign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { Element } from '@xmldom/xmldom';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import {
  acceptProtocolMessage,
  logoutRequest as buildLogoutRequest,
  logoutSucceeded,
  NAMEID_EMAIL,
  NAMEID_TRANSIENT,
  NS,
  parseSamlXml,
  signedRedirectUrl,
  signRedirectQuery,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import {
  Browser,
  formFields,
  loginThroughBroker,
  logoutOfUnknownSession,
  PORTAL_URL,
  portalSp,
  type Stack,
  startStack,
} from '../../testkit/broker-harness.js';
import { LOGOUT_REQUEST_ATTACKS } from '../saml/message-attacks.js';

/** Single Logout: the portal's signed LogoutRequest, RP-initiated logout at the IdP, LogoutResponse back. */
describe('broker: Single Logout', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  /** Verifies the broker's LogoutResponse (Redirect binding) with common/saml; returns it parsed. */
  function verifiedLogoutResponse(location: string) {
    expect(location.startsWith(`${PORTAL_URL}/saml/slo?`), location).to.equal(true);
    const message = verifyRedirectSignature(new URL(location).search.slice(1), 'SAMLResponse', [
      stack.pki.brokerCert,
    ]);
    const root = parseSamlXml(message.xml).documentElement as unknown as Element;
    expect(root.localName).to.equal('LogoutResponse');
    const codes = [...root.getElementsByTagNameNS(NS.protocol, 'StatusCode')].map((c) =>
      c.getAttribute('Value'),
    );
    return { root, codes, relayState: message.relayState };
  }

  async function loggedIn(browser: Browser, portal = stack.portal, email?: string) {
    const { fields } = await loginThroughBroker(
      { portal, brokerUrl: stack.broker.url },
      browser,
      email === undefined ? {} : { email },
    );
    const { profile } = await portal.validatePostResponseAsync(fields);
    expect(profile?.sessionIndex).to.be.a('string');
    return profile!;
  }

  /** The person answers "yes" on oidc-provider's sign-out confirmation; the browser goes on up to the portal. */
  async function confirmAtIdp(browser: Browser, endSession: URL) {
    const html = await (await browser.request(endSession.href)).text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    return browser.follow(new URL(action, endSession).href, PORTAL_URL, { form: { xsrf, logout: 'yes' } });
  }

  it('signs the person out at the OIDC IdP and answers the portal with a signed Success LogoutResponse', async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const logoutUrl = await stack.portal.getLogoutUrlAsync(profile, 'rs-out', {});
    const toIdp = await browser.request(logoutUrl);
    expect(toIdp.status).to.equal(302);
    const endSession = new URL(toIdp.headers.get('location')!);
    expect(endSession.origin).to.equal(stack.idp.issuer);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).to.equal(
      `${stack.broker.url}/oidc/logout-callback`,
    );
    // RP-Initiated Logout by client_id: the broker keeps no ID token to send as id_token_hint.
    expect(endSession.searchParams.get('client_id')).to.equal('jsm-sso');
    expect(endSession.searchParams.has('id_token_hint')).to.equal(false);
    // oidc-provider asks the person to confirm; the browser confirms.
    const back = await confirmAtIdp(browser, endSession);
    expect(back.location, 'the browser ends at the portal SLO endpoint').to.be.a('string');
    const { root, codes, relayState } = verifiedLogoutResponse(back.location!);
    expect(codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    expect(relayState).to.equal('rs-out');
    expect(root.getAttribute('Destination')).to.equal(`${PORTAL_URL}/saml/slo`);
    const logoutRequestId = /ID="([^"]+)"/.exec(
      parseSamlXml(
        verifyRedirectSignature(new URL(logoutUrl).search.slice(1), 'SAMLRequest', [stack.pki.portalCert])
          .xml,
      ).documentElement!.toString(),
    )![1];
    expect(root.getAttribute('InResponseTo')).to.equal(logoutRequestId);
  });

  it('keeps a sign-out and a sign-in made meanwhile in the same browser apart: each is answered for itself', async () => {
    const browser = new Browser();
    const first = await loggedIn(browser);
    const firstLogout = await stack.portal.getLogoutUrlAsync(first, 'rs-first', {});
    const endSession = new URL((await browser.request(firstLogout)).headers.get('location')!);
    // While the IdP's confirmation waits, the person signs in again in another tab: the IdP's session
    // still lives, so it answers at once.
    const sso = await browser.request(await stack.portal.getAuthorizeUrlAsync('rs-again', undefined, {}));
    const callback = `${stack.broker.url}/oidc/callback`;
    const silent = await browser.follow(
      new URL(sso.headers.get('location')!, stack.broker.url).href,
      callback,
    );
    const page = await browser.request(silent.location!);
    const { profile: second } = await stack.portal.validatePostResponseAsync(formFields(await page.text()));
    expect(second!.sessionIndex).to.not.equal(first.sessionIndex);
    // The first tab confirms the sign-out: the portal is answered for its first LogoutRequest only.
    const back = await confirmAtIdp(browser, endSession);
    const answer = verifiedLogoutResponse(back.location!);
    expect(answer.codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    expect(answer.relayState).to.equal('rs-first');
    // The later sign-in's broker session was not ended by the earlier sign-out; the first one was.
    expect(await sessionLives(browser, second!), 'the second session still leads to the IdP').to.equal(true);
    const firstAgain = await browser.request(await stack.portal.getLogoutUrlAsync(first, 'rs-x', {}));
    expect(firstAgain.headers.get('location')!.startsWith(`${PORTAL_URL}/saml/slo?`)).to.equal(true);
  });

  it("accepts the LogoutRequest common/saml builds for the portal, and its answer passes the portal's own checks", async () => {
    const destination = `${stack.broker.url}/saml/slo`;
    const message = buildLogoutRequest({
      issuer: `${PORTAL_URL}/saml/metadata`,
      destination,
      now: new Date(),
      nameId: 'nobody@acme.test',
      nameIdFormat: NAMEID_EMAIL,
      sessionIndex: '_unknown',
    });
    const response = await new Browser().request(
      signedRedirectUrl('SAMLRequest', destination, message, {
        keyPem: stack.pki.portalKey,
        relayState: 'rs-c',
      }),
    );
    expect(response.status).to.equal(302);
    const answer = await acceptProtocolMessage(
      { kind: 'redirect', rawQuery: new URL(response.headers.get('location')!).search.slice(1) },
      {
        type: 'LogoutResponse',
        inResponseTo: message.id,
        issuer: `${stack.broker.url}/saml/metadata`,
        certificatesPem: [stack.pki.brokerCert],
        destination: `${PORTAL_URL}/saml/slo`,
        now: new Date(),
      },
      new MemoryFlowStore(),
    );
    expect(logoutSucceeded(answer.root)).to.equal(true);
    expect(answer.relayState).to.equal('rs-c');
  });

  it('answers a LogoutRequest for an unknown session with a signed Success LogoutResponse', async () => {
    const response = await logoutOfUnknownSession(stack, 'rs-u');
    expect(response.status).to.equal(302);
    const { codes, relayState } = verifiedLogoutResponse(response.headers.get('location')!);
    expect(codes[0]).to.equal('urn:oasis:names:tc:SAML:2.0:status:Success');
    expect(relayState).to.equal('rs-u');
  });

  it('answers only at the portal’s registered SLO URL, whatever the RelayState names (no open redirect)', async () => {
    const response = await logoutOfUnknownSession(stack, 'https://evil.example/phish');
    expect(response.status).to.equal(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).to.equal(`${PORTAL_URL}/saml/slo`);
    // The binding echoes RelayState (bindings 3.4.3), inside the signature; the portal reads it as a token only.
    expect(verifiedLogoutResponse(location.href).relayState).to.equal('https://evil.example/phish');
  });

  /**
   * The portal's LogoutRequest naming `nameId` and `sessionIndex`; its NameID's attributes `nameIdAttributes`,
   * by default the Format the broker asserted it with (e-mail), as the portal names it back.
   */
  const logoutRequest = (
    sessionIndex: string,
    nameId = 'alice@acme.test',
    nameIdAttributes = `Format="${NAMEID_EMAIL}"`,
  ) =>
    `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="_lr${Date.now()}${Math.random().toString(16).slice(2)}" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${stack.broker.url}/saml/slo">` +
    `<saml:Issuer>${PORTAL_URL}/saml/metadata</saml:Issuer><saml:NameID ${nameIdAttributes}>${nameId}</saml:NameID><samlp:SessionIndex>${sessionIndex}</samlp:SessionIndex></samlp:LogoutRequest>`;

  /** The portal's signed Redirect query of a LogoutRequest naming alice and `sessionIndex`. */
  const portalSignedQuery = (sessionIndex: string, relayState: string) =>
    signRedirectQuery('SAMLRequest', logoutRequest(sessionIndex), {
      keyPem: stack.pki.portalKey,
      relayState,
    });

  /** `request` signed with the portal's key, sent by the Redirect binding; the broker's answer. */
  function sendPortalSigned(request: string, relayState: string) {
    const query = signRedirectQuery('SAMLRequest', request, { keyPem: stack.pki.portalKey, relayState });
    return fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
  }

  /** The portal's LogoutRequest naming alice and each of `sessionIndexes`. */
  const naming = (sessionIndexes: string[]) =>
    logoutRequest(sessionIndexes[0]!).replace(
      '</samlp:LogoutRequest>',
      `${sessionIndexes
        .slice(1)
        .map((index) => `<samlp:SessionIndex>${index}</samlp:SessionIndex>`)
        .join('')}</samlp:LogoutRequest>`,
    );

  /** Whether the portal's genuine LogoutRequest for `profile` still finds its broker session (it leads to the IdP). */
  async function sessionLives(
    browser: Browser,
    profile: Awaited<ReturnType<typeof loggedIn>>,
    portal = stack.portal,
  ) {
    const real = await browser.request(await portal.getLogoutUrlAsync(profile, 'r', {}));
    return real.headers.get('location')!.startsWith(stack.idp.issuer);
  }

  it("does not end alice's session for a LogoutRequest naming another person with her SessionIndex (core 3.7.3.2)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const query = signRedirectQuery(
      'SAMLRequest',
      logoutRequest(profile.sessionIndex!, 'mallory@acme.test'),
      {
        keyPem: stack.pki.portalKey,
        relayState: 'rs-m',
      },
    );
    const answer = await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
    // Nothing of mallory's was there to end: answered, and the session of alice stays.
    expect(answer.status).to.equal(302);
    expect(verifiedLogoutResponse(answer.headers.get('location')!).relayState).to.equal('rs-m');
    expect(await sessionLives(browser, profile), "alice's session still leads to the IdP").to.equal(true);
  });

  /** The portal's signed LogoutRequest naming `nameId` and no SessionIndex (core 3.7.3.1: all of the person's sessions). */
  function everySessionOf(nameId: string, relayState: string) {
    const request = logoutRequest('_none', nameId).replace(
      '<samlp:SessionIndex>_none</samlp:SessionIndex>',
      '',
    );
    expect(request).to.not.contain('SessionIndex');
    return sendPortalSigned(request, relayState);
  }

  it("ends a person's one session for a LogoutRequest naming her and no SessionIndex, and goes on to her IdP's logout (core 3.7.3.1, ADR 0234)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser, stack.portal, 'bob@acme.test');
    const answer = await everySessionOf('bob@acme.test', 'rs-all');
    expect(answer.status).to.equal(302);
    // As for a LogoutRequest that names the session: the IdP's logout follows (RP-initiated).
    expect(answer.headers.get('location')!.startsWith(stack.idp.issuer)).to.equal(true);
    expect(await sessionLives(browser, profile), 'her session ended').to.equal(false);
  });

  /**
   * The portal's LogoutRequest `answer` ended each of `profiles`' sessions, and said PartialLogout
   * for the IdP sessions it left (the browser goes to one IdP).
   */
  async function expectSeveralEnded(
    answer: Response,
    relayState: string,
    browsers: Browser[],
    profiles: Array<Awaited<ReturnType<typeof loggedIn>>>,
  ) {
    const answered = verifiedLogoutResponse(answer.headers.get('location')!);
    expect(answered.codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Success',
      'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
    ]);
    expect(answered.relayState).to.equal(relayState);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.logout')).to.include({
      initiator: 'portal',
      result: 'partial',
      cause: 'several_sessions',
      ended: profiles.length,
    });
    for (const [i, browser] of browsers.entries())
      expect(await sessionLives(browser, profiles[i]!), `session ${i + 1} ended`).to.equal(false);
  }

  it("ends every session of the person it names and no other's, and answers PartialLogout for the IdP sessions it leaves (several)", async () => {
    const browsers = [new Browser(), new Browser()];
    const profiles = [
      await loggedIn(browsers[0]!, stack.portal, 'bob@acme.test'),
      await loggedIn(browsers[1]!, stack.portal, 'bob@acme.test'),
    ];
    // Naming another person ends none of bob's: nothing of hers was there, Success.
    const other = await everySessionOf('nobody@acme.test', 'rs-c');
    expect(verifiedLogoutResponse(other.headers.get('location')!).codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Success',
    ]);
    // Both of bob's are still there: the request naming him ends two (below).
    const answer = await everySessionOf('bob@acme.test', 'rs-all');
    await expectSeveralEnded(answer, 'rs-all', browsers, profiles);
  });

  it('ends both sessions of a LogoutRequest naming two of her SessionIndexes and answers PartialLogout for the IdP sessions it leaves, not Success after one IdP logout (core 3.7.3.2, ADR 0363)', async () => {
    const browsers = [new Browser(), new Browser()];
    const profiles = [await loggedIn(browsers[0]!), await loggedIn(browsers[1]!)];
    const answer = await sendPortalSigned(naming(profiles.map((p) => p.sessionIndex!)), 'rs-2');
    expect(answer.status).to.equal(302);
    // The browser can go to one IdP: two sessions' IdP logouts are not both had.
    await expectSeveralEnded(answer, 'rs-2', browsers, profiles);
  });

  // One session ended, however many indexes were named: its IdP's logout follows, not PartialLogout (ADR 0363).
  const alongside: Array<[string, (index: string) => string]> = [
    ['one of no session here', () => '_gone'],
    ['the same SessionIndex again', (index) => index],
  ];
  for (const [what, second] of alongside) {
    it(`goes on to the IdP's logout for a LogoutRequest naming her SessionIndex and ${what}`, async () => {
      const browser = new Browser();
      const profile = await loggedIn(browser);
      const answer = await sendPortalSigned(
        naming([profile.sessionIndex!, second(profile.sessionIndex!)]),
        'rs-1',
      );
      expect(answer.headers.get('location')!.startsWith(stack.idp.issuer)).to.equal(true);
      expect(await sessionLives(browser, profile), 'her session ended').to.equal(false);
    });
  }

  it("goes on to the IdP's logout once for two LogoutRequests of the portal for her session at once, and answers the other Success: nothing of hers is left (ADR 0373)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const answers = await Promise.all(
      ['rs-a', 'rs-b'].map((relayState) =>
        sendPortalSigned(logoutRequest(profile.sessionIndex!), relayState),
      ),
    );
    const locations = answers.map((answer) => answer.headers.get('location')!);
    const toIdp = locations.filter((location) => location.startsWith(stack.idp.issuer));
    expect(toIdp, 'one logout at the IdP').to.have.length(1);
    const other = locations.find((location) => !location.startsWith(stack.idp.issuer))!;
    expect(verifiedLogoutResponse(other).codes).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Success']);
  });

  it('ends a session asserted with a transient NameID by the LogoutRequest that names it back', async () => {
    const portal = portalSp(stack.broker.url, stack.pki, { nameIdFormat: NAMEID_TRANSIENT });
    const browser = new Browser();
    const profile = await loggedIn(browser, portal);
    expect(profile.nameIDFormat).to.equal(NAMEID_TRANSIENT);
    expect(await sessionLives(browser, profile, portal)).to.equal(true);
  });

  it('refuses an unsigned LogoutRequest', async () => {
    const signed = signRedirectQuery('SAMLRequest', logoutRequest('_s'), { keyPem: stack.pki.portalKey });
    const unsigned = signed.split('&SigAlg=')[0]!;
    const response = await fetch(`${stack.broker.url}/saml/slo?${unsigned}`, { redirect: 'manual' });
    expect(response.status).to.equal(400);
    expect(await response.text()).to.contain('SAML_SIGNATURE_MISSING');
  });

  it('refuses a tampered LogoutRequest and does not end the session it names', async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const forged = portalSignedQuery(profile.sessionIndex!, 'a').replace('RelayState=a', 'RelayState=b');
    const refused = await fetch(`${stack.broker.url}/saml/slo?${forged}`, { redirect: 'manual' });
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('SAML_SIGNATURE_INVALID');
    // The session is still there: the real LogoutRequest still goes to the IdP.
    const real = await browser.request(await stack.portal.getLogoutUrlAsync(profile, 'r', {}));
    expect(real.headers.get('location')!.startsWith(stack.idp.issuer)).to.equal(true);
  });

  it("refuses a LogoutRequest signed by a key other than the portal's", async () => {
    const query = signRedirectQuery('SAMLRequest', logoutRequest('_s'), { keyPem: stack.pki.brokerKey });
    const response = await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
    expect(response.status).to.equal(400);
    expect(await response.text()).to.contain('SAML_SIGNATURE_INVALID');
  });

  async function expectRefusal(query: string, reason: string) {
    const response = await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
    expect(response.status, reason).to.equal(400);
    expect(await response.text()).to.contain(reason);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(reason);
  }

  it('refuses a LogoutRequest the portal signed with rsa-sha1 (a downgrade), and her session stays', async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const signed = portalSignedQuery(profile.sessionIndex!, 'rs-sha1');
    // The same octets, SigAlg rsa-sha1, signed anew with the portal's key by SHA-1: only the algorithm is wrong.
    const octets = signed
      .split('&Signature=')[0]!
      .replace(
        encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'),
        encodeURIComponent('http://www.w3.org/2000/09/xmldsig#rsa-sha1'),
      );
    const signature = createSign('sha1').update(octets).sign(stack.pki.portalKey, 'base64');
    await expectRefusal(
      `${octets}&Signature=${encodeURIComponent(signature)}`,
      'SAML_SIGNATURE_ALGORITHM_FORBIDDEN',
    );
    expect(await sessionLives(browser, profile), 'her session stays').to.equal(true);
  });

  it('refuses a portal-signed LogoutRequest whose RelayState is over 80 bytes (bindings 3.4.3), her session kept; echoes one of 80 unmodified', async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const tooLong = portalSignedQuery(profile.sessionIndex!, 'é'.repeat(41)); // 82 bytes in UTF-8
    await expectRefusal(tooLong, 'SAML_RELAY_STATE_TOO_LONG');
    expect(await sessionLives(browser, profile), 'her session stays').to.equal(true);
    const most = 'é'.repeat(40); // 80 bytes
    const answer = await logoutOfUnknownSession(stack, most);
    expect(verifiedLogoutResponse(answer.headers.get('location')!).relayState).to.equal(most);
  });

  it('answers a portal-signed LogoutRequest of Version 3.0 with a signed VersionMismatch/RequestVersionTooHigh LogoutResponse at its SLO URL, and the session stays (ADR 0204)', async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser);
    const xml = logoutRequest(profile.sessionIndex!).replace('Version="2.0"', 'Version="3.0"');
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState: 'rs-v' });
    const response = await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
    expect(response.status).to.equal(302);
    const answer = verifiedLogoutResponse(response.headers.get('location')!);
    expect(answer.codes).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
      'urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh',
    ]);
    expect(answer.root.getAttribute('InResponseTo')).to.equal(/ID="([^"]+)"/.exec(xml)![1]);
    expect(answer.relayState).to.equal('rs-v');
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_VERSION_UNSUPPORTED',
    );
    expect(await sessionLives(browser, profile), 'the session still leads to the IdP').to.equal(true);
  });

  it('refuses an unsigned LogoutRequest of Version 3.0 with a page, answering nothing', async () => {
    const xml = logoutRequest('_any').replace('Version="2.0"', 'Version="3.0"');
    await expectRefusal(
      `SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}`,
      'SAML_SIGNATURE_MISSING',
    );
  });

  /**
   * The portal's own LogoutRequest (its key, its Issuer) that a later check refuses: a signed
   * LogoutResponse Requester/RequestDenied at its SLO URL, with InResponseTo and the RelayState
   * (core 3.7.3.2, profiles 4.4.4.2; ADR 0252), the refusal logged with 302; node-saml, the portal's
   * library, verifies it and reads the failed status. Returns the answer read by common/saml.
   */
  async function expectRequestDenied(
    query: string,
    requestId: string,
    reason: string,
    secondLevel = 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  ) {
    const response = await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' });
    expect(response.status, reason).to.equal(302);
    const location = response.headers.get('location')!;
    const answer = verifiedLogoutResponse(location);
    expect(answer.codes, reason).to.deep.equal(['urn:oasis:names:tc:SAML:2.0:status:Requester', secondLevel]);
    expect(answer.root.getAttribute('InResponseTo')).to.equal(requestId);
    expect(answer.root.getAttribute('Destination')).to.equal(`${PORTAL_URL}/saml/slo`);
    expect(stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
      reason,
      status: 302,
    });
    const url = new URL(location);
    const read = await stack.portal
      .validateRedirectAsync(Object.fromEntries(url.searchParams), url.search.slice(1))
      .then(
        () => 'accepted',
        (err: Error) => err.message,
      );
    expect(read).to.equal('Bad status code: urn:oasis:names:tc:SAML:2.0:status:Requester');
    return answer;
  }

  const idOf = (xml: string) => /ID="([^"]+)"/.exec(xml)![1]!;

  // Another Version is answered VersionMismatch (above); another Issuer is not shown to be the
  // portal's, so it gets a page and no signed answer (ADR 0204).
  for (const attack of LOGOUT_REQUEST_ATTACKS.filter(
    (a) => a.reason !== 'SAML_VERSION_UNSUPPORTED' && a.reason !== 'SAML_ISSUER_MISMATCH',
  )) {
    it(`answers a portal-signed LogoutRequest ${attack.sends} with a signed Requester/RequestDenied at its SLO URL, and the session stays: ${attack.reason}`, async () => {
      const browser = new Browser();
      const profile = await loggedIn(browser);
      const xml = attack.mutate(logoutRequest(profile.sessionIndex!));
      const query = signRedirectQuery('SAMLRequest', xml, {
        keyPem: stack.pki.portalKey,
        relayState: 'rs-d',
      });
      const answer = await expectRequestDenied(query, idOf(xml), attack.reason);
      expect(answer.relayState).to.equal('rs-d');
      expect(await sessionLives(browser, profile), 'the session still leads to the IdP').to.equal(true);
    });
  }

  for (const attack of LOGOUT_REQUEST_ATTACKS.filter((a) => a.reason === 'SAML_ISSUER_MISMATCH')) {
    it(`refuses a portal-signed LogoutRequest ${attack.sends} with a page, answering nothing, and the session stays`, async () => {
      const browser = new Browser();
      const profile = await loggedIn(browser);
      const xml = attack.mutate(logoutRequest(profile.sessionIndex!));
      await expectRefusal(
        signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey }),
        attack.reason,
      );
      expect(await sessionLives(browser, profile), 'the session still leads to the IdP').to.equal(true);
    });
  }

  it('answers a portal-signed LogoutRequest naming nobody (empty NameID) with a signed Requester/RequestDenied', async () => {
    const xml = logoutRequest('_s', '');
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState: 'rs-n' });
    expect((await expectRequestDenied(query, idOf(xml), 'SAML_NAMEID_INVALID')).relayState).to.equal('rs-n');
  });

  // Core 2.2.2, 3.7.3.1: a NameID is its value with its Format and qualifiers. The broker asserted
  // alice's e-mail with the e-mail Format and no qualifier; each of these names another identifier.
  const otherIdentifiers: Array<[string, string]> = [
    ['another Format (persistent)', 'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"'],
    ['no Format (unspecified, core 8.3.1)', ''],
    ['a NameQualifier', `Format="${NAMEID_EMAIL}" NameQualifier="https://other-idp.example.test"`],
    ['an SPNameQualifier', `Format="${NAMEID_EMAIL}" SPNameQualifier="https://other-sp.example.test"`],
  ];
  for (const [what, attributes] of otherIdentifiers) {
    it(`answers a signed Requester/UnknownPrincipal to the portal's LogoutRequest naming her SessionIndex and her NameID value with ${what}, and keeps her session (ADR 0373)`, async () => {
      const browser = new Browser();
      const profile = await loggedIn(browser);
      expect(profile.nameIDFormat).to.equal(NAMEID_EMAIL);
      const xml = logoutRequest(profile.sessionIndex!, 'alice@acme.test', attributes);
      const query = signRedirectQuery('SAMLRequest', xml, {
        keyPem: stack.pki.portalKey,
        relayState: 'rs-q',
      });
      const metric = () =>
        stack.broker.context.registry.getSingleMetricAsString('jsm_sso_broker_refusals_total');
      const counted = (await metric()).split('\n').filter((l) => l.includes('SAML_LOGOUT_NAMEID_MISMATCH'));
      const answer = await expectRequestDenied(
        query,
        idOf(xml),
        'SAML_LOGOUT_NAMEID_MISMATCH',
        'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal',
      );
      expect(answer.relayState).to.equal('rs-q');
      expect(
        (await metric()).split('\n').filter((l) => l.includes('SAML_LOGOUT_NAMEID_MISMATCH')),
      ).to.not.deep.equal(counted);
      expect(await sessionLives(browser, profile), "alice's session still leads to the IdP").to.equal(true);
    });
  }

  it("answers a signed Requester/UnknownPrincipal to the portal's LogoutRequest naming the person alone under another Format, and ends none of her sessions (ADR 0373)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(browser, stack.portal, 'bob@acme.test');
    const xml = logoutRequest('_none', 'bob@acme.test', '').replace(
      '<samlp:SessionIndex>_none</samlp:SessionIndex>',
      '',
    );
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState: 'rs-p' });
    await expectRequestDenied(
      query,
      idOf(xml),
      'SAML_LOGOUT_NAMEID_MISMATCH',
      'urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal',
    );
    expect(await sessionLives(browser, profile), "bob's session still leads to the IdP").to.equal(true);
  });

  it("ends a transient NameID's session for a LogoutRequest that writes out the qualifiers an absent one stands for: the broker's and the portal's entityIDs (core 8.3.8, ADR 0373)", async () => {
    const portal = portalSp(stack.broker.url, stack.pki, { nameIdFormat: NAMEID_TRANSIENT });
    const browser = new Browser();
    const profile = await loggedIn(browser, portal);
    const attributes = `Format="${NAMEID_TRANSIENT}" NameQualifier="${stack.broker.url}/saml/metadata" SPNameQualifier="${PORTAL_URL}/saml/metadata"`;
    const answer = await sendPortalSigned(
      logoutRequest(profile.sessionIndex!, profile.nameID, attributes),
      'rs-t',
    );
    expect(answer.headers.get('location')!.startsWith(stack.idp.issuer), 'on to the IdP').to.equal(true);
  });

  it('answers the same portal LogoutRequest a second time with a signed Requester/RequestDenied: SAML_REPLAY', async () => {
    const xml = logoutRequest('_s');
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: stack.pki.portalKey, relayState: 'rs-r' });
    expect((await fetch(`${stack.broker.url}/saml/slo?${query}`, { redirect: 'manual' })).status).to.equal(
      302,
    );
    expect((await expectRequestDenied(query, idOf(xml), 'SAML_REPLAY')).relayState).to.equal('rs-r');
  });

  it('refuses a logout callback with an unknown state', async () => {
    const response = await fetch(`${stack.broker.url}/oidc/logout-callback?state=forged`);
    expect(response.status).to.equal(400);
    expect(await response.text()).to.contain('LOGOUT_STATE_UNKNOWN');
  });
});

describe('broker: Single Logout while an upstream SAML IdP’s metadata cannot be read (core 3.7.2, ADR 0228)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack(undefined, (spec) => {
      spec['identityProviders'][0].emailDomains = ['acme.test'];
      spec['identityProviders'].push({
        name: 'upstream',
        saml: { metadataUrl: 'https://127.0.0.1:1/saml-metadata' },
        emailTrust: 'asserted',
        emailDomains: ['partner.test'],
      });
    });
  });
  after(async () => stack.close());

  it('answers the portal’s LogoutRequest with a signed LogoutResponse, not SAML_METADATA_UNAVAILABLE: the portal’s is the frontend’s before any IdP is asked', async () => {
    const response = await logoutOfUnknownSession(stack, 'rs-down');
    expect(response.status, await response.clone().text()).to.equal(302);
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${PORTAL_URL}/saml/slo?SAMLResponse=`), location).to.equal(true);
    const message = verifyRedirectSignature(new URL(location).search.slice(1), 'SAMLResponse', [
      stack.pki.brokerCert,
    ]);
    expect(logoutSucceeded(parseSamlXml(message.xml).documentElement as unknown as Element)).to.equal(true);
    expect(message.relayState).to.equal('rs-down');
  });
});
