import { join } from 'node:path';
import { expect } from 'chai';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  serveBroker,
  tenantFor,
  useSigningKey,
} from '../../testkit/broker-harness.js';
import { makeKeyPair } from '../../testkit/keys.js';
import { autoPostForm, type Peer, startPeer } from './peers.js';

interface Identity {
  nameId: string;
  nameIdFormat: string;
  issuer: string;
  inResponseTo: string;
  sessionIndex: string;
  attributes: Record<string, string[]>;
  relayState: string;
}

/** pysaml2's Saml2Client plays the portal: broker (IdP) -> dev OIDC IdP -> broker -> pysaml2. */
describe('interop: pysaml2 as the portal (SP) against the broker (IdP)', () => {
  let pki: Pki;
  let idp: DevIdp;
  let sp: Peer;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    const { server, url } = await listenPlaceholder();
    sp = await startPeer('sp', {
      brokerUrl: url,
      keyFile: join(pki.dir, 'portal-saml', 'tls.key'),
      certFile: join(pki.dir, 'portal-saml', 'tls.crt'),
    });
    idp = await startDevIdp({ clients: [devClient(url)] });
    const tenant = tenantFor(url, [oidcIdp('corporate', idp.issuer)], (spec) => {
      spec.portal.url = sp.url;
    });
    broker = await serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    await sp?.close();
    pki?.cleanup();
  });

  /** pysaml2's signed AuthnRequest (Redirect or POST binding) to the broker, then the dev IdP's login. */
  async function loginAt(browser: Browser, binding: 'redirect' | 'post') {
    const start = await browser.request(`${sp.url}/login?binding=${binding}&relayState=rs-py`);
    let sso: Response;
    if (binding === 'redirect') {
      expect(start.status, await start.clone().text()).to.equal(302);
      const location = start.headers.get('location')!;
      expect(location.startsWith(`${broker.url}/saml/sso?`), location).to.equal(true);
      sso = await browser.request(location);
    } else {
      expect(start.status, await start.clone().text()).to.equal(200);
      const form = autoPostForm(await start.text());
      expect(form.action).to.equal(`${broker.url}/saml/sso`);
      sso = await browser.request(form.action, { form: form.fields });
    }
    // After a POST, 303 See Other: the IdP is asked with GET (ADR 0347).
    expect(sso.status, `${await sso.clone().text()}`).to.equal(binding === 'post' ? 303 : 302);
    const { html } = await loginAtDevIdp(browser, new URL(sso.headers.get('location')!, broker.url).href, {
      brokerUrl: broker.url,
    });
    const form = autoPostForm(html);
    expect(form.action).to.equal(`${sp.url}/saml/acs`);
    return form.fields;
  }

  async function postToSp(browser: Browser, fields: Record<string, string>) {
    const acs = await browser.request(`${sp.url}/saml/acs`, { form: fields });
    return { status: acs.status, body: (await acs.json()) as Identity & { error?: string } };
  }

  async function expectAccepted(browser: Browser, fields: Record<string, string>): Promise<Identity> {
    const { status, body } = await postToSp(browser, fields);
    expect(status, `${JSON.stringify(body)}\n${sp.stderr()}`).to.equal(200);
    expect(body.issuer).to.equal(`${broker.url}/saml/metadata`);
    expect(body.nameId).to.equal('alice@acme.test');
    expect(body.relayState).to.equal('rs-py');
    expect(body.sessionIndex).to.be.a('string');
    expect(body.attributes['email']).to.deep.equal(['alice@acme.test']);
    expect(body.attributes['groups']).to.deep.equal(['jsm-customers', 'jsm-admins']);
    return body;
  }

  it('accepts the broker Response to a signed HTTP-Redirect AuthnRequest (signature, audience, InResponseTo, conditions)', async () => {
    await expectAccepted(new Browser(), await loginAt(new Browser(), 'redirect'));
  });

  it('accepts the broker Response to a signed HTTP-POST AuthnRequest', async () => {
    await expectAccepted(new Browser(), await loginAt(new Browser(), 'post'));
  });

  it('is strict: pysaml2 refuses the same broker Response a second time (no outstanding request)', async () => {
    const browser = new Browser();
    const fields = await loginAt(browser, 'redirect');
    await expectAccepted(browser, fields);
    const again = await postToSp(browser, fields);
    expect(again.status).to.equal(400);
    expect(again.body.error).to.equal('UnsolicitedResponse');
  });

  it('is strict: pysaml2 refuses a broker Response whose NameID was changed after signing', async () => {
    const browser = new Browser();
    const fields = await loginAt(browser, 'redirect');
    const xml = Buffer.from(fields['SAMLResponse']!, 'base64').toString('utf8');
    const forged = xml.replace('>alice@acme.test</saml:NameID>', '>mallory@acme.test</saml:NameID>');
    expect(forged).not.to.equal(xml);
    const refused = await postToSp(browser, {
      ...fields,
      SAMLResponse: Buffer.from(forged).toString('base64'),
    });
    expect(refused.status).to.equal(400);
    expect(refused.body.error).to.equal('SignatureError');
  });

  it('ends the session with a signed LogoutRequest and accepts the broker LogoutResponse', async () => {
    const browser = new Browser();
    await expectAccepted(browser, await loginAt(browser, 'redirect'));
    const start = await browser.request(`${sp.url}/logout?nameId=${encodeURIComponent('alice@acme.test')}`);
    expect(start.status, await start.clone().text()).to.equal(302);
    const toBroker = start.headers.get('location')!;
    expect(toBroker.startsWith(`${broker.url}/saml/slo?`), toBroker).to.equal(true);
    const toIdp = await browser.request(toBroker);
    expect(toIdp.status, await toIdp.clone().text()).to.equal(302);
    const endSession = new URL(toIdp.headers.get('location')!);
    expect(endSession.origin).to.equal(idp.issuer);
    // oidc-provider asks the person to confirm; the browser confirms.
    const confirm = autoPostForm(await (await browser.request(endSession.href)).text());
    const back = await browser.follow(new URL(confirm.action, endSession).href, `${sp.url}/saml/slo`, {
      form: { ...confirm.fields, logout: 'yes' },
    });
    expect(back.location, 'the browser ends at the SP SLO endpoint').to.be.a('string');
    const slo = await browser.request(back.location!);
    const body = (await slo.json()) as Record<string, string>;
    expect(slo.status, `${JSON.stringify(body)}\n${sp.stderr()}`).to.equal(200);
    expect(body['status']).to.equal('urn:oasis:names:tc:SAML:2.0:status:Success');
    expect(body['issuer']).to.equal(`${broker.url}/saml/metadata`);
  });
});

/**
 * An interop result, not a wish: pysaml2 signs nothing with ECDSA (entity.py and pack.py check a
 * fixed SIG_ALLOWED_ALG list of RSA algorithms), so it cannot be the portal of a tenant whose
 * spec.signatureAlgorithm is ecdsa-sha256. One reason ecdsa-sha256 is opt-in and not the default
 * (docs/decisions/0063-ecdsa-for-the-broker-portal-hop.md); when this fails, revisit it.
 */
describe('interop: pysaml2 as the portal of an ecdsa-sha256 tenant', () => {
  let pki: Pki;
  let sp: Peer;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    useSigningKey(pki, 'broker', makeKeyPair('pysaml2 broker', 'ec'));
    useSigningKey(pki, 'portal', makeKeyPair('pysaml2 portal', 'ec'));
    const { server, url } = await listenPlaceholder();
    sp = await startPeer('sp', {
      brokerUrl: url,
      keyFile: join(pki.dir, 'portal-saml', 'tls.key'),
      certFile: join(pki.dir, 'portal-saml', 'tls.crt'),
      signAlg: 'ecdsa-sha256',
    });
    const tenant = tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:1')], (spec) => {
      spec.portal.url = sp.url;
      spec.signatureAlgorithm = 'ecdsa-sha256';
    });
    broker = await serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker?.close();
    await sp?.close();
    pki?.cleanup();
  });

  it('cannot sign an ecdsa-sha256 AuthnRequest in either binding', async () => {
    for (const binding of ['redirect', 'post']) {
      const start = await new Browser().request(`${sp.url}/login?binding=${binding}&relayState=rs-py`);
      const body = (await start.json()) as { message?: string };
      expect(start.status).to.equal(400);
      expect(body.message).to.equal(
        'Signature algo not in allowed list: http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
      );
    }
  });
});
