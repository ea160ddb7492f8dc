import { expect } from 'chai';
import { inflateRedirectPayload } from '../../common/saml/deflate.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  listenPlaceholder,
  loginThroughBroker,
  logoutOfUnknownSession,
  type Pki,
  portalSp,
  type Stack,
  serveBroker,
  startStack,
  tenantFor,
} from '../../testkit/broker-harness.js';
import {
  Browser as PortalBrowser,
  signIn,
  signOut,
  startHarness,
  startLogin,
} from '../../testkit/portal-harness.js';
import { UPSTREAM_ENTITY_ID, upstreamIdp } from '../broker/upstream-saml.js';
import { schemaErrors } from './schema.js';

const text = async (url: string) => {
  const response = await fetch(url);
  expect(response.status, url).to.equal(200);
  return response.text();
};

/** Each message the broker and the portal write, checked against the OASIS SAML 2.0 schemas. */
describe('interop: broker and portal messages are valid against the SAML 2.0 XSDs', () => {
  let stack: Stack;
  let pki: Pki;
  let samlBroker: BrokerUnderTest;

  before(async () => {
    stack = await startStack();
    pki = createPki();
    const { server, url } = await listenPlaceholder();
    const tenant = tenantFor(url, [
      { name: 'upstream', saml: { metadataXml: upstreamIdp().getMetadata() }, emailTrust: 'asserted' },
    ]);
    samlBroker = await serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await stack?.close();
    await samlBroker?.close();
    pki?.cleanup();
  });

  const expectValid = (xml: string) => expect(schemaErrors(xml), xml).to.deep.equal([]);

  it('the broker IdP metadata', async () => {
    expectValid(await text(`${stack.broker.url}/saml/metadata`));
  });

  it('the broker SP metadata (SAML backend)', async () => {
    expectValid(await text(`${samlBroker.url}/saml/sp-metadata`));
  });

  it('a signed Response with its signed Assertion', async () => {
    const { fields } = await loginThroughBroker(
      { portal: stack.portal, brokerUrl: stack.broker.url },
      new Browser(),
    );
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    expect(xml).to.contain('Assertion');
    // Its AuthnContext names the OIDC IdP after the class (ADR 0228): in the schema's order.
    expect(xml).to.contain('</saml:AuthnContextClassRef><saml:AuthenticatingAuthority>');
    expectValid(xml);
  });

  it('a signed LogoutResponse', async () => {
    const answer = await logoutOfUnknownSession(stack, 'rs-u');
    expect(answer.status).to.equal(302);
    const samlResponse = new URL(answer.headers.get('location')!).searchParams.get('SAMLResponse')!;
    expectValid(inflateRedirectPayload(samlResponse));
  });

  it('the broker AuthnRequest to an upstream SAML IdP, also with the RequestedAuthnContext and IDPList it passes on', async () => {
    const portal = portalSp(samlBroker.url, pki);
    const upstreamRequest = async () => {
      const sso = await new Browser().request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
      return inflateRedirectPayload(new URL(sso.headers.get('location')!).searchParams.get('SAMLRequest')!);
    };
    expectValid(await upstreamRequest());
    portal.options.disableRequestedAuthnContext = false;
    portal.options.scoping = {
      proxyCount: 3,
      // The upstream IdP among the entries, so the broker may use it (ADR 0411), and another it passes on.
      idpList: [
        { entries: [{ providerId: UPSTREAM_ENTITY_ID }, { providerId: 'https://idp.example.test' }] },
      ],
      requesterId: 'https://app.example.test/sp',
    };
    const passedOn = await upstreamRequest();
    expect(passedOn).to.contain('RequestedAuthnContext').and.contain('IDPList');
    // IDPList before the RequesterIDs (core 3.4.1.2's schema order): the received one, then the portal.
    expect(passedOn).to.match(
      /<\/samlp:IDPList><samlp:RequesterID>https:\/\/app\.example\.test\/sp<\/samlp:RequesterID><samlp:RequesterID>/,
    );
    expectValid(passedOn);
  });

  it('the portal SP metadata, AuthnRequest and LogoutRequest', async () => {
    const portal = await startHarness();
    try {
      expectValid(await text(`${portal.url}/saml/metadata`));
      const { location } = await startLogin(new PortalBrowser(portal.url));
      expectValid(inflateRedirectPayload(new URL(location).searchParams.get('SAMLRequest')!));
      const { url } = await signOut(await signIn(portal, 'alice@acme.test'));
      expectValid(inflateRedirectPayload(new URL(url).searchParams.get('SAMLRequest')!));
    } finally {
      await portal.close();
    }
  });

  it('reports a schema error (a Response without its Status)', () => {
    const errors = schemaErrors(
      '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"/>',
    );
    expect(errors.join('\n')).to.contain('Status');
  });
});
