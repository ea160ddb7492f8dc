// A form a browser sends within the page's own limits (`maxlength`) is one the portal reads: a text area's
// limit counts characters, the body carries bytes (three of UTF-8 for a CJK character, nine once URL-encoded),
// and a step's comment of 32,000 Japanese characters, or a comment's, was refused whole as "too large", the
// text lost. A form past every limit is refused with the limits in words and the way back (ADR 0442).
import { expect } from 'chai';
import { MAX_TYPED_TEXT } from '../../portal/typed-text.js';
import { type Browser, csrfOf, type Harness, writeKeyOf } from '../../testkit/portal-harness.js';
import { LOOP_STEP, useWriteFormsHarness } from '../../testkit/request-write-forms.js';

/** As many characters as the text areas' maxlength lets through, each three bytes of UTF-8. */
const LONGEST_JAPANESE = '日本語'.repeat(MAX_TYPED_TEXT / 3 + 1).slice(0, MAX_TYPED_TEXT);

describe('portal: a form within the page’s limits is read, one past them is refused with the limits in words', () => {
  let h: Harness;
  let alice: Browser;
  useWriteFormsHarness((started, signedIn) => {
    h = started;
    alice = signedIn;
  });
  const key = () => h.keyOf('Laptop screen flickers');
  const requestOf = (k: string) => [...h.emulator.state.requests.values()].find((r) => r.key === k)!;

  /** The comment form as the browser sends it (multipart, its enctype) with `body`. */
  const sendComment = async (body: string) => {
    const k = key();
    const page = (await alice.text(`/requests/${k}`)).body;
    const form = new FormData();
    form.set('_csrf', csrfOf(page));
    form.set('_write', writeKeyOf(page, `/requests/${k}/comment`)!);
    form.set('body', body);
    return alice.fetch(`/requests/${k}/comment`, { method: 'POST', body: form, headers: { origin: h.url } });
  };

  it('adds a comment of as many Japanese characters as its text area takes', async () => {
    expect(LONGEST_JAPANESE).to.have.length(MAX_TYPED_TEXT);
    const res = await sendComment(LONGEST_JAPANESE);
    expect(res.status).to.equal(303);
    expect(requestOf(key()).comments.some((c) => c.body.includes(LONGEST_JAPANESE))).to.equal(true);
  });

  it('takes a step with a comment of as many Japanese characters as its text area takes (URL-encoded)', async () => {
    const k = key();
    const page = (await alice.text(`/requests/${k}/transition/${LOOP_STEP.id}`)).body;
    expect(page).to.contain(`maxlength="${MAX_TYPED_TEXT}"`);
    const res = await alice.post(`/requests/${k}/transition`, {
      _csrf: csrfOf(page),
      _write: writeKeyOf(page, `/requests/${k}/transition`)!,
      transition: LOOP_STEP.id,
      body: LONGEST_JAPANESE,
    });
    expect(res.status).to.equal(303);
    expect(requestOf(k).comments.some((c) => c.body.includes(LONGEST_JAPANESE))).to.equal(true);
  });

  it('gives the raise form’s text areas the limit the portal reads, and every text field a limit', async () => {
    const type = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!;
    const page = (await alice.text(`/desk/1/create/${type.id}`)).body;
    const areas = page.match(/<textarea[^>]*>/g) ?? [];
    expect(areas, 'text areas on the form').to.not.be.empty;
    for (const area of areas) expect(area).to.contain(`maxlength="${MAX_TYPED_TEXT}"`);
    // The summary is Jira's 255 (a text field); labels, each 255, are checked one by one past the browser.
    expect(page).to.match(
      /<input type="text" id="fld-summary" name="f_summary" value="[^"]*" maxlength="255"/,
    );
    for (const input of page.match(/<input type="text"[^>]*>/g) ?? [])
      expect(input).to.match(/maxlength="\d+"/);
  });

  it('refuses a form past every limit with the limits in words and the way back, logging its reason', async () => {
    const from = h.logs.length;
    const res = await sendComment('x'.repeat(4 * MAX_TYPED_TEXT));
    const page = await res.text();
    expect(res.status).to.equal(413);
    expect(page).to.contain('<code data-reason>PORTAL_FORM_TOO_LARGE</code>');
    expect(page).to.contain('A text can have at most 32,000 characters and a file at most 10 MB.');
    expect(page).to.contain('Nothing was sent.');
    expect(page).to.contain('Go back to the form with your browser’s Back button');
    expect(h.logs.slice(from).map((l) => l['reason'])).to.include('PORTAL_FORM_TOO_LARGE');
    expect(requestOf(key()).comments.some((c) => c.body.startsWith('xxxx'))).to.equal(false);
  });
});
