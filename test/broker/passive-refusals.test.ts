import { expect } from 'chai';
import {
  Browser,
  formFields,
  handWrittenAuthnRequest,
  PORTAL_URL,
  pageReason,
  sendSignedAuthnRequest,
  signedStatusCodes,
} from '../../testkit/broker-harness.js';
import {
  answerAuthnRequest,
  answeredAtBrokerAcs,
  postToBrokerAcs,
  serveUpstreamSamlBroker,
  type UpstreamSamlBroker,
} from './upstream-saml.js';

/**
 * A passive AuthnRequest (core 3.4.1: the IdP and the user agent "MUST NOT visibly take control of
 * the user interface") that the broker refuses after the upstream IdP answered (ADR 0380 part 2): the
 * portal's ACS hears it as a signed status, where a page would show the customer an error the SP's
 * silent check never meant her to see. The upstream SAML IdP is authoritative for example.test only.
 */
describe('broker: a passive login refused after the upstream IdP answered (ADR 0380)', () => {
  let served: UpstreamSamlBroker;
  before(async () => {
    served = await serveUpstreamSamlBroker({
      extra: (spec) => {
        spec['identityProviders'][0].emailDomains = ['example.test'];
      },
    });
  });
  after(() => served?.close());

  /** Mallory, whose address the upstream IdP is not authoritative for. */
  const outsider = { nameId: 'mallory@elsewhere.test', attributes: { email: ['mallory@elsewhere.test'] } };

  /** A request signed with the portal's key (IsPassive when `passive`) sent by `binding`; the browser and where it was sent. */
  async function toUpstreamIdp(binding: 'redirect' | 'post', passive: boolean) {
    const { broker, pki } = served;
    const browser = new Browser();
    const plain = handWrittenAuthnRequest(broker.url);
    const xml = passive ? plain.replace(' ProtocolBinding=', ' IsPassive="true" ProtocolBinding=') : plain;
    const sso = await sendSignedAuthnRequest(browser, broker.url, pki, xml, binding, `rs-${binding}`);
    expect(sso.status, binding).to.equal(binding === 'post' ? 303 : 302);
    return { browser, xml, redirectUrl: sso.headers.get('location')! };
  }

  const lastRefusal = () => served.broker.logs.findLast((l) => l['event'] === 'broker.refusal');

  it('answers the portal a signed Responder/AuthnFailed, to its ACS, InResponseTo its request, RelayState echoed, for an address the IdP is not authoritative for, by HTTP-Redirect and HTTP-POST', async () => {
    const { broker, idp, pki } = served;
    for (const binding of ['redirect', 'post'] as const) {
      const { browser, xml, redirectUrl } = await toUpstreamIdp(binding, true);
      const page = await answeredAtBrokerAcs({ browser, brokerUrl: broker.url, idp }, redirectUrl, outsider);
      const body = await page.text();
      expect(page.status, pageReason(body) ?? binding).to.equal(200);
      expect(body, binding).to.include(`action="${PORTAL_URL}/saml/acs"`);
      const fields = formFields(body);
      expect(fields['RelayState'], binding).to.equal(`rs-${binding}`);
      expect(signedStatusCodes(fields['SAMLResponse']!, pki.brokerCert), binding).to.deep.equal([
        'urn:oasis:names:tc:SAML:2.0:status:Responder',
        'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
      ]);
      const answer = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
      expect(answer, binding).to.include(`InResponseTo="${/ID="([^"]+)"/.exec(xml)![1]}"`);
      expect(answer, binding).not.to.include('Assertion');
      expect(lastRefusal()?.['reason'], binding).to.equal('IDP_NOT_AUTHORITATIVE');
      expect(
        broker.logs.findLast((l) => l['event'] === 'broker.login'),
        binding,
      ).to.include({
        result: 'refused',
        reason: 'IDP_NOT_AUTHORITATIVE',
      });
    }
  });

  it('keeps the page for the same refusal of an active request: the customer is told why, in the tenant look', async () => {
    const { broker, idp } = served;
    const { browser, redirectUrl } = await toUpstreamIdp('redirect', false);
    const page = await answeredAtBrokerAcs({ browser, brokerUrl: broker.url, idp }, redirectUrl, outsider);
    const body = await page.text();
    expect(page.status).to.equal(403);
    expect(pageReason(body)).to.equal('IDP_NOT_AUTHORITATIVE');
    expect(formFields(body)['SAMLResponse']).to.equal(undefined);
  });

  it('keeps the page, signing nothing, for an answer not shown to be the IdP’s for this flow (one to another request), passive or not', async () => {
    const { broker, idp, sp } = served;
    const first = await toUpstreamIdp('redirect', true);
    const upstream = await answerAuthnRequest(idp, sp, first.redirectUrl, broker.url, outsider);
    const other = await toUpstreamIdp('post', true);
    const otherFlow = new URL(other.redirectUrl).searchParams.get('RelayState')!;
    const refused = await postToBrokerAcs(other.browser, broker.url, upstream.samlResponse, otherFlow);
    const body = await refused.text();
    expect(refused.status).to.equal(400);
    expect(pageReason(body)).to.equal('SAML_IN_RESPONSE_TO_MISMATCH');
    expect(formFields(body)['SAMLResponse']).to.equal(undefined);
  });
});
