import { expect } from 'chai';
import { withoutWriteKey } from '../../portal/write-once.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

/**
 * The portal's text areas say `maxlength="32000"`, which a browser counts on the text as typed, a line
 * break one character; the form it sends has each line break as CR LF (HTML's form submission; seen in
 * Chromium: `maxlength=10` holds "abcd\n\nefgh" and posts "abcd\r\n\r\nefgh"). So a text the browser
 * took arrives longer than its limit by one character a line.
 */
describe('portal: a long text is judged as the customer typed it (ADR 0361)', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(() => h.close());

  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  /** 320 lines (the first of 100 characters, the rest of 99): 32,000 characters typed, 32,319 sent. */
  const typedFull = (letter: string) =>
    Array.from({ length: 320 }, (_, i) => letter.repeat(i === 0 ? 100 : 99)).join('\r\n');

  it('takes a comment of 32,000 characters typed with line breaks, as the browser sends it', async () => {
    const r = request('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${r.key}`);
    const text = typedFull('c');
    expect(text.replace(/\r\n/g, '\n')).to.have.length(32_000);
    const res = await alice.post(`/requests/${r.key}/comment`, { body: text, _csrf: csrfOf(page.body) });
    expect(res.status).to.equal(303);
    const written = request('Printer on 3rd floor jams every morning').comments.map((c) =>
      withoutWriteKey(c.body),
    );
    expect(written.some((b) => b.includes(`${'c'.repeat(99)}\n${'c'.repeat(99)}`))).to.equal(true);
  });

  it('refuses a comment longer than 32,000 characters as too long, not as empty, and keeps it', async () => {
    const r = request('Printer on 3rd floor jams every morning');
    const before = r.comments.length;
    const page = await alice.text(`/requests/${r.key}`);
    const from = h.logs.length;
    const res = await alice.post(`/requests/${r.key}/comment`, {
      body: 'd'.repeat(32_001),
      _csrf: csrfOf(page.body),
    });
    expect(res.status).to.equal(400);
    const body = await res.text();
    expect(body).to.contain('The comment is too long.').and.not.contain('Write a comment first.');
    expect(body).to.contain('PORTAL_ACTION_INVALID');
    expect(body).to.contain(`>${'d'.repeat(32_001)}</textarea>`);
    expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID');
    expect(request('Printer on 3rd floor jams every morning').comments).to.have.length(before);
  });

  it('still refuses a comment of nothing but spaces and line breaks as empty', async () => {
    const r = request('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${r.key}`);
    const res = await alice.post(`/requests/${r.key}/comment`, {
      body: ' \r\n\r\n ',
      _csrf: csrfOf(page.body),
    });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('Write a comment first.');
  });

  it('takes a step’s comment of 32,000 characters typed with line breaks', async () => {
    const r = request('Calendar invites arrive twice');
    const page = await alice.text(`/requests/${r.key}`);
    const href = new RegExp(`href="(/requests/${r.key}/transition/([^"]+))"`).exec(page.body);
    expect(href, 'a transition link').to.not.equal(null);
    const confirm = await alice.text(href![1]!);
    const res = await alice.post(`/requests/${r.key}/transition`, {
      transition: href![2]!,
      body: typedFull('s'),
      _csrf: csrfOf(confirm.body),
    });
    expect(res.status).to.equal(303);
    const after = request('Calendar invites arrive twice');
    expect(after.comments.some((c) => c.body.includes(`${'s'.repeat(99)}\n${'s'.repeat(99)}`))).to.equal(
      true,
    );
  });

  it('takes a description of 32,000 characters typed with line breaks on the raise form', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const summary = 'A description typed to the limit';
    const res = await form.post({
      ...(await form.fresh()),
      f_summary: summary,
      f_description: typedFull('p'),
    });
    expect(res.status).to.equal(303);
    expect(form.created(summary)).to.have.length(1);
  });
});
