// The tenant's upstream SAML IdP rolls its signing certificate over, its metadata (read from a URL)
// listing the new certificate beside the old one, then alone, and it signs with the new key from
// the moment its metadata names it. The broker must accept the new signatures at once and still
// refuse a key the metadata never listed (ADR 0144). Responses are signed by samlify (real XML
// signatures); the metadata server is a plain HTTP server whose document the test changes.
import { expect } from 'chai';
import { METADATA_REFETCH_COOLDOWN_MS } from '../../broker/backends/saml-metadata.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  formFields,
  type Pki,
  pageReason,
  portalSp,
  serveBrokerFor,
} from '../../testkit/broker-harness.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import {
  serveUpstreamMetadata,
  signInAtUpstreamIdp,
  type UpstreamIdp,
  type UpstreamMetadataServer,
  upstreamIdp,
  upstreamMetadataListing,
  upstreamSamlIdpDocAt,
} from '../broker/upstream-saml.js';

describe('faults: the upstream SAML IdP rolls its signing certificate over', function () {
  this.timeout(60_000);
  const oldKey = makeKeyPair('upstream-idp.example.test');
  const newKey = makeKeyPair('upstream-idp-next.example.test');
  const strangerKey = makeKeyPair('attacker');
  const signingWith = (key: KeyPair) => upstreamIdp({ key });
  let pki: Pki;
  let metadataServer: UpstreamMetadataServer;
  /** The metadata document the IdP publishes now, and how many times it was read. */
  let published: string;
  let reads = 0;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    metadataServer = await serveUpstreamMetadata(() => {
      reads++;
      return published;
    });
  });
  after(async () => {
    await metadataServer.close();
    pki.cleanup();
  });
  // A broker of its own per test, which reads the metadata (listing the old certificate) at its first sign-in.
  beforeEach(async () => {
    published = upstreamMetadataListing(oldKey);
    reads = 0;
    broker = await serveBrokerFor([upstreamSamlIdpDocAt(metadataServer.url)], pki);
  });
  afterEach(() => broker.close());

  /** A sign-in whose Response `idp` signs; the broker's answer page. */
  async function signInSignedBy(
    idp: UpstreamIdp,
  ): Promise<{ status: number; reason?: string; samlResponse?: string }> {
    const page = await signInAtUpstreamIdp(
      { browser: new Browser(), portal: portalSp(broker.url, pki), brokerUrl: broker.url, idp },
      { nameId: 'carol@example.test' },
    );
    const html = await page.text();
    const samlResponse = formFields(html)['SAMLResponse'];
    return { status: page.status, reason: pageReason(html), ...(samlResponse ? { samlResponse } : {}) };
  }

  async function expectSignedIn(idp: UpstreamIdp): Promise<void> {
    const attempt = await signInSignedBy(idp);
    expect([attempt.status, attempt.reason]).to.deep.equal([200, undefined]);
    expect(attempt.samlResponse).to.be.a('string');
  }

  async function expectRefused(idp: UpstreamIdp, reason: string): Promise<void> {
    const attempt = await signInSignedBy(idp);
    expect([attempt.status, attempt.reason]).to.deep.equal([400, reason]);
  }

  it('accepts the new certificate at once when the metadata lists it beside the old one, then alone', async () => {
    await expectSignedIn(signingWith(oldKey));
    expect(reads).to.equal(1);
    published = upstreamMetadataListing(oldKey, newKey);
    await expectSignedIn(signingWith(newKey));
    // One read, prompted by the signature the copy in hand could not verify.
    expect(reads).to.equal(2);
    expect(broker.logs.filter((l) => l['event'] === 'broker.saml_metadata_refresh')).to.have.length(1);
    published = upstreamMetadataListing(newKey);
    await expectSignedIn(signingWith(newKey));
    expect(reads).to.equal(2);
  });

  it('accepts the new certificate when it replaces the old one outright, and then refuses the old key', async () => {
    await expectSignedIn(signingWith(oldKey));
    published = upstreamMetadataListing(newKey);
    await expectSignedIn(signingWith(newKey));
    expect(reads).to.equal(2);
    await expectRefused(signingWith(oldKey), 'SAML_SIGNATURE_INVALID');
  });

  it('accepts two Responses signed with the new key at once, reading the metadata once', async () => {
    await expectSignedIn(signingWith(oldKey));
    published = upstreamMetadataListing(oldKey, newKey);
    await Promise.all([expectSignedIn(signingWith(newKey)), expectSignedIn(signingWith(newKey))]);
    expect(reads).to.equal(2);
    expect(broker.logs.map((l) => l['event'])).to.not.include('broker.saml_metadata_refresh_held');
  });

  it('refuses a Response signed by a key the metadata never listed, reading the metadata again at most once per cooldown', async () => {
    await expectSignedIn(signingWith(oldKey));
    const started = performance.now();
    for (let i = 0; i < 6; i++) await expectRefused(signingWith(strangerKey), 'SAML_SIGNATURE_INVALID');
    const elapsed = performance.now() - started;
    const rereads = reads - 1;
    expect(rereads)
      .to.be.at.least(1)
      .and.at.most(1 + Math.floor(elapsed / METADATA_REFETCH_COOLDOWN_MS));
    const held = broker.logs.filter((l) => l['event'] === 'broker.saml_metadata_refresh_held').length;
    // Each forged Response after the first either caused a read or was denied one.
    expect(rereads + held).to.equal(6);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'SAML_SIGNATURE_INVALID',
    );
    // The IdP's own key still signs people in.
    await expectSignedIn(signingWith(oldKey));
  });
});
