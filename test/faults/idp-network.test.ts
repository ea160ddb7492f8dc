// The tenant's IdP failing between the broker and a real oidc-provider (the dev IdP) or a server
// of SAML metadata: a TCP proxy (testkit/fault-proxy.ts) stalls, resets or answers 503 where a
// real IdP cannot be asked to. Each sign-in ends in a bounded time with 502 and a stable reason,
// blaming the IdP (never the person), and the next sign-in works once the IdP does. No bound in ms:
// a stalling proxy holds the call until the broker hangs up, so an answer at all is the broker's own
// deadline ending it (IDP_CALL_TIMEOUT says which), and a broker without one runs into mocha's timeout.
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { ClientMetadata } from 'oidc-provider';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { STATUS_PARTIAL_LOGOUT, verifyRedirectSignature } from '../../common/saml/index.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  Browser,
  createPki,
  devClient,
  devOAuth2Idp,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  type Pki,
  PORTAL_URL,
  pageReason,
  portalSp,
  serveBroker,
  serveBrokerFor,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { type FaultProxy, HUGE_BODY_BYTES, startFaultProxy } from '../../testkit/fault-proxy.js';
import { upstreamMetadataBehindProxy, upstreamSamlIdpDocAt } from '../broker/upstream-saml.js';

const IDP_TIMEOUT_MS = 1000;

describe('faults: the IdP failing under a sign-in', function () {
  this.timeout(60_000);
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());

  describe('OIDC (oidc-provider behind a proxy)', () => {
    let proxy: FaultProxy;
    let idp: DevIdp;
    let broker: BrokerUnderTest;
    let brokerUrl: string;
    /** A broker whose tenant signs in with the same server as a plain OAuth 2.0 IdP. */
    let oauth2: BrokerUnderTest;
    /** The flow store the broker's replicas share. */
    const store = new MemoryFlowStore();
    const tenant = () => tenantFor(brokerUrl, [oidcIdp('corporate', proxy.url)]);
    before(async () => {
      proxy = await startFaultProxy();
      const placeholder = await listenPlaceholder();
      brokerUrl = placeholder.url;
      const oauth2Place = await listenPlaceholder();
      const clients: ClientMetadata[] = [
        devClient(brokerUrl),
        devClient(oauth2Place.url, { client_id: 'jsm-sso-oauth2' }),
      ];
      // The IdP names the proxy as its issuer: every call the broker and the browser make goes through it.
      idp = await startDevIdp({ clients, issuer: proxy.url });
      proxy.target = { host: '127.0.0.1', port: (idp.server.address() as AddressInfo).port };
      broker = await serveBroker(placeholder.server, brokerUrl, tenant(), pki, store, {
        idpTimeoutMs: IDP_TIMEOUT_MS,
      });
      oauth2 = await serveBroker(
        oauth2Place.server,
        oauth2Place.url,
        tenantFor(oauth2Place.url, [devOAuth2Idp(proxy.url, 'jsm-sso-oauth2', { name: 'partner' })]),
        pki,
        store,
        { idpTimeoutMs: IDP_TIMEOUT_MS },
      );
    });
    afterEach(() => proxy.clear());
    after(async () => {
      await broker?.close();
      await oauth2?.close();
      await idp?.close();
      await proxy?.close();
      await store.close();
    });

    /** A whole sign-in; its last page is the auto-post to the portal, or the refusal. */
    const signIn = (at = brokerUrl) =>
      loginThroughBroker({ portal: portalSp(at, pki), brokerUrl: at }, new Browser());

    async function expectIdpUnavailable(
      attempt: Awaited<ReturnType<typeof signIn>>,
      by = broker,
      reason = 'OIDC_IDP_UNAVAILABLE',
    ) {
      const { page, html } = attempt;
      expect(page.status, html).to.equal(502);
      expect(pageReason(html)).to.equal(reason);
      expect(by.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(reason);
    }

    // First, while the broker has never read the IdP's keys.
    it('answers 502 OIDC_IDP_UNAVAILABLE when the JWKS endpoint is down at first use, and signs in once it is back', async () => {
      proxy.add({ fault: 'reset', method: 'GET', pathPrefix: '/jwks' });
      await expectIdpUnavailable(await signIn());
      expect(proxy.hits()).to.deep.equal([1]);
      const again = await signIn();
      expect(again.page.status, again.html).to.equal(200);
      expect(again.fields['SAMLResponse']).to.be.a('string');
    });

    // Silence past the call's deadline is the IdP slow, not down (ADR 0441; was OIDC_IDP_UNAVAILABLE).
    it('answers 502 IDP_CALL_TIMEOUT within the IdP timeout when the token endpoint never answers', async () => {
      proxy.add({ fault: 'stall', method: 'POST', pathPrefix: '/token' });
      await expectIdpUnavailable(await signIn(), broker, 'IDP_CALL_TIMEOUT');
      expect(proxy.hits()).to.deep.equal([1]);
    });

    it('answers 502 IDP_CALL_TIMEOUT when the token endpoint’s answer stalls after its headers', async () => {
      proxy.add({ fault: 'stall-body', method: 'POST', pathPrefix: '/token' });
      await expectIdpUnavailable(await signIn(), broker, 'IDP_CALL_TIMEOUT');
      expect(proxy.hits()).to.deep.equal([1]);
    });

    // A rate limit at the IdP (or a gateway in front of it) is the IdP not answering now, not a check
    // the person's answer failed (ADR 0314; was 400 OIDC_RESPONSE_INVALID, "Sign-in refused").
    for (const [method, pathPrefix, what] of [
      ['POST', '/token', 'the token endpoint'],
      ['GET', '/me', 'userinfo'],
    ] as const) {
      it(`answers 502 OIDC_IDP_UNAVAILABLE when ${what} answers 429 (its rate limit), and the next sign-in works`, async () => {
        proxy.add({ fault: 'status-429', method, pathPrefix });
        await expectIdpUnavailable(await signIn());
        expect(proxy.hits()).to.deep.equal([1]);
        expect((await signIn()).page.status).to.equal(200);
      });
    }

    it('answers 502 OIDC_IDP_UNAVAILABLE when userinfo answers 503', async () => {
      proxy.add({ fault: 'status-503', method: 'GET', pathPrefix: '/me' });
      await expectIdpUnavailable(await signIn());
      expect(proxy.hits()).to.deep.equal([1]);
      expect((await signIn()).page.status).to.equal(200);
    });

    // The faults a TCP fault proxy sends beside a stall (ADR 0201): the deadline covers the body, not
    // only the headers (a body trickled byte by byte restarts any idle timer at every byte: the IdP
    // slow, IDP_CALL_TIMEOUT, ADR 0441), and a peer that closes its side or resets mid-body is told at
    // once.
    for (const { fault, method, pathPrefix, what, reason } of [
      {
        fault: 'trickle-body',
        method: 'POST',
        pathPrefix: '/token',
        what: 'the token endpoint trickles its answer byte by byte',
        reason: 'IDP_CALL_TIMEOUT',
      },
      {
        fault: 'half-close',
        method: 'POST',
        pathPrefix: '/token',
        what: 'the token endpoint closes its side unanswered',
        reason: 'OIDC_IDP_UNAVAILABLE',
      },
      {
        fault: 'reset-mid-body',
        method: 'GET',
        pathPrefix: '/me',
        what: 'userinfo resets mid-body',
        reason: 'OIDC_IDP_UNAVAILABLE',
      },
    ] as const) {
      it(`answers 502 ${reason} within the IdP timeout when ${what}, and the next sign-in works`, async () => {
        proxy.add({ fault, method, pathPrefix });
        await expectIdpUnavailable(await signIn(), broker, reason);
        expect(proxy.hits()).to.deep.equal([1]);
        expect((await signIn()).page.status).to.equal(200);
      });
    }

    // A hostile or broken IdP (ADR 0149): its answer is read no further than 1 MiB, decompressed, in
    // a process that serves every tenant of a pool.
    for (const { fault, method, pathPrefix, what } of [
      {
        fault: 'huge-body',
        method: 'POST',
        pathPrefix: '/token',
        what: 'the token endpoint answers an endless body',
      },
      {
        fault: 'gzip-bomb',
        method: 'POST',
        pathPrefix: '/token',
        what: 'the token endpoint answers a gzip bomb',
      },
      { fault: 'huge-body', method: 'GET', pathPrefix: '/me', what: 'userinfo answers an endless body' },
      { fault: 'gzip-bomb', method: 'GET', pathPrefix: '/me', what: 'userinfo answers a gzip bomb' },
    ] as const) {
      it(`answers 502 UPSTREAM_RESPONSE_TOO_LARGE when ${what}, having read at most 1 MiB, and the next sign-in works`, async () => {
        proxy.add({ fault, method, pathPrefix });
        const from = broker.logs.length;
        const { page, html } = await signIn();
        expect(proxy.hits()).to.deep.equal([1]);
        expect(page.status, html).to.equal(502);
        expect(pageReason(html)).to.equal('UPSTREAM_RESPONSE_TOO_LARGE');
        // One operational line, beside the sign-in's audit line; nothing per chunk.
        const lines = broker.logs.slice(from).filter((l) => l['reason'] === 'UPSTREAM_RESPONSE_TOO_LARGE');
        expect(lines.map((l) => l['event']).sort()).to.deep.equal(['broker.login', 'broker.unavailable']);
        // The broker hung up at the limit: the IdP sent no more than that and the sockets' buffers.
        if (fault === 'huge-body')
          expect(proxy.bodyBytesSent(), 'body bytes sent').to.be.below(1024 * 1024 + 16 * 1024 * 1024);
        expect(proxy.bodyBytesSent()).to.be.below(HUGE_BODY_BYTES);
        const again = await signIn();
        expect(again.page.status, again.html).to.equal(200);
        expect(again.fields['SAMLResponse']).to.be.a('string');
      });
    }

    // A plain OAuth 2.0 IdP's user endpoint failing as userinfo does above: the IdP's fault, told as
    // such, not as an answer the broker could not use (OAUTH2_USERINFO_INVALID).
    describe('plain OAuth 2.0, its user endpoint failing', () => {
      for (const { fault, what, reason } of [
        { fault: 'status-503', what: 'answers 503', reason: 'OIDC_IDP_UNAVAILABLE' },
        { fault: 'status-429', what: 'answers 429 (its rate limit)', reason: 'OIDC_IDP_UNAVAILABLE' },
        { fault: 'stall-body', what: 'stalls after its headers', reason: 'IDP_CALL_TIMEOUT' },
        { fault: 'reset-mid-body', what: 'resets mid-body', reason: 'OIDC_IDP_UNAVAILABLE' },
        { fault: 'trickle-body', what: 'trickles its answer byte by byte', reason: 'IDP_CALL_TIMEOUT' },
      ] as const) {
        it(`answers 502 ${reason} within the IdP timeout when the user endpoint ${what}, and the next sign-in works`, async () => {
          proxy.add({ fault, method: 'GET', pathPrefix: '/me' });
          await expectIdpUnavailable(await signIn(oauth2.url), oauth2, reason);
          expect(proxy.hits()).to.deep.equal([1]);
          const again = await signIn(oauth2.url);
          expect(again.page.status, again.html).to.equal(200);
          expect(again.fields['SAMLResponse']).to.be.a('string');
        });
      }

      it('answers 502 UPSTREAM_RESPONSE_TOO_LARGE when the user endpoint answers an endless body, having read at most 1 MiB', async () => {
        proxy.add({ fault: 'huge-body', method: 'GET', pathPrefix: '/me' });
        const from = oauth2.logs.length;
        const { page, html } = await signIn(oauth2.url);
        expect(page.status, html).to.equal(502);
        expect(pageReason(html)).to.equal('UPSTREAM_RESPONSE_TOO_LARGE');
        const lines = oauth2.logs.slice(from).filter((l) => l['reason'] === 'UPSTREAM_RESPONSE_TOO_LARGE');
        expect(lines.map((l) => l['event']).sort()).to.deep.equal(['broker.login', 'broker.unavailable']);
        expect(proxy.bodyBytesSent()).to.be.below(HUGE_BODY_BYTES);
      });
    });

    it('answers the portal PartialLogout within the IdP timeout when a replica that never reached the IdP signs the person out while it is silent', async () => {
      const portal = portalSp(brokerUrl, pki);
      const browser = new Browser();
      const signedIn = await loginThroughBroker({ portal, brokerUrl }, browser);
      const { profile } = await portal.validatePostResponseAsync(signedIn.fields);
      // Another replica behind the same URL and store, started since: it has no discovery yet.
      const placeholder = await listenPlaceholder();
      const replica = await serveBroker(placeholder.server, brokerUrl, tenant(), pki, store, {
        idpTimeoutMs: IDP_TIMEOUT_MS,
      });
      try {
        proxy.add({ fault: 'stall', method: 'GET', pathPrefix: '/.well-known' });
        const logoutUrl = await portal.getLogoutUrlAsync(profile!, 'rs-down', {});
        const answer = await browser.request(logoutUrl, { via: placeholder.url });
        expect(answer.status, await answer.clone().text()).to.equal(302);
        const location = new URL(answer.headers.get('location')!);
        const message = verifyRedirectSignature(location.search.slice(1), 'SAMLResponse', [pki.brokerCert]);
        expect(message.relayState).to.equal('rs-down');
        expect(message.xml).to.contain(`Value="${STATUS_PARTIAL_LOGOUT}"`);
        expect(replica.logs.findLast((l) => l['event'] === 'broker.logout')).to.include({
          result: 'partial',
          // Discovery silent past its deadline: the IdP slow (ADR 0441; was OIDC_DISCOVERY_FAILED).
          reason: 'IDP_CALL_TIMEOUT',
        });
        expect(proxy.hits()).to.deep.equal([1]);
        // The broker session ended all the same: signing out again involves no IdP.
        proxy.clear();
        const again = await browser.request(await portal.getLogoutUrlAsync(profile!, 'rs-again', {}));
        expect(again.headers.get('location')!.startsWith(`${PORTAL_URL}/saml/slo?`)).to.equal(true);
      } finally {
        await replica.close();
      }
    });
  });

  describe('SAML metadata behind a proxy', () => {
    let metadata: Awaited<ReturnType<typeof upstreamMetadataBehindProxy>>;
    let proxy: FaultProxy;
    let broker: BrokerUnderTest;
    before(async () => {
      metadata = await upstreamMetadataBehindProxy();
      proxy = metadata.proxy;
    });
    // A broker of its own for each fault: metadata read once is kept for an hour.
    beforeEach(async () => {
      broker = await serveBrokerFor([upstreamSamlIdpDocAt(metadata.url)], pki, undefined, {
        idpTimeoutMs: IDP_TIMEOUT_MS,
      });
    });
    afterEach(async () => {
      proxy.clear();
      await broker.close();
    });
    after(() => metadata?.close());

    const startSignIn = async () =>
      new Browser().request(await portalSp(broker.url, pki).getAuthorizeUrlAsync('rs', undefined, {}));

    // A body that stalls after its headers is the server slow, not down (ADR 0441).
    const faults = {
      reset: ['connection is reset', 'SAML_METADATA_UNAVAILABLE'],
      'status-503': ['server answers 503', 'SAML_METADATA_UNAVAILABLE'],
      'status-429': ['server answers 429 (its rate limit)', 'SAML_METADATA_UNAVAILABLE'],
      'stall-body': ['stalls after its headers', 'IDP_CALL_TIMEOUT'],
    } as const;
    for (const fault of ['reset', 'status-503', 'status-429', 'stall-body'] as const) {
      const [what, reason] = faults[fault];
      it(`answers 502 ${reason} when the metadata ${what}`, async () => {
        proxy.add({ fault, method: 'GET', pathPrefix: '/saml-metadata' });
        const attempt = await startSignIn();
        const html = await attempt.text();
        expect(attempt.status, html).to.equal(502);
        expect(pageReason(html)).to.equal(reason);
        expect(broker.logs.findLast((l) => l['reason'] !== undefined)?.['reason']).to.equal(reason);
        expect(proxy.hits()).to.deep.equal([1]);
        // Read again at the next sign-in: the IdP is back.
        expect((await startSignIn()).status).to.equal(302);
      });
    }
  });
});
