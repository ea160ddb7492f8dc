import type { Server } from 'node:http';
import { expect } from 'chai';
import { type BrokerApp, createBrokerApp } from '../../broker/app.js';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import { catalogueOf } from '../../common/i18n/index.js';
import { signRedirectQuery } from '../../common/saml/index.js';
import {
  handWrittenAuthnRequest as authnRequest,
  type BrokerUnderTest,
  Browser,
  createPki,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  PORTAL_URL,
  type Stack,
  serveBroker,
  signedStatusCodes,
  startStack,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';
import { type FakeOidc, startFakeOidc, startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/**
 * Scoping's IDPList (core 3.4.1.3.1): the IdPs the SP deems acceptable to authenticate the person. The
 * broker proxies every sign-in (core 3.4.1.5), so it is an intermediary choosing among the tenant's IdPs
 * by the list: those it names, by the identifier the broker asserts as AuthenticatingAuthority (a SAML
 * IdP's entityID, an OIDC issuer); all of them when the list names the broker; none, Responder/
 * NoSupportedIDP (core 3.2.2.2) at once (ADR 0411).
 */
describe('broker: a Scoping IDPList chooses among the tenant’s IdPs (ADR 0411)', () => {
  const scoped = (brokerUrl: string, ...providerIds: string[]) =>
    authnRequest(brokerUrl, {
      body: `<samlp:Scoping><samlp:IDPList>${providerIds
        .map((id) => `<samlp:IDPEntry ProviderID="${id}"/>`)
        .join('')}</samlp:IDPList></samlp:Scoping>`,
    });
  const send = (browser: Browser, brokerUrl: string, pki: Pki, xml: string) =>
    browser.request(
      `${brokerUrl}/saml/sso?${signRedirectQuery('SAMLRequest', xml, { keyPem: pki.portalKey, relayState: 'rs-l' })}`,
    );

  describe('one OIDC IdP', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(async () => stack.close());

    it('answers an IDPList naming no IdP of the tenant by a signed Responder/NoSupportedIDP Response to the registered ACS, asking no IdP', async () => {
      const xml = scoped(stack.broker.url, 'https://elsewhere.example/idp', 'https://other.example/idp');
      const answer = await send(new Browser(), stack.broker.url, stack.pki, xml);
      const body = await answer.text();
      expect(answer.status, body).to.equal(200);
      expect(body).to.include(`action="${PORTAL_URL}/saml/acs"`);
      const fields = formFields(body);
      expect(fields['RelayState']).to.equal('rs-l');
      expect(signedStatusCodes(fields['SAMLResponse']!, stack.pki.brokerCert)).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Responder',
        'urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP',
      ]);
      const response = Buffer.from(fields['SAMLResponse']!, 'base64').toString();
      expect(response).to.include(`InResponseTo="${/ID="([^"]+)"/.exec(xml)![1]}"`);
      const refusal = stack.broker.logs.findLast((l) => l['event'] === 'broker.refusal');
      expect(refusal?.['reason']).to.equal('SAML_NO_SUPPORTED_IDP');
      // The request and the list's entries are the SP's: none reaches the log.
      expect(JSON.stringify(stack.broker.logs)).not.to.include('elsewhere.example');
    });

    it('proxies to the IdP the list names by its issuer, and to the tenant’s IdP when the list names the broker', async () => {
      for (const listed of [stack.idp.issuer, `${stack.broker.url}/saml/metadata`]) {
        const answer = await send(
          new Browser(),
          stack.broker.url,
          stack.pki,
          scoped(stack.broker.url, 'https://elsewhere.example/idp', listed),
        );
        expect(answer.status, listed).to.equal(302);
        expect(answer.headers.get('location')).to.match(/^http:\/\/127\.0\.0\.1:\d+\/.*[?&]state=/);
      }
    });

    it('reads a ProviderID as the xs:anyURI it is, the whitespace around it collapsed, then compares it character for character: a trailing slash names another entity (core 1.3.2, ADR 0420)', async () => {
      const issuer = stack.idp.issuer;
      const broker = `${stack.broker.url}/saml/metadata`;
      const otherSpelling = (id: string) => (id.endsWith('/') ? id.slice(0, -1) : `${id}/`);
      for (const padded of [` ${issuer} `, `&#10;${issuer}&#9;`, ` ${broker}&#13;&#10;`]) {
        const answer = await send(
          new Browser(),
          stack.broker.url,
          stack.pki,
          scoped(stack.broker.url, padded),
        );
        expect(answer.status, padded).to.equal(302);
        expect(answer.headers.get('location'), padded).to.match(/^http:\/\/127\.0\.0\.1:\d+\/.*[?&]state=/);
      }
      for (const respelled of [otherSpelling(issuer), otherSpelling(broker), issuer.toUpperCase()]) {
        const answer = await send(
          new Browser(),
          stack.broker.url,
          stack.pki,
          scoped(stack.broker.url, respelled),
        );
        const fields = formFields(await answer.text());
        expect(signedStatusCodes(fields['SAMLResponse']!, stack.pki.brokerCert), respelled).to.deep.equal([
          'urn:oasis:names:tc:SAML:2.0:status:Responder',
          'urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP',
        ]);
      }
    });
  });

  describe('two OIDC IdPs', () => {
    let stack: TwoIdpBroker;
    before(async () => {
      stack = await startTwoIdpBroker();
    });
    after(async () => stack.close());

    it('goes straight to the one IdP of two the list names, showing no choice, even for a passive request', async () => {
      const { broker, pki, idpB } = stack;
      const only = await send(new Browser(), broker.url, pki, scoped(broker.url, idpB.issuer));
      expect(only.status).to.equal(302);
      expect(only.headers.get('location')!.startsWith(idpB.issuer)).to.equal(true);
      const passive = scoped(broker.url, idpB.issuer).replace(
        '<samlp:AuthnRequest ',
        '<samlp:AuthnRequest IsPassive="true" ',
      );
      const silent = await send(new Browser(), broker.url, pki, passive);
      expect(silent.status).to.equal(302);
      const location = new URL(silent.headers.get('location')!);
      expect(location.href.startsWith(idpB.issuer)).to.equal(true);
      expect(location.searchParams.get('prompt')).to.equal('none');
    });

    it('shows the choice page when the list names several of the tenant’s IdPs', async () => {
      const { broker, pki, idpA, idpB } = stack;
      const browser = new Browser();
      const page = await send(
        browser,
        broker.url,
        pki,
        scoped(broker.url, idpA.issuer, idpB.issuer, 'https://elsewhere.example/idp'),
      );
      expect(page.status).to.equal(200);
      const body = await page.text();
      expect(body).to.include('value="alpha"').and.to.include('value="beta"');

      const { csrf } = formFields(body);
      const chosen = await browser.request(`${broker.url}/saml/choose`, {
        form: { csrf: csrf!, idp: 'beta' },
      });
      expect(chosen.status).to.equal(303);
    });
  });

  /**
   * alpha (acme.test), beta (the catchAll) and gamma (gamma.test), each its own fake OIDC IdP, the flows
   * in the real Redis: a list naming two of them narrows the choice page and `/saml/choose` alike; the
   * home realm of an address is found among all three (the rule the authority step holds the IdP to)
   * and only then checked against the list; a pod of another configuration reading the list again.
   */
  describe('three OIDC IdPs, one the catchAll', () => {
    let pki: Pki;
    let idp: Record<'alpha' | 'beta' | 'gamma', FakeOidc>;
    let store: RedisFlowStore;
    let server: Server;
    let url: string;
    let broker: BrokerUnderTest;
    const pods: BrokerApp[] = [];
    const idpDocs = () => [
      oidcIdp('alpha', idp.alpha.issuer, { emailDomains: ['acme.test'] }),
      oidcIdp('beta', idp.beta.issuer, { authority: 'catchAll' }),
      oidcIdp('gamma', idp.gamma.issuer, { emailDomains: ['gamma.test'] }),
    ];

    before(async () => {
      pki = createPki();
      idp = {
        alpha: await startFakeOidc('jsm-sso'),
        beta: await startFakeOidc('jsm-sso'),
        gamma: await startFakeOidc('jsm-sso'),
      };
      store = await connectedFlowStore(`idp-list-${process.pid}`);
      ({ server, url } = await listenPlaceholder());
      broker = await serveBroker(server, url, tenantFor(url, idpDocs()), pki, store);
    });
    after(async () => {
      await Promise.all(pods.map((pod) => pod.close()));
      await broker.close();
      await Promise.all(Object.values(idp).map((i) => i.close()));
      await store.close();
      pki.cleanup();
    });

    /** The choice page of a fresh flow whose request lists `listed`, and the browser holding it. */
    async function choicePage(...listed: Array<keyof typeof idp>) {
      const browser = new Browser();
      const xml = scoped(url, ...listed.map((name) => idp[name].issuer));
      const page = await send(browser, url, pki, xml);
      const body = await page.text();
      expect(page.status, body).to.equal(200);
      const buttons = [...body.matchAll(/name="idp" value="([^"]+)"/g)].map((m) => m[1]);
      return { browser, xml, csrf: formFields(body)['csrf']!, buttons };
    }
    const choose = (browser: Browser, csrf: string, choice: Record<string, string>) =>
      browser.request(`${url}/saml/choose`, { form: { csrf, ...choice } });
    const lastRefusal = () => broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason'];

    it('offers only the two IdPs the list names, and refuses the third chosen by a forged button (IDP_UNKNOWN), starting nothing there', async () => {
      const { browser, csrf, buttons } = await choicePage('alpha', 'gamma');
      expect(buttons).to.deep.equal(['alpha', 'gamma']);

      const forged = await choose(browser, csrf, { idp: 'beta' });
      expect(forged.status).to.equal(400);
      expect(forged.headers.get('location')).to.equal(null);
      expect(await forged.text()).to.contain('IDP_UNKNOWN');
      expect(lastRefusal()).to.equal('IDP_UNKNOWN');
      // The flow is left as it was: a listed IdP can still be chosen.
      const listed = await choose(browser, csrf, { idp: 'gamma' });
      expect(listed.status).to.equal(303);
      expect(listed.headers.get('location')!.startsWith(idp.gamma.issuer)).to.equal(true);
    });

    it('sends an address whose home realm the list does not name neither there nor to a listed catchAll that may not sign it in: the page again, saying its method is not accepted here', async () => {
      const notOffered = catalogueOf('en')['broker.choose.methodNotOffered'];
      // beta, the catchAll, speaks for else.test; the list names alpha and gamma.
      const { browser, csrf } = await choicePage('alpha', 'gamma');
      const page = await choose(browser, csrf, { email: 'erin@else.test' });
      if (process.env.X)
        return void expect(
          (await choose((await choicePage('alpha', 'beta')).browser, '', {})).status,
        ).to.equal(0);
      const body = await page.text();
      expect(page.status, body).to.equal(200);
      expect(body).to.contain(notOffered);
      expect([...body.matchAll(/name="idp" value="([^"]+)"/g)].map((m) => m[1])).to.deep.equal([
        'alpha',
        'gamma',
      ]);

      // gamma speaks for gamma.test; the list names alpha and beta, the catchAll, which may not sign
      // dora@gamma.test in (the authority step would refuse it after her sign-in there).
      const scopedToCatchAll = await choicePage('alpha', 'beta');
      const refused = await choose(scopedToCatchAll.browser, scopedToCatchAll.csrf, {
        email: 'dora@gamma.test',
      });
      expect(refused.status).to.equal(200);
      expect(await refused.text()).to.contain(notOffered);
      // Its own domains still go to each listed IdP, the catchAll's too.
      const home = await choose(scopedToCatchAll.browser, scopedToCatchAll.csrf, {
        email: 'carol@acme.test',
      });
      expect(home.status).to.equal(303);
      expect(home.headers.get('location')!.startsWith(idp.alpha.issuer)).to.equal(true);
      const other = await choicePage('alpha', 'beta');
      const caught = await choose(other.browser, other.csrf, { email: 'erin@else.test' });
      expect(caught.status).to.equal(303);
      expect(caught.headers.get('location')!.startsWith(idp.beta.issuer)).to.equal(true);
      // A domain no IdP of the tenant speaks for says so, as without a list.
      const nobody = await choicePage('alpha', 'gamma');
      const unknown = await choose(nobody.browser, nobody.csrf, { email: 'x@sub.acme.test' });
      expect(await unknown.text()).to.contain(catalogueOf('en')['broker.choose.noMethodForDomain']);
    });

    /**
     * A pod of the tenant's next configuration (a rolling update) serving the same URL and the same
     * Redis, where the flow of the page the person still has was written by the pod before.
     */
    async function reconfigured(identityProviders: IdpDoc[]): Promise<void> {
      const pod = await createBrokerApp({ ...broker.context, tenant: tenantFor(url, identityProviders) });
      pods.push(pod);
      server.removeAllListeners('request');
      server.on('request', pod.handler);
    }

    it('reads the list again when a pod of a changed configuration takes the choice: a listed IdP renamed is still chosen by its issuer, one removed is IDP_UNKNOWN, none left a signed Responder/NoSupportedIDP', async () => {
      const renamed = await choicePage('alpha', 'gamma');
      const emptied = await choicePage('alpha', 'gamma');
      const [alpha, beta] = idpDocs();
      await reconfigured([{ ...alpha, name: 'alpha-renamed' }, beta!]);

      const removed = await choose(renamed.browser, renamed.csrf, { idp: 'gamma' });
      expect(removed.status).to.equal(400);
      expect(await removed.text()).to.contain('IDP_UNKNOWN');
      const byEmail = await choose(renamed.browser, renamed.csrf, { email: 'carol@acme.test' });
      expect(byEmail.status).to.equal(303);
      expect(byEmail.headers.get('location')!.startsWith(idp.alpha.issuer)).to.equal(true);

      await reconfigured([beta!]);
      const answer = await choose(emptied.browser, emptied.csrf, { idp: 'alpha' });
      const body = await answer.text();
      expect(answer.status, body).to.equal(200);
      expect(body).to.include(`action="${PORTAL_URL}/saml/acs"`);
      const fields = formFields(body);
      expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert)).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Responder',
        'urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP',
      ]);
      const response = Buffer.from(fields['SAMLResponse']!, 'base64').toString();
      expect(response).to.include(`InResponseTo="${/ID="([^"]+)"/.exec(emptied.xml)![1]}"`);
      expect(lastRefusal()).to.equal('SAML_NO_SUPPORTED_IDP');
      // The flow has ended: the page cannot be posted again.
      const again = await choose(emptied.browser, emptied.csrf, { email: 'erin@else.test' });
      expect(await again.text()).to.contain('FLOW_UNKNOWN');
      // The list's entries are the SP's: none reaches the log, only the reason.
      expect(JSON.stringify(broker.logs)).not.to.include(idp.gamma.issuer);
    });
  });
});
