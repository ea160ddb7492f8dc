import { join } from 'node:path';
import { expect } from 'chai';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  listenPlaceholder,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { autoPostForm, type Peer, startPeer } from './peers.js';

const DISPLAY_NAME_OID = 'urn:oid:2.16.840.1.113730.3.1.241';

/** portal (node-saml) -> broker (SP) -> pysaml2 IdP (saml2.server.Server) -> broker -> portal. */
describe('interop: pysaml2 as an upstream SAML IdP toward the broker SAML backend', () => {
  let pki: Pki;
  let idp: Peer;
  let broker: BrokerUnderTest;
  const user = {
    nameId: 'dave@example.test',
    attributes: {
      mail: ['dave@example.test'],
      displayName: ['Dave Diaz'],
      groups: ['jsm-customers', 'jsm-agents'],
    },
  };

  before(async () => {
    pki = createPki();
    const { server, url } = await listenPlaceholder();
    // The portal's key pair stands in for the IdP's: any key the broker is told to trust will do.
    idp = await startPeer('idp', {
      brokerUrl: url,
      keyFile: join(pki.dir, 'portal-saml', 'tls.key'),
      certFile: join(pki.dir, 'portal-saml', 'tls.crt'),
      user,
    });
    const tenant = tenantFor(url, [
      {
        name: 'pysaml2',
        // The broker fetches metadataUrl over https only; pysaml2's metadata goes in inline.
        saml: { metadataXml: await (await fetch(`${idp.url}/metadata`)).text() },
        emailTrust: 'asserted',
        // pysaml2 names attributes by OID (urn format); e-mail is found under its OID by the broker.
        attributeMapping: {
          email: 'claims.email',
          displayName: `claims['${DISPLAY_NAME_OID}']`,
          groups: 'claims.groups',
        },
      },
    ]);
    broker = await serveBroker(server, url, tenant, pki);
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    pki?.cleanup();
  });

  it('publishes SP metadata that pysaml2 loads, and accepts the signed assertion pysaml2 issues', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-up', undefined, {}));
    expect(sso.status, await sso.clone().text()).to.equal(302);
    const toIdp = sso.headers.get('location')!;
    expect(toIdp.startsWith(`${idp.url}/sso?`), toIdp).to.equal(true);
    // pysaml2 loads {broker}/saml/sp-metadata, verifies the Redirect signature and answers.
    const answer = await browser.request(toIdp);
    const answerHtml = await answer.text();
    expect(answer.status, `${answerHtml}\n${idp.stderr()}`).to.equal(200);
    const upstream = autoPostForm(answerHtml);
    expect(upstream.action).to.equal(`${broker.url}/saml/acs`);
    expect(Buffer.from(upstream.fields['SAMLResponse']!, 'base64').toString('utf8')).to.contain('Signature');
    const page = await browser.request(upstream.action, { form: upstream.fields });
    const pageHtml = await page.text();
    expect(page.status, pageHtml).to.equal(200);
    const toPortal = autoPostForm(pageHtml);
    expect(toPortal.fields['RelayState']).to.equal('rs-up');
    const { profile } = await portal.validatePostResponseAsync(toPortal.fields);
    expect(profile?.nameID).to.equal('dave@example.test');
    expect(profile?.['email']).to.equal('dave@example.test');
    expect(profile?.['displayName']).to.equal('Dave Diaz');
    expect(profile?.['groups']).to.deep.equal(['jsm-customers', 'jsm-agents']);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      idp: 'pysaml2',
      result: 'success',
    });
  });

  it('refuses the pysaml2 Response when it is posted a second time (replay)', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-up', undefined, {}));
    const upstream = autoPostForm(await (await browser.request(sso.headers.get('location')!)).text());
    expect((await browser.request(upstream.action, { form: upstream.fields })).status).to.equal(200);
    const replay = await browser.request(upstream.action, { form: upstream.fields });
    expect(replay.status).to.equal(400);
    expect(await replay.text()).to.contain('FLOW_UNKNOWN');
  });
});
