// What a customer types into a form is kept in the browser tab (sessionStorage) so that a session
// ending mid-submit loses nothing (portal/pages/drafts.ts). A tab is not a person: on a shared
// computer the next person signs in in the same tab, and must not be handed what the last one wrote.
import { expect } from 'chai';
import type { BrowserContext, Browser as Chromium, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { BROKER_URL, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

const DRAFT = 'Salary slip of Alice Anders, 4471';
/** The harness tenant's spec.portal.session.idleTimeoutSeconds (the default), below its absolute timeout. */
const IDLE_SECONDS = 1800;

describe('portal: a draft kept in the tab is given back to its writer only', function () {
  this.timeout(60_000);
  let h: Harness;
  let chromium: Chromium;
  let formPath: string;
  before(async () => {
    h = await startHarness();
    const type = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!;
    formPath = `/desk/1/create/${type.id}`;
    chromium = await launchChromium();
  });
  afterEach(() => h.emulator.faults.clear());
  after(async () => {
    await chromium?.close();
    await h.close();
  });

  /** A tab signed in as `email` (a fresh session of the harness's, as after a sign-in in it). */
  async function signInTab(context: BrowserContext, email: string): Promise<void> {
    await context.clearCookies();
    const browser = await signIn(h, email);
    await context.addCookies([...browser.cookies].map(([name, value]) => ({ name, value, url: h.url })));
  }

  /**
   * Alice types the draft into the raise form, and her session ends before she sends it. `clock`: the
   * tab's clock is the test's to move (Playwright's), from before the first page.
   */
  async function aliceLeavesADraft(clock = false): Promise<{ context: BrowserContext; page: Page }> {
    const context = await chromium.newContext();
    if (clock) await context.clock.install();
    const page = await context.newPage();
    await signInTab(context, 'alice@acme.test');
    await page.goto(`${h.url}${formPath}`);
    await page.fill('#fld-summary', DRAFT);
    await context.clearCookies();
    await page.click('button:has-text("Send")');
    expect(await page.textContent('h1')).to.equal('Signed out');
    return { context, page };
  }

  const tabStorage = (page: Page) => page.evaluate(() => JSON.stringify(window.sessionStorage));

  it('shows another account that signs in in the same tab none of it, and keeps none of it there', async () => {
    const { context, page } = await aliceLeavesADraft();
    try {
      await signInTab(context, 'bob@acme.test');
      await page.goto(`${h.url}${formPath}`);
      expect(await page.inputValue('#fld-summary')).to.equal('');
      expect(await tabStorage(page)).to.not.include('4471');
    } finally {
      await context.close();
    }
  });

  it('gives it back to her in a new session of hers', async () => {
    const { context, page } = await aliceLeavesADraft();
    try {
      await signInTab(context, 'alice@acme.test');
      await page.goto(`${h.url}${formPath}`);
      expect(await page.inputValue('#fld-summary')).to.equal(DRAFT);
    } finally {
      await context.close();
    }
  });

  it('forgets it once a session of hers left idle would have ended, on the page left open and in a new session of hers', async () => {
    const { context, page } = await aliceLeavesADraft(true);
    try {
      // No page is loaded meanwhile: the signed-out page left open forgets it by itself, when due.
      await page.clock.fastForward((IDLE_SECONDS - 60) * 1000);
      expect(await tabStorage(page), 'a minute before').to.include('4471');
      await page.clock.fastForward(60_000);
      expect(await tabStorage(page)).to.not.include('4471');
      await signInTab(context, 'alice@acme.test');
      await page.goto(`${h.url}${formPath}`);
      expect(await page.inputValue('#fld-summary')).to.equal('');
    } finally {
      await context.close();
    }
  });

  /**
   * Alice signed in in a new context, her draft in `writing`, a page Atlassian failed to write (so the
   * tab keeps it); she signs out in `signingOut` (the same page or another tab). The broker's logout is
   * not part of these tests: its page answers anything.
   */
  async function aliceSignsOutWithADraft(sameTab: boolean) {
    const context = await chromium.newContext();
    await context.route(`${BROKER_URL}/**`, (route) => route.fulfill({ status: 200, body: 'broker' }));
    const writing = await context.newPage();
    const signingOut = sameTab ? writing : await context.newPage();
    await signInTab(context, 'alice@acme.test');
    await writing.goto(`${h.url}${formPath}`);
    await writing.fill('#fld-summary', DRAFT);
    h.emulator.faults.set({ status: 500, pathPrefix: '/rest/servicedeskapi/request', method: 'POST' });
    await writing.click('button:has-text("Send")');
    expect(await tabStorage(writing)).to.include('4471');
    await signingOut.goto(`${h.url}/profile`);
    await signingOut.click('button:has-text("Sign out")');
    await signingOut.waitForURL(`${BROKER_URL}/**`);
    return { context, writing };
  }

  it('forgets a draft left in another tab when she signs out', async () => {
    const { context, writing } = await aliceSignsOutWithADraft(false);
    try {
      // The tab she wrote in, left as it was: no page of it loaded since.
      expect(await tabStorage(writing)).to.not.include('4471');
    } finally {
      await context.close();
    }
  });

  it('forgets the tab’s drafts when she signs out', async () => {
    const { context, writing } = await aliceSignsOutWithADraft(true);
    try {
      await writing.goto(`${h.url}/signed-out`);
      expect(await tabStorage(writing)).to.not.include('4471');
    } finally {
      await context.close();
    }
  });

  it('gives the new write key of a form that could not tell whether it raised its request to the tab’s draft: the form opened again raises it at its second post', async () => {
    const hardware = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Request new hardware' && t.serviceDeskId === '1',
    )!;
    const summary = 'A laptop, made and answered 500';
    const raised = () =>
      [...h.emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);
    const context = await chromium.newContext();
    const page = await context.newPage();
    const writeKey = () => page.inputValue('form[data-draft] input[name="_write"]');
    try {
      await signInTab(context, 'alice@acme.test');
      await page.goto(`${h.url}/desk/1/create/${hardware.id}`);
      await page.fill('#fld-summary', summary);
      for (const box of await page
        .locator('form[data-draft] input[type="checkbox"]:not([id^="share-"])')
        .all())
        await box.check();
      const sent = await writeKey();
      // Atlassian raises it and answers 500; a request type without a description cannot be found,
      // so that key can never raise anything again (ADR 0299): the page gives a new form at once.
      h.emulator.faults.set({
        statusAfterHandling: 500,
        pathPrefix: '/rest/servicedeskapi/request',
        method: 'POST',
        times: 1,
      });
      await page.click('button:has-text("Send")');
      expect(await page.textContent('[role="alert"]')).to.contain(
        'sending this form again raises a new request.',
      );
      const anew = await writeKey();
      expect(anew, 'the form given back after the 500').to.not.equal(sent);
      expect(await page.inputValue('#fld-summary'), 'her answers, kept').to.equal(summary);
      // She checks My requests as told, then opens the form again: her draft, with the new key.
      await page.goto(`${h.url}/requests`);
      await page.goto(`${h.url}/desk/1/create/${hardware.id}`);
      expect(await page.inputValue('#fld-summary')).to.equal(summary);
      expect(await writeKey(), 'the form opened again').to.equal(anew);
      await page.click('button:has-text("Send")');
      await page.waitForURL(/\/requests\/[^/?]+\?created=1$/);
      expect(raised(), 'requests raised').to.have.length(2);
    } finally {
      await context.close();
    }
  });
});
