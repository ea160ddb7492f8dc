import { expect } from 'chai';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

describe('portal robustness: paging tokens and file names', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(async () => {
    await h.close();
  });

  const searches = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.path === '/rest/api/3/search/jql');

  it('answers 400 PORTAL_PAGE_TOKEN_INVALID to a malformed page token, without asking Atlassian', async () => {
    for (const token of ['%00%3Cscript%3E', 'a%20b', 'x'.repeat(1100), '%E2%80%AE']) {
      const from = h.exchanges.length;
      const logs = h.logs.length;
      const page = await alice.text(`/requests?status=all&page=${token}`);
      expect(page.status, token).to.equal(400);
      expect(page.body).to.include('page link is not valid');
      expect(reasons(h, logs)).to.deep.equal(['PORTAL_PAGE_TOKEN_INVALID']);
      expect(searches(from), 'no search sent').to.have.length(0);
    }
  });

  it('answers 400 PORTAL_PAGE_TOKEN_INVALID (not 502) when Atlassian refuses a well-formed token', async () => {
    const logs = h.logs.length;
    const forged = Buffer.from('offset:-5').toString('base64url');
    const page = await alice.text(`/requests?status=all&page=${forged}`);
    expect(page.status).to.equal(400);
    expect(reasons(h, logs)).to.deep.equal(['PORTAL_PAGE_TOKEN_INVALID']);
  });

  it('serves a page for a token Atlassian accepts, and the first page for an empty one', async () => {
    const token = Buffer.from('offset:0').toString('base64url');
    expect((await alice.text(`/requests?status=all&page=${token}`)).status).to.equal(200);
    expect((await alice.text('/requests?status=all&page=')).status).to.equal(200);
  });

  for (const name of ['\u202Etxt.exe.txt', 'résumé.pdf', '請求書 2026.pdf', 'Ünïcödé “quotes”.txt']) {
    it(`keeps the UTF-8 file name ${JSON.stringify(name)} from upload to Atlassian to download`, async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const token = csrfOf((await alice.text(`/requests/${key}`)).body);
      const body = new FormData();
      body.append('_csrf', token);
      body.append('attachment', new Blob([Buffer.from(`content of ${name}`)]), name);
      const res = await alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body,
        headers: { origin: h.url },
      });
      expect(res.status).to.equal(303);
      const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
      const stored = request.attachments.find((a) => a.content.toString() === `content of ${name}`);
      expect(stored?.filename, 'name as stored at Atlassian').to.equal(name.replace(/"/g, ''));
      const page = (await alice.text(`/requests/${key}`)).body;
      const link = new RegExp(`href="(/requests/${key}/attachment/${stored!.id})"`).exec(page);
      expect(link, 'the page links the attachment').to.not.equal(null);
      const download = await alice.fetch(link![1]!);
      expect(download.status).to.equal(200);
      const disposition = download.headers.get('content-disposition')!;
      const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)![1]!;
      expect(decodeURIComponent(encoded)).to.equal(stored!.filename);
      expect(await download.text()).to.equal(`content of ${name}`);
    });
  }
});
