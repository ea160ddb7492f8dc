// Articles suggested while a summary is typed on the raise form (ADR 0168): the route behind the
// form's script (the desk's knowledge base search, for a desk the customer may use, nothing asked of
// Atlassian for a short or empty summary or a signed-out caller), the page's CSP (fetching from its
// own origin only, on this page only), and the script itself in Chromium with a paused clock: one
// lookup after the customer pauses, none per keystroke, the list built as text.
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { type Browser, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

const KB_SEARCH = /^\/rest\/servicedeskapi\/servicedesk\/\d+\/knowledgebase\/article(\?|$)/;
/** An article whose title is markup cut short: the portal keeps it as text, so must the script. */
const MARKUP_TITLE = 'VPN quirks <img src=x onerror=alert(1)';

describe('portal raise form: related articles while the summary is typed', () => {
  let h: Harness;
  let alice: Browser;
  let erik: Browser;
  let typeId: string;
  before(async () => {
    // No organization mapping: Erik stays a customer of IT Help only.
    h = await startHarness({ atlassian: { organizationMappings: [] } });
    alice = await signIn(h, 'alice@acme.test');
    erik = await signIn(h, 'erik@acme.test');
    h.emulator.state.articles.push({
      id: '990001',
      title: MARKUP_TITLE,
      excerpt: 'When the VPN drops every hour.',
      body: '<p>Renew the profile.</p>',
      serviceDeskId: '1',
    });
    typeId = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!.id;
  });
  after(async () => {
    await h.close();
  });
  const kbCalls = (from: number) => h.exchanges.slice(from).filter((e) => KB_SEARCH.test(e.path));

  it('answers the desk’s articles for the summary, as links to their pages, with one search', async () => {
    const from = h.exchanges.length;
    const res = await alice.fetch('/desk/1/suggest?q=vpn');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    const { articles } = (await res.json()) as {
      articles: { title: string; excerpt: string; href: string }[];
    };
    const vpn = articles.find((a) => a.title === 'Connect to the VPN')!;
    expect(vpn.excerpt).to.equal('Install the VPN profile and sign in with your Acme account.');
    expect(vpn.href).to.match(/^\/desk\/1\/article\/[0-9A-Za-z_-]+\?title=Connect\+to\+the\+VPN$/);
    expect(kbCalls(from).map((e) => e.path.split('?')[0])).to.deep.equal([
      '/rest/servicedeskapi/servicedesk/1/knowledgebase/article',
    ]);
    expect((await alice.text(vpn.href)).body).to.include(
      'Install the VPN profile from the self-service portal',
    );
  });

  it('asks Atlassian nothing for an empty or short summary', async () => {
    const from = h.exchanges.length;
    for (const q of ['', '  ', 'vp', '%20vp%20'])
      expect(await (await alice.fetch(`/desk/1/suggest?q=${q}`)).json(), q).to.deep.equal({ articles: [] });
    expect((await alice.fetch('/desk/1/suggest')).status).to.equal(200);
    expect(kbCalls(from)).to.deep.equal([]);
  });

  it('searches at most 100 characters of the summary', async () => {
    const from = h.exchanges.length;
    await alice.fetch(`/desk/1/suggest?q=${'vpn '.repeat(60)}`);
    const [call] = kbCalls(from);
    const query = new URL(call!.path, h.url).searchParams.get('query')!;
    expect(query).to.have.length(100);
  });

  it('answers 404 for a desk the customer may not use, and for none, without searching it', async () => {
    for (const desk of ['2', '999']) {
      const from = h.exchanges.length;
      const logs = h.logs.length;
      const res = await erik.fetch(`/desk/${desk}/suggest?q=vacation`);
      expect(res.status, desk).to.equal(404);
      expect(
        h.logs.slice(logs).some((l) => l['reason'] === 'PORTAL_DESK_NOT_FOUND'),
        desk,
      ).to.equal(true);
      expect(kbCalls(from), desk).to.deep.equal([]);
    }
  });

  it('sends a visitor who has not signed in to sign in, without searching', async () => {
    const from = h.exchanges.length;
    const res = await fetch(`${h.url}/desk/1/suggest?q=vpn`, { redirect: 'manual' });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.match(/^\/login\?return=/);
    expect(kbCalls(from)).to.deep.equal([]);
  });

  it('lets the raise form’s script fetch from the portal itself, and no other page', async () => {
    const form = await alice.text(`/desk/1/create/${typeId}`);
    const csp = form.res.headers.get('content-security-policy')!;
    expect(csp).to.include("connect-src 'self'");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(form.body).to.include(`data-for="fld-summary" data-src="/desk/1/suggest"`);
    expect(form.body).to.include(
      `<script nonce="${nonce}">(() => {\n  const box = document.getElementById('kb-suggest');`,
    );
    for (const path of ['/', '/desk/1', '/requests'])
      expect((await alice.fetch(path)).headers.get('content-security-policy'), path).to.not.include(
        'connect-src',
      );
  });

  describe('in Chromium', function () {
    this.timeout(60_000);
    let chromium: Chromium;
    let page: Page;
    const violations: string[] = [];
    before(async () => {
      chromium = await launchChromium();
      const context = await chromium.newContext();
      await context.addCookies([...alice.cookies].map(([name, value]) => ({ name, value, url: h.url })));
      page = await context.newPage();
      // What the page's CSP refused (Chromium says each on the console); not the icon's load, which
      // a loaded machine may see fail for reasons of its own.
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/.test(m.text())) violations.push(m.text());
      });
      // Time stands still once the form is shown (pauseAt; install alone lets it flow): timers run
      // only when the test moves the clock, so the debounce is checked without waiting on it.
      const start = Date.parse('2026-12-03T09:00:00Z');
      await page.clock.install({ time: start });
      await page.goto(`${h.url}/desk/1/create/${typeId}`);
      await page.clock.pauseAt(start + 3_600_000);
    });
    after(async () => {
      await chromium?.close();
    });

    it('looks up once the customer pauses, not per keystroke, and lists the articles as links', async () => {
      const from = h.exchanges.length;
      await page.locator('#fld-summary').pressSequentially('vpn profile');
      expect(kbCalls(from), 'while typing').to.deep.equal([]);
      await page.clock.runFor(400);
      const link = page.locator('#kb-suggest a', { hasText: 'Connect to the VPN' });
      await link.waitFor();
      expect(kbCalls(from), 'after the pause').to.have.length(1);
      expect(await link.getAttribute('target')).to.equal('_blank');
      expect(await link.getAttribute('rel')).to.equal('noopener noreferrer');
      expect(await page.locator('#kb-suggest h2').textContent()).to.equal('Articles that may help');
      expect(violations).to.deep.equal([]);
    });

    it('shows a title that looks like markup as text', async () => {
      await page.locator('#fld-summary').fill('vpn');
      await page.clock.runFor(400);
      await page.locator('#kb-suggest strong', { hasText: 'VPN quirks' }).waitFor();
      expect(await page.locator('#kb-suggest strong', { hasText: 'VPN quirks' }).textContent()).to.equal(
        MARKUP_TITLE,
      );
      expect(await page.locator('#kb-suggest img').count()).to.equal(0);
    });

    it('empties the list when the summary finds nothing or is too short', async () => {
      await page.locator('#fld-summary').fill('zzqx qqzz');
      await page.clock.runFor(400);
      await page.locator('#kb-suggest h2').waitFor({ state: 'detached' });
      await page.locator('#fld-summary').fill('vpn');
      await page.clock.runFor(400);
      await page.locator('#kb-suggest li').first().waitFor();
      await page.locator('#fld-summary').fill('vp');
      await page.clock.runFor(400);
      await page.locator('#kb-suggest li').first().waitFor({ state: 'detached' });
      expect(violations).to.deep.equal([]);
    });
  });
});
