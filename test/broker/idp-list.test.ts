import { expect } from 'chai';
import { signRedirectQuery } from '../../common/saml/index.js';
import {
  handWrittenAuthnRequest as authnRequest,
  Browser,
  formFields,
  type Pki,
  PORTAL_URL,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

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
});
