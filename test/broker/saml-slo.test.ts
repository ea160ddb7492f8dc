import { gzipSync } from 'node:zlib';
import type { Profile, SAML } from '@node-saml/node-saml';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { expect } from 'chai';
import { subjectHasher } from '../../broker/subject.js';
import { catalogueOf } from '../../common/i18n/index.js';
import {
  deflateRedirectPayload,
  inflateRedirectPayload,
  MAX_REQUEST_BYTES,
  NS,
  NAMEID_PERSISTENT as PERSISTENT,
  parseSamlXml,
  SOAP_CONTENT_TYPE,
  SOAP_ENVELOPE_NS,
  STATUS_REQUESTER,
  STATUS_UNKNOWN_PRINCIPAL,
  signEnveloped,
  signRedirectQuery,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  type IdpDoc,
  listenPlaceholder,
  type Pki,
  PORTAL_URL,
  portalSp,
  serveBroker,
  tenantFor,
  useEncryptionKey,
} from '../../testkit/broker-harness.js';
import { postExpectingContinue } from '../../testkit/expect-continue.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { readableText, wordsOutsideCatalogue } from '../../testkit/spoken-language.js';
import { type AttackerEncryption, encryptedIdXml } from '../../testkit/xml-encryption.js';
import { xmlsecEncryptNameId } from '../../testkit/xmlsec.js';
import {
  LOGOUT_REQUEST_ATTACKS,
  LOGOUT_RESPONSE_ATTACKS,
  UNLOADABLE_SIGNATURES,
} from '../saml/message-attacks.js';
import {
  answerLogoutRequest,
  brokerSpAt,
  idpLogoutRequestUrl,
  redirectRequest,
  resignedByIdp,
  signedInAtPortal,
  UPSTREAM_ENTITY_ID,
  UPSTREAM_SLO,
  type UpstreamAnswer,
  type UpstreamIdp,
  type UpstreamSp,
  upstreamIdp,
  upstreamSamlIdpDoc,
} from './upstream-saml.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const PARTIAL = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';
const RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder';
/** Failed statuses as samlify names them when it refuses a LogoutResponse. */
const REQUEST_DENIED =
  'top tier code: urn:oasis:names:tc:SAML:2.0:status:Requester, second tier code: urn:oasis:names:tc:SAML:2.0:status:RequestDenied';
const UNKNOWN_PRINCIPAL =
  'top tier code: urn:oasis:names:tc:SAML:2.0:status:Requester, second tier code: urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal';
const REQUEST_VERSION_TOO_HIGH =
  'top tier code: urn:oasis:names:tc:SAML:2.0:status:VersionMismatch, second tier code: urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh';

interface Setup {
  idp: UpstreamIdp;
  broker: BrokerUnderTest;
  portal: SAML;
  sp: UpstreamSp;
}

/**
 * Single Logout through an upstream SAML IdP (profiles 4.4, HTTP-Redirect): portal (node-saml) ->
 * broker -> IdP (samlify) -> broker -> portal, and the IdP's own LogoutRequest to the broker.
 */
describe('broker: Single Logout with an upstream SAML IdP', () => {
  let pki: Pki;
  let withSlo: Setup;
  let withoutSlo: Setup;

  /** A broker with `idp` as its IdP `upstream`, asked after the `others` (each then lists its domains). */
  async function setUp(
    idp: UpstreamIdp,
    metadataXml = idp.getMetadata(),
    others: IdpDoc[] = [],
    extra?: (spec: IdpDoc) => void,
  ): Promise<Setup> {
    const { server, url } = await listenPlaceholder();
    const upstream = {
      ...upstreamSamlIdpDoc(idp),
      ...(others.length > 0 ? { authority: 'catchAll' } : {}),
      saml: { metadataXml },
    };
    const broker = await serveBroker(server, url, tenantFor(url, [...others, upstream], extra), pki);
    return { idp, broker, portal: portalSp(url, pki), sp: await brokerSpAt(url) };
  }

  before(async () => {
    pki = createPki();
    withSlo = await setUp(upstreamIdp());
    withoutSlo = await setUp(upstreamIdp({ slo: false }));
  });
  after(async () => {
    await withSlo.broker.close();
    await withoutSlo.broker.close();
    pki.cleanup();
  });

  /** A full login through the upstream IdP; returns the portal's view of the session. */
  const loggedIn = (setup: Setup, browser: Browser, answer: UpstreamAnswer = {}) =>
    signedInAtPortal({ browser, portal: setup.portal, brokerUrl: setup.broker.url, idp: setup.idp }, answer);

  /** The portal's LogoutRequest for the session, sent by the browser; returns where it is sent next. */
  async function portalLogout(setup: Setup, browser: Browser, profile: Profile) {
    const logoutUrl = await setup.portal.getLogoutUrlAsync(profile, 'rs-out', {});
    const response = await browser.request(logoutUrl);
    expect(response.status, await response.clone().text()).to.equal(302);
    const portalRequestId = /ID="([^"]+)"/.exec(
      verifyRedirectSignature(new URL(logoutUrl).search.slice(1), 'SAMLRequest', [pki.portalCert]).xml,
    )![1]!;
    return { location: response.headers.get('location')!, portalRequestId };
  }

  /** The broker's LogoutResponse to the portal, verified with the broker's certificate. */
  function portalAnswer(location: string) {
    expect(location.startsWith(`${PORTAL_URL}/saml/slo?`), location).to.equal(true);
    const message = verifyRedirectSignature(new URL(location).search.slice(1), 'SAMLResponse', [
      pki.brokerCert,
    ]);
    const root = parseSamlXml(message.xml).documentElement as unknown as Element;
    expect(root.localName).to.equal('LogoutResponse');
    const codes = [...root.getElementsByTagNameNS(NS.protocol, 'StatusCode')].map((c) =>
      c.getAttribute('Value'),
    );
    return { codes, inResponseTo: root.getAttribute('InResponseTo'), relayState: message.relayState };
  }

  /** Her session ended: the portal's later LogoutRequest is answered at once, Success, without the IdP. */
  async function sessionEnded(setup: Setup, browser: Browser, profile: Profile) {
    const { location } = await portalLogout(setup, browser, profile);
    expect(portalAnswer(location).codes).to.deep.equal([SUCCESS]);
  }

  async function sessionKept(setup: Setup, browser: Browser, profile: Profile) {
    const { location } = await portalLogout(setup, browser, profile);
    expect(location.startsWith(UPSTREAM_SLO), 'the session still leads to the IdP').to.equal(true);
  }

  /**
   * She signs in at `withSlo` and out at the portal; the IdP answers the broker's LogoutRequest
   * (`answer`): its LogoutResponse, and her browser to send it with.
   */
  async function idpAnswersHerLogout(answer?: { status?: string }) {
    const browser = new Browser();
    const { location } = await portalLogout(withSlo, browser, await loggedIn(withSlo, browser));
    return { browser, upstream: await answerLogoutRequest(withSlo.idp, withSlo.sp, location, answer) };
  }

  /** The IdP's signed LogoutRequest for her IdP session `sessionIndex`, with the RelayState expectFailedStatus looks for. */
  const herIdpLogoutRequest = (setup: Setup, sessionIndex: string) =>
    idpLogoutRequestUrl(setup.idp, setup.sp, { nameId: 'carol@example.test', sessionIndex }, 'idp-rs-d');

  /**
   * She signs in with the IdP session `sessionIndex`, then the IdP sends its signed LogoutRequest for it
   * (RelayState `idp-rs`); returns the request and where the broker's 302 answer sends the browser.
   */
  async function idpSignsHerOut(setup: Setup, browser: Browser, sessionIndex: string) {
    const profile = await loggedIn(setup, browser, { sessionIndex });
    const request = idpLogoutRequestUrl(
      setup.idp,
      setup.sp,
      { nameId: 'carol@example.test', sessionIndex },
      'idp-rs',
    );
    const answer = await browser.request(request.url);
    expect(answer.status, await answer.clone().text()).to.equal(302);
    return { profile, request, toIdp: new URL(answer.headers.get('location')!) };
  }

  /**
   * The IdP's LogoutRequest for `user` sent back-channel over SOAP (ADR 0160), signed enveloped with
   * the IdP's key after `edit` and changed by `tamper` after its signature.
   */
  function idpSoapLogoutRequest(
    setup: Setup,
    user: { nameId: string; sessionIndex: string },
    change: { edit?: (xml: string) => string; tamper?: (signed: string) => string } = {},
  ): Promise<Response> {
    return fetch(soapUrlOf(setup), {
      method: 'POST',
      headers: { 'content-type': SOAP_CONTENT_TYPE },
      body: idpSoapEnvelope(setup, user, change),
    });
  }

  const SOAP_PATH = '/saml/backchannel-logout/upstream';
  const soapUrlOf = (setup: Setup) => `${setup.broker.url}${SOAP_PATH}`;

  /** The envelope `idpSoapLogoutRequest` posts. */
  function idpSoapEnvelope(
    setup: Setup,
    user: { nameId: string; sessionIndex: string },
    change: { edit?: (xml: string) => string; tamper?: (signed: string) => string } = {},
  ): string {
    const soapUrl = soapUrlOf(setup);
    const idpKey = setup.idp.entitySetting as { privateKey: string; signingCert: string };
    const request = idpLogoutRequestUrl(setup.idp, setup.sp, user);
    const xml = inflateRedirectPayload(new URL(request.url).searchParams.get('SAMLRequest')!)
      .replace(/^<\?xml[^>]*\?>/, '')
      .replace(/Destination="[^"]*"/, `Destination="${soapUrl}"`);
    const signed = signEnveloped((change.edit ?? ((x) => x))(xml), {
      id: request.id,
      keyPem: idpKey.privateKey,
      certPem: idpKey.signingCert,
    });
    return `<soap11:Envelope xmlns:soap11="${SOAP_ENVELOPE_NS}"><soap11:Body>${(change.tamper ?? ((x) => x))(signed)}</soap11:Body></soap11:Envelope>`;
  }

  /** `url` is refused with 400 and `reason` on the page. */
  async function expectRefused(url: string, reason: string): Promise<void> {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status, reason).to.equal(400);
    expect(await response.text()).to.contain(reason);
  }

  it('sends a signed LogoutRequest with the upstream NameID and SessionIndex, and answers the portal Success after the IdP does', async () => {
    const browser = new Browser();
    const profile = await loggedIn(withSlo, browser);
    const { location, portalRequestId } = await portalLogout(withSlo, browser, profile);
    // samlify (the IdP) verifies the broker's signature and reads the request.
    const upstream = await answerLogoutRequest(withSlo.idp, withSlo.sp, location);
    expect(upstream.request['nameId']).to.equal('carol@example.test');
    const requestXml = inflateRedirectPayload(new URL(location).searchParams.get('SAMLRequest')!);
    expect(requestXml).to.contain('<samlp:SessionIndex>_session-9</samlp:SessionIndex>');
    const back = await browser.request(upstream.url);
    expect(back.status, await back.clone().text()).to.equal(302);
    const answer = portalAnswer(back.headers.get('location')!);
    expect(answer.codes).to.deep.equal([SUCCESS]);
    expect(answer.inResponseTo).to.equal(portalRequestId);
    expect(answer.relayState).to.equal('rs-out');
    // The portal accepts it (node-saml checks signature, issuer, InResponseTo).
    const portalUrl = new URL(back.headers.get('location')!);
    const validated = await withSlo.portal.validateRedirectAsync(
      Object.fromEntries(portalUrl.searchParams),
      portalUrl.search.slice(1),
    );
    expect(validated.loggedOut).to.equal(true);
    expect(withSlo.broker.logs.findLast((l) => l['event'] === 'broker.logout')).to.include({
      idp: 'upstream',
      result: 'success',
    });
  });

  it("names her in its LogoutRequest with the NameID's qualifiers as the IdP asserted them, so that it strongly matches (profiles 4.4.4.1)", async () => {
    const browser = new Browser();
    const spEntityId = `${withSlo.broker.url}/saml/sp-metadata`;
    const profile = await loggedIn(withSlo, browser, {
      nameIdAttributes: `NameQualifier="${UPSTREAM_ENTITY_ID}" SPNameQualifier="${spEntityId}" SPProvidedID="carol-at-broker"`,
    });
    const { location } = await portalLogout(withSlo, browser, profile);
    const upstream = await answerLogoutRequest(withSlo.idp, withSlo.sp, location);
    expect(upstream.request['nameId'], 'samlify read the signed request').to.equal('carol@example.test');
    const requestXml = inflateRedirectPayload(new URL(location).searchParams.get('SAMLRequest')!);
    const nameId = parseSamlXml(requestXml).getElementsByTagNameNS(NS.assertion, 'NameID')[0]!;
    expect(
      Object.fromEntries(
        ['Format', 'NameQualifier', 'SPNameQualifier', 'SPProvidedID'].map((a) => [
          a,
          nameId.getAttribute(a),
        ]),
      ),
    ).to.deep.equal({
      Format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      NameQualifier: UPSTREAM_ENTITY_ID,
      SPNameQualifier: spEntityId,
      SPProvidedID: 'carol-at-broker',
    });
  });

  it('answers the portal PartialLogout when the upstream IdP answers a non-success status', async () => {
    const { browser, upstream } = await idpAnswersHerLogout({ status: RESPONDER });
    const back = await browser.request(upstream.url);
    expect(portalAnswer(back.headers.get('location')!).codes).to.deep.equal([SUCCESS, PARTIAL]);
  });

  it('refuses an unsigned upstream LogoutResponse, and the signed one still completes the logout', async () => {
    const { browser, upstream } = await idpAnswersHerLogout();
    await expectRefused(withoutSignature(upstream.url), 'SAML_SIGNATURE_MISSING');
    const back = await browser.request(upstream.url);
    expect(portalAnswer(back.headers.get('location')!).codes).to.deep.equal([SUCCESS]);
  });

  it('refuses an upstream LogoutResponse whose message was swapped under the signature', async () => {
    const { upstream } = await idpAnswersHerLogout({ status: RESPONDER });
    const url = new URL(upstream.url);
    const xml = inflateRedirectPayload(url.searchParams.get('SAMLResponse')!).replace(RESPONDER, SUCCESS);
    const tampered = upstream.url.replace(
      /SAMLResponse=[^&]*/,
      `SAMLResponse=${encodeURIComponent(deflateRedirectPayload(xml))}`,
    );
    await expectRefused(tampered, 'SAML_SIGNATURE_INVALID');
  });

  it("refuses an upstream LogoutResponse signed by a key other than the IdP's", async () => {
    const { upstream } = await idpAnswersHerLogout();
    const xml = inflateRedirectPayload(new URL(upstream.url).searchParams.get('SAMLResponse')!);
    const forged = signRedirectQuery('SAMLResponse', xml, {
      keyPem: pki.portalKey,
      relayState: upstream.relayState,
    });
    await expectRefused(`${withSlo.broker.url}/saml/slo?${forged}`, 'SAML_SIGNATURE_INVALID');
  });

  it('refuses the same upstream LogoutResponse a second time (replay)', async () => {
    const { browser, upstream } = await idpAnswersHerLogout();
    expect((await browser.request(upstream.url)).status).to.equal(302);
    await expectRefused(upstream.url, 'LOGOUT_STATE_UNKNOWN');
  });

  it('answers the portal PartialLogout at once when the upstream IdP has no SLO endpoint', async () => {
    const browser = new Browser();
    const { location } = await portalLogout(withoutSlo, browser, await loggedIn(withoutSlo, browser));
    expect(portalAnswer(location).codes).to.deep.equal([SUCCESS, PARTIAL]);
  });

  it("leaves no index of the session for the IdP's logout once the portal's sign-out ended it", async () => {
    const key = `upstream-session:upstream:${subjectHasher(pki.brokerKey, 'upstream-session-key')('upstream', 'carol@example.test')}`;
    const store = withoutSlo.broker.context.store;
    const browser = new Browser();
    const profile = await loggedIn(withoutSlo, browser);
    expect(await store.get(key), 'indexed at sign-in').to.be.a('string');
    const { location } = await portalLogout(withoutSlo, browser, profile);
    expect(portalAnswer(location).codes).to.deep.equal([SUCCESS, PARTIAL]);
    expect(await store.get(key), 'gone with the session').to.equal(undefined);
  });

  it("ends the broker session on the IdP's signed LogoutRequest and answers the IdP PartialLogout: the portal (PORTAL_URL, nothing listens) was not reached", async () => {
    const browser = new Browser();
    // An IdP session of its own, as an IdP gives each (core 2.7.2): the IdP ends it, and a sign-in
    // with it afterwards would be refused (ADR 0171); later tests sign in with `_session-9`.
    const { profile, request, toIdp } = await idpSignsHerOut(withSlo, browser, '_session-ended');
    expect(`${toIdp.origin}${toIdp.pathname}`).to.equal(UPSTREAM_SLO);
    // samlify verifies the broker's LogoutResponse with the certificate in the broker's SP metadata.
    const parsed = await withSlo.idp.parseLogoutResponse(withSlo.sp, 'redirect', redirectRequest(toIdp));
    expect(parsed.extract.response?.inResponseTo).to.equal(request.id);
    expect(toIdp.searchParams.get('RelayState')).to.equal('idp-rs');
    // Success would claim the portal's session ended too; the broker could not reach it (ADR 0145, 0158).
    const statuses = inflateRedirectPayload(toIdp.searchParams.get('SAMLResponse')!);
    expect(statuses).to.contain(`Value="${SUCCESS}"`).and.contain(`Value="${PARTIAL}"`);
    // The broker session is gone: the portal's later LogoutRequest is answered without the IdP.
    await sessionEnded(withSlo, browser, profile);
  });

  it("answers the IdP's LogoutRequest at the ResponseLocation its metadata names for responses (metadata 2.2.2), not at its Location (ADR 0238)", async () => {
    // OpenSAML, SimpleSAMLphp and others publish one Location for requests and another for
    // responses; a LogoutResponse sent to the request endpoint, and addressed to it, is refused there.
    const responseLocation = 'https://upstream-idp.example.test/slo-response';
    const idp = upstreamIdp();
    const metadata = idp
      .getMetadata()
      .replace(
        `Location="${UPSTREAM_SLO}"`,
        (location) => `${location} ResponseLocation="${responseLocation}"`,
      );
    expect(metadata).to.contain(`ResponseLocation="${responseLocation}"`);
    const setup = await setUp(idp, metadata);
    try {
      const { request, toIdp } = await idpSignsHerOut(setup, new Browser(), '_session-response-location');
      expect(`${toIdp.origin}${toIdp.pathname}`).to.equal(responseLocation);
      const message = verifyRedirectSignature(toIdp.search.slice(1), 'SAMLResponse', [pki.brokerCert]);
      const root = parseSamlXml(message.xml).documentElement as unknown as Element;
      expect(root.getAttribute('Destination')).to.equal(responseLocation);
      expect(root.getAttribute('InResponseTo')).to.equal(request.id);
      expect(message.relayState).to.equal('idp-rs');
    } finally {
      await setup.broker.close();
    }
  });

  it('tells the person, in their language, that the sign-in ended but the help center may not have, when the IdP that asked has no SLO endpoint to answer', async () => {
    for (const [locale, title, helpCenterMayStay] of [
      ['en', 'Signed out', 'You may still be signed in to the help center'],
      ['de', 'Abgemeldet', 'Im Hilfecenter sind Sie möglicherweise noch angemeldet'],
      ['ja', 'サインアウトしました', 'ヘルプセンターにはまだサインインしたままの可能性があります'],
    ] as const) {
      const browser = new Browser({ 'accept-language': locale });
      await loggedIn(withoutSlo, browser);
      const request = idpLogoutRequestUrl(
        withoutSlo.idp,
        withoutSlo.sp,
        { nameId: 'carol@example.test' },
        'rs',
      );
      const page = await browser.request(request.url);
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-language')).to.equal(locale);
      const text = readableText(await page.text());
      expect(text).to.include(`${title} `).and.include(catalogueOf(locale)['broker.signedOut.message']);
      // The broker cannot end the portal session (ADR 0050): the page must not claim it did.
      expect(text).to.include(helpCenterMayStay);
      expect(wordsOutsideCatalogue(text.split('Acme Help Center').join(' '), locale)).to.deep.equal([]);
    }
  });

  it("refuses an unsigned LogoutRequest from the IdP's entityID and keeps the session", async () => {
    const browser = new Browser();
    const profile = await loggedIn(withSlo, browser);
    const request = idpLogoutRequestUrl(withSlo.idp, withSlo.sp, {
      nameId: 'carol@example.test',
      sessionIndex: '_session-9',
    });
    await expectRefused(withoutSignature(request.url), 'SAML_SIGNATURE_MISSING');
    await sessionKept(withSlo, browser, profile);
  });

  it('refuses a LogoutRequest naming the IdP as Issuer but signed by another key', async () => {
    const xml = inflateRedirectPayload(
      new URL(
        idpLogoutRequestUrl(withSlo.idp, withSlo.sp, {
          nameId: 'carol@example.test',
          sessionIndex: '_session-9',
        }).url,
      ).searchParams.get('SAMLRequest')!,
    );
    const forged = signRedirectQuery('SAMLRequest', xml, { keyPem: pki.portalKey });
    await expectRefused(`${withSlo.broker.url}/saml/slo?${forged}`, 'SAML_SIGNATURE_INVALID');
  });

  for (const shape of UNLOADABLE_SIGNATURES) {
    it(`answers a SOAP fault SAML_SIGNATURE_INVALID (400), no internal error, to the IdP's SOAP LogoutRequest whose signature has ${shape.has} (ADR 0228)`, async () => {
      const soapRequest = (sessionIndex: string, tamper: (xml: string) => string) =>
        idpSoapLogoutRequest(withSlo, { nameId: 'nobody@example.test', sessionIndex }, { tamper });
      const from = withSlo.broker.logs.length;
      const refused = await soapRequest('_soap-shape', shape.tamper);
      const body = await refused.text();
      expect(refused.status, body).to.equal(400);
      expect(body).to.contain('<faultstring>SAML_SIGNATURE_INVALID</faultstring>');
      expect(withSlo.broker.logs.slice(from).map((l) => l['event'])).to.not.include('broker.internal_error');
      // The same request as the IdP signed it is answered: the refusal was the signature's shape.
      const genuine = await soapRequest('_soap-genuine', (xml) => xml);
      expect(genuine.status).to.equal(200);
      expect(await genuine.text()).to.contain('LogoutResponse');
    });
  }

  for (const attack of LOGOUT_RESPONSE_ATTACKS) {
    it(`refuses an upstream LogoutResponse ${attack.sends}, and the genuine one still completes the logout: ${attack.reason}`, async () => {
      const { browser, upstream } = await idpAnswersHerLogout();
      await expectRefused(resignedByIdp(withSlo.idp, upstream.url, attack.mutate), attack.reason);
      const back = await browser.request(upstream.url);
      expect(portalAnswer(back.headers.get('location')!).codes).to.deep.equal([SUCCESS]);
    });
  }

  it("answers the IdP's signed LogoutRequest of Version 3.0 with a signed VersionMismatch/RequestVersionTooHigh at its SingleLogoutService, and keeps the session (ADR 0204)", async () => {
    await expectAlteredRequestRefused(
      (xml) => xml.replace('Version="2.0"', 'Version="3.0"'),
      'SAML_VERSION_UNSUPPORTED',
      REQUEST_VERSION_TOO_HIGH,
    );
  });

  /**
   * The IdP's own LogoutRequest (its key, its Issuer) that a later check refuses, sent by the browser:
   * a signed failed `status` (Requester/RequestDenied unless said) at the IdP's SingleLogoutService
   * with InResponseTo and the RelayState (core 3.7.3.2, profiles 4.4.4.2; ADR 0252), the refusal
   * logged with 302; samlify, as the IdP, verifies the broker's signature and reads the failed status.
   */
  async function expectFailedStatus(
    url: string,
    requestId: string,
    reason: string,
    status = REQUEST_DENIED,
    setup = withSlo,
  ) {
    const answer = await fetch(url, { redirect: 'manual' });
    expect(answer.status, await answer.clone().text()).to.equal(302);
    const toIdp = new URL(answer.headers.get('location')!);
    expect(`${toIdp.origin}${toIdp.pathname}`).to.equal(UPSTREAM_SLO);
    expect(toIdp.searchParams.get('RelayState')).to.equal('idp-rs-d');
    const read = await setup.idp.parseLogoutResponse(setup.sp, 'redirect', redirectRequest(toIdp)).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    expect(read, reason).to.equal(`ERR_FAILED_STATUS with ${status}`);
    expect(inflateRedirectPayload(toIdp.searchParams.get('SAMLResponse')!)).to.include(
      `InResponseTo="${requestId}"`,
    );
    expect(setup.broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
      reason,
      status: 302,
      idp: 'upstream',
    });
  }

  /**
   * She signs in at `withSlo`; the IdP's request for her session, changed by `mutate` and signed
   * again, is answered with the failed `status` (expectFailedStatus), and her session is kept.
   */
  async function expectAlteredRequestRefused(
    mutate: (xml: string) => string,
    reason: string,
    status?: string,
    sessionIndex = '_session-9',
  ) {
    const browser = new Browser();
    const profile = await loggedIn(withSlo, browser, { sessionIndex });
    const request = herIdpLogoutRequest(withSlo, sessionIndex);
    await expectFailedStatus(resignedByIdp(withSlo.idp, request.url, mutate), request.id, reason, status);
    await sessionKept(withSlo, browser, profile);
  }

  // The Issuer of a LogoutRequest picks whose keys verify it (the IdP's or the portal's): another
  // Issuer is judged as the portal's and fails its signature, so those attacks are asserted apart.
  // Another Version of the IdP's own request is answered VersionMismatch (above).
  for (const attack of LOGOUT_REQUEST_ATTACKS.filter(
    (a) => a.reason !== 'SAML_ISSUER_MISMATCH' && a.reason !== 'SAML_VERSION_UNSUPPORTED',
  )) {
    it(`answers the IdP's signed LogoutRequest ${attack.sends} with a signed Requester/RequestDenied at its SingleLogoutService, and keeps the session: ${attack.reason}`, async () => {
      await expectAlteredRequestRefused(attack.mutate, attack.reason);
    });
  }

  // Core 2.2.2, 3.7.3.1: the NameID is its value with its Format and qualifiers. The IdP asserted carol's
  // e-mail with the e-mail Format and no qualifier; each of these names another identifier.
  const otherIdentifiers: Array<[string, (xml: string) => string]> = [
    [
      'another Format (persistent)',
      (xml) => xml.replace(/(<saml:NameID[^>]*?)Format="[^"]*"/, `$1Format="${PERSISTENT}"`),
    ],
    [
      'a NameQualifier',
      (xml) => xml.replace('<saml:NameID ', '<saml:NameID NameQualifier="https://other-idp.example.test" '),
    ],
    [
      'an SPNameQualifier',
      (xml) => xml.replace('<saml:NameID ', '<saml:NameID SPNameQualifier="https://other-sp.example.test" '),
    ],
  ];
  for (const [i, [what, mutate]] of otherIdentifiers.entries()) {
    it(`answers the IdP's signed LogoutRequest naming her session and her NameID value with ${what} with a signed Requester/UnknownPrincipal, and keeps her session (ADR 0373)`, async () => {
      // An IdP session of its own: the IdP signed that it ended it, which is recorded (ADR 0171).
      await expectAlteredRequestRefused(
        mutate,
        'SAML_LOGOUT_NAMEID_MISMATCH',
        UNKNOWN_PRINCIPAL,
        `_other-${i}`,
      );
    });
  }

  it("answers the IdP's SOAP LogoutRequest naming her NameID value under another Format with a signed Requester/UnknownPrincipal, and keeps her session (ADR 0373)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(withSlo, browser, { sessionIndex: '_soap-other-format' });
    const answer = await idpSoapLogoutRequest(
      withSlo,
      { nameId: 'carol@example.test', sessionIndex: '_soap-other-format' },
      { edit: otherIdentifiers[0]![1] },
    );
    const body = await answer.text();
    expect(answer.status, body).to.equal(200);
    expect(body).to.contain(`Value="${STATUS_REQUESTER}"`).and.contain(`Value="${STATUS_UNKNOWN_PRINCIPAL}"`);
    await sessionKept(withSlo, browser, profile);
  });

  describe("the IdP's SOAP LogoutRequest refused from its head, unread (ADR 0404)", () => {
    /** She signs in; her IdP's signed LogoutRequest for that session, as a SOAP envelope. */
    async function herSession(sessionIndex: string) {
      const browser = new Browser();
      const profile = await loggedIn(withSlo, browser, { sessionIndex });
      const envelope = idpSoapEnvelope(withSlo, { nameId: 'carol@example.test', sessionIndex });
      return { browser, profile, envelope };
    }
    const refusalsSince = (from: number) =>
      withSlo.broker.logs
        .slice(from)
        .filter((l) => l['event'] === 'broker.refusal')
        .map((l) => l['reason']);
    const post = (headers: Record<string, string>, body: Buffer | string, contentLength?: number) =>
      postExpectingContinue(
        withSlo.broker.url,
        SOAP_PATH,
        { 'content-type': SOAP_CONTENT_TYPE, ...headers },
        body,
        contentLength,
      );

    it('answers a gzip envelope a 415 fault HTTP_CONTENT_ENCODING_UNSUPPORTED, never 100 Continue, and keeps her session', async () => {
      const { browser, profile, envelope } = await herSession('_soap-gzip');
      const from = withSlo.broker.logs.length;
      const answer = await post({ 'content-encoding': 'gzip' }, gzipSync(envelope));
      expect([answer.continued, answer.status]).to.deep.equal([false, 415]);
      expect(answer.body).to.contain('<faultstring>HTTP_CONTENT_ENCODING_UNSUPPORTED</faultstring>');
      expect(refusalsSince(from)).to.deep.equal(['HTTP_CONTENT_ENCODING_UNSUPPORTED']);
      await sessionKept(withSlo, browser, profile);
    });

    it('answers an envelope declaring more than its limit a 413 fault HTTP_BODY_TOO_LARGE, never 100 Continue, and keeps her session', async () => {
      const { browser, profile, envelope } = await herSession('_soap-too-large');
      const from = withSlo.broker.logs.length;
      const answer = await post({}, envelope, MAX_REQUEST_BYTES + 1);
      expect([answer.continued, answer.status, answer.headers['connection']]).to.deep.equal([
        false,
        413,
        'close',
      ]);
      expect(answer.body).to.contain('<faultstring>HTTP_BODY_TOO_LARGE</faultstring>');
      expect(refusalsSince(from)).to.deep.equal(['HTTP_BODY_TOO_LARGE']);
      await sessionKept(withSlo, browser, profile);
    });

    it('reads the same envelope, as sent and within its limit, after 100 Continue, and ends her session', async () => {
      const { browser, profile, envelope } = await herSession('_soap-read');
      const answer = await post({}, envelope);
      expect([answer.continued, answer.status]).to.deep.equal([true, 200]);
      expect(answer.body).to.contain('LogoutResponse');
      await sessionEnded(withSlo, browser, profile);
    });
  });

  it("ends a persistent NameID's session for the IdP's LogoutRequest that writes out the qualifiers an absent one stands for: its own and the broker's entityIDs (core 8.3.7, ADR 0373)", async () => {
    const browser = new Browser();
    const profile = await loggedIn(withSlo, browser, {
      nameIdFormat: PERSISTENT,
      sessionIndex: '_persistent',
    });
    const request = herIdpLogoutRequest(withSlo, '_persistent');
    const qualified = resignedByIdp(withSlo.idp, request.url, (xml) =>
      xml.replace(
        /<saml:NameID[^>]*>/,
        `<saml:NameID Format="${PERSISTENT}" NameQualifier="${UPSTREAM_ENTITY_ID}" SPNameQualifier="${withSlo.broker.url}/saml/sp-metadata">`,
      ),
    );
    expect((await fetch(qualified, { redirect: 'manual' })).status).to.equal(302);
    await sessionEnded(withSlo, browser, profile);
  });

  it("refuses an IdP-signed LogoutRequest naming another Issuer: it is judged as the portal's (SAML_SIGNATURE_INVALID)", async () => {
    const request = idpLogoutRequestUrl(withSlo.idp, withSlo.sp, { nameId: 'carol@example.test' });
    const attack = LOGOUT_REQUEST_ATTACKS.find((a) => a.sends === 'naming another Issuer')!;
    await expectRefused(resignedByIdp(withSlo.idp, request.url, attack.mutate), 'SAML_SIGNATURE_INVALID');
  });

  it('answers the same LogoutRequest from the IdP a second time with a signed Requester/RequestDenied (replay)', async () => {
    const request = idpLogoutRequestUrl(
      withSlo.idp,
      withSlo.sp,
      { nameId: 'nobody@example.test', sessionIndex: '_x' },
      'idp-rs-d',
    );
    expect((await fetch(request.url, { redirect: 'manual' })).status).to.equal(302);
    await expectFailedStatus(request.url, request.id, 'SAML_REPLAY');
  });

  it("answers the IdP's signed LogoutRequest naming nobody (empty NameID) with a signed Requester/RequestDenied", async () => {
    const request = herIdpLogoutRequest(withSlo, '_x');
    const forged = resignedByIdp(withSlo.idp, request.url, (xml) =>
      xml.replace(/(<saml:NameID[^>]*>)[^<]*(<\/saml:NameID>)/, '$1$2'),
    );
    expect(inflateRedirectPayload(new URL(forged).searchParams.get('SAMLRequest')!)).to.match(
      /<saml:NameID[^>]*><\/saml:NameID>/,
    );
    await expectFailedStatus(forged, request.id, 'SAML_NAMEID_INVALID');
  });

  /**
   * Shibboleth IdP encrypts the NameID of the LogoutRequests it sends an SP that publishes an
   * encryption key (its SAML2.Logout profile's default): the broker decrypts the EncryptedID with its
   * decryption keys once the request's signature verified, by the rules of the Response's (ADR 0351).
   */
  describe("an EncryptedID in the IdP's LogoutRequest (ADR 0351)", () => {
    let encrypting: Setup;
    let brokerCertPem: string;
    before(async () => {
      const { secretName, pair } = useEncryptionKey(pki);
      brokerCertPem = pair.certPem;
      encrypting = await setUp(upstreamIdp(), undefined, [], (spec) => {
        spec.broker.encryptionSecretRef = { name: secretName };
      });
    });
    after(() => encrypting.broker.close());

    const NAME_ID = /<saml:NameID[^>]*>[^<]*<\/saml:NameID>/;
    /** The request's NameID replaced by an EncryptedID holding it, written with node:crypto. */
    const encryptingNameId =
      (certPem: () => string, options: AttackerEncryption = {}) =>
      (xml: string) => {
        expect(xml).to.match(NAME_ID);
        return xml.replace(NAME_ID, (nameId) => encryptedIdXml(nameId, certPem(), options));
      };
    const XMLENC = 'http://www.w3.org/2001/04/xmlenc#';
    const XMLSEC = { sessionKey: 'aes-128', transport: `${XMLENC}rsa-oaep-mgf1p` };
    const encryptions: { name: string; encrypt: (xml: string) => string }[] = [
      { name: 'AES-128-GCM (node:crypto)', encrypt: encryptingNameId(() => brokerCertPem) },
      {
        name: 'AES-128-CBC (node:crypto)',
        encrypt: encryptingNameId(() => brokerCertPem, { content: 'aes128-cbc' }),
      },
      {
        name: 'AES-128-GCM (xmlsec1)',
        encrypt: (xml) =>
          xmlsecEncryptNameId(xml, brokerCertPem, {
            ...XMLSEC,
            content: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
          }),
      },
      {
        name: 'AES-256-CBC (xmlsec1)',
        encrypt: (xml) =>
          xmlsecEncryptNameId(xml, brokerCertPem, {
            ...XMLSEC,
            sessionKey: 'aes-256',
            content: `${XMLENC}aes256-cbc`,
          }),
      },
    ];

    /** Her IdP-signed LogoutRequest through the browser (RelayState `idp-rs-d`), its NameID changed by `edit`. */
    function encryptedRequest(setup: Setup, sessionIndex: string, edit: (xml: string) => string) {
      const request = herIdpLogoutRequest(setup, sessionIndex);
      const url = resignedByIdp(setup.idp, request.url, edit);
      const sent = inflateRedirectPayload(new URL(url).searchParams.get('SAMLRequest')!);
      expect(sent).to.contain('EncryptedID');
      return { url, id: request.id, sent };
    }

    for (const { name, encrypt } of encryptions) {
      it(`ends her session on the IdP's signed Redirect LogoutRequest whose NameID is encrypted, ${name}, as on a plain one`, async () => {
        const browser = new Browser();
        const sessionIndex = `_enc-${name.replace(/\W+/g, '-')}`;
        const profile = await loggedIn(encrypting, browser, { sessionIndex });
        const request = encryptedRequest(encrypting, sessionIndex, encrypt);
        expect(request.sent).to.not.contain('carol@example.test');
        const answer = await browser.request(request.url);
        expect(answer.status, await answer.clone().text()).to.equal(302);
        const toIdp = new URL(answer.headers.get('location')!);
        const parsed = await encrypting.idp.parseLogoutResponse(
          encrypting.sp,
          'redirect',
          redirectRequest(toIdp),
        );
        expect(parsed.extract.response?.inResponseTo).to.equal(request.id);
        const statuses = inflateRedirectPayload(toIdp.searchParams.get('SAMLResponse')!);
        expect(statuses).to.contain(`Value="${SUCCESS}"`).and.contain(`Value="${PARTIAL}"`);
        await sessionEnded(encrypting, browser, profile);
      });
    }

    it("ends her session on the IdP's SOAP LogoutRequest whose NameID is encrypted (the enveloped signature covers it)", async () => {
      const browser = new Browser();
      const profile = await loggedIn(encrypting, browser, { sessionIndex: '_enc-soap' });
      const answer = await idpSoapLogoutRequest(
        encrypting,
        { nameId: 'carol@example.test', sessionIndex: '_enc-soap' },
        { edit: encryptingNameId(() => brokerCertPem, { content: 'aes128-cbc' }) },
      );
      const body = await answer.text();
      expect(answer.status, body).to.equal(200);
      expect(body).to.contain('LogoutResponse').and.contain(`Value="${SUCCESS}"`);
      await sessionEnded(encrypting, browser, profile);
    });

    it('answers a signed Requester/RequestDenied to two identifiers (an EncryptedID beside a NameID, or twice), and keeps her session', async () => {
      const browser = new Browser();
      const profile = await loggedIn(encrypting, browser, { sessionIndex: '_enc-two' });
      const encrypt = encryptingNameId(() => brokerCertPem);
      for (const edit of [
        (xml: string) => xml.replace(NAME_ID, (nameId) => `${nameId}${encrypt(nameId)}`),
        (xml: string) => xml.replace(NAME_ID, (nameId) => `${encrypt(nameId)}${encrypt(nameId)}`),
      ]) {
        const request = encryptedRequest(encrypting, '_enc-two', edit);
        await expectFailedStatus(request.url, request.id, 'SAML_NAMEID_INVALID', REQUEST_DENIED, encrypting);
      }
      await sessionKept(encrypting, browser, profile);
    });

    it('decrypts nothing an unsigned request or an altered ciphertext carries: the signature refuses it first (no padding oracle)', async () => {
      const browser = new Browser();
      const profile = await loggedIn(encrypting, browser, { sessionIndex: '_enc-altered' });
      const request = encryptedRequest(
        encrypting,
        '_enc-altered',
        encryptingNameId(() => brokerCertPem, { content: 'aes128-cbc' }),
      );
      await expectRefused(withoutSignature(request.url), 'SAML_SIGNATURE_MISSING');
      // One bit of the content's ciphertext flipped under the IdP's signature: a padding oracle's probe.
      const url = new URL(request.url);
      const xml = inflateRedirectPayload(url.searchParams.get('SAMLRequest')!).replace(
        /(<xenc:CipherValue>)([^<]+)(<\/xenc:CipherValue><\/xenc:CipherData><\/xenc:EncryptedData>)/,
        (_, open: string, base64: string, close: string) => {
          const octets = Buffer.from(base64, 'base64');
          octets[20]! ^= 1;
          return `${open}${octets.toString('base64')}${close}`;
        },
      );
      url.searchParams.set('SAMLRequest', deflateRedirectPayload(xml));
      await expectRefused(url.toString(), 'SAML_SIGNATURE_INVALID');
      await sessionKept(encrypting, browser, profile);
    });

    it("answers a signed Requester/RequestDenied to an EncryptedID the broker's keys do not open, or under RSA 1.5, with the decryption's detail", async () => {
      const browser = new Browser();
      const profile = await loggedIn(encrypting, browser, { sessionIndex: '_enc-refused' });
      for (const { edit, detail } of [
        { edit: encryptingNameId(() => makeKeyPair('someone-else').certPem), detail: 'does_not_decrypt' },
        {
          edit: (xml: string) =>
            encryptingNameId(() => brokerCertPem)(xml).replace(`${XMLENC}rsa-oaep-mgf1p`, `${XMLENC}rsa-1_5`),
          detail: 'key_transport_unsupported',
        },
      ]) {
        const request = encryptedRequest(encrypting, '_enc-refused', edit);
        await expectFailedStatus(
          request.url,
          request.id,
          'SAML_ASSERTION_DECRYPTION_FAILED',
          REQUEST_DENIED,
          encrypting,
        );
        expect(encrypting.broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
          detail,
        });
      }
      await sessionKept(encrypting, browser, profile);
    });

    it('refuses an AES-CBC EncryptedID at a tenant with several SAML IdPs before any RSA operation, and reads AES-GCM there (ADR 0350)', async () => {
      // Another IdP of the tenant could sign a request around this one's captured ciphertext, altered.
      const idp = upstreamIdp();
      const partner: IdpDoc = {
        name: 'partner-idp',
        emailDomains: ['partner-idp.example.test'],
        saml: {
          metadataXml: idp.getMetadata().replace(UPSTREAM_ENTITY_ID, 'https://partner-idp.example.test'),
        },
        emailTrust: 'asserted',
        attributeMapping: { email: 'claims.email' },
      };
      const several = await setUp(idp, undefined, [partner], (spec) => {
        spec.broker.encryptionSecretRef = { name: useEncryptionKey(pki).secretName };
      });
      try {
        const cbc = encryptedRequest(
          several,
          '_enc-several',
          encryptingNameId(() => brokerCertPem, { content: 'aes128-cbc' }),
        );
        await expectFailedStatus(
          cbc.url,
          cbc.id,
          'SAML_ASSERTION_DECRYPTION_FAILED',
          REQUEST_DENIED,
          several,
        );
        expect(several.broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
          detail: 'cbc_several_idps',
        });
        const gcm = encryptedRequest(
          several,
          '_enc-several',
          encryptingNameId(() => brokerCertPem),
        );
        const answer = await fetch(gcm.url, { redirect: 'manual' });
        expect(answer.status).to.equal(302);
        const statuses = inflateRedirectPayload(
          new URL(answer.headers.get('location')!).searchParams.get('SAMLResponse')!,
        );
        expect(statuses).to.contain(`Value="${SUCCESS}"`);
      } finally {
        await several.broker.close();
      }
    });

    it('answers a signed Requester/RequestDenied saying so when the broker has no decryption key', async () => {
      const request = encryptedRequest(
        withSlo,
        '_enc-nokey',
        encryptingNameId(() => brokerCertPem),
      );
      await expectFailedStatus(request.url, request.id, 'SAML_ENCRYPTED_ASSERTION_UNSUPPORTED');
      const refusal = withSlo.broker.logs.findLast((l) => l['event'] === 'broker.refusal');
      expect(JSON.stringify(refusal)).to.not.contain('carol@example.test');
    });
  });

  /**
   * Who a LogoutRequest on the shared /saml/slo is for is read from its unverified Issuer, before any
   * signature: the portal's, then each SAML IdP's in turn. The message is inflated and parsed for that
   * once per request, however many SAML IdPs are asked (ADR 0274).
   */
  describe('with several SAML IdPs', () => {
    let several: Setup;
    before(async () => {
      const idp = upstreamIdp();
      const other = (name: string): IdpDoc => ({
        name,
        emailDomains: [`${name}.example.test`],
        saml: { metadataXml: idp.getMetadata().replace(UPSTREAM_ENTITY_ID, `https://${name}.example.test`) },
        emailTrust: 'asserted',
        attributeMapping: { email: 'claims.email' },
      });
      several = await setUp(idp, undefined, [other('first-idp'), other('second-idp')]);
    });
    after(() => several.broker.close());

    /** What `send` answers, and how often the broker parsed the message whose ID is `id` meanwhile. */
    async function parsesOf(id: string, send: () => Promise<Response>) {
      const parse = DOMParser.prototype.parseFromString;
      let parses = 0;
      DOMParser.prototype.parseFromString = function (this: DOMParser, ...args) {
        if (args[0].includes(`ID="${id}"`)) parses += 1;
        return parse.apply(this, args);
      };
      try {
        return { response: await send(), parses };
      } finally {
        DOMParser.prototype.parseFromString = parse;
      }
    }

    it("parses a stranger's unsigned LogoutRequest once to route it, then refuses it as before (SAML_SIGNATURE_MISSING)", async () => {
      const slo = `${several.broker.url}/saml/slo`;
      const xml = logoutRequestXml('_routed-once', 'https://stranger.example.test', slo);
      const { response, parses } = await parsesOf('_routed-once', () =>
        fetch(`${slo}?SAMLRequest=${encodeURIComponent(deflateRedirectPayload(xml))}`, {
          redirect: 'manual',
        }),
      );
      expect(response.status).to.equal(400);
      expect(await response.text()).to.contain('SAML_SIGNATURE_MISSING');
      expect(parses, 'parses of the message').to.equal(1);
    });

    it("routes the last SAML IdP's signed LogoutRequest to it on that one parse, and parses it again only once verified", async () => {
      const user = { nameId: 'carol@example.test', sessionIndex: '_none' };
      const request = idpLogoutRequestUrl(several.idp, several.sp, user, 'rs');
      const { response, parses } = await parsesOf(request.id, () =>
        fetch(request.url, { redirect: 'manual' }),
      );
      expect(response.status).to.equal(302);
      const answer = new URL(response.headers.get('location')!);
      expect(`${answer.origin}${answer.pathname}`, 'its SingleLogoutService').to.equal(UPSTREAM_SLO);
      expect(parses, 'parses of the message: to route it, then as verified').to.equal(2);
    });
  });
});

/** A LogoutRequest as anyone may send it, unsigned. */
function logoutRequestXml(id: string, issuer: string, destination: string): string {
  return (
    `<samlp:LogoutRequest xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${id}" ` +
    `Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${destination}">` +
    `<saml:Issuer>${issuer}</saml:Issuer><saml:NameID>carol@example.test</saml:NameID>` +
    '</samlp:LogoutRequest>'
  );
}

/** A Redirect-binding URL with its SigAlg and Signature taken off: the message as sent unsigned. */
function withoutSignature(url: string): string {
  return url.replace(/&SigAlg=[^&]*/, '').replace(/&Signature=[^&]*/, '');
}
