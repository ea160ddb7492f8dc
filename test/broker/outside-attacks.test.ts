import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import {
  Browser,
  formFields,
  pageReason,
  type Stack,
  signedStatusCodes,
  startStack,
} from '../../testkit/broker-harness.js';
import { TEST_PLACEMENT } from '../../testkit/pool.js';

/**
 * Attacks an outside suite sends at the broker that the other attack tests do not: a Host and
 * forwarded headers naming another site (absolute URLs come from the tenant's configuration), and
 * an IdP's error answer replayed or sent from another browser.
 */

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with the Host header as given, else the URL's own (fetch always writes the URL's own). */
function getWithHeaders(url: string, headers: Record<string, string>): Promise<RawAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        headers: { host: target.host, ...headers },
        setHost: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const FORGED_FORWARDED = {
  'x-forwarded-host': 'evil-forwarded.example',
  'x-forwarded-proto': 'https',
  forwarded: 'host=evil-forwarded.example;proto=https',
};
const FORGED_HOSTS = { host: 'evil.example', ...FORGED_FORWARDED };
/**
 * What a request can forge and still reach the tenant under test. In a pool the Host names the tenant
 * (ADR 0100): a forged one reaches none (checked below), so there only the forwarded headers are forged.
 */
const FORGED = TEST_PLACEMENT === 'pool' ? FORGED_FORWARDED : FORGED_HOSTS;

describe('broker: attacks from outside suites not covered elsewhere', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack.close());

  it('builds the redirect to the IdP, its redirect_uri and the flow cookie from the configuration, whatever Host and forwarded headers say', async () => {
    const answer = await getWithHeaders(await stack.portal.getAuthorizeUrlAsync('rs', undefined, {}), FORGED);
    expect(answer.status, answer.body).to.equal(302);
    const location = new URL(String(answer.headers['location']));
    expect(location.origin).to.equal(new URL(stack.idp.issuer).origin);
    expect(location.searchParams.get('redirect_uri')).to.equal(`${stack.broker.url}/oidc/callback`);
    const cookies = (answer.headers['set-cookie'] ?? []) as string[];
    expect(cookies).to.have.length(1);
    expect(cookies[0]).to.not.match(/domain=/i);
    expect(JSON.stringify(answer.headers)).to.not.contain('evil');
  });

  it('writes its metadata and its pages with the configured URLs, whatever Host and forwarded headers say', async () => {
    const metadata = await getWithHeaders(`${stack.broker.url}/saml/metadata`, FORGED);
    expect(metadata.status).to.equal(200);
    expect(metadata.body).to.contain(`Location="${stack.broker.url}/saml/sso"`);
    const notFound = await getWithHeaders(`${stack.broker.url}/nothing-here`, FORGED_HOSTS);
    expect(notFound.status).to.equal(404);
    // In a pool a forged Host is no tenant's: refused as such, before any tenant's page is made.
    if (TEST_PLACEMENT === 'pool') expect(notFound.body).to.contain('POOL_TENANT_UNKNOWN');
    for (const answer of [metadata, notFound]) {
      expect(answer.body).to.not.contain('evil');
      expect(JSON.stringify(answer.headers)).to.not.contain('evil');
    }
  });

  it("answers the IdP's error answer once with a signed status, and its replay as OIDC_STATE_REPLAYED, signing nothing", async () => {
    const browser = new Browser();
    const sso = await browser.request(await stack.portal.getAuthorizeUrlAsync('rs-e', undefined, {}));
    const state = new URL(sso.headers.get('location')!).searchParams.get('state')!;
    const errorAnswer = `${stack.broker.url}/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(stack.idp.issuer)}`;
    const first = formFields(await (await browser.request(errorAnswer)).text());
    expect(signedStatusCodes(first['SAMLResponse']!, stack.pki.brokerCert)).to.deep.equal([
      'urn:oasis:names:tc:SAML:2.0:status:Responder',
      'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
    ]);
    const replay = await browser.request(errorAnswer);
    const html = await replay.text();
    expect(replay.status).to.equal(400);
    expect(pageReason(html)).to.equal('OIDC_STATE_REPLAYED');
    expect(formFields(html)).to.not.have.property('SAMLResponse');
  });

  it("refuses the IdP's error answer arriving in a browser that did not start the flow (403 FLOW_BROWSER_MISMATCH), signing nothing", async () => {
    const victim = new Browser();
    const sso = await victim.request(await stack.portal.getAuthorizeUrlAsync('rs-v', undefined, {}));
    const state = new URL(sso.headers.get('location')!).searchParams.get('state')!;
    const other = await new Browser().request(
      `${stack.broker.url}/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(stack.idp.issuer)}`,
    );
    const html = await other.text();
    expect(other.status).to.equal(403);
    expect(pageReason(html)).to.equal('FLOW_BROWSER_MISMATCH');
    expect(formFields(html)).to.not.have.property('SAMLResponse');
  });
});
