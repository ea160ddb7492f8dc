// RFC 9110 9.3.2: HEAD is GET without the content. A monitor or link checker sends it to the broker's
// metadata addresses; it must be answered as GET is. The broker's other GETs act (a sign-in starts, a
// flow or a logout is spent): a HEAD there must act on nothing.
import { expect } from 'chai';
import {
  type BrokerUnderTest,
  createPki,
  listenPlaceholder,
  type Pki,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { upstreamSamlIdpDoc } from './upstream-saml.js';

describe('broker: HEAD requests', () => {
  let pki: Pki;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    const { server, url } = await listenPlaceholder();
    broker = await serveBroker(server, url, tenantFor(url, [upstreamSamlIdpDoc()]), pki);
  });
  after(async () => {
    await broker.close();
    pki.cleanup();
  });

  for (const path of ['/saml/metadata', '/saml/sp-metadata', '/saml/sp-metadata/upstream']) {
    it(`answers HEAD ${path} as GET, with the same header fields and no content`, async () => {
      const get = await fetch(`${broker.url}${path}`);
      const body = await get.text();
      const head = await fetch(`${broker.url}${path}`, { method: 'HEAD' });
      expect(head.status, await head.clone().text()).to.equal(200);
      expect(await head.text()).to.equal('');
      for (const field of ['content-type', 'cache-control', 'content-length'])
        expect(head.headers.get(field), field).to.equal(get.headers.get(field));
      expect(Number(head.headers.get('content-length'))).to.equal(Buffer.byteLength(body));
    });
  }

  it('names HEAD among the methods a metadata address takes', async () => {
    const response = await fetch(`${broker.url}/saml/metadata`, { method: 'DELETE' });
    expect(response.status).to.equal(405);
    expect(response.headers.get('allow')).to.equal('GET, HEAD');
  });

  it('refuses HEAD of a sign-in (405, Allow without HEAD) and starts nothing: the same request then signs in', async () => {
    const signIn = await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs-head', undefined, {});
    const head = await fetch(signIn, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).to.equal(405);
    expect(head.headers.get('allow')).to.equal('GET, POST');
    expect(head.headers.getSetCookie(), 'no flow cookie').to.deep.equal([]);
    const get = await fetch(signIn, { redirect: 'manual' });
    expect(get.status, await get.clone().text()).to.equal(302);
  });
});
