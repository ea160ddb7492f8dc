// A swap of the broker's signing key (operator/README.md: the new pair becomes tls.*, the old is kept as
// next.*) while a person is at her IdP: the broker's pods of after the swap must finish the sign-in a
// pod of before it started, whose state they sealed under the old key (ADR 0298); and the portal's
// LogoutRequest must find the sessions made before it (ADR 0304).
import { expect } from 'chai';
import { inflateRedirectPayload, signRedirectQuery } from '../../common/saml/index.js';
import {
  Browser,
  loginAtDevIdp,
  loginThroughBroker,
  PORTAL_URL,
  pageReason,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';
import { atBrokerPod, type SwappedBrokerKey, swappedBrokerKey } from '../../testkit/broker-key-swap.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

describe("a swap of the broker's key during a sign-in (ADR 0298)", function () {
  this.timeout(60_000);
  let stack: Stack;
  let swapped: SwappedBrokerKey;
  before(async () => {
    stack = await startStack();
    swapped = swappedBrokerKey(stack.pki);
  });
  after(async () => {
    await stack.close();
    swapped.cleanup();
  });

  /** A sign-in started at the stack's broker, called back at a broker pod of after the swap. */
  async function finishedAfterSwap() {
    return atBrokerPod(stack.broker.context, swapped.dir, async (url) => {
      const browser = new Browser();
      const authorizeUrl = await stack.portal.getAuthorizeUrlAsync('rs-1', undefined, {});
      const sso = await browser.request(authorizeUrl);
      expect(sso.status).to.equal(302);
      const atIdp = new URL(sso.headers.get('location')!, authorizeUrl).href;
      return await loginAtDevIdp(browser, atIdp, { brokerUrl: stack.broker.url, callbackAt: url });
    });
  }

  /** A session made at the stack's broker (before the swap) for `email`; the portal's profile of it. */
  async function signedInBeforeSwap(browser: Browser, email: string) {
    const { fields } = await loginThroughBroker(
      { portal: stack.portal, brokerUrl: stack.broker.url },
      browser,
      {
        email,
      },
    );
    const { profile } = await stack.portal.validatePostResponseAsync(fields);
    return profile!;
  }

  /** Whether the portal's LogoutRequest for `profile`, at the stack's broker, still finds the session. */
  async function sessionLives(browser: Browser, profile: Awaited<ReturnType<typeof signedInBeforeSwap>>) {
    const real = await browser.request(await stack.portal.getLogoutUrlAsync(profile, 'r', {}));
    return real.headers.get('location')!.startsWith(stack.idp.issuer);
  }

  /** The portal's signed LogoutRequest (its Redirect URL), sent to a broker pod of after the swap; where it is sent. */
  async function portalLogoutAfterSwap(signedUrl: string): Promise<string> {
    const query = new URL(signedUrl).search;
    return atBrokerPod(stack.broker.context, swapped.dir, async (url) => {
      const answer = await fetch(`${url}/saml/slo${query}`, { redirect: 'manual' });
      expect(answer.status, await answer.clone().text()).to.equal(302);
      return answer.headers.get('location')!;
    });
  }

  it('is finished by a broker pod of after the swap, which holds the old key as next', async () => {
    const done = await finishedAfterSwap();
    expect(done.page.status, done.html).to.equal(200);
    expect(signedStatusCodes(done.fields['SAMLResponse']!, swapped.swappedTo.certPem)[0]).to.equal(SUCCESS);
  });

  it("ends a session made before the swap by the portal's LogoutRequest naming its SessionIndex (ADR 0304)", async () => {
    const browser = new Browser();
    const profile = await signedInBeforeSwap(browser, 'alice@acme.test');
    const next = await portalLogoutAfterSwap(await stack.portal.getLogoutUrlAsync(profile, 'rs-s', {}));
    expect(next.startsWith(stack.idp.issuer), "on to her IdP's logout").to.equal(true);
    expect(await sessionLives(browser, profile), 'her session ended').to.equal(false);
  });

  it("ends a session made before the swap by the portal's LogoutRequest naming her and no SessionIndex (ADR 0234, 0304)", async () => {
    const browser = new Browser();
    const profile = await signedInBeforeSwap(browser, 'bob@acme.test');
    const signed = await stack.portal.getLogoutUrlAsync(profile, 'rs-all', {});
    const xml = inflateRedirectPayload(new URL(signed).searchParams.get('SAMLRequest')!);
    const everySession = xml.replace(/<(\w+:)?SessionIndex[^>]*>[^<]*<\/(\w+:)?SessionIndex>/, '');
    expect(everySession).to.not.contain('SessionIndex');
    const query = signRedirectQuery('SAMLRequest', everySession, {
      keyPem: stack.pki.portalKey,
      relayState: 'rs-all',
    });
    const next = await portalLogoutAfterSwap(`${PORTAL_URL}/?${query}`);
    expect(next.startsWith(stack.idp.issuer), "on to her IdP's logout").to.equal(true);
    expect(await sessionLives(browser, profile), 'her session ended').to.equal(false);
  });

  it("is refused once the runbook's last patch has removed the old key (a leaked key is revoked)", async () => {
    swapped.revoke();
    const done = await finishedAfterSwap();
    expect([done.page.status, pageReason(done.html)]).to.deep.equal([400, 'FLOW_UNKNOWN']);
  });
});
