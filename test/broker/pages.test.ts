import { expect } from 'chai';
import {
  Browser,
  listenPlaceholder,
  oidcIdp,
  PORTAL_URL,
  portalAuthnRequestUrl,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { expectPageSecurityHeaders } from '../../testkit/security-headers.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/** The pages a person sees at the broker: the tenant's look, a way back, the shared headers. */
describe('broker: pages are branded per tenant and carry the security headers', () => {
  let stack: TwoIdpBroker;

  before(async () => {
    stack = await startTwoIdpBroker({ alpha: { displayName: 'Acme <staff>' } }, (spec) => {
      spec.portal.title = 'Acme <script>alert(1)</script> Desk';
      spec.portal.branding = { primaryColor: '#123456', logoUrl: '/logo.svg' };
    });
  });
  after(async () => stack.close());

  const escapedTitle = 'Acme &lt;script&gt;alert(1)&lt;/script&gt; Desk';

  function expectBranded(page: string) {
    expect(page).to.include(` - ${escapedTitle}</title>`);
    expect(page).to.include('--primary:#123456');
    // The logo is a path on the portal: resolved against the portal's URL, not the broker's.
    expect(page).to.include(`<img src="${PORTAL_URL}/logo.svg" alt="">`);
    expect(page).to.include(`<a href="${PORTAL_URL}/">`);
    expect(page).to.include(`Back to ${escapedTitle}`);
    expect(page).not.to.include('<script>alert(1)');
  }

  it('shows the IdP chooser in the tenant colour, with its name, logo and a link back to the portal', async () => {
    const browser = new Browser();
    const choice = await browser.request(
      await portalSp(stack.broker.url, stack.pki).getAuthorizeUrlAsync('rs', undefined, {}),
    );
    expect(choice.status).to.equal(200);
    const nonce = expectPageSecurityHeaders(choice, {
      formAction: `'self' ${stack.idpA.issuer} ${stack.idpB.issuer}`,
      https: false,
    });
    expect(choice.headers.get('content-security-policy')).to.include(`img-src 'self' ${PORTAL_URL}`);
    const page = await choice.text();
    expectBranded(page);
    expect(page).to.include(`<style nonce="${nonce}">`);
    expect(page).to.include(`<h1>Sign in to ${escapedTitle}</h1>`);
    expect(page).to.include('>Acme &lt;staff&gt;</button>');
  });

  it('shows a refusal on a branded page with its reason code and the way back', async () => {
    const response = await fetch(`${stack.broker.url}/nothing-here`);
    expect(response.status).to.equal(404);
    expectPageSecurityHeaders(response, { formAction: "'self'", https: false });
    const page = await response.text();
    expectBranded(page);
    expect(page).to.include('<code>NOT_FOUND</code>');
  });

  it('lets an answer that is not a page run nothing: its CSP has no nonce (metadata, redirects)', async () => {
    const metadata = await fetch(`${stack.broker.url}/saml/metadata`);
    expect(metadata.status).to.equal(200);
    const csp = metadata.headers.get('content-security-policy') ?? '';
    expect(csp).to.match(/^default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(metadata.headers.get('x-frame-options')).to.equal('DENY');
    // Public metadata may be cached; pages may not.
    expect(metadata.headers.get('cache-control')).to.equal('public, max-age=300');
  });

  it('keeps the flow in an HttpOnly, SameSite=Lax cookie, __Host- and Secure when the broker is served over https', async () => {
    const flowCookie = async (brokerUrl: string, via: string) => {
      const sso = await new Browser().request(
        portalAuthnRequestUrl(brokerUrl, stack.pki).replace('https://', 'http://'),
        { via },
      );
      expect(sso.status).to.equal(200);
      return sso.headers.getSetCookie().find((c) => c.includes('jsm_sso_flow'))!;
    };
    // On loopback the broker's URL has a port, which the name carries (ADR 0369).
    expect(await flowCookie(stack.broker.url, stack.broker.url)).to.match(
      new RegExp(
        `^jsm_sso_flow-${new URL(stack.broker.url).port}=[\\w-]{32}; Path=/; HttpOnly; SameSite=Lax; Max-Age=\\d+$`,
      ),
    );
    const { server, url } = await listenPlaceholder();
    const https = await serveBroker(
      server,
      url,
      tenantFor('https://broker.acme.test', [
        oidcIdp('alpha', stack.idpA.issuer, { emailDomains: ['acme.test'] }),
        oidcIdp('beta', stack.idpB.issuer, { emailDomains: ['beta.test'] }),
      ]),
      stack.pki,
    );
    try {
      expect(await flowCookie('https://broker.acme.test', url)).to.match(
        /^__Host-jsm_sso_flow=[\w-]{32}; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=\d+$/,
      );
    } finally {
      await https.close();
    }
  });

  it('sends HSTS when the broker is served over https', async () => {
    const { server, url } = await listenPlaceholder();
    const https = await serveBroker(
      server,
      url,
      tenantFor('https://broker.acme.test', [oidcIdp('alpha', stack.idpA.issuer)]),
      stack.pki,
    );
    try {
      // With the tenant's host name, as its Ingress sends it (a pool process routes by Host).
      const response = await new Browser().request('http://broker.acme.test/nothing-here', { via: url });
      expect(response.status).to.equal(404);
      expectPageSecurityHeaders(response, { formAction: "'self'", https: true });
      // The fixture tenant has no branding: its title and Atlassian blue.
      const page = await response.text();
      expect(page).to.include('--primary:#0052cc');
      expect(page).not.to.include('<img');
    } finally {
      await https.close();
    }
  });
});
