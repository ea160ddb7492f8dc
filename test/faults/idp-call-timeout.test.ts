// A tenant's IdP slow, not down: one back-channel call of a sign-in (discovery or SAML metadata at its
// start; the token call, a JWKS read, userinfo or the user endpoint in its callback) gets no answer, or
// no end of its answer, within the call's own deadline (IDP_TIMEOUT_MS, ADR 0142), well inside the
// sign-in's budget (ADR 0276). A TCP proxy in front of a real oidc-provider holds the call until the
// broker hangs up, so only the broker's deadline ends it, however loaded the machine. The refusal says
// the IdP was too slow (IDP_CALL_TIMEOUT, ADR 0441), not that it is unreachable or failing
// (OIDC_IDP_UNAVAILABLE), which a connection reset still is.
import { expect } from 'chai';
import type { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createTranslator } from '../../common/i18n/index.js';
import {
  type BrokerUnderTest,
  Browser,
  type Pki,
  pageReason,
  portalSp,
  serveBrokerFor,
} from '../../testkit/broker-harness.js';
import type { FaultProxy, ProxyFault } from '../../testkit/fault-proxy.js';
import { readableText } from '../../testkit/spoken-language.js';
import { upstreamMetadataBehindProxy, upstreamSamlIdpDocAt } from '../broker/upstream-saml.js';
import { type SlowIdpBrokers, startSlowIdpBrokers } from './slow-idp-brokers.js';

/**
 * Each call's own deadline: long enough that a call the proxy passes on is never cut by it on a loaded
 * machine, short enough for a case; the budget is far beyond it, so the call's deadline is what ends.
 */
const IDP_TIMEOUT_MS = 2000;
const SIGN_IN_BUDGET_MS = 60_000;

describe('faults: one IdP call slower than its own deadline, within the sign-in budget', function () {
  this.timeout(30_000);
  let pki: Pki;
  let proxy: FaultProxy;
  let store: MemoryFlowStore;
  let oidc: BrokerUnderTest;
  let oauth2: BrokerUnderTest;
  let slow: SlowIdpBrokers;
  before(async () => {
    // A held call's connection stays open at the IdP: only the broker ends the hold.
    slow = await startSlowIdpBrokers({
      idpTimeoutMs: IDP_TIMEOUT_MS,
      signInBudgetMs: SIGN_IN_BUDGET_MS,
      idpKeepAliveMs: 30_000,
    });
    ({ pki, proxy, store, oidc, oauth2 } = slow);
  });
  afterEach(() => proxy.clear());
  after(() => slow?.close());

  const signIn = (broker: BrokerUnderTest) => slow.signIn(broker);

  /** The portal's AuthnRequest at the broker: the page that sends the person on to the IdP, or refuses. */
  const startAt = async (broker: BrokerUnderTest) => {
    const page = await new Browser().request(
      await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    return { page, html: await page.text() };
  };

  const counted = async (broker: BrokerUnderTest, reason: string) =>
    Number(
      new RegExp(`jsm_sso_broker_errors_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`).exec(
        await broker.context.registry.metrics(),
      )?.[1] ?? 0,
    );

  /** The log lines of a refused callback: the sign-in's audit line and the fault's. */
  const CALLBACK_LINES = ['broker.login', 'broker.unavailable'];
  /** At the start of a sign-in no login is under way yet: the fault's line alone. */
  const START_LINES = ['broker.unavailable'];
  /** A key copy (JWKS, SAML metadata) that cannot be read and none to serve: told once (ADR 0151). */
  const KEYS_UNUSABLE = 'broker.idp_keys_unusable';

  /**
   * The sign-in is 502 `reason`, told on the page, in the log lines `logged` (each with the reason) and
   * in the errors metric.
   */
  async function expectRefused(
    broker: BrokerUnderTest,
    reason: string,
    logged: string[] = CALLBACK_LINES,
    attempt: () => Promise<{ page: Response; html: string }> = () => signIn(broker),
  ) {
    const from = broker.logs.length;
    const before = await counted(broker, reason);
    const { page, html } = await attempt();
    expect(page.status, html).to.equal(502);
    expect(pageReason(html)).to.equal(reason);
    // The page a fault gets: sign-in temporarily unavailable, try again.
    const { t } = createTranslator({ locale: 'en', timeZone: 'UTC' });
    for (const key of ['broker.unavailable.title', 'broker.unavailable.message'] as const)
      expect(readableText(html), key).to.include(t(key));
    const lines = broker.logs.slice(from).filter((l) => l['reason'] === reason);
    expect(lines.map((l) => l['event']).sort()).to.deep.equal([...logged].sort());
    expect(await counted(broker, reason)).to.equal(before + 1);
  }

  /** The call `method` `path` held until the broker hangs up: only its own deadline ends it. */
  const holdUntilCut = (method: string, pathPrefix: string) =>
    proxy.add({ fault: 'hold', method, pathPrefix, heldUntil: new Promise(() => {}) });

  async function expectCallTimedOut(broker: BrokerUnderTest, logged = CALLBACK_LINES) {
    await expectRefused(broker, 'IDP_CALL_TIMEOUT', logged);
    const again = await signIn(broker);
    expect(again.page.status, again.html).to.equal(200);
    expect(again.fields['SAMLResponse']).to.be.a('string');
  }

  // First, while the OIDC broker has read neither the IdP's discovery document nor its keys.
  it('OIDC: discovery unanswered within its deadline, at the start of a sign-in, is 502 IDP_CALL_TIMEOUT, and the next sign-in reads it', async () => {
    holdUntilCut('GET', '/.well-known');
    await expectRefused(oidc, 'IDP_CALL_TIMEOUT', START_LINES, () => startAt(oidc));
    expect(await proxy.holdsEnded()).to.deep.equal(['cut']);
    expect((await startAt(oidc)).page.status).to.equal(302);
  });

  // First, while the OIDC broker has never read the IdP's keys.
  it('OIDC: the first JWKS read unanswered within its deadline is 502 IDP_CALL_TIMEOUT, and the next sign-in reads it', async () => {
    holdUntilCut('GET', '/jwks');
    // The keys' read health tells the operator once, with the same reason (ADR 0151).
    await expectCallTimedOut(oidc, [...CALLBACK_LINES, KEYS_UNUSABLE]);
    expect(await proxy.holdsEnded()).to.deep.equal(['cut']);
  });

  for (const [name, broker, method, path] of [
    ['OIDC: the token call', () => oidc, 'POST', '/token'],
    ['OIDC: the userinfo call', () => oidc, 'GET', '/me'],
    ['plain OAuth 2.0: the token call', () => oauth2, 'POST', '/token'],
    ['plain OAuth 2.0: the user endpoint call', () => oauth2, 'GET', '/me'],
  ] as const) {
    it(`${name} unanswered within its deadline is 502 IDP_CALL_TIMEOUT, its connection closed`, async () => {
      holdUntilCut(method, path);
      await expectCallTimedOut(broker());
      expect(await proxy.holdsEnded()).to.deep.equal(['cut']);
    });

    // The deadline covers the answer's body: headers and a byte, then nothing (ADR 0201).
    it(`${name} whose answer stalls after its headers is 502 IDP_CALL_TIMEOUT`, async () => {
      proxy.add({ fault: 'stall-body' satisfies ProxyFault, method, pathPrefix: path });
      await expectCallTimedOut(broker());
      expect(proxy.hits()).to.deep.equal([1]);
    });
  }

  describe('upstream SAML, its metadata read at the start of a sign-in', () => {
    let metadata: Awaited<ReturnType<typeof upstreamMetadataBehindProxy>>;
    let saml: BrokerUnderTest;
    before(async () => {
      metadata = await upstreamMetadataBehindProxy();
    });
    // A broker of its own for each case: metadata read once is kept for an hour.
    beforeEach(async () => {
      saml = await serveBrokerFor([upstreamSamlIdpDocAt(metadata.url)], pki, store, {
        idpTimeoutMs: IDP_TIMEOUT_MS,
        signInBudgetMs: SIGN_IN_BUDGET_MS,
      });
    });
    afterEach(async () => {
      metadata.proxy.clear();
      await saml.close();
    });
    after(() => metadata?.close());

    const startSignIn = () => startAt(saml);

    it('metadata unanswered within its deadline is 502 IDP_CALL_TIMEOUT, and the next sign-in reads it', async () => {
      metadata.proxy.add({
        fault: 'hold',
        method: 'GET',
        pathPrefix: '/saml-metadata',
        heldUntil: new Promise(() => {}),
      });
      await expectRefused(saml, 'IDP_CALL_TIMEOUT', [...START_LINES, KEYS_UNUSABLE], startSignIn);
      expect(await metadata.proxy.holdsEnded()).to.deep.equal(['cut']);
      expect((await startSignIn()).page.status).to.equal(302);
    });

    it('metadata whose answer stalls after its headers is 502 IDP_CALL_TIMEOUT', async () => {
      metadata.proxy.add({ fault: 'stall-body', method: 'GET', pathPrefix: '/saml-metadata' });
      await expectRefused(saml, 'IDP_CALL_TIMEOUT', [...START_LINES, KEYS_UNUSABLE], startSignIn);
      expect(metadata.proxy.hits()).to.deep.equal([1]);
    });
  });

  // The IdP down, not slow, keeps its reason.
  it('OIDC: a token call whose connection is reset is still 502 OIDC_IDP_UNAVAILABLE', async () => {
    proxy.add({ fault: 'reset', method: 'POST', pathPrefix: '/token' });
    await expectRefused(oidc, 'OIDC_IDP_UNAVAILABLE');
    expect(proxy.hits()).to.deep.equal([1]);
  });
});
