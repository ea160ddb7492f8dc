// The broker's copy of an IdP's keys falls due (ADR 0151): a real oidc-provider's JWKS, and then
// either the JWKS endpoint is down (a TCP proxy resets the reads: testkit/fault-proxy.ts) or the IdP
// no longer publishes the key it signed with; a SAML IdP's metadata, whose server then answers 503.
// An endpoint down must not refuse sign-ins while the last copy read is within its grace (SAML:
// never past validUntil), and must be told once, not per sign-in; a withdrawn key must be refused
// once the copy is due by the IdP's own Cache-Control max-age. Only the broker's clock is the test's
// (minutes cannot pass in a test); the IdPs sign real tokens and Responses.
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { JWK } from 'jose';
import { KEY_READ_RETRY_MS } from '../../broker/backends/key-copy-reads.js';
import { KEYS_MAX_FRESH_MS } from '../../broker/backends/oidc-key-copy.js';
import { METADATA_REFRESH_MS } from '../../broker/backends/saml-metadata.js';
import { type DevIdp, newSigningKey, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  formFields,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  pageReason,
  portalAuthnRequestUrl,
  portalSp,
  serveBroker,
  serveBrokerFor,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { type FaultProxy, startFaultProxy } from '../../testkit/fault-proxy.js';
import { makeKeyPair } from '../../testkit/keys.js';
import {
  answeredAtBrokerAcs,
  type MetadataAnswer,
  serveUpstreamMetadata,
  type UpstreamMetadataServer,
  upstreamIdp,
  upstreamMetadataListing,
  upstreamSamlIdpDocAt,
} from '../broker/upstream-saml.js';

describe("faults: the OIDC IdP's keys when the broker's copy falls due", function () {
  this.timeout(60_000);
  let pki: Pki;
  let proxy: FaultProxy;
  let idp: DevIdp;
  let broker: BrokerUnderTest;
  let signingKey: JWK;
  /** The broker's clock. */
  let clock: number;
  /** What the IdP's JWKS answers say: its Cache-Control, and whether the signing key is left out. */
  let cacheControl: string | undefined;
  let withdrawn: boolean;
  let jwksReads: number;

  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());
  beforeEach(async () => {
    clock = Date.now();
    cacheControl = undefined;
    withdrawn = false;
    jwksReads = 0;
    signingKey = await newSigningKey();
    proxy = await startFaultProxy();
    const { server, url } = await listenPlaceholder();
    // The IdP signs with its first key and names the proxy as its issuer: every read goes through it.
    idp = await startDevIdp({
      clients: [devClient(url)],
      issuer: proxy.url,
      signingKeys: [signingKey, await newSigningKey()],
      middleware: [
        async (ctx, next) => {
          await next();
          if (ctx.path !== '/jwks') return;
          jwksReads++;
          if (cacheControl) ctx.set('cache-control', cacheControl);
          // The key is withdrawn from the JWKS while the IdP (an old replica, or whoever took the key) signs with it.
          const body = ctx.body as { keys: JWK[] };
          if (withdrawn) ctx.body = { keys: body.keys.filter((k) => k.kid !== signingKey.kid) };
        },
      ],
    });
    proxy.target = { host: '127.0.0.1', port: (idp.server.address() as AddressInfo).port };
    broker = await serveBroker(
      server,
      url,
      tenantFor(url, [oidcIdp('corporate', proxy.url)]),
      pki,
      undefined,
      {
        now: () => new Date(clock),
        idpTimeoutMs: 2000,
      },
    );
  });
  afterEach(async () => {
    await broker?.close();
    await idp?.close();
    await proxy?.close();
  });

  /** A whole sign-in: the broker's last page (the auto-post to the portal, or the refusal). */
  async function signIn(): Promise<{ status: number; reason?: string; samlResponse?: string }> {
    const { page, html, fields } = await loginThroughBroker(
      { portal: portalSp(broker.url, pki), brokerUrl: broker.url },
      new Browser(),
    );
    const samlResponse = fields['SAMLResponse'];
    return { status: page.status, reason: pageReason(html), ...(samlResponse ? { samlResponse } : {}) };
  }

  async function expectSignedIn(): Promise<void> {
    const attempt = await signIn();
    expect([attempt.status, attempt.reason]).to.deep.equal([200, undefined]);
    expect(attempt.samlResponse).to.be.a('string');
  }

  const stateLines = () =>
    broker.logs
      .filter((l) => String(l['event']).startsWith('broker.idp_keys_'))
      .map((l) => [l['event'], l['keys'], l['reason'] ?? l['was']]);

  it('signs people in with the last keys read while the JWKS endpoint is down, telling it once', async () => {
    await expectSignedIn();
    proxy.add({ fault: 'reset', method: 'GET', pathPrefix: '/jwks', times: 100 });
    clock += KEYS_MAX_FRESH_MS;
    await expectSignedIn();
    await expectSignedIn();
    // One read tried when the copy fell due; the next sign-in did not wait for another.
    expect(proxy.hits()).to.deep.equal([1]);
    expect(stateLines()).to.deep.equal([['broker.idp_keys_stale', 'oidc_jwks', 'OIDC_IDP_UNAVAILABLE']]);
    const failed = await broker.context.registry.getSingleMetricAsString(
      'jsm_sso_broker_idp_key_reads_failed_total',
    );
    expect(failed).to.match(
      /jsm_sso_broker_idp_key_reads_failed_total\{[^}]*idp="corporate",keys="oidc_jwks"\} 1$/m,
    );
    // The endpoint is back: the read tried a minute later takes, and that is told once too.
    proxy.clear();
    clock += KEY_READ_RETRY_MS;
    await expectSignedIn();
    await eventually(async () => stateLines().length >= 2, 'the background read that took to be told');
    expect(stateLines()[1]).to.deep.equal(['broker.idp_keys_recovered', 'oidc_jwks', 'stale']);
  });

  it("refuses a token signed by a key the IdP withdrew once the copy is due by the IdP's Cache-Control", async () => {
    cacheControl = 'max-age=60';
    await expectSignedIn();
    withdrawn = true;
    clock += 60_000;
    const attempt = await signIn();
    expect([attempt.status, attempt.reason]).to.deep.equal([400, 'OIDC_ID_TOKEN_KEY_UNKNOWN']);
    expect(jwksReads).to.be.at.least(2);
    expect(broker.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
      'OIDC_ID_TOKEN_KEY_UNKNOWN',
    );
  });
});

describe("faults: the SAML IdP's metadata server is down when the broker's copy falls due", function () {
  this.timeout(60_000);
  const key = makeKeyPair('upstream-idp.example.test');
  const idp = upstreamIdp({ key });
  let pki: Pki;
  let metadataServer: UpstreamMetadataServer;
  /** What the metadata server answers now: the document, or an HTTP status. */
  let answer: MetadataAnswer;
  let reads: number;
  let clock: number;
  let broker: BrokerUnderTest;

  before(async () => {
    pki = createPki();
    metadataServer = await serveUpstreamMetadata(() => {
      reads++;
      return answer;
    });
  });
  after(async () => {
    await metadataServer.close();
    pki.cleanup();
  });
  beforeEach(async () => {
    clock = Date.now();
    reads = 0;
    // Valid for three hours: read again after one, and never used past the three.
    answer = upstreamMetadataListing(key).replace(
      '<md:EntityDescriptor ',
      `<md:EntityDescriptor validUntil="${new Date(clock + 3 * METADATA_REFRESH_MS).toISOString()}" `,
    );
    broker = await serveBrokerFor([upstreamSamlIdpDocAt(metadataServer.url)], pki, undefined, {
      now: () => new Date(clock),
    });
  });
  afterEach(() => broker.close());

  /** A sign-in the upstream IdP answers at the broker's time; the broker's answer page. */
  async function signIn(): Promise<{ status: number; reason?: string }> {
    const browser = new Browser();
    // The portal's AuthnRequest at the broker's time (node-saml's would be refused as too old).
    const sso = await browser.request(portalAuthnRequestUrl(broker.url, pki, { now: new Date(clock) }));
    // Without usable metadata the broker cannot send the person to the IdP: refused here.
    if (sso.status !== 302) return { status: sso.status, reason: pageReason(await sso.text()) };
    const page = await answeredAtBrokerAcs(
      { browser, brokerUrl: broker.url, idp },
      sso.headers.get('location')!,
      {
        now: new Date(clock),
      },
    );
    const html = await page.text();
    expect(page.status !== 200 || formFields(html)['SAMLResponse'] !== undefined).to.equal(true);
    return { status: page.status, reason: pageReason(html) };
  }

  const stateLines = () =>
    broker.logs
      .filter((l) => String(l['event']).startsWith('broker.idp_keys_'))
      .map((l) => [l['event'], l['keys'], l['reason'] ?? l['was']]);

  it('signs people in with the copy in hand while the metadata server is down, telling it once, and never past validUntil', async () => {
    expect(await signIn()).to.deep.equal({ status: 200, reason: undefined });
    answer = 503;
    clock += METADATA_REFRESH_MS;
    // Due: read in the background, the copy serves.
    expect(await signIn()).to.deep.equal({ status: 200, reason: undefined });
    await eventually(async () => stateLines().length >= 1, 'the background read that failed to be told');
    expect(await signIn()).to.deep.equal({ status: 200, reason: undefined });
    expect(reads).to.equal(2);
    expect(stateLines()).to.deep.equal([
      ['broker.idp_keys_stale', 'saml_metadata', 'SAML_METADATA_UNAVAILABLE'],
    ]);
    // At validUntil the copy may no longer be used: sign-ins are refused, and that is told once more.
    clock += 2 * METADATA_REFRESH_MS;
    expect(await signIn()).to.deep.equal({ status: 502, reason: 'SAML_METADATA_UNAVAILABLE' });
    expect(await signIn()).to.deep.equal({ status: 502, reason: 'SAML_METADATA_UNAVAILABLE' });
    expect(stateLines()).to.deep.equal([
      ['broker.idp_keys_stale', 'saml_metadata', 'SAML_METADATA_UNAVAILABLE'],
      ['broker.idp_keys_unusable', 'saml_metadata', 'SAML_METADATA_UNAVAILABLE'],
    ]);
  });
});
