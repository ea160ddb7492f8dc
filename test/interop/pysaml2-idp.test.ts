import { join } from 'node:path';
import { expect } from 'chai';
import {
  type BrokerUnderTest,
  Browser,
  closeServer,
  createPki,
  listenPlaceholder,
  type Pki,
  PORTAL_URL,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
  toUpstreamIdp,
  useEncryptionKey,
} from '../../testkit/broker-harness.js';
import { autoPostForm, type Peer, startPeer } from './peers.js';

const DISPLAY_NAME_OID = 'urn:oid:2.16.840.1.113730.3.1.241';

/** A pysaml2 IdP whose one user is `user`, and a broker whose tenant's only IdP it is. */
async function pysaml2Broker(
  pki: Pki,
  user: { nameId: string; attributes: Record<string, string[]> },
  emailTrust: 'asserted' | 'verifiedClaim' = 'asserted',
  encryption?: PeerEncryption,
): Promise<{ idp: Peer; broker: BrokerUnderTest }> {
  const { server, url } = await listenPlaceholder();
  // What is started here is closed here when a later step throws: no caller holds it yet.
  let idp: Peer | undefined;
  try {
    // The broker's own decryption pair, published in its SP metadata.
    const encryptionSecret = encryption ? useEncryptionKey(pki).secretName : undefined;
    // The portal's key pair stands in for the IdP's: any key the broker is told to trust will do.
    idp = await startPeer('idp', {
      brokerUrl: url,
      keyFile: join(pki.dir, 'portal-saml', 'tls.key'),
      certFile: join(pki.dir, 'portal-saml', 'tls.crt'),
      user,
      ...(encryption ? { encryption } : {}),
    });
    const tenant = tenantFor(
      url,
      [
        {
          name: 'pysaml2',
          // The broker fetches metadataUrl over https only; pysaml2's metadata goes in inline.
          saml: { metadataXml: await (await fetch(`${idp.url}/metadata`)).text() },
          emailTrust,
          // pysaml2 names attributes by OID (urn format); e-mail is found under its OID by the broker.
          attributeMapping: {
            email: 'claims.email',
            displayName: `claims['${DISPLAY_NAME_OID}']`,
            groups: 'claims.groups',
          },
        },
      ],
      (spec) => {
        if (encryptionSecret) spec.broker.encryptionSecretRef = { name: encryptionSecret };
      },
    );
    return { idp, broker: await serveBroker(server, url, tenant, pki) };
  } catch (err) {
    await idp?.close();
    await closeServer(server);
    throw err;
  }
}

/** How the pysaml2 IdP encrypts its assertion (test/interop/py/peer.py "encryption"). */
interface PeerEncryption {
  content: string;
  sessionKey: string;
  signResponse?: boolean;
}

/** The portal asks the broker for a sign-in; pysaml2's answer on its way back: the form, and the signed Response in it. */
async function pysaml2Answer(browser: Browser, portal: ReturnType<typeof portalSp>, idp: Peer) {
  const answer = await browser.request(await toUpstreamIdp(browser, portal, 'rs-answer'));
  const answerHtml = await answer.text();
  expect(answer.status, `${answerHtml}\n${idp.stderr()}`).to.equal(200);
  const upstream = autoPostForm(answerHtml);
  return { upstream, signed: Buffer.from(upstream.fields['SAMLResponse']!, 'base64').toString('utf8') };
}

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
    ({ idp, broker } = await pysaml2Broker(pki, user));
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    pki?.cleanup();
  });

  it('publishes SP metadata that pysaml2 loads, and accepts the signed assertion pysaml2 issues', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const toIdp = await toUpstreamIdp(browser, portal, 'rs-up');
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

  /** A whole sign-in of dave through pysaml2; the portal's view of it. */
  async function signedIn(browser: Browser, portal: ReturnType<typeof portalSp>) {
    const upstream = autoPostForm(
      await (await browser.request(await toUpstreamIdp(browser, portal, 'rs-in'))).text(),
    );
    const page = await browser.request(upstream.action, { form: upstream.fields });
    const { profile } = await portal.validatePostResponseAsync(autoPostForm(await page.text()).fields);
    return profile!;
  }

  /** The peer's note on what it did (the x-peer header of its answers). */
  const peerNote = (response: Response) => JSON.parse(response.headers.get('x-peer') ?? '{}');

  it('signs out at pysaml2 when the portal signs out: pysaml2 verifies the LogoutRequest and its signed Success completes it', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const profile = await signedIn(browser, portal);
    const toIdp = await browser.request(await portal.getLogoutUrlAsync(profile, 'rs-out', {}));
    expect(toIdp.status, await toIdp.clone().text()).to.equal(302);
    const atIdp = await browser.request(toIdp.headers.get('location')!);
    expect(atIdp.status, `${await atIdp.clone().text()}\n${idp.stderr()}`).to.equal(302);
    expect(peerNote(atIdp)).to.deep.include({ nameId: 'dave@example.test' });
    expect(peerNote(atIdp).sessionIndexes).to.have.length(1);
    const back = await browser.request(atIdp.headers.get('location')!);
    expect(back.status, await back.clone().text()).to.equal(302);
    const toPortal = new URL(back.headers.get('location')!);
    const answered = await portal.validateRedirectAsync(
      Object.fromEntries(toPortal.searchParams),
      toPortal.search.slice(1),
    );
    expect(answered.loggedOut).to.equal(true);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.logout')).to.include({ result: 'success' });
  });

  it('ends the broker session on the LogoutRequest pysaml2 signs, and answers PartialLogout that pysaml2 verifies', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const profile = await signedIn(browser, portal);
    const request = await browser.request(
      `${idp.url}/idp-logout?nameId=dave%40example.test&relayState=idp-rs`,
    );
    const toBroker = request.headers.get('location')!;
    expect(toBroker.startsWith(`${broker.url}/saml/slo?`), toBroker).to.equal(true);
    const answer = await browser.request(toBroker);
    expect(answer.status, await answer.clone().text()).to.equal(302);
    const read = await browser.request(answer.headers.get('location')!);
    const body = (await read.json()) as Record<string, string>;
    expect(read.status, `${JSON.stringify(body)}\n${idp.stderr()}`).to.equal(200);
    // The portal (PORTAL_URL: nothing listens) could not end its session: the broker says so (ADR 0158).
    expect(body).to.deep.equal({
      status: 'urn:oasis:names:tc:SAML:2.0:status:Success',
      secondStatus: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
      inResponseTo: peerNote(request).requestId,
      relayState: 'idp-rs',
    });
    // The broker session is gone: the portal's own sign-out is answered without pysaml2.
    const later = await browser.request(await portal.getLogoutUrlAsync(profile, 'rs-later', {}));
    expect(later.headers.get('location')!.startsWith(`${PORTAL_URL}/saml/slo?`)).to.equal(true);
  });

  it('refuses the pysaml2 Response when it is posted a second time (replay)', async () => {
    const browser = new Browser();
    const portal = portalSp(broker.url, pki);
    const upstream = autoPostForm(
      await (await browser.request(await toUpstreamIdp(browser, portal, 'rs-up'))).text(),
    );
    expect((await browser.request(upstream.action, { form: upstream.fields })).status).to.equal(200);
    const replay = await browser.request(upstream.action, { form: upstream.fields });
    expect(replay.status).to.equal(400);
    expect(await replay.text()).to.contain('FLOW_UNKNOWN');
  });
});

/**
 * pysaml2 signs what its user store holds: an e-mail with a space before it, as an IdP that lets
 * people type their own address keeps it. xs:string keeps the space; the broker trimmed it and signed
 * the person in as dave@example.test (ADR 0186).
 */
describe('interop: pysaml2 asserting an e-mail with whitespace around it', () => {
  let pki: Pki;
  let idp: Peer;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    ({ idp, broker } = await pysaml2Broker(pki, {
      nameId: 'dave@example.test',
      attributes: { mail: [' dave@example.test'] },
    }));
  });
  after(async () => {
    await broker?.close();
    await idp?.close();
    pki?.cleanup();
  });

  it('refuses the signed mail attribute " dave@example.test" as IDP_EMAIL_INVALID: nothing reaches the portal', async () => {
    const browser = new Browser();
    const { upstream, signed } = await pysaml2Answer(browser, portalSp(broker.url, pki), idp);
    expect(signed).to.match(/<(\w+:)?AttributeValue[^>]*> dave@example\.test</);
    const page = await browser.request(upstream.action, { form: upstream.fields });
    const pageHtml = await page.text();
    expect(page.status, pageHtml).to.equal(403);
    expect(pageReason(pageHtml)).to.equal('IDP_EMAIL_INVALID');
    expect(pageHtml).to.not.include('SAMLResponse');
    expect(broker.logs.findLast((l) => l['event'] === 'broker.login')).to.include({
      idp: 'pysaml2',
      result: 'refused',
      reason: 'IDP_EMAIL_INVALID',
    });
  });
});

/**
 * pysaml2 stating that dave's address is verified, in the attribute `email_verified` of a tenant with
 * `emailTrust: verifiedClaim`. SAML attribute values are text: the broker wanted the JSON boolean `true`
 * and refused every such sign-in (ADR 0195). Exactly one xs:boolean true counts; "false" does not.
 */
describe('interop: pysaml2 stating email_verified to a tenant with emailTrust verifiedClaim', () => {
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki?.cleanup());

  /** A whole sign-in of dave through a pysaml2 IdP whose user store says `email_verified: [verified]`. */
  async function signInVerified(verified: string) {
    const { idp, broker } = await pysaml2Broker(
      pki,
      {
        nameId: 'dave@example.test',
        attributes: { mail: ['dave@example.test'], email_verified: [verified] },
      },
      'verifiedClaim',
    );
    try {
      const browser = new Browser();
      const portal = portalSp(broker.url, pki);
      const { upstream, signed } = await pysaml2Answer(browser, portal, idp);
      expect(signed).to.match(
        new RegExp(`Name="email_verified"[^>]*>\\s*<(\\w+:)?AttributeValue[^>]*>${verified}<`),
      );
      const page = await browser.request(upstream.action, { form: upstream.fields });
      return {
        page,
        html: await page.text(),
        portal,
        audit: broker.logs.findLast((l) => l['event'] === 'broker.login'),
      };
    } finally {
      await broker.close();
      await idp.close();
    }
  }

  it('signs dave in on the signed email_verified "true"', async () => {
    const { page, html, portal, audit } = await signInVerified('true');
    expect(page.status, html).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(autoPostForm(html).fields);
    expect(profile?.['email']).to.equal('dave@example.test');
    expect(audit).to.include({ idp: 'pysaml2', result: 'success' });
  });

  it('refuses dave on the signed email_verified "false" as IDP_EMAIL_UNVERIFIED: nothing reaches the portal', async () => {
    const { page, html, audit } = await signInVerified('false');
    expect(page.status, html).to.equal(403);
    expect(pageReason(html)).to.equal('IDP_EMAIL_UNVERIFIED');
    expect(html).to.not.include('SAMLResponse');
    expect(audit).to.include({ idp: 'pysaml2', result: 'refused', reason: 'IDP_EMAIL_UNVERIFIED' });
  });
});

/**
 * pysaml2 encrypting its signed assertion (xmlsec1) to the encryption certificate it finds in the
 * broker's SP metadata, as Shibboleth does by default (ADR 0338).
 */
describe('interop: pysaml2 encrypting its assertions to the broker', () => {
  const user = { nameId: 'dave@example.test', attributes: { mail: ['dave@example.test'] } };
  let pki: Pki;
  let peers: { idp: Peer; broker: BrokerUnderTest } | undefined;
  beforeEach(() => {
    pki = createPki();
  });
  afterEach(async () => {
    await peers?.broker.close();
    await peers?.idp.close();
    peers = undefined;
    pki?.cleanup();
  });

  /** dave's sign-in through pysaml2 encrypting so: the broker's page after the ACS, and what pysaml2 posted. */
  async function encryptedSignIn(encryption: PeerEncryption) {
    peers = await pysaml2Broker(pki, user, 'asserted', encryption);
    const browser = new Browser();
    const portal = portalSp(peers.broker.url, pki);
    const { upstream, signed } = await pysaml2Answer(browser, portal, peers.idp);
    const page = await browser.request(upstream.action, { form: upstream.fields });
    return { page, html: await page.text(), posted: signed, portal };
  }

  it('signs dave in from an AES-128-GCM assertion under RSA-OAEP: nothing of it in clear on the way', async () => {
    const { page, html, posted, portal } = await encryptedSignIn({
      content: 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
      sessionKey: 'aes-128',
    });
    expect(posted).to.match(/EncryptedAssertion/);
    expect(posted).to.not.include('dave@example.test');
    expect(page.status, html).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(autoPostForm(html).fields);
    expect(profile?.nameID).to.equal('dave@example.test');
  });

  it('signs dave in from an AES-256-CBC assertion inside a Response pysaml2 signed', async () => {
    const { page, html } = await encryptedSignIn({
      content: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
      sessionKey: 'aes-256',
      signResponse: true,
    });
    expect(page.status, html).to.equal(200);
    expect(autoPostForm(html).fields['SAMLResponse']).to.be.a('string');
  });

  for (const [what, encryption, detail] of [
    [
      "pysaml2's default, 3DES-CBC",
      {
        content: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc',
        sessionKey: 'des-192',
        signResponse: true,
      },
      'content_algorithm_unsupported',
    ],
    [
      'AES-CBC in an unsigned Response',
      { content: 'http://www.w3.org/2001/04/xmlenc#aes128-cbc', sessionKey: 'aes-128' },
      'cbc_unsigned',
    ],
  ] as const) {
    it(`refuses ${what} as SAML_ASSERTION_DECRYPTION_FAILED, its log lines saying what (${detail}): nothing reaches the portal`, async () => {
      const { page, html } = await encryptedSignIn(encryption);
      expect(page.status, html).to.equal(400);
      expect(pageReason(html), html).to.equal('SAML_ASSERTION_DECRYPTION_FAILED');
      expect(html).to.not.include('SAMLResponse');
      // The admin reads what to change at the IdP in the log; the page says no more than before.
      expect(html).to.not.include(detail);
      const logs = peers!.broker.logs;
      expect(logs.findLast((l) => l['event'] === 'broker.login')).to.include({
        result: 'refused',
        reason: 'SAML_ASSERTION_DECRYPTION_FAILED',
        detail,
      });
      expect(logs.findLast((l) => l['event'] === 'broker.refusal')).to.include({
        reason: 'SAML_ASSERTION_DECRYPTION_FAILED',
        detail,
      });
    });
  }
});
