// A text area takes no more than the portal reads (its `maxlength`, ADR 0442): a text pasted past it is cut
// there by the browser, and the form is sent and read. A form past every limit (its limit taken off the page,
// as a script or an extension may) is refused with the limits in words, and the browser's Back button, which
// the page names as the way back, brings back the form with what was typed.
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import { MAX_TYPED_TEXT } from '../../portal/typed-text.js';
import { launchChromium } from '../../testkit/chromium.js';
import { type Harness, signedInTab, startHarness } from '../../testkit/portal-harness.js';

describe('portal: a text past the limit is cut by the browser, a form past every limit refused in words', function () {
  this.timeout(60_000);
  let h: Harness;
  let chromium: Chromium;
  let page: Page;
  before(async () => {
    h = await startHarness();
    chromium = await launchChromium();
    page = await signedInTab(h, chromium, 'alice@acme.test');
  });
  after(async () => {
    await chromium?.close();
    await h.close();
  });

  /** Pastes `text` into the field `selector`, as the customer does: the browser applies its maxlength. */
  const paste = async (selector: string, text: string) => {
    await page.focus(selector);
    await page.keyboard.insertText(text);
  };

  it('raise-request form: a description pasted past the limit is cut at it, and the request raised with it', async () => {
    const type = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!;
    await page.goto(`${h.url}/desk/1/create/${type.id}`);
    await page.fill('#fld-summary', 'A very long log pasted');
    await paste('#fld-description', 'x'.repeat(MAX_TYPED_TEXT + 1000));
    expect(await page.inputValue('#fld-description')).to.have.length(MAX_TYPED_TEXT);
    await Promise.all([page.waitForURL(/created=1|unshared=1/), page.click('button:has-text("Send")')]);
    const raised = [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'A very long log pasted',
    )!;
    // Written as cut, with the portal's reference line after it.
    const description = String(raised.fieldValues['description']);
    expect(description).to.contain('x'.repeat(MAX_TYPED_TEXT));
    expect(description).to.not.contain('x'.repeat(MAX_TYPED_TEXT + 1));
  });

  it('comment form past every limit: the page says the limits and the way back, and Back brings the text back', async () => {
    const key = h.keyOf('Laptop screen flickers');
    await page.goto(`${h.url}/requests/${key}`);
    const text = `Typed at length. ${'x'.repeat(4 * MAX_TYPED_TEXT)}`;
    await page.evaluate(() => document.getElementById('comment-body')!.removeAttribute('maxlength'));
    await page.fill('#comment-body', text);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Comment")')]);
    expect(answer?.status()).to.equal(413);
    const refusal = (await page.textContent('main')) ?? '';
    expect(refusal).to.contain('A text can have at most 32,000 characters and a file at most 10 MB.');
    expect(refusal).to.contain('Go back to the form with your browser’s Back button');
    await page.goBack();
    expect(await page.inputValue('#comment-body'), 'her text, back with the form').to.equal(text);
  });
});
