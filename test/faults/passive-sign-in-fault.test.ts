// A passive AuthnRequest (core 3.4.1: the IdP "MUST NOT visibly take control of the user interface")
// whose sign-in meets a fault once the broker holds the portal's validated request: the tenant's IdP
// (a real oidc-provider behind a TCP fault proxy) stalls, resets or answers 503, or the broker's own
// Redis refuses to save the session. The portal's ACS hears a signed Responder status (ADR 0391),
// as node-saml, the stand-in SP, verifies it; a page would leave the SP's silent check (a hidden
// frame, a redirect before its own page) stuck on an error it never meant her to see. Where the
// flow itself cannot be read (Redis silent), there is no request to answer and the page stays; and
// a callback the broker cannot tie to the flow's browser, or one replayed, gets no signed message.
import type { AddressInfo } from 'node:net';
import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import {
  inflateRedirectPayload,
  STATUS_NO_AVAILABLE_IDP,
  STATUS_RESPONDER,
} from '../../common/saml/index.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  formFields,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  PORTAL_URL,
  pageReason,
  portalSp,
  serveBroker,
  serveBrokerFor,
  signedStatusCodes,
  tenantFor,
  toUpstreamIdp,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { type FaultProxy, startFaultProxy } from '../../testkit/fault-proxy.js';
import { type HoldingStore, holdingStore } from '../../testkit/holding-store.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { type LocalRedis, startLocalRedis, whileStalled } from '../../testkit/local-redis.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import {
  answerAuthnRequest,
  answeredAtBrokerAcs,
  brokerSpAt,
  postToBrokerAcs,
  type UpstreamIdp,
  upstreamIdp,
  upstreamMetadataBehindProxy,
  upstreamSamlIdpDocAt,
} from '../broker/upstream-saml.js';

const IDP_TIMEOUT_MS = 1000;

describe('faults: a passive sign-in meeting a fault after its flow was taken (ADR 0391)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let proxy: FaultProxy;
  let idp: DevIdp;
  let redis: LocalRedis;
  let admin: Redis;
  let broker: BrokerUnderTest;
  before(async () => {
    pki = createPki();
    proxy = await startFaultProxy();
    const placeholder = await listenPlaceholder();
    // The IdP names the proxy as its issuer: every call the broker and the browser make goes through it.
    idp = await startDevIdp({ clients: [devClient(placeholder.url)], issuer: proxy.url });
    proxy.target = { host: '127.0.0.1', port: (idp.server.address() as AddressInfo).port };
    // The broker's own redis-server, so that a test can fill or stall it without touching others'.
    redis = await startLocalRedis();
    const store = await connectedFlowStore('acme', redis.url);
    admin = new Redis(redis.url);
    broker = await serveBroker(
      placeholder.server,
      placeholder.url,
      tenantFor(placeholder.url, [oidcIdp('corporate', proxy.url)]),
      pki,
      store,
      { idpTimeoutMs: IDP_TIMEOUT_MS },
    );
  });
  afterEach(() => proxy.clear());
  after(async () => {
    await broker?.close();
    await broker?.context.store.close();
    admin?.disconnect();
    await idp?.close();
    await proxy?.close();
    if (redis) {
      redis.process.kill('SIGCONT');
      await redis.stop();
    }
    pki?.cleanup();
  });

  /**
   * A browser signed in at the IdP (an active sign-in through the broker first), so that the IdP
   * answers prompt=none with a code, and the portal (node-saml) that sends its requests.
   */
  async function signedInAtIdp(): Promise<{ browser: Browser; portal: SAML }> {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const first = await loginThroughBroker({ portal, brokerUrl: broker.url }, browser);
    expect(first.page.status, first.html).to.equal(200);
    return { browser, portal };
  }

  /** The portal's passive AuthnRequest, up to the IdP's redirect back: the URL of the broker's callback. */
  async function passiveCallbackUrl(browser: Browser, portal: SAML, relayState: string): Promise<string> {
    portal.options.passive = true;
    const sso = await browser.request(await portal.getAuthorizeUrlAsync(relayState, undefined, {}));
    expect(sso.status, await sso.clone().text()).to.equal(302);
    const authorize = sso.headers.get('location')!;
    expect(new URL(authorize).searchParams.get('prompt')).to.equal('none');
    const { location } = await browser.follow(authorize, `${broker.url}/oidc/callback`);
    expect(location, 'the IdP answered prompt=none with a redirect to the broker').to.be.a('string');
    expect(new URL(location!).searchParams.get('code'), 'signed in at the IdP: a code').to.be.a('string');
    return location!;
  }

  /**
   * The broker's answer is the auto-post of a Response to the portal's registered ACS, RelayState
   * echoed, signed, with the `codes` given and no assertion; node-saml, as the SP, verifies its
   * signature and InResponseTo and reads it as the IdP's non-success status.
   */
  async function expectAnsweredAtAcs(page: Response, portal: SAML, relayState: string, codes: string[]) {
    const html = await page.text();
    expect(page.status, pageReason(html) ?? html).to.equal(200);
    expect(html).to.include(`action="${PORTAL_URL}/saml/acs"`);
    const fields = formFields(html);
    expect(fields['RelayState']).to.equal(relayState);
    expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal(codes);
    expect(Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8')).not.to.include('Assertion');
    const secondLevel = codes[1]?.replace(/^.*:/, '') ?? 'unspecified';
    const read = await portal.validatePostResponseAsync(fields).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    expect(read).to.equal(`SAML provider returned Responder error: ${secondLevel}`);
  }

  /** A page at the broker, signing nothing: its status and reason. */
  async function expectPage(page: Response, status: number, reason: string) {
    const html = await page.text();
    expect([page.status, pageReason(html)], html).to.deep.equal([status, reason]);
    expect(formFields(html)['SAMLResponse']).to.equal(undefined);
  }

  const NO_AVAILABLE_IDP = [STATUS_RESPONDER, STATUS_NO_AVAILABLE_IDP];

  /**
   * `act` while Redis's ACL lets the broker read anything and take flows and their state, and refuses
   * every other write (NOPERM): a session, an assertion's one-time marker.
   */
  async function whileOnlyFlowsTaken<T>(act: () => Promise<T>): Promise<T> {
    await admin.acl('SETUSER', 'default', 'resetkeys', '%R~*', '~*:flow:*', '~*:state:*');
    try {
      return await act();
    } finally {
      await admin.acl('SETUSER', 'default', 'resetkeys', '~*');
    }
  }

  // Silence past the call's deadline is the IdP slow (IDP_CALL_TIMEOUT, ADR 0441), the rest the IdP down.
  const DOWN = 'OIDC_IDP_UNAVAILABLE';
  for (const { fault, method, pathPrefix, what, reason } of [
    {
      fault: 'stall',
      method: 'POST',
      pathPrefix: '/token',
      what: 'the token endpoint never answers',
      reason: 'IDP_CALL_TIMEOUT',
    },
    {
      fault: 'reset',
      method: 'POST',
      pathPrefix: '/token',
      what: 'the IdP resets the token call (stopped)',
      reason: DOWN,
    },
    {
      fault: 'status-503',
      method: 'POST',
      pathPrefix: '/token',
      what: 'the token endpoint answers 503',
      reason: DOWN,
    },
    { fault: 'status-503', method: 'GET', pathPrefix: '/me', what: 'userinfo answers 503', reason: DOWN },
  ] as const) {
    it(`answers the ACS a signed Responder/NoAvailableIDP, InResponseTo the passive request, when ${what}`, async () => {
      const { browser, portal } = await signedInAtIdp();
      const callbackUrl = await passiveCallbackUrl(browser, portal, 'rs-passive');
      proxy.add({ fault, method, pathPrefix });
      const from = broker.logs.length;
      await expectAnsweredAtAcs(await browser.request(callbackUrl), portal, 'rs-passive', NO_AVAILABLE_IDP);
      expect(proxy.hits()).to.deep.equal([1]);
      // The outage is as visible to the operators as the page made it.
      const lines = broker.logs.slice(from);
      expect(lines.find((l) => l['event'] === 'broker.unavailable')).to.include({ reason, status: 502 });
      expect(lines.find((l) => l['event'] === 'broker.login')).to.include({ result: 'error', reason });
    });
  }

  it('keeps the 502 page for the same fault under an active request: the customer is told to try again', async () => {
    proxy.add({ fault: 'status-503', method: 'POST', pathPrefix: '/token' });
    const again = await loginThroughBroker(
      { portal: portalSp(broker.url, pki), brokerUrl: broker.url },
      new Browser(),
    );
    expect([again.page.status, pageReason(again.html)]).to.deep.equal([502, 'OIDC_IDP_UNAVAILABLE']);
    expect(again.fields['SAMLResponse']).to.equal(undefined);
  });

  it('answers the ACS a signed Responder with no second-level status when Redis refuses the session’s write after the flow was taken: the broker’s own fault', async () => {
    const { browser, portal } = await signedInAtIdp();
    const callbackUrl = await passiveCallbackUrl(browser, portal, 'rs-refused');
    const sessions = async () => (await admin.keys('*:session:*')).sort();
    const sessionsBefore = await sessions();
    const from = broker.logs.length;
    await expectAnsweredAtAcs(
      await whileOnlyFlowsTaken(() => browser.request(callbackUrl)),
      portal,
      'rs-refused',
      [STATUS_RESPONDER],
    );
    expect(broker.logs.slice(from).find((l) => l['event'] === 'broker.unavailable')).to.include({
      reason: 'FLOW_STORE_REFUSED',
      redisError: 'NOPERM',
    });
    expect(await sessions(), 'no session saved').to.deep.equal(sessionsBefore);
  });

  it('keeps the page, signing nothing, when Redis does not answer as the callback comes: the flow, and the request it answers, is not in hand', async () => {
    const { browser, portal } = await signedInAtIdp();
    const callbackUrl = await passiveCallbackUrl(browser, portal, 'rs-silent');
    await expectPage(
      await whileStalled(redis, () => browser.request(callbackUrl)),
      503,
      'FLOW_STORE_UNAVAILABLE',
    );
  });

  describe('at the start, its upstream SAML IdP’s metadata unreadable', () => {
    let metadata: Awaited<ReturnType<typeof upstreamMetadataBehindProxy>>;
    let samlBroker: BrokerUnderTest;
    before(async () => {
      metadata = await upstreamMetadataBehindProxy();
      // Never read yet: the first sign-in reads the metadata before it can send the person on.
      samlBroker = await serveBrokerFor([upstreamSamlIdpDocAt(metadata.url)], pki, undefined, {
        idpTimeoutMs: IDP_TIMEOUT_MS,
      });
    });
    after(async () => {
      await samlBroker?.close();
      await metadata?.close();
    });

    it('answers the ACS a signed Responder/NoAvailableIDP for the passive request, whose AuthnRequest is in hand', async () => {
      metadata.proxy.add({ fault: 'status-503', method: 'GET', pathPrefix: '/saml-metadata' });
      const portal = portalSp(samlBroker.url, pki);
      portal.options.passive = true;
      const sso = await new Browser().request(await portal.getAuthorizeUrlAsync('rs-start', undefined, {}));
      await expectAnsweredAtAcs(sso, portal, 'rs-start', NO_AVAILABLE_IDP);
      expect(metadata.proxy.hits()).to.deep.equal([1]);
      expect(samlBroker.logs.findLast((l) => l['event'] === 'broker.unavailable')).to.include({
        reason: 'SAML_METADATA_UNAVAILABLE',
      });
    });
  });

  describe('at an upstream SAML IdP’s callback, a cross-site POST without the flow cookie (ADR 0403)', () => {
    // The callback's metadata reads (one after a signature no listed certificate verifies) are cut by
    // the sign-in budget well before their own deadline: a stalled read ends the sign-in as a fault.
    const SIGN_IN_BUDGET_MS = 1000;
    let upstream: UpstreamIdp;
    let metadata: Awaited<ReturnType<typeof upstreamMetadataBehindProxy>>;
    let samlStore: RedisFlowStore;
    /** The broker's store, so that a test can stop Redis just as one command is sent. */
    let held: HoldingStore;
    let samlBroker: BrokerUnderTest;
    before(async () => {
      // The IdP whose certificate the metadata lists (the same key pair).
      upstream = upstreamIdp();
      metadata = await upstreamMetadataBehindProxy();
      samlStore = await connectedFlowStore('acme-saml', redis.url);
      held = holdingStore(samlStore);
      samlBroker = await serveBrokerFor([upstreamSamlIdpDocAt(metadata.url)], pki, held.store, {
        idpTimeoutMs: 5 * SIGN_IN_BUDGET_MS,
        signInBudgetMs: SIGN_IN_BUDGET_MS,
      });
    });
    afterEach(() => metadata.proxy.clear());
    after(async () => {
      await samlBroker?.close();
      await samlStore?.close();
      await metadata?.close();
    });

    /** The portal's passive request, sent on by the broker: the browser, the portal and the redirect to the IdP. */
    async function passiveAtUpstream(relayState: string) {
      const browser = new Browser();
      const portal = portalSp(samlBroker.url, pki);
      portal.options.passive = true;
      const redirectUrl = await toUpstreamIdp(browser, portal, relayState);
      expect(inflateRedirectPayload(new URL(redirectUrl).searchParams.get('SAMLRequest')!)).to.include(
        'IsPassive="true"',
      );
      return { browser, portal, redirectUrl, signIn: { browser, brokerUrl: samlBroker.url, idp: upstream } };
    }

    const assertionMarkers = () => admin.keys('*:saml-assertion:*');

    it('answers the ACS a signed Responder with no second-level status when Redis refuses the verified answer’s one-time marker', async () => {
      const { portal, redirectUrl, signIn } = await passiveAtUpstream('rs-saml-marker');
      const markersBefore = await assertionMarkers();
      const from = samlBroker.logs.length;
      const page = await whileOnlyFlowsTaken(() => answeredAtBrokerAcs(signIn, redirectUrl));
      await expectAnsweredAtAcs(page, portal, 'rs-saml-marker', [STATUS_RESPONDER]);
      const lines = samlBroker.logs.slice(from);
      expect(lines.find((l) => l['event'] === 'broker.unavailable')).to.include({
        reason: 'FLOW_STORE_REFUSED',
        redisError: 'NOPERM',
      });
      expect(lines.find((l) => l['event'] === 'broker.login')).to.include({
        result: 'error',
        reason: 'FLOW_STORE_REFUSED',
      });
      expect(await assertionMarkers(), 'no marker written').to.deep.equal(markersBefore);
    });

    it('answers the ACS a signed Responder with no second-level status, Redis still silent, when Redis stops as the verified answer’s one-time marker is written', async () => {
      const { portal, redirectUrl, signIn } = await passiveAtUpstream('rs-saml-silent');
      const from = samlBroker.logs.length;
      // The flow is taken (Redis answering); Redis stops (SIGSTOP) just before the marker's command goes out.
      const hold = held.hold(
        (command, key) => command === 'putIfAbsent' && key.startsWith('saml-assertion:'),
      );
      const answered = answeredAtBrokerAcs(signIn, redirectUrl);
      await hold.reached;
      // Answered while Redis is stopped: by the store's command deadline, not by Redis coming back.
      const page = await whileStalled(redis, () => {
        hold.release();
        return answered;
      });
      await expectAnsweredAtAcs(page, portal, 'rs-saml-silent', [STATUS_RESPONDER]);
      const lines = samlBroker.logs.slice(from);
      expect(lines.find((l) => l['event'] === 'broker.unavailable')).to.include({
        reason: 'FLOW_STORE_UNAVAILABLE',
      });
      expect(lines.find((l) => l['event'] === 'broker.login')).to.include({
        result: 'error',
        reason: 'FLOW_STORE_UNAVAILABLE',
      });
    });

    it('keeps the 500 page for the same fault under an active request', async () => {
      const browser = new Browser();
      const redirectUrl = await toUpstreamIdp(browser, portalSp(samlBroker.url, pki), 'rs-saml-active');
      const page = await whileOnlyFlowsTaken(() =>
        answeredAtBrokerAcs({ browser, brokerUrl: samlBroker.url, idp: upstream }, redirectUrl),
      );
      await expectPage(page, 500, 'FLOW_STORE_REFUSED');
    });

    describe('attacks: nothing is signed for an answer not verified as the IdP’s for this flow, Redis refusing writes', () => {
      it('keeps the 502 page for an answer signed with a key the metadata does not list, whose metadata read again passes the sign-in budget', async () => {
        const { redirectUrl, signIn } = await passiveAtUpstream('rs-saml-forged');
        metadata.proxy.add({ fault: 'stall', method: 'GET', pathPrefix: '/saml-metadata' });
        const attacker = upstreamIdp({ key: makeKeyPair('attacker') });
        const page = await whileOnlyFlowsTaken(() =>
          answeredAtBrokerAcs({ ...signIn, idp: attacker }, redirectUrl),
        );
        await expectPage(page, 502, 'IDP_SIGN_IN_TIMEOUT');
        // The read goes on past the budget (it is shared with other sign-ins): begun just before the
        // budget ran out, it may reach the IdP only after the page was answered.
        await eventually(async () => metadata.proxy.hits()[0] === 1, 'the metadata read again');
        expect(metadata.proxy.hits()).to.deep.equal([1]);
      });

      it('keeps the page for an answer the IdP signed for another passive request, posted with this flow’s RelayState', async () => {
        const mine = await passiveAtUpstream('rs-saml-mine');
        const other = await passiveAtUpstream('rs-saml-other');
        const sp = await brokerSpAt(samlBroker.url);
        const answer = await answerAuthnRequest(upstream, sp, other.redirectUrl, samlBroker.url);
        const ownRelayState = new URL(mine.redirectUrl).searchParams.get('RelayState')!;
        const page = await whileOnlyFlowsTaken(() =>
          postToBrokerAcs(mine.browser, samlBroker.url, answer.samlResponse, ownRelayState),
        );
        await expectPage(page, 400, 'SAML_IN_RESPONSE_TO_MISMATCH');
      });

      it('keeps the page for the answer posted again once its flow was answered with the fault status', async () => {
        const { browser, portal, redirectUrl } = await passiveAtUpstream('rs-saml-replayed');
        const sp = await brokerSpAt(samlBroker.url);
        const answer = await answerAuthnRequest(upstream, sp, redirectUrl, samlBroker.url);
        const post = () => postToBrokerAcs(browser, samlBroker.url, answer.samlResponse, answer.relayState);
        await expectAnsweredAtAcs(await whileOnlyFlowsTaken(post), portal, 'rs-saml-replayed', [
          STATUS_RESPONDER,
        ]);
        await expectPage(await whileOnlyFlowsTaken(post), 400, 'FLOW_UNKNOWN');
      });
    });
  });

  describe('attacks: nothing is signed for a callback not tied to the passive flow', () => {
    it('keeps the page for the callback sent from another browser while the IdP is down, and never asks the IdP', async () => {
      const { browser, portal } = await signedInAtIdp();
      const callbackUrl = await passiveCallbackUrl(browser, portal, 'rs-forged');
      proxy.add({ fault: 'status-503', method: 'POST', pathPrefix: '/token' });
      await expectPage(await new Browser().request(callbackUrl), 403, 'FLOW_BROWSER_MISMATCH');
      expect(proxy.hits()).to.deep.equal([0]);
    });

    it('keeps the page for the callback replayed once its passive flow was answered with a fault status', async () => {
      const { browser, portal } = await signedInAtIdp();
      const callbackUrl = await passiveCallbackUrl(browser, portal, 'rs-replayed');
      proxy.add({ fault: 'status-503', method: 'POST', pathPrefix: '/token', times: 2 });
      await expectAnsweredAtAcs(await browser.request(callbackUrl), portal, 'rs-replayed', NO_AVAILABLE_IDP);
      await expectPage(await browser.request(callbackUrl), 400, 'OIDC_STATE_REPLAYED');
      expect(proxy.hits()).to.deep.equal([1]);
    });
  });
});
