// The page's own script tells the customer at selection which file is over the limit, or that she
// chose too many, and holds the form back, so nothing of it is sent (pages/upload-limits.ts, ADR 0433).
import { expect } from 'chai';
import type { Browser as Chromium, Page } from 'playwright-core';
import { launchChromium } from '../../testkit/chromium.js';
import { type Harness, signedInTab, startHarness } from '../../testkit/portal-harness.js';

const LIMIT = 10 * 1024 * 1024;
const file = (name: string, bytes: number) => ({
  name,
  mimeType: 'text/plain',
  buffer: Buffer.alloc(bytes, 65),
});
const BIG = 'Scan of the invoice.txt';
const threeFiles = () => [file('before.txt', 1000), file(BIG, LIMIT + 1), file('after.txt', 1000)];

describe('portal: a file over the limit is named at selection, and the form not sent', function () {
  this.timeout(60_000);
  let h: Harness;
  let chromium: Chromium;
  let page: Page;
  /** POSTs the tab sent to the portal (a refused form must send none). */
  let posts: string[];
  before(async () => {
    h = await startHarness();
    chromium = await launchChromium();
    page = await signedInTab(h, chromium, 'alice@acme.test');
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
  });
  beforeEach(() => {
    posts = [];
  });
  after(async () => {
    await chromium?.close();
    await h.close();
  });
  const uploads = () => h.exchanges.filter((e) => e.path.endsWith('/attachTemporaryFile')).length;
  const limitNote = (input: string) => page.locator(`${input}-limit[role="alert"]`);

  it('comment form: names the file and the limit, sends nothing, and sends once the files are right', async () => {
    const key = h.keyOf('Laptop screen flickers');
    await page.goto(`${h.url}/requests/${key}`);
    await page.fill('#comment-body', 'Three photos of the flicker.');
    await page.setInputFiles('#comment-files', threeFiles());
    expect(await limitNote('#comment-files').textContent()).to.equal(
      `${BIG} is larger than 10 MB, the most a file can be.`,
    );
    expect(await page.getAttribute('#comment-files', 'aria-invalid')).to.equal('true');
    const sent = uploads();
    await page.click('button:has-text("Comment")');
    expect(posts, 'nothing sent').to.deep.equal([]);
    expect(await page.inputValue('#comment-body'), 'her text, still there').to.equal(
      'Three photos of the flicker.',
    );
    // Six files, each small: too many.
    await page.setInputFiles(
      '#comment-files',
      [1, 2, 3, 4, 5, 6].map((n) => file(`photo-${n}.txt`, 10)),
    );
    expect(await limitNote('#comment-files').textContent()).to.equal(
      'At most 5 files can be attached at once.',
    );
    // The big one left out: the note goes, and the form is sent.
    await page.setInputFiles('#comment-files', [file('before.txt', 1000), file('after.txt', 1000)]);
    expect(await limitNote('#comment-files').count()).to.equal(0);
    expect(await page.getAttribute('#comment-files', 'aria-invalid')).to.equal(null);
    await Promise.all([page.waitForURL(/commented=1/), page.click('button:has-text("Comment")')]);
    expect(uploads() - sent).to.equal(2);
  });

  it('raise-request form (novalidate): names the file, sends nothing', async () => {
    const type = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!;
    await page.goto(`${h.url}/desk/1/create/${type.id}`);
    await page.fill('#fld-summary', 'Printer on floor 3 jams');
    const input = page.locator('input[type="file"]');
    const id = `#${await input.getAttribute('id')}`;
    await input.setInputFiles(threeFiles());
    expect(await limitNote(id).textContent()).to.equal(
      `${BIG} is larger than 10 MB, the most a file can be.`,
    );
    const requests = h.emulator.state.requests.size;
    await page.click('button:has-text("Send")');
    expect(posts, 'nothing sent').to.deep.equal([]);
    expect(h.emulator.state.requests.size).to.equal(requests);
    expect(await page.inputValue('#fld-summary')).to.equal('Printer on floor 3 jams');
  });

  it('puts a file name into the page as text, never as markup', async () => {
    const key = h.keyOf('Laptop screen flickers');
    await page.goto(`${h.url}/requests/${key}`);
    const name = '<img src=x onerror=alert(1)> $& {file}.txt';
    await page.setInputFiles('#comment-files', [file(name, LIMIT + 1)]);
    expect(await limitNote('#comment-files').textContent()).to.equal(
      `${name} is larger than 10 MB, the most a file can be.`,
    );
    expect(await page.locator('#comment-files-limit img').count()).to.equal(0);
  });
});
