import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import { FRONTCHANNEL_ENDED_SLOTS } from '../../broker/flows.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { html } from '../../common/http/html.js';
import type { DevIdp } from '../../dev/idp/provider.js';
import {
  type BrokerUnderTest,
  type Browser,
  brokerReplica,
  closeServer,
} from '../../testkit/broker-harness.js';
import { launchChromium } from '../../testkit/chromium.js';
import { type OidcLogoutChain, startOidcLogoutChain } from '../../testkit/oidc-logout-chain.js';
import { TEST_PLACEMENT, tenantAt, withHost } from '../../testkit/pool.js';
import type { Harness } from '../../testkit/portal-harness.js';

const LOGOUT_PATH = '/oidc/frontchannel-logout/corporate';

/**
 * OpenID Connect Front-Channel Logout 1.0 through the whole chain (ADR 0159): the real portal signs in
 * through the broker at oidc-provider, whose ID token carries the IdP session's `sid`; the person
 * signs out at oidc-provider in Chromium, and its logout page frames the broker's front-channel
 * logout URI with `iss` and `sid`; the broker ends its session and, over the SAML SOAP binding, the
 * portal's. oidc-provider removed its own Front-Channel Logout in 7.0.0: the logout page that frames
 * the URI is the development IdP's (dev/idp/frontchannel-logout.ts), built from oidc-provider's real
 * session. Every attack names a signed-in person's real sid (but the unknown one), so a check left
 * out would end her session.
 */
describe('broker: OIDC front-channel logout ends the portal session', function () {
  this.timeout(90_000);
  let chain: OidcLogoutChain;
  let idp: DevIdp;
  let portal: Harness;
  let broker: BrokerUnderTest;
  /** The broker's store, to count what a stranger's requests leave in it. */
  const brokerStore = new MemoryFlowStore();

  before(async () => {
    chain = await startOidcLogoutChain({
      store: brokerStore,
      logoutRegistration: (url) => ({
        frontchannel_logout_uri: `${url}${LOGOUT_PATH}`,
        frontchannel_logout_session_required: true,
      }),
      idp: {
        // A page of the IdP's origin that frames a given address, as its logout page does.
        middleware: [
          async (ctx, next) => {
            if (ctx.path !== '/test/frame') return next();
            ctx.type = 'html';
            ctx.body = framingPage(String(ctx.query['src']));
          },
        ],
      },
    });
    ({ idp, portal, broker } = chain);
  });

  after(async () => {
    await chain?.close();
  });

  const signedIn = (email?: string) => chain.signedIn(email);
  const portalPage = (browser: Browser) => chain.portalPage(browser);

  /**
   * The front-channel logout request as the IdP's frame sends it, with `query` as given (an attack),
   * to `url` (default the broker) with Host `host` (default the URL's; fetch would not send another).
   */
  async function frontchannel(
    query: string,
    options: { url?: string; host?: string; method?: string } = {},
  ): Promise<Response> {
    const path = `${LOGOUT_PATH}${query ? `?${query}` : ''}`;
    const res = await withHost(options.url ?? broker.url, options.host, path, {
      ...(options.method ? { method: options.method } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers))
      for (const one of [value ?? []].flat()) headers.append(name, one);
    return new Response(res.body, { status: res.status, headers });
  }

  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

  function frontchannelLines() {
    return broker.logs.filter((l) => l['event'] === 'broker.frontchannel_logout');
  }

  /** The headers only this route has: framed by the IdP's origin alone, never cached. */
  function expectFramedByIdpOnly(res: Response): void {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).to.include(`frame-ancestors ${new URL(idp.issuer).origin};`);
    expect(csp).to.include("default-src 'none'");
    expect(res.headers.get('x-frame-options'), 'DENY would keep the IdP from framing it').to.equal(null);
    expect(res.headers.get('cache-control')).to.equal('no-cache, no-store');
    expect(res.headers.get('pragma')).to.equal('no-cache');
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
  }

  describe('in Chromium, from the IdP sign-out page', () => {
    let chromium: Chromium;
    before(async () => {
      chromium = await launchChromium();
    });
    after(async () => chromium?.close());

    /** A profile signed in at the portal through the broker and the IdP, in Chromium. */
    async function signedInPage(): Promise<Page> {
      const page = await (await chromium.newContext()).newPage();
      await page.goto(`${portal.url}/login`);
      await page.waitForURL(`${idp.issuer}/**`);
      await page.fill('input[name="email"]', 'alice@acme.test');
      await page.fill('input[name="password"]', 'demo');
      await page.click('button[type="submit"]');
      await page.waitForURL(`${portal.url}/**`);
      expect(await chromiumPortalPage(page)).to.equal(200);
      return page;
    }

    /** The portal's signed-in page with the profile's cookies, its redirect not followed. */
    async function chromiumPortalPage(page: Page): Promise<number> {
      const res = await page.request.get(`${portal.url}/requests`, { maxRedirects: 0 });
      return res.status();
    }

    it('ends the portal session when the person signs out at the IdP, whose page frames the broker', async () => {
      const page = await signedInPage();
      const framed = page.waitForRequest((r) => r.url().startsWith(`${broker.url}${LOGOUT_PATH}?`));
      const linesBefore = frontchannelLines().length;
      await page.goto(`${idp.issuer}/session/end?client_id=jsm-sso`);
      await page.click('button[value="yes"]');
      const request = await framed;
      expect(request.frame().parentFrame(), 'loaded in a frame of the IdP page').not.to.equal(null);
      const params = new URL(request.url()).searchParams;
      expect(params.get('iss')).to.equal(idp.issuer);
      expect(params.get('sid')).to.equal(chain.sids.at(-1));
      // The IdP page goes on once its frames have loaded.
      await page.waitForURL(`${idp.issuer}/session/end/success**`);
      expect(await chromiumPortalPage(page), 'the portal session is gone').to.equal(303);
      const [line] = frontchannelLines().slice(linesBefore);
      expect(line).to.include({ idp: 'corporate', result: 'ended' });
      const logged = JSON.stringify([...broker.logs, ...portal.logs]);
      expect(logged).not.to.include(params.get('sid')!);
      expect(logged).not.to.include('alice@acme.test');
      await page.context().close();
    });

    it('shows its page in a frame of the IdP origin only; another origin cannot frame it', async () => {
      const page = await (await chromium.newContext()).newPage();
      const target = `${broker.url}${LOGOUT_PATH}?${query({ iss: idp.issuer, sid: 'no-such-session' })}`;
      await page.goto(`${idp.issuer}/test/frame?${query({ src: target })}`);
      const atIdp = page.frames()[1]!;
      await atIdp.waitForLoadState();
      expect(await atIdp.textContent('body')).to.include('Signed out');
      const evil = await framingSite();
      try {
        await page.goto(`${evil.url}/?${query({ src: target })}`);
        const atEvil = page.frames()[1]!;
        await atEvil.waitForLoadState();
        // Chromium refuses to show it (frame-ancestors): an error page in its place.
        expect(atEvil.url()).to.match(/^chrome-error:/);
        expect(await atEvil.textContent('body').catch(() => '')).not.to.include('Signed out');
      } finally {
        await evil.close();
        await page.context().close();
      }
    });
  });

  it('answers a page with the framing and caching headers of the route, and ends the session its sid names', async () => {
    const { browser, sid } = await signedIn();
    const res = await frontchannel(query({ iss: idp.issuer, sid }));
    expect(res.status).to.equal(200);
    expectFramedByIdpOnly(res);
    expect(await res.text()).to.include('Signed out');
    expect(await portalPage(browser)).to.equal(303);
    expect(frontchannelLines().at(-1)).to.include({ result: 'ended' });
    // Once more, as a second frame or a reload would: nothing is left, and the answer is the same.
    const again = await frontchannel(query({ iss: idp.issuer, sid }));
    expect(again.status).to.equal(200);
    expect(frontchannelLines().at(-1)).to.include({ result: 'no_session' });
  });

  it('takes a sid without iss, as Microsoft Entra ID sends it: the address names the IdP', async () => {
    const { browser, sid } = await signedIn();
    const res = await frontchannel(query({ sid }));
    expect(res.status).to.equal(200);
    expect(await portalPage(browser)).to.equal(303);
    expect(frontchannelLines().at(-1)).to.include({ result: 'ended' });
  });

  it('ends only the session of the IdP session signed out; her other browser stays in', async () => {
    const laptop = await signedIn();
    const phone = await signedIn();
    expect((await frontchannel(query({ iss: idp.issuer, sid: laptop.sid }))).status).to.equal(200);
    expect(await portalPage(laptop.browser)).to.equal(303);
    expect(await portalPage(phone.browser), 'another IdP session, another portal session').to.equal(200);
  });

  describe('refuses or ignores what does not name a session of this IdP, ending nothing', () => {
    let alice: { browser: Browser; sid: string };
    before(async () => {
      alice = await signedIn();
    });

    const refusals: Array<[string, () => string, string]> = [
      [
        'another issuer with her sid',
        () => query({ iss: 'https://idp.evil.test', sid: alice.sid }),
        'issuer',
      ],
      [
        "the issuer's URL with a trailing slash",
        () => query({ iss: `${idp.issuer}/`, sid: alice.sid }),
        'issuer',
      ],
      ['no parameters (no session named: "the current one" is not taken)', () => '', 'session'],
      ['an empty iss with her sid', () => query({ iss: '', sid: alice.sid }), 'issuer'],
      ['iss without sid', () => query({ iss: idp.issuer }), 'session'],
      ['an empty sid', () => query({ iss: idp.issuer, sid: '' }), 'session'],
    ];
    for (const [label, make, check] of refusals) {
      it(`refuses ${label} (400, OIDC_FRONTCHANNEL_LOGOUT_INVALID, detail ${check})`, async () => {
        const res = await frontchannel(make());
        expect(res.status).to.equal(400);
        expectFramedByIdpOnly(res);
        expect(await res.text()).to.include('OIDC_FRONTCHANNEL_LOGOUT_INVALID');
        expect(frontchannelLines().at(-1)).to.include({
          result: 'refused',
          reason: 'OIDC_FRONTCHANNEL_LOGOUT_INVALID',
          detail: check,
        });
        expect(await portalPage(alice.browser), 'still signed in').to.equal(200);
      });
    }

    it('refuses a repeated sid (400, HTTP_PARAMETER_REPEATED)', async () => {
      const res = await frontchannel(`${query({ iss: idp.issuer, sid: 'unknown' })}&sid=${alice.sid}`);
      expect(res.status).to.equal(400);
      expect(frontchannelLines().at(-1)).to.include({ result: 'refused', reason: 'HTTP_PARAMETER_REPEATED' });
      expect(await portalPage(alice.browser)).to.equal(200);
    });

    it('refuses a POST (405): the frame is a GET', async () => {
      const res = await frontchannel(query({ iss: idp.issuer, sid: alice.sid }), { method: 'POST' });
      expect(res.status).to.equal(405);
      expect(await portalPage(alice.browser)).to.equal(200);
    });

    it('ends nothing for a sid of no session here, and answers as for one (no oracle of live sids)', async () => {
      const res = await frontchannel(query({ iss: idp.issuer, sid: 'a-sid-nobody-has-0123456789' }));
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('Signed out');
      expect(frontchannelLines().at(-1)).to.include({ result: 'no_session' });
      expect(await portalPage(alice.browser)).to.equal(200);
    });

    it('keeps a bounded number of records for made-up sids, however many a stranger sends (ADR 0248)', async () => {
      // Anyone may send this GET: a sid names no one until a session has it. Before, each made-up sid
      // left one record for the broker session TTL (8 h), so one client filled the memory store
      // (20,000 entries: every sign-in then 503 FLOW_STORE_FULL) or Redis, at the rate it was served.
      const sizeBefore = brokerStore.size;
      const sent = 1_000;
      for (let i = 0; i < sent; i += 25) {
        await Promise.all(
          Array.from({ length: 25 }, async (_, j) => {
            const res = await frontchannel(
              query({ iss: idp.issuer, sid: `made-up-${i + j}-${randomUUID()}` }),
            );
            expect(res.status).to.equal(200);
            await res.text();
          }),
        );
      }
      expect(brokerStore.size - sizeBefore).to.be.at.most(FRONTCHANNEL_ENDED_SLOTS);
      expect(await portalPage(alice.browser)).to.equal(200);
    });

    it("ends nothing at another tenant's address with her sid, which still ends her session here", async () => {
      let other: { url: string; host?: string; close(): Promise<void> };
      if (TEST_PLACEMENT === 'pool') {
        // The pool's other tenants are copies of this one at 127.0.0.2 and .3 (testkit/pool.ts):
        // the same IdP and issuer, their own store.
        const { port } = new URL(broker.url);
        other = { url: broker.url, host: `127.0.0.2:${port}`, close: async () => {} };
      } else {
        other = await brokerReplica(
          broker,
          (tenant) => tenantAt(tenant, 'broker', 'acme-other', 'http://127.0.0.1:1'),
          new MemoryFlowStore(),
        );
      }
      try {
        const there = await frontchannel(query({ iss: idp.issuer, sid: alice.sid }), other);
        expect(there.status, 'the issuer is right there too, and the sid names nothing').to.equal(200);
        expect(await portalPage(alice.browser), 'still signed in here').to.equal(200);
      } finally {
        await other.close();
      }
      expect((await frontchannel(query({ iss: idp.issuer, sid: alice.sid }))).status).to.equal(200);
      expect(await portalPage(alice.browser)).to.equal(303);
    });
  });

  it('leaves both sessions and says so (502) when the portal cannot be reached', async () => {
    const { browser, sid } = await signedIn();
    const cutOff = await brokerReplica(broker, (tenant) =>
      tenantAt(tenant, 'portal', tenant.metadata!.name!, 'http://127.0.0.1:1'),
    );
    try {
      const res = await frontchannel(query({ iss: idp.issuer, sid }), { url: cutOff.url });
      expect(res.status).to.equal(502);
      expect(res.headers.get('cache-control')).to.equal('no-cache, no-store');
      expect(await res.text()).to.include('PORTAL_LOGOUT_UNCONFIRMED');
      expect(frontchannelLines().at(-1)).to.include({ result: 'error', reason: 'PORTAL_LOGOUT_UNCONFIRMED' });
      expect(await portalPage(browser), 'still signed in').to.equal(200);
      // The broker session was left too: the same request through a replica that reaches the portal ends both.
      expect((await frontchannel(query({ iss: idp.issuer, sid }))).status).to.equal(200);
      expect(await portalPage(browser)).to.equal(303);
    } finally {
      await cutOff.close();
    }
  });
});

/** A page that frames `src`, as an IdP's logout page frames each client's URI. */
function framingPage(src: string): string {
  return html`<!DOCTYPE html><html><head><meta charset="utf-8"><title>frames</title></head><body><iframe src="${src}"></iframe></body></html>`
    .value;
}

/** A site of another origin that frames whatever it is asked to. */
async function framingSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(framingPage(src));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}
