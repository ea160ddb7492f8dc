import { expect } from 'chai';
import { Browser, formFields, listenPlaceholder, pageReason } from '../../testkit/broker-harness.js';
import { type PortalBehindBroker, portalBehindBroker } from '../../testkit/portal-behind-broker.js';
import { answeredAtBrokerAcs, type UpstreamIdp, upstreamIdp, upstreamSamlIdpDoc } from './upstream-saml.js';

/**
 * The upstream SAML IdP bounds its session (core 2.7.2 SessionNotOnOrAfter): the real portal signs in
 * through the broker at samlify, and its session ends when the IdP's does, not hours later at its own
 * absolute timeout (ADR 0244).
 */
describe("broker: an upstream SAML IdP's SessionNotOnOrAfter ends the portal session", function () {
  this.timeout(60_000);
  let idp: UpstreamIdp;
  let parts: PortalBehindBroker;

  before(async () => {
    idp = upstreamIdp();
    parts = await portalBehindBroker(await listenPlaceholder(), [upstreamSamlIdpDoc(idp)]);
  });

  after(async () => {
    await parts?.broker.close();
    await parts?.portal.close();
    parts?.pki.cleanup();
  });

  /** Alice signs in at the portal, the upstream IdP answering with `sessionNotOnOrAfter`; the broker's answer. */
  async function signIn(browser: Browser, sessionNotOnOrAfter: Date) {
    const { portal, broker } = parts;
    const toBroker = await browser.request(`${portal.url}/login`);
    expect(toBroker.status).to.equal(303);
    const toIdp = await browser.request(toBroker.headers.get('location')!);
    expect(toIdp.status, 'the broker sends the browser to the upstream IdP').to.equal(302);
    return answeredAtBrokerAcs({ browser, brokerUrl: broker.url, idp }, toIdp.headers.get('location')!, {
      nameId: 'alice@acme.test',
      attributes: { email: ['alice@acme.test'] },
      sessionNotOnOrAfter,
    });
  }

  it('signs alice out of the portal once the session the upstream IdP signed for her ends', async () => {
    const { portal, portalPage } = parts;
    const browser = new Browser();
    const end = new Date(Date.now() + 4_000);
    const page = await signIn(browser, end);
    expect(page.status).to.equal(200);
    const acs = await browser.request(`${portal.url}/saml/acs`, { form: formFields(await page.text()) });
    expect(acs.status, 'the portal takes the broker Response').to.equal(303);
    expect(await portalPage(browser)).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, end.getTime() - Date.now() + 100));
    expect(await portalPage(browser), 'signed out when the IdP session ended').to.equal(303);
  });

  it('refuses, with a page, an upstream assertion whose SessionNotOnOrAfter passed a minute ago (within the clock skew): no portal session born ended, no loop through sign-in (ADR 0252)', async () => {
    const { broker, portalPage } = parts;
    const browser = new Browser();
    const page = await signIn(browser, new Date(Date.now() - 60_000));
    expect(page.status, 'no Response to the portal').to.equal(400);
    expect(pageReason(await page.text())).to.equal('SAML_EXPIRED');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      result: 'refused',
      reason: 'SAML_EXPIRED',
    });
    expect(await portalPage(browser), 'not signed in').to.equal(303);
  });
});
