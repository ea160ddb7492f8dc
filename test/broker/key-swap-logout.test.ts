// A swap of the broker's signing key (operator/README.md: the new pair becomes tls.*, the old is kept as
// next.*) between a person's sign-in and her IdP's logout: a broker pod of after the swap must find
// the sessions made before it by the IdP's back-channel logout and by its SAML LogoutRequest, or she
// stays signed in at the portal though she signed out at her IdP (ADR 0304).
import type { Profile, SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import type { JWK, JWTPayload } from 'jose';
import { createBrokerApp } from '../../broker/app.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { newSigningKey } from '../../dev/idp/provider.js';
import { type BrokerUnderTest, Browser, portalSp } from '../../testkit/broker-harness.js';
import { atBrokerPod, type SwappedBrokerKey, swappedBrokerKey } from '../../testkit/broker-key-swap.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  type OidcLogoutChain,
  signedLogoutToken,
  startOidcLogoutChain,
} from '../../testkit/oidc-logout-chain.js';
import {
  idpLogoutRequestUrl,
  serveUpstreamSamlBroker,
  signedInAtPortal,
  type UpstreamIdp,
  type UpstreamSamlBroker,
  type UpstreamSp,
} from './upstream-saml.js';

describe("a swap of the broker's key between a sign-in and the OIDC IdP's back-channel logout (ADR 0304)", function () {
  this.timeout(60_000);
  let chain: OidcLogoutChain;
  let signingKey: JWK;
  let swapped: SwappedBrokerKey;
  const swappedTo = makeKeyPair('acme broker new');
  const logoutPath = '/oidc/backchannel-logout/corporate';

  before(async () => {
    signingKey = await newSigningKey();
    chain = await startOidcLogoutChain({
      logoutRegistration: (url) => ({
        backchannel_logout_uri: `${url}${logoutPath}`,
        backchannel_logout_session_required: true,
      }),
      idp: { signingKeys: [signingKey] },
      // The runbook publishes the new certificate before the swap: the portal trusts both.
      brokerNextKey: swappedTo,
    });
    swapped = swappedBrokerKey(chain.pki, swappedTo);
  });
  after(async () => {
    await chain?.close();
    swapped?.cleanup();
  });

  /** A logout token as the IdP signs it, naming alice and whatever `claims` add. */
  const logoutToken = (claims: JWTPayload = {}) => signedLogoutToken(chain.idp.issuer, signingKey, claims);

  /** Posts `token` as the IdP does, to a broker pod of after the swap sharing the store; its status. */
  function postedAfterSwap(token: string): Promise<number> {
    return atBrokerPod(chain.broker.context, swapped.dir, async (url) => {
      const res = await fetch(`${url}${logoutPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      await res.arrayBuffer();
      return res.status;
    });
  }

  /**
   * Runs `use` while the broker's address is served by a pod of after the swap sharing the store, as
   * once the rollout of the swap is done: what the IdP posts there reaches that pod.
   */
  async function servedAfterSwap<T>(use: () => Promise<T>): Promise<T> {
    const { server } = chain.broker;
    const before = server.listeners('request') as Array<(...args: unknown[]) => void>;
    const pod = await createBrokerApp({ ...chain.broker.context, secrets: new SecretDirectory(swapped.dir) });
    server.removeAllListeners('request');
    server.on('request', pod.handler);
    try {
      return await use();
    } finally {
      server.removeAllListeners('request');
      for (const listener of before) server.on('request', listener);
      await pod.close();
    }
  }

  it('ends a session made before the swap when she signs out at the IdP, which posts its logout token', async () => {
    const { browser } = await chain.signedIn();
    await servedAfterSwap(async () => {
      const delivered = new Promise<void>((resolve, reject) => {
        chain.idp.provider.once('backchannel.success', () => resolve());
        chain.idp.provider.once('backchannel.error', (_ctx, err: Error) => reject(err));
      });
      // oidc-provider's own sign-out: end_session, the person confirms.
      const endSession = `${chain.idp.issuer}/session/end?client_id=jsm-sso`;
      const html = await (await browser.request(endSession)).text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      await (
        await browser.request(new URL(action, endSession).href, { form: { xsrf, logout: 'yes' } })
      ).arrayBuffer();
      await delivered;
    });
    expect(await chain.portalPage(browser), 'the portal session is gone').to.equal(303);
  });

  it("ends a session made before the swap when the IdP's token names its sid", async () => {
    const { browser, sid } = await chain.signedIn();
    expect(await postedAfterSwap(await logoutToken({ sid }))).to.equal(200);
    expect(await chain.portalPage(browser), 'the portal session is gone').to.equal(303);
  });

  it("ends every session made before the swap when the IdP's token names only the person", async () => {
    const laptop = await chain.signedIn();
    const phone = await chain.signedIn();
    expect(await postedAfterSwap(await logoutToken())).to.equal(200);
    expect(await chain.portalPage(laptop.browser), 'laptop').to.equal(303);
    expect(await chain.portalPage(phone.browser), 'phone').to.equal(303);
  });
});

describe("a swap of the broker's key between a sign-in and the SAML IdP's LogoutRequest (ADR 0304)", function () {
  this.timeout(60_000);
  let served: UpstreamSamlBroker;
  let idp: UpstreamIdp;
  let broker: BrokerUnderTest;
  let portal: SAML;
  let sp: UpstreamSp;
  let swapped: SwappedBrokerKey;

  before(async () => {
    served = await serveUpstreamSamlBroker();
    ({ idp, broker, sp } = served);
    portal = portalSp(broker.url, served.pki);
    swapped = swappedBrokerKey(served.pki);
  });
  after(async () => {
    await served?.close();
    swapped?.cleanup();
  });

  /** Carol signs in at the broker of before the swap with the IdP session `sessionIndex`; the portal's profile. */
  const signedInBeforeSwap = (browser: Browser, sessionIndex: string) =>
    signedInAtPortal({ browser, portal, brokerUrl: broker.url, idp }, { sessionIndex });

  /** Whether the portal's LogoutRequest for `profile` still finds the broker session (it goes on to the IdP). */
  async function sessionLives(browser: Browser, profile: Profile) {
    const answer = await browser.request(await portal.getLogoutUrlAsync(profile, 'r', {}));
    return answer.headers.get('location')!.startsWith('https://upstream-idp.example.test/');
  }

  /** The IdP's signed LogoutRequest for carol (`sessionIndex`, or none: every session of hers) at a pod of after the swap. */
  function idpLogoutAfterSwap(sessionIndex: string | undefined): Promise<number> {
    const request = idpLogoutRequestUrl(idp, sp, {
      nameId: 'carol@example.test',
      ...(sessionIndex === undefined ? {} : { sessionIndex }),
    });
    return atBrokerPod(broker.context, swapped.dir, async (url) => {
      const res = await fetch(`${url}/saml/slo${new URL(request.url).search}`, { redirect: 'manual' });
      await res.arrayBuffer();
      return res.status;
    });
  }

  it("ends a session made before the swap when the IdP's LogoutRequest names its SessionIndex", async () => {
    const browser = new Browser();
    const profile = await signedInBeforeSwap(browser, '_swap-session-1');
    expect(await idpLogoutAfterSwap('_swap-session-1')).to.equal(302);
    expect(await sessionLives(browser, profile), 'the broker session ended').to.equal(false);
  });

  it("ends a session made before the swap when the IdP's LogoutRequest names only the person", async () => {
    const browser = new Browser();
    const profile = await signedInBeforeSwap(browser, '_swap-session-2');
    expect(await idpLogoutAfterSwap(undefined)).to.equal(302);
    expect(await sessionLives(browser, profile), 'the broker session ended').to.equal(false);
  });
});
