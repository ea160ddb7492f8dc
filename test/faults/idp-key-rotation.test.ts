// The tenant's OIDC IdP rotates its signing key between two sign-ins, as a redeployment of a real
// oidc-provider does: the new key signs from the next token on and is published in the JWKS at the
// same moment (next to the old one, or instead of it). The sign-in right after must work, whatever
// the broker's copy of the JWKS (ADR 0144).
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { JWK } from 'jose';
import { type DevIdp, newSigningKey, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  pageReason,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { type FaultProxy, startFaultProxy } from '../../testkit/fault-proxy.js';

describe('faults: the OIDC IdP rotates its signing key between sign-ins', function () {
  this.timeout(60_000);
  let pki: Pki;
  let idp: DevIdp;
  let broker: BrokerUnderTest;
  let oldKey: JWK;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());
  // A broker and IdP of their own per test: each starts from a broker that has read the old key.
  beforeEach(async () => {
    oldKey = await newSigningKey();
    const { server, url } = await listenPlaceholder();
    idp = await startDevIdp({ clients: [devClient(url)], signingKeys: [oldKey] });
    broker = await serveBroker(server, url, tenantFor(url, [oidcIdp('corporate', idp.issuer)]), pki);
  });
  afterEach(async () => {
    await broker?.close();
    await idp?.close();
  });

  /** A whole sign-in, up to the portal's check of the Response it gets. */
  async function expectSignedIn(): Promise<void> {
    const portal = portalSp(broker.url, pki);
    const { page, html, fields } = await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
    expect(page.status, pageReason(html) ?? html.slice(0, 300)).to.equal(200);
    const { profile } = await portal.validatePostResponseAsync(fields);
    expect(profile?.nameID).to.equal('alice@acme.test');
  }

  /** The kids the IdP publishes, in order, as anyone reads them. */
  async function publishedKids(): Promise<string[]> {
    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: JWK[] };
    return jwks.keys.map((k) => k.kid!);
  }

  it('signs in three people at once right after the rotation, with one read of the JWKS', async () => {
    await expectSignedIn();
    await idp.restartWithSigningKeys([await newSigningKey(), oldKey]);
    await Promise.all([expectSignedIn(), expectSignedIn(), expectSignedIn()]);
    const events = broker.logs.map((l) => l['event']);
    expect(events.filter((e) => e === 'broker.oidc_keys_refetch')).to.have.length(1);
    expect(events).to.not.include('broker.oidc_keys_refetch_held');
  });

  it("signs in at once after the IdP starts signing with a new key under the old key's kid (its only key replaced)", async () => {
    await expectSignedIn();
    await idp.restartWithSigningKeys([{ ...(await newSigningKey()), kid: oldKey.kid! }]);
    expect(await publishedKids()).to.deep.equal([oldKey.kid]);
    await expectSignedIn();
    await expectSignedIn();
  });

  for (const variant of ['published next to the old one', 'and the old one removed'] as const) {
    it(`signs in at once after the IdP starts signing with a new key ${variant}`, async () => {
      await expectSignedIn();
      const newKey = await newSigningKey();
      await idp.restartWithSigningKeys(variant === 'and the old one removed' ? [newKey] : [newKey, oldKey]);
      expect((await publishedKids())[0]).to.equal(newKey.kid);
      await expectSignedIn();
      // And the one after it, from the broker's refreshed copy.
      await expectSignedIn();
    });
  }

  // The rotation meets a JWKS endpoint that fails (ADR 0314): the broker cannot know the new key, so
  // the IdP is failing, never the person's token (a 400 "Sign-in refused"). A read is made once per
  // cooldown; the sign-ins between are told the same, not refused as tokens of an unknown key.
  describe('with its JWKS endpoint failing (behind a proxy)', () => {
    let proxy: FaultProxy;
    beforeEach(async () => {
      await broker.close();
      await idp.close();
      proxy = await startFaultProxy();
      const { server, url } = await listenPlaceholder();
      idp = await startDevIdp({ clients: [devClient(url)], signingKeys: [oldKey], issuer: proxy.url });
      proxy.target = { host: '127.0.0.1', port: (idp.server.address() as AddressInfo).port };
      broker = await serveBroker(server, url, tenantFor(url, [oidcIdp('corporate', proxy.url)]), pki);
    });
    afterEach(() => proxy.close());

    async function expectKeysUnavailable(reason: string): Promise<void> {
      const portal = portalSp(broker.url, pki);
      const from = broker.logs.length;
      const { page, html } = await loginThroughBroker({ portal, brokerUrl: broker.url }, new Browser());
      expect([page.status, pageReason(html)]).to.deep.equal([502, reason]);
      expect(
        broker.logs
          .slice(from)
          .filter((l) => l['event'] === 'broker.unavailable')
          .map((l) => l['reason']),
      ).to.deep.equal([reason]);
    }

    for (const { variant, keys, fault, reason } of [
      { variant: 'a new kid', keys: 'new', fault: 'status-503', reason: 'OIDC_IDP_UNAVAILABLE' },
      { variant: 'a new kid', keys: 'new', fault: 'huge-body', reason: 'UPSTREAM_RESPONSE_TOO_LARGE' },
      { variant: "the old key's kid", keys: 'same-kid', fault: 'status-503', reason: 'OIDC_IDP_UNAVAILABLE' },
    ] as const) {
      it(`answers 502 when the IdP signs with ${variant} while its JWKS endpoint ${fault === 'huge-body' ? 'answers an endless body' : 'answers 503'}, at every sign-in, reading it once`, async () => {
        await expectSignedIn();
        const newKey = await newSigningKey();
        await idp.restartWithSigningKeys([keys === 'new' ? newKey : { ...newKey, kid: oldKey.kid! }]);
        proxy.add({ fault, method: 'GET', pathPrefix: '/jwks', times: 5 });
        await expectKeysUnavailable(reason);
        // Within the cooldown: not read again, and still the IdP's failure, not the token's.
        await expectKeysUnavailable('OIDC_IDP_UNAVAILABLE');
        expect(proxy.hits()).to.deep.equal([1]);
      });
    }
  });
});
