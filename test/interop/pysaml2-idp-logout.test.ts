import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { statusOf } from '../../common/saml/checks.js';
import {
  NS,
  parseSamlXml,
  SOAP_ENVELOPE_NS,
  verifyEnvelopedSignature,
  verifyRedirectSignature,
} from '../../common/saml/index.js';
import { soapBodyMessage } from '../../common/saml/soap-binding.js';
import {
  type BrokerUnderTest,
  Browser,
  brokerReplica,
  closeServer,
  createPki,
  listenPlaceholder,
  type Pki,
  serveBroker,
  tenantFor,
  useSigningKey,
} from '../../testkit/broker-harness.js';
import { type HoldingStore, holdingStore } from '../../testkit/holding-store.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { type LocalRedis, startLocalRedis, whileStalled } from '../../testkit/local-redis.js';
import { TEST_PLACEMENT, tenantAt, withHost } from '../../testkit/pool.js';
import { type Harness, startHarness } from '../../testkit/portal-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import { xmlsecVerify } from '../../testkit/xmlsec.js';
import { autoPostForm, type Peer, startPeer } from './peers.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const PARTIAL = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';
const REQUESTER = 'urn:oasis:names:tc:SAML:2.0:status:Requester';
const RESPONDER = 'urn:oasis:names:tc:SAML:2.0:status:Responder';
const REQUEST_DENIED = 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied';
const VERSION_MISMATCH = 'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch';
const REQUEST_VERSION_TOO_HIGH = 'urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh';
const SOAP_PATH = '/saml/backchannel-logout/pysaml2';

/**
 * IdP-initiated Single Logout reaching the portal (ADR 0158): the real portal signs in through the
 * broker at pysaml2; pysaml2 sends its signed LogoutRequest through the browser; the broker ends
 * its session and, over the SAML SOAP binding (ADR 0150), the portal's, then answers pysaml2, which
 * verifies the answer; and the same LogoutRequest back-channel, over the SAML SOAP binding (ADR
 * 0160), with the attacks on that endpoint. Dedicated and `JSM_SSO_TEST_PLACEMENT=pool`.
 */
describe('interop: pysaml2 signs the person out, and the portal session ends with it', function () {
  this.timeout(60_000);
  let pki: Pki;
  let idp: Peer;
  let portal: Harness;
  let broker: BrokerUnderTest;
  /** The broker's own redis-server, so that a test can stall it (SIGSTOP) without touching others'. */
  let redis: LocalRedis;
  /** The broker's store on it, which a test can hold at a step of a sign-in (ADR 0171). */
  let brokerStore: HoldingStore;
  /** The broker's address, listening before the broker is made: the broker closes it once it serves there. */
  let placeholder: Server | undefined;

  before(async () => {
    redis = await startLocalRedis();
    pki = createPki();
    const brokerPair = makeKeyPair('broker.acme.test');
    const portalPair = makeKeyPair('portal.acme.test');
    useSigningKey(pki, 'broker', brokerPair);
    useSigningKey(pki, 'portal', portalPair);
    const idpPair = makeKeyPair('pysaml2.acme.test');
    const keyFile = join(pki.dir, 'pysaml2.key');
    const certFile = join(pki.dir, 'pysaml2.crt');
    writeFileSync(keyFile, idpPair.keyPem);
    writeFileSync(certFile, idpPair.certPem);
    const otherPair = makeKeyPair('not-pysaml2.acme.test');
    const otherKeyFile = join(pki.dir, 'other.key');
    const otherCertFile = join(pki.dir, 'other.crt');
    writeFileSync(otherKeyFile, otherPair.keyPem);
    writeFileSync(otherCertFile, otherPair.certPem);
    const { server, url } = await listenPlaceholder();
    placeholder = server;
    idp = await startPeer('idp', {
      brokerUrl: url,
      keyFile,
      certFile,
      // The broker's metadata made for this IdP: it names the IdP's own SOAP SingleLogoutService.
      spMetadataPath: '/saml/sp-metadata/pysaml2',
      otherKeyFile,
      otherCertFile,
      user: { nameId: 'alice@acme.test', attributes: { mail: ['alice@acme.test'] } },
    });
    const pysaml2 = {
      name: 'pysaml2',
      saml: { metadataXml: await (await fetch(`${idp.url}/metadata`)).text() },
      emailTrust: 'asserted' as const,
      attributeMapping: { email: 'claims.email' },
    };
    portal = await startHarness({
      brokerKey: brokerPair,
      portalKey: portalPair,
      spec: { broker: { url }, identityProviders: [pysaml2] },
    });
    const tenant = tenantFor(url, [pysaml2], (spec) => {
      spec.portal.url = portal.url;
    });
    brokerStore = holdingStore(await connectedFlowStore('acme', redis.url));
    broker = await serveBroker(server, url, tenant, pki, brokerStore.store);
  });

  after(async () => {
    // A step of before() that threw left no broker to close the address it would have served.
    if (broker) await broker.close();
    else if (placeholder) await closeServer(placeholder);
    await portal?.close();
    await idp?.close();
    // The broker does not close the store it is given (testkit/pool.ts: the test closes its own).
    await brokerStore?.store.close();
    pki?.cleanup();
    if (redis) {
      redis.process.kill('SIGCONT');
      await redis.stop();
    }
  });

  const unavailableLines = () => broker.logs.filter((l) => l['event'] === 'broker.unavailable');

  /** Alice signs in at the portal, through the broker, at pysaml2; her browser. */
  async function signedIn(): Promise<Browser> {
    const browser = new Browser();
    const toBroker = await browser.request(`${portal.url}/login`);
    expect(toBroker.status).to.equal(303);
    const toIdp = await browser.request(toBroker.headers.get('location')!);
    expect(toIdp.status, 'the broker sends the browser to pysaml2').to.equal(302);
    const atIdp = await browser.request(toIdp.headers.get('location')!);
    const upstream = autoPostForm(await atIdp.text());
    const page = await browser.request(upstream.action, { form: upstream.fields });
    const toPortal = autoPostForm(await page.text());
    const acs = await browser.request(`${portal.url}/saml/acs`, { form: toPortal.fields });
    expect(acs.status, 'the portal takes the broker Response').to.equal(303);
    expect(await portalPage(browser)).to.equal(200);
    return browser;
  }

  /**
   * Alice's sign-in at pysaml2 up to the broker's session writes, held there (after the broker checked
   * pysaml2's assertion and named her); `done` is the broker's answer to her browser once released.
   */
  async function signInHeldAtSave(): Promise<{ browser: Browser; done: Promise<Response>; release(): void }> {
    const browser = new Browser();
    const toBroker = await browser.request(`${portal.url}/login`);
    const toIdp = await browser.request(toBroker.headers.get('location')!);
    const upstream = autoPostForm(await (await browser.request(toIdp.headers.get('location')!)).text());
    const saving = brokerStore.hold(
      (command, key) => command === 'put' && /^(session|upstream-session):/.test(key),
    );
    const done = browser.request(upstream.action, { form: upstream.fields });
    await Promise.race([saving.reached, done]);
    return { browser, done, release: saving.release };
  }

  /** That the broker refused her sign-in as one whose IdP session ended meanwhile, and sent no Response. */
  async function expectRefusedAsEnded(answer: Response, from: number): Promise<void> {
    const html = await answer.text();
    expect(answer.status, 'a refusal page, not a Response').to.equal(403);
    expect(html).to.include('IDP_SESSION_ENDED');
    expect(html, 'no Response for the portal').not.to.include('SAMLResponse');
    const lines = broker.logs.slice(from);
    expect(lines.filter((l) => l['event'] === 'broker.login').at(-1)).to.include({
      idp: 'pysaml2',
      result: 'refused',
      reason: 'IDP_SESSION_ENDED',
    });
    expect(lines.filter((l) => l['event'] === 'broker.refusal').at(-1)).to.include({
      reason: 'IDP_SESSION_ENDED',
      status: 403,
    });
  }

  /** A signed-in page of the portal: 200 while the session lives, 303 to sign-in once it is gone. */
  async function portalPage(browser: Browser): Promise<number> {
    const res = await browser.request(`${portal.url}/requests`);
    await res.arrayBuffer();
    if (res.status === 303) expect(res.headers.get('location')).to.match(/^\/login\?return=/);
    return res.status;
  }

  /**
   * pysaml2's LogoutRequest naming `nameId` (and the SessionIndex it gave `sessionIndexOf`), as the
   * browser carries it to the broker at `brokerUrl`; not sent yet.
   */
  async function idpLogoutRequest(
    browser: Browser,
    options: { nameId?: string; sessionIndexOf?: string; brokerUrl?: string } = {},
  ): Promise<{ url: string; requestId: string }> {
    const query = new URLSearchParams({ nameId: options.nameId ?? 'alice@acme.test', relayState: 'idp-rs' });
    if (options.sessionIndexOf) query.set('sessionIndexOf', options.sessionIndexOf);
    const request = await browser.request(`${idp.url}/idp-logout?${query}`);
    const toBroker = new URL(request.headers.get('location')!);
    expect(toBroker.pathname).to.equal('/saml/slo');
    const requestId = JSON.parse(request.headers.get('x-peer') ?? '{}').requestId;
    return { url: `${options.brokerUrl ?? broker.url}/saml/slo${toBroker.search}`, requestId };
  }

  /** The browser takes `request` to the broker; the broker's answer as pysaml2 verified it. */
  async function answerAtIdp(
    browser: Browser,
    request: { url: string; requestId: string },
  ): Promise<{ status: string; secondStatus: string | null }> {
    const answer = await browser.request(request.url);
    expect(answer.status, await answer.clone().text()).to.equal(302);
    const read = await browser.request(answer.headers.get('location')!);
    const body = (await read.json()) as Record<string, string | null>;
    expect(read.status, `${JSON.stringify(body)}\n${idp.stderr()}`).to.equal(200);
    expect(body).to.include({ inResponseTo: request.requestId, relayState: 'idp-rs' });
    return { status: body['status']!, secondStatus: body['secondStatus'] ?? null };
  }

  const signOutAtIdp = async (browser: Browser, options: Parameters<typeof idpLogoutRequest>[1] = {}) =>
    answerAtIdp(browser, await idpLogoutRequest(browser, options));

  const logoutLines = () => broker.logs.filter((l) => l['event'] === 'broker.logout');

  it("ends the portal session on pysaml2's LogoutRequest, and answers pysaml2 Success", async () => {
    const browser = await signedIn();
    expect(await signOutAtIdp(browser)).to.deep.equal({ status: SUCCESS, secondStatus: null });
    expect(await portalPage(browser), "the portal's next page asks to sign in").to.equal(303);
    expect(logoutLines().at(-1)).to.include({ idp: 'pysaml2', initiator: 'idp', result: 'success' });
  });

  it('ends every portal session of hers on a LogoutRequest naming her and no SessionIndex, and answers pysaml2 Success (ADR 0218)', async () => {
    const [older, latest] = [await signedIn(), await signedIn()];
    // pysaml2 holds no SessionIndex it issued to that name, so its request names none (core 3.7.1).
    const answer = await signOutAtIdp(latest, { sessionIndexOf: 'nobody@acme.test' });
    expect(answer).to.deep.equal({ status: SUCCESS, secondStatus: null });
    expect(await portalPage(latest), 'the session the broker finds').to.equal(303);
    expect(await portalPage(older), 'an older one, which the broker does not index').to.equal(303);
    expect(logoutLines().at(-1)).to.include({ idp: 'pysaml2', initiator: 'idp', result: 'success' });
  });

  it('ends nothing on a LogoutRequest naming another person with her SessionIndex, and answers PartialLogout', async () => {
    const browser = await signedIn();
    const other = await signOutAtIdp(browser, {
      nameId: 'mallory@acme.test',
      sessionIndexOf: 'alice@acme.test',
    });
    expect(other).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL });
    expect(logoutLines().at(-1)).to.include({ result: 'no_session' });
    expect(await portalPage(browser), 'still signed in').to.equal(200);
    // Her own sign-out still finds both sessions.
    expect(await signOutAtIdp(browser)).to.deep.equal({ status: SUCCESS, secondStatus: null });
    expect(await portalPage(browser)).to.equal(303);
  });

  it('answers 503 while its Redis does not answer, ends nothing, and the same LogoutRequest brought again ends both sessions (ADR 0164)', async () => {
    const browser = await signedIn();
    const request = await idpLogoutRequest(browser);
    const stalled = await whileStalled(redis, () => browser.request(request.url));
    expect(stalled.status).to.equal(503);
    expect(unavailableLines().at(-1)).to.include({ reason: 'FLOW_STORE_UNAVAILABLE' });
    expect(await portalPage(browser), 'still signed in').to.equal(200);
    // The person's browser goes back to the same address once Redis answers: not a replay.
    expect(await answerAtIdp(browser, request)).to.deep.equal({ status: SUCCESS, secondStatus: null });
    expect(await portalPage(browser)).to.equal(303);
    // The same request after its logout is a replay: answered by Redirect to pysaml2, which verifies
    // the signature and then refuses the status it reads, Requester/RequestDenied (ADR 0252).
    const replayed = await browser.request(request.url);
    expect(replayed.status, 'the same request after its logout is a replay').to.equal(302);
    const location = replayed.headers.get('location')!;
    const signed = verifyRedirectSignature(new URL(location).search.slice(1), 'SAMLResponse', [
      pki.brokerCert,
    ]);
    expect(signed.relayState).to.equal('idp-rs');
    expect(signed.xml).to.include(`InResponseTo="${request.requestId}"`);
    const read = await browser.request(location);
    expect(read.status).to.equal(400);
    expect(await read.json()).to.include({ error: 'StatusRequestDenied' });
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
      reason: 'SAML_REPLAY',
      status: 302,
    });
  });

  describe("pysaml2's LogoutRequest for her IdP session racing her sign-in with it (ADR 0171: she is not signed in)", () => {
    it('refuses the sign-in whose session the broker was saving when the LogoutRequest came, and removes that session', async () => {
      const from = broker.logs.length;
      const signingIn = await signInHeldAtSave();
      const answer = await signOutAtIdp(signingIn.browser);
      signingIn.release();
      // It found no session yet: nothing it could confirm ended.
      expect(answer).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL });
      expect(logoutLines().at(-1)).to.include({ binding: 'redirect', result: 'no_session' });
      await expectRefusedAsEnded(await signingIn.done, from);
      expect(await portalPage(signingIn.browser), 'not signed in at the portal').to.equal(303);
      // The session saved went with the refusal: pysaml2 naming that IdP session again finds none.
      expect(await signOutAtIdp(signingIn.browser)).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL });
      expect(logoutLines().at(-1)).to.include({ result: 'no_session' });
    });

    it('ends at the portal the sign-in whose Response was on its way there when the LogoutRequest came', async () => {
      const signingIn = await signInHeldAtSave();
      signingIn.release();
      const toPortal = autoPostForm(await (await signingIn.done).text());
      // The broker finds its session and asks the portal, which has none yet (ADR 0170's tombstone).
      expect(await signOutAtIdp(signingIn.browser)).to.deep.include({ status: SUCCESS });
      const from = portal.logs.length;
      const acs = await signingIn.browser.request(`${portal.url}/saml/acs`, { form: toPortal.fields });
      expect(acs.status, 'the portal ends the session it just made').to.equal(401);
      expect(await acs.text()).to.include('sign in again');
      expect(portal.logs.slice(from).find((l) => l['event'] === 'portal.refused')).to.include({
        reason: 'PORTAL_SIGN_IN_ENDED_AT_IDP',
        status: 401,
      });
      expect(await portalPage(signingIn.browser), 'not signed in at the portal').to.equal(303);
    });
  });

  describe('over the SAML SOAP binding, back channel (ADR 0160)', () => {
    interface SoapAnswer {
      status: number;
      body: string;
      type: string | undefined;
      cacheControl: string | undefined;
    }

    /** pysaml2's SOAP LogoutRequest for alice (or `nameId`), forged as `forge` says; not sent. */
    async function soapRequest(
      forge: Record<string, string> = {},
    ): Promise<{ requestId: string; envelope: string }> {
      const query = new URLSearchParams({ nameId: 'alice@acme.test', ...forge });
      const res = await fetch(`${idp.url}/idp-soap-logout?${query}`);
      const body = (await res.json()) as { requestId: string; envelope: string };
      expect(res.status, `${JSON.stringify(body)}\n${idp.stderr()}`).to.equal(200);
      return body;
    }

    /** Posts `body` to the SOAP endpoint as an IdP's server does (text/xml unless told). */
    async function postSoap(
      body: string,
      options: { url?: string; host?: string; contentType?: string } = {},
    ): Promise<SoapAnswer> {
      const res = await withHost(options.url ?? broker.url, options.host, SOAP_PATH, {
        method: 'POST',
        headers: { 'content-type': options.contentType ?? 'text/xml; charset=utf-8' },
        body,
      });
      return {
        status: res.status,
        body: res.body,
        type: res.headers['content-type'],
        cacheControl: res.headers['cache-control'],
      };
    }

    /** The broker's SOAP answer, its signature verified with the broker's certificate. */
    function logoutResponseOf(answer: SoapAnswer) {
      expect(answer.status, answer.body).to.equal(200);
      const doc = parseSamlXml(answer.body);
      const message = verifyEnvelopedSignature(doc, soapBodyMessage(doc), [pki.brokerCert]);
      expect(message.namespaceURI).to.equal(NS.protocol);
      expect(message.localName).to.equal('LogoutResponse');
      const { code, second } = statusOf(message);
      return {
        status: code,
        secondStatus: second ?? null,
        inResponseTo: message.getAttribute('InResponseTo'),
      };
    }

    function faultOf(answer: SoapAnswer): string | undefined {
      expect(answer.type).to.match(/^text\/xml/);
      expect(answer.cacheControl).to.equal('no-cache, no-store');
      return /<faultstring>([A-Z0-9_]+)<\/faultstring>/.exec(answer.body)?.[1];
    }

    const refusals = () => broker.logs.filter((l) => l['event'] === 'broker.refusal');

    it("advertises the IdP's own SOAP SingleLogoutService in the metadata made for it, and only there", async () => {
      const made = await (await fetch(`${broker.url}/saml/sp-metadata/pysaml2`)).text();
      expect(made).to.include(
        `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="${broker.url}${SOAP_PATH}"/>`,
      );
      expect(made).to.include(`entityID="${broker.url}/saml/sp-metadata"`);
      const shared = await (await fetch(`${broker.url}/saml/sp-metadata`)).text();
      expect(shared).not.to.include('bindings:SOAP');
    });

    /**
     * pysaml2 posts its SOAP LogoutRequest for alice (forged as `forge` says) with its own client and
     * reads the answer with its own parse_logout_request_response; the answer as received is also
     * verified by xmlsec1 with the broker's certificate, a second implementation.
     */
    async function sentByPysaml2(forge: Record<string, string> = {}): Promise<Record<string, unknown>> {
      const query = new URLSearchParams({ nameId: 'alice@acme.test', send: '1', ...forge });
      const res = await fetch(`${idp.url}/idp-soap-logout?${query}`);
      const sent = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${JSON.stringify(sent)}\n${idp.stderr()}`).to.equal(200);
      const verified = xmlsecVerify(String(sent['body']), pki.brokerCert, `${NS.protocol}:LogoutResponse`);
      expect(verified.ok, verified.output).to.equal(true);
      return sent;
    }

    it("ends the portal session on pysaml2's SOAP LogoutRequest, and answers a signed Success that pysaml2 verifies and reads", async () => {
      const browser = await signedIn();
      const sent = await sentByPysaml2();
      expect(sent).to.include({
        httpStatus: 200,
        status: SUCCESS,
        secondStatus: null,
        inResponseTo: sent['requestId'],
        issuer: `${broker.url}/saml/sp-metadata`,
      });
      expect(
        logoutResponseOf({ status: 200, body: String(sent['body']), type: '', cacheControl: '' }),
      ).to.include({
        status: SUCCESS,
        secondStatus: null,
      });
      expect(await portalPage(browser), "the portal's next page asks to sign in").to.equal(303);
      expect(logoutLines().at(-1)).to.include({ idp: 'pysaml2', binding: 'soap', result: 'success' });
    });

    it("answers pysaml2's signed LogoutRequest of Version 3.0 with a signed VersionMismatch/RequestVersionTooHigh that pysaml2 verifies, and ends nothing (ADR 0204)", async () => {
      const browser = await signedIn();
      const sent = await sentByPysaml2({ version: '3.0' });
      expect(sent).to.include({
        httpStatus: 200,
        status: VERSION_MISMATCH,
        secondStatus: REQUEST_VERSION_TOO_HIGH,
        inResponseTo: sent['requestId'],
        issuer: `${broker.url}/saml/sp-metadata`,
      });
      expect(refusals().at(-1)).to.include({
        reason: 'SAML_VERSION_UNSUPPORTED',
        status: 200,
        idp: 'pysaml2',
      });
      expect(await portalPage(browser), 'still signed in at the portal').to.equal(200);
    });

    it('answers a signed Responder while its Redis does not answer, ends nothing, and the same request sent again ends both sessions (ADR 0164)', async () => {
      const browser = await signedIn();
      const { requestId, envelope } = await soapRequest();
      const stalled = await whileStalled(redis, () => postSoap(envelope));
      expect(logoutResponseOf(stalled)).to.deep.equal({
        status: RESPONDER,
        secondStatus: null,
        inResponseTo: requestId,
      });
      expect(unavailableLines().at(-1)).to.include({ reason: 'FLOW_STORE_UNAVAILABLE', status: 200 });
      expect(await portalPage(browser), 'still signed in').to.equal(200);
      // pysaml2's server sends the same envelope again once Redis answers: not taken for a replay.
      expect(logoutResponseOf(await postSoap(envelope))).to.deep.equal({
        status: SUCCESS,
        secondStatus: null,
        inResponseTo: requestId,
      });
      expect(await portalPage(browser)).to.equal(303);
      // Once its logout is done, the same envelope is a replay, refused as before.
      expect(logoutResponseOf(await postSoap(envelope))).to.deep.equal({
        status: REQUESTER,
        secondStatus: REQUEST_DENIED,
        inResponseTo: requestId,
      });
      expect(refusals().at(-1)).to.include({ reason: 'SAML_REPLAY' });
    });

    it('ends her sessions on two copies of one request arriving at once, each answered without error', async () => {
      const browser = await signedIn();
      const { requestId, envelope } = await soapRequest();
      const from = broker.logs.length;
      const answers = (await Promise.all([postSoap(envelope), postSoap(envelope)])).map(logoutResponseOf);
      // Both may be acted on (ending is idempotent: the later finds less or nothing left), or the
      // later may find the ID already spent; neither is an error, and one ended both sessions.
      const acceptable = [
        { status: SUCCESS, secondStatus: null, inResponseTo: requestId },
        { status: SUCCESS, secondStatus: PARTIAL, inResponseTo: requestId },
        { status: REQUESTER, secondStatus: REQUEST_DENIED, inResponseTo: requestId },
      ];
      for (const answer of answers) expect(acceptable).to.deep.include(answer);
      expect(answers).to.deep.include(acceptable[0]);
      expect(await portalPage(browser)).to.equal(303);
      const lines = broker.logs.slice(from);
      expect(lines.filter((l) => l['event'] === 'broker.unavailable')).to.deep.equal([]);
      for (const line of lines.filter((l) => l['event'] === 'broker.refusal'))
        expect(line).to.include({ reason: 'SAML_REPLAY' });
    });

    it('refuses the sign-in whose session the broker was saving when the SOAP LogoutRequest came (ADR 0171)', async () => {
      const from = broker.logs.length;
      const signingIn = await signInHeldAtSave();
      const { requestId, envelope } = await soapRequest();
      const answer = logoutResponseOf(await postSoap(envelope));
      signingIn.release();
      expect(answer).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL, inResponseTo: requestId });
      expect(logoutLines().at(-1)).to.include({ binding: 'soap', result: 'no_session' });
      await expectRefusedAsEnded(await signingIn.done, from);
      expect(await portalPage(signingIn.browser), 'not signed in at the portal').to.equal(303);
    });

    // Bindings 3.2.2.2: a sender may add headers (SOAP libraries do: Keycloak's writes an empty one).
    const acceptedEnvelopes: Array<[string, (envelope: string) => string]> = [
      ['an empty SOAP Header', (e) => e.replace('<ns0:Body>', '<ns0:Header/><ns0:Body>')],
      [
        'a SOAP Header block not marked mustUnderstand',
        (e) =>
          e.replace(
            '<ns0:Body>',
            '<ns0:Header><x:Trace xmlns:x="urn:example" ns0:mustUnderstand="0">1</x:Trace></ns0:Header><ns0:Body>',
          ),
      ],
      [
        'a mustUnderstand SOAP Header block for another actor',
        (e) =>
          e.replace(
            '<ns0:Body>',
            '<ns0:Header><x:Route xmlns:x="urn:example" ns0:mustUnderstand="1" ns0:actor="urn:example:hop">x</x:Route></ns0:Header><ns0:Body>',
          ),
      ],
    ];
    for (const [what, change] of acceptedEnvelopes) {
      it(`ends her sessions for her own LogoutRequest in an envelope with ${what}`, async () => {
        const browser = await signedIn();
        const { envelope } = await soapRequest();
        const answer = await postSoap(change(envelope));
        expect(logoutResponseOf(answer)).to.include({ status: SUCCESS, secondStatus: null });
        expect(await portalPage(browser), 'the portal session is gone').to.equal(303);
      });
    }

    describe('refusals, each leaving her signed in', () => {
      let browser: Browser;
      before(async () => {
        browser = await signedIn();
      });
      afterEach(async () => {
        expect(await portalPage(browser), 'still signed in').to.equal(200);
      });

      /** A request the broker could not show is pysaml2's own: a SOAP fault naming the reason. */
      const faults: Array<[string, Record<string, string>, string]> = [
        ['unsigned', { signWith: 'none' }, 'SAML_SIGNATURE_MISSING'],
        ['signed by a key not in its metadata', { signWith: 'other' }, 'SAML_SIGNATURE_INVALID'],
        [
          'with another Issuer, signed by its key',
          { issuer: 'https://evil.example/idp' },
          'SAML_ISSUER_MISMATCH',
        ],
      ];
      for (const [what, forge, reason] of faults) {
        it(`answers a SOAP fault, not a signed answer, to a LogoutRequest ${what}`, async () => {
          const answer = await postSoap((await soapRequest(forge)).envelope);
          expect(answer.status).to.equal(400);
          expect(faultOf(answer)).to.equal(reason);
          expect(answer.body).not.to.include('LogoutResponse');
          expect(refusals().at(-1)).to.include({ reason, status: 400 });
        });
      }

      /** pysaml2's own request, refused by a later check: a signed Requester answer to it. */
      const minutesAgo = (m: number) =>
        new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const requesterErrors: Array<[string, () => Record<string, string>, string]> = [
        [
          'addressed to another endpoint',
          () => ({ destination: `${broker.url}/saml/slo` }),
          'SAML_DESTINATION_MISMATCH',
        ],
        ['issued 10 minutes ago', () => ({ issueInstant: minutesAgo(10) }), 'SAML_EXPIRED'],
        [
          'past its NotOnOrAfter (and the clock skew allowed)',
          () => ({ notOnOrAfter: minutesAgo(4) }),
          'SAML_EXPIRED',
        ],
      ];
      for (const [what, forge, reason] of requesterErrors) {
        it(`answers Requester/RequestDenied, signed, to pysaml2's LogoutRequest ${what}`, async () => {
          const { requestId, envelope } = await soapRequest(forge());
          const answer = logoutResponseOf(await postSoap(envelope));
          expect(answer).to.deep.equal({
            status: REQUESTER,
            secondStatus: REQUEST_DENIED,
            inResponseTo: requestId,
          });
          expect(refusals().at(-1)).to.include({ reason, status: 200, idp: 'pysaml2' });
        });
      }

      it('ends nothing on a LogoutRequest naming another person with her SessionIndex, and answers PartialLogout', async () => {
        const { requestId, envelope } = await soapRequest({
          nameId: 'mallory@acme.test',
          sessionIndexOf: 'alice@acme.test',
        });
        const answer = logoutResponseOf(await postSoap(envelope));
        expect(answer).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL, inResponseTo: requestId });
        expect(logoutLines().at(-1)).to.include({ binding: 'soap', result: 'no_session' });
      });

      it('answers Requester to the same LogoutRequest sent twice (its ID is used once)', async () => {
        const { requestId, envelope } = await soapRequest({
          nameId: 'mallory@acme.test',
          sessionIndexOf: 'alice@acme.test',
        });
        expect(logoutResponseOf(await postSoap(envelope))).to.include({ status: SUCCESS });
        const again = logoutResponseOf(await postSoap(envelope));
        expect(again).to.deep.equal({
          status: REQUESTER,
          secondStatus: REQUEST_DENIED,
          inResponseTo: requestId,
        });
        expect(refusals().at(-1)).to.include({ reason: 'SAML_REPLAY' });
      });

      /**
       * Her valid LogoutRequest in an envelope that is not the binding's: a fault, nothing read; its
       * faultcode SOAP 1.1's own (4.4.1) where SOAP names one, else Client.
       */
      const body = (envelope: string) => /<ns0:Body>[\s\S]*<\/ns0:Body>/.exec(envelope)![0];
      const envelopes: Array<[string, (envelope: string) => string, string, string]> = [
        [
          'a SOAP Header marked mustUnderstand',
          (e) =>
            e.replace(
              '<ns0:Body>',
              '<ns0:Header><x:Route xmlns:x="urn:example" ns0:mustUnderstand="1">next</x:Route></ns0:Header><ns0:Body>',
            ),
          'SAML_SOAP_HEADER_NOT_UNDERSTOOD',
          'MustUnderstand',
        ],
        [
          "SOAP 1.2's namespace",
          (e) => e.replace(SOAP_ENVELOPE_NS, 'http://www.w3.org/2003/05/soap-envelope'),
          'SAML_SOAP_VERSION_MISMATCH',
          'VersionMismatch',
        ],
        [
          'two Body children',
          (e) => e.replace('</ns0:Body>', '<x:Extra xmlns:x="urn:example"/></ns0:Body>'),
          'SAML_BINDING_INVALID',
          'Client',
        ],
        [
          'two Bodies',
          (e) => e.replace('</ns0:Envelope>', `${body(e)}</ns0:Envelope>`),
          'SAML_BINDING_INVALID',
          'Client',
        ],
      ];
      for (const [what, change, reason, faultcode] of envelopes) {
        it(`answers a SOAP fault (${faultcode}) to her own LogoutRequest in an envelope with ${what}`, async () => {
          const { envelope } = await soapRequest();
          expect(envelope, 'pysaml2 writes the SOAP 1.1 envelope with the ns0 prefix').to.include(
            '<ns0:Body>',
          );
          const answer = await postSoap(change(envelope));
          expect(answer.status).to.equal(400);
          expect(faultOf(answer)).to.equal(reason);
          expect(answer.body).to.include(`<faultcode>soap11:${faultcode}</faultcode>`);
          expect(refusals().at(-1)).to.include({ reason });
        });
      }

      it('refuses her own LogoutRequest posted as another content type (415)', async () => {
        const { envelope } = await soapRequest();
        for (const contentType of ['application/x-www-form-urlencoded', 'application/json', 'text/plain']) {
          const answer = await postSoap(envelope, { contentType });
          expect(answer.status, contentType).to.equal(415);
          expect(faultOf(answer)).to.equal('HTTP_SOAP_EXPECTED');
        }
        expect(refusals().at(-1)).to.include({ reason: 'HTTP_SOAP_EXPECTED', status: 415 });
      });

      it('refuses an envelope over 64 KiB before reading it as XML (413)', async () => {
        const { envelope } = await soapRequest();
        const padded = envelope.replace('<ns0:Body>', `<!--${'x'.repeat(64 * 1024)}--><ns0:Body>`);
        const answer = await postSoap(padded);
        expect(answer.status).to.equal(413);
        expect(faultOf(answer)).to.equal('HTTP_BODY_TOO_LARGE');
      });

      describe("posted at another tenant's address", () => {
        let other: { url: string; host?: string; close(): Promise<void> };
        before(async () => {
          if (TEST_PLACEMENT === 'pool') {
            // The pool's other tenants are copies of this one at 127.0.0.2 and .3 (testkit/pool.ts):
            // they trust the same pysaml2, at their own address.
            const { port } = new URL(broker.url);
            other = { url: broker.url, host: `127.0.0.2:${port}`, close: async () => {} };
            return;
          }
          other = await brokerReplica(
            broker,
            (tenant) => tenantAt(tenant, 'broker', 'acme-other', 'http://127.0.0.1:1'),
            new MemoryFlowStore(),
          );
        });
        after(async () => other?.close());

        it('is refused there (its Destination is this tenant) and stays usable here', async () => {
          const { requestId, envelope } = await soapRequest();
          const there = logoutResponseOf(await postSoap(envelope, other));
          expect(there).to.deep.equal({
            status: REQUESTER,
            secondStatus: REQUEST_DENIED,
            inResponseTo: requestId,
          });
          expect(await portalPage(browser), 'still signed in here').to.equal(200);
          // Its ID was not spent here: the IdP's own request still ends her session at her tenant.
          expect(logoutResponseOf(await postSoap(envelope))).to.include({
            status: SUCCESS,
            secondStatus: null,
          });
          expect(await portalPage(browser)).to.equal(303);
          browser = await signedIn();
        });
      });
    });

    describe('afterwards', () => {
      it('has logged no NameID and no part of a SAML message, whatever the IdP sent', () => {
        const logged = JSON.stringify(broker.logs);
        expect(logged).to.include('"binding":"soap"');
        for (const secret of [
          'alice@acme.test',
          'mallory@acme.test',
          'Envelope',
          'LogoutRequest',
          'SessionIndex',
        ])
          expect(logged).not.to.include(secret);
      });
    });
  });

  describe('a replica whose portal does not answer', () => {
    let cutOff: { url: string; close(): Promise<void> };
    /** A server that takes the connection and never answers (a fault the real portal cannot produce). */
    let silent: Server | undefined;
    before(async () => {
      silent = createServer(() => {});
      await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
      // The same broker (tenant, store) reaching the portal there, with a 1 s IdP deadline.
      const silentUrl = urlOf(silent);
      cutOff = await brokerReplica(
        broker,
        (tenant) => tenantAt(tenant, 'portal', tenant.metadata!.name!, silentUrl),
        broker.context.store,
        { idpTimeoutMs: 1_000 },
      );
    });
    after(async () => {
      await cutOff?.close();
      if (silent) await closeServer(silent);
    });

    it('answers pysaml2 PartialLogout once the deadline passes, and ends the broker session anyway (ADR 0145)', async () => {
      const browser = await signedIn();
      const answer = await signOutAtIdp(browser, { brokerUrl: cutOff.url });
      expect(answer).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL });
      expect(broker.logs.findLast((l) => l['event'] === 'broker.portal_logout')).to.include({
        idp: 'pysaml2',
        result: 'partial',
        reason: 'PORTAL_LOGOUT_UNCONFIRMED',
      });
      expect(logoutLines().at(-1)).to.include({ result: 'partial' });
      expect(await portalPage(browser), 'the portal session the broker could not end').to.equal(200);
      // The broker session is gone: the same person's LogoutRequest, now reaching the portal, finds none.
      expect(await signOutAtIdp(browser)).to.deep.equal({ status: SUCCESS, secondStatus: PARTIAL });
      expect(logoutLines().at(-1)).to.include({ result: 'no_session' });
    });
  });
});

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
