// Chromium (136 and later) keeps pages served `Cache-Control: no-store` in its back/forward cache and
// restores them on Back without asking the server, unless a cookie of the site changed meanwhile
// (ADR 0271). A session that ends at the portal (an admin's End sessions, the IdP's back-channel
// logout, a timeout) changes no cookie in the tab: Back on a shared computer showed the last
// customer's request as it was. Playwright turns the cache off; these tabs have it, as customers do.
import { expect } from 'chai';
import type { BrowserContext, Browser as Chromium, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

const SUMMARY = 'Laptop screen flickers';
const ELSEWHERE = 'https://elsewhere.example';

describe('portal: a page kept in the back/forward cache', function () {
  this.timeout(60_000);
  let h: Harness;
  let chromium: Chromium;
  let requestPath: string;
  before(async () => {
    h = await startHarness();
    requestPath = `/requests/${h.keyOf(SUMMARY)}`;
    chromium = await launchChromium([], { backForwardCache: true });
  });
  after(async () => {
    await chromium?.close();
    await h.close();
  });

  /**
   * Alice's tab, signed in, on her request; then she follows a link off the portal in the same tab,
   * which puts the request page in the back/forward cache. `restored` gets, for each page Chromium
   * restores from it, whether the page was visible at that moment.
   */
  async function aliceLeavesHerRequest(): Promise<{
    context: BrowserContext;
    page: Page;
    restored: boolean[];
  }> {
    const context = await chromium.newContext();
    await context.route(`${ELSEWHERE}/**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<p>elsewhere</p>' }),
    );
    const alice = await signIn(h, 'alice@acme.test');
    await context.addCookies([...alice.cookies].map(([name, value]) => ({ name, value, url: h.url })));
    const page = await context.newPage();
    const restored: boolean[] = [];
    await page.exposeFunction('restoredVisible', (visible: boolean) => restored.push(visible));
    await page.addInitScript(`addEventListener('pageshow', (e) => {
      if (e.persisted) window.restoredVisible(!document.documentElement.hidden);
    });`);
    await page.goto(h.url + requestPath);
    expect(await page.textContent('h1')).to.include(SUMMARY);
    await page.goto(`${ELSEWHERE}/`);
    return { context, page, restored };
  }

  /** Back, to the moment the page is in the tab again (a restore fires no `load`). */
  async function back(page: Page): Promise<void> {
    await page.goBack({ waitUntil: 'commit' });
  }

  it('shows nothing of a session an admin ended meanwhile: Back asks the portal, which sends to sign in', async () => {
    const { context, page, restored } = await aliceLeavesHerRequest();
    try {
      const admin = await signIn(h, 'bob@acme.test', { groups: ['portal-admins'] });
      const aliceId = [...h.emulator.state.users.values()].find(
        (u) => u.email === 'alice@acme.test',
      )!.accountId;
      const revoked = await admin.post('/activity/revoke', {
        _csrf: csrfOf((await admin.text('/activity')).body),
        accountId: aliceId,
      });
      expect(revoked.status).to.equal(303);

      const answered = page.waitForResponse(h.url + requestPath, { timeout: 15_000 });
      await back(page);
      const answer = await answered;
      expect(answer.status()).to.equal(303);
      expect(await answer.headerValue('location')).to.match(/^\/login\?return=/);
      // Chromium did restore the page from its cache, hidden until the portal's answer replaced it.
      expect(restored).to.deep.equal([false]);
    } finally {
      await context.close();
    }
  });

  it('asks the portal again for a page restored while the session lives, and shows it as it is now', async () => {
    const { context, page, restored } = await aliceLeavesHerRequest();
    try {
      const answered = page.waitForResponse(h.url + requestPath, { timeout: 15_000 });
      await back(page);
      expect((await answered).status()).to.equal(200);
      expect(restored).to.deep.equal([false]);
      await page.waitForLoadState('load');
      expect(page.url()).to.equal(h.url + requestPath);
      expect(await page.textContent('h1')).to.include(SUMMARY);
      // The restored entry was replaced, not added to: Back still leads where it did before.
      expect(await page.evaluate('history.length')).to.equal(3);
    } finally {
      await context.close();
    }
  });
});
