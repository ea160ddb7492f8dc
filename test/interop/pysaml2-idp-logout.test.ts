import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { createBrokerApp } from '../../broker/app.js';
import {
  type BrokerUnderTest,
  Browser,
  closeServer,
  createPki,
  listenPlaceholder,
  type Pki,
  serveBroker,
  tenantFor,
  useSigningKey,
} from '../../testkit/broker-harness.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { tenantAt } from '../../testkit/pool.js';
import { type Harness, startHarness } from '../../testkit/portal-harness.js';
import { autoPostForm, type Peer, startPeer } from './peers.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const PARTIAL = 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout';

/**
 * IdP-initiated Single Logout reaching the portal (ADR 0158): the real portal signs in through the
 * broker at pysaml2; pysaml2 sends its signed LogoutRequest through the browser; the broker ends
 * its session and, over the SAML SOAP binding (ADR 0150), the portal's, then answers pysaml2, which
 * verifies the answer. Dedicated and `JSM_SSO_TEST_PLACEMENT=pool`.
 */
describe('interop: pysaml2 signs the person out, and the portal session ends with it', function () {
  this.timeout(60_000);
  let pki: Pki;
  let idp: Peer;
  let portal: Harness;
  let broker: BrokerUnderTest;

  before(async () => {
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
    const { server, url } = await listenPlaceholder();
    idp = await startPeer('idp', {
      brokerUrl: url,
      keyFile,
      certFile,
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
    broker = await serveBroker(server, url, tenant, pki);
  });

  after(async () => {
    await broker?.close();
    await portal?.close();
    await idp?.close();
    pki?.cleanup();
  });

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

  /** A signed-in page of the portal: 200 while the session lives, 303 to sign-in once it is gone. */
  async function portalPage(browser: Browser): Promise<number> {
    const res = await browser.request(`${portal.url}/requests`);
    await res.arrayBuffer();
    if (res.status === 303) expect(res.headers.get('location')).to.match(/^\/login\?return=/);
    return res.status;
  }

  /**
   * pysaml2's LogoutRequest naming `nameId` (and the SessionIndex it gave `sessionIndexOf`), carried
   * by the browser to the broker at `brokerUrl`; the broker's answer as pysaml2 verified it.
   */
  async function signOutAtIdp(
    browser: Browser,
    options: { nameId?: string; sessionIndexOf?: string; brokerUrl?: string } = {},
  ): Promise<{ status: string; secondStatus: string | null }> {
    const query = new URLSearchParams({ nameId: options.nameId ?? 'alice@acme.test', relayState: 'idp-rs' });
    if (options.sessionIndexOf) query.set('sessionIndexOf', options.sessionIndexOf);
    const request = await browser.request(`${idp.url}/idp-logout?${query}`);
    const toBroker = new URL(request.headers.get('location')!);
    expect(toBroker.pathname).to.equal('/saml/slo');
    const answer = await browser.request(`${options.brokerUrl ?? broker.url}/saml/slo${toBroker.search}`);
    expect(answer.status, await answer.clone().text()).to.equal(302);
    const read = await browser.request(answer.headers.get('location')!);
    const body = (await read.json()) as Record<string, string | null>;
    expect(read.status, `${JSON.stringify(body)}\n${idp.stderr()}`).to.equal(200);
    const requestId = JSON.parse(request.headers.get('x-peer') ?? '{}').requestId;
    expect(body).to.include({ inResponseTo: requestId, relayState: 'idp-rs' });
    return { status: body['status']!, secondStatus: body['secondStatus'] ?? null };
  }

  const logoutLines = () => broker.logs.filter((l) => l['event'] === 'broker.logout');

  it("ends the portal session on pysaml2's LogoutRequest, and answers pysaml2 Success", async () => {
    const browser = await signedIn();
    expect(await signOutAtIdp(browser)).to.deep.equal({ status: SUCCESS, secondStatus: null });
    expect(await portalPage(browser), "the portal's next page asks to sign in").to.equal(303);
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

  describe('a replica whose portal does not answer', () => {
    let cutOff: { url: string; close(): Promise<void> };
    before(async () => {
      // The same broker (tenant, store) reaching the portal at a server that takes the connection
      // and never answers (a fault the real portal cannot produce), with a 1 s IdP deadline.
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const server: Server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { tenant } = broker.context;
      const app = await createBrokerApp(
        { ...broker.context, tenant: tenantAt(tenant, 'portal', tenant.metadata!.name!, urlOf(silent)) },
        { idpTimeoutMs: 1_000 },
      );
      server.on('request', app.handler);
      cutOff = {
        url: urlOf(server),
        close: async () => {
          await app.close();
          await closeServer(server);
          await closeServer(silent);
        },
      };
    });
    after(async () => cutOff?.close());

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
