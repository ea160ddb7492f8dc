// Which files a customer may open is decided, for a file no public comment added, by its author's
// account type, asked of Atlassian's /rest/api/3/user/bulk (ADR 0375). That lookup failing (a 503, a
// 429 past what a page may wait, a timeout) made the whole request page an error, though the request,
// its comments and the files of public comments are known without it. Now the page shows them and
// says some files could not be listed; a file whose visibility hangs on the lookup is refused with a
// retryable 503, never served and never a 404; and a failed lookup is not held as "not a customer"
// (ADR 0388).
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import type { CustomerRequest } from '../../dev/jsm-emulator/state.js';
import { type Browser, csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

const USER_BULK = { pathPrefix: '/rest/api/3/user/bulk', method: 'GET' } as const;
/** Each call's own deadline: the timeout case's lookup is answered later than this. */
const TIMEOUT_MS = 1_000;
/** The file Alice added to her request without a comment: a customer's, so public once Atlassian says she is one. */
const HERS = { id: '99301', filename: 'jam-photo-notes.txt', content: 'Jams on page one only' };
const UNLISTED = 'Some files of this request cannot be listed right now';

describe('faults: the account-type lookup that decides files fails (ADR 0388)', function () {
  this.timeout(30_000);
  let h: Harness;
  let alice: Browser;
  // A harness each: the lookup's answer, once had, is held for the cache's lifetime.
  beforeEach(async () => {
    h = await startHarness({ transport: { timeoutMs: TIMEOUT_MS, maxRetries: 0 } });
    alice = await signIn(h, 'alice@acme.test');
  });
  afterEach(() => h.close());

  const printer = (): CustomerRequest =>
    [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;
  /** The request with a file of Alice's, added without a comment. */
  const withHerFile = () => {
    const r = printer();
    r.attachments.push({
      id: HERS.id,
      filename: HERS.filename,
      mimeType: 'text/plain',
      content: Buffer.from(HERS.content),
      authorId: r.reporterId,
      created: Date.now(),
    });
    return r;
  };
  const fileOf = (r: CustomerRequest, filename: string) =>
    r.attachments.find((a) => a.filename === filename)!;
  const unknownVisibility = (from: number) =>
    h.logs.slice(from).filter((l) => l['event'] === 'portal.file_visibility_unknown');

  const failures: { what: string; fault: FaultRule; reason: string }[] = [
    { what: 'a 503', fault: { status: 503 }, reason: 'ATLASSIAN_UNAVAILABLE' },
    {
      what: 'a 429 past what a page may wait',
      fault: { status: 429, retryAfterSeconds: 120 },
      reason: 'ATLASSIAN_RATE_LIMITED',
    },
    { what: 'a timeout', fault: { delayMs: 3 * TIMEOUT_MS }, reason: 'ATLASSIAN_TIMEOUT' },
  ];
  for (const { what, fault, reason } of failures) {
    it(`shows the request and the files of public comments, and says some files are not listed, on ${what}`, async () => {
      const r = withHerFile();
      const fuser = fileOf(r, 'fuser-order.txt');
      h.emulator.faults.set({ ...USER_BULK, ...fault });
      const logsFrom = h.logs.length;
      const page = await alice.text(`/requests/${r.key}`);
      expect(page.status).to.equal(200);
      expect(page.body).to.include('Printer on 3rd floor jams every morning');
      expect(page.body, 'a public comment').to.include('We ordered a new fuser unit');
      expect(page.body, 'a public comment’s file').to.include(`/requests/${r.key}/attachment/${fuser.id}`);
      expect(page.body, 'a file the lookup decides').to.not.include(HERS.filename);
      expect(page.body, 'an internal comment’s file').to.not.include('vendor-ticket-4471');
      expect(page.body).to.include(UNLISTED);
      expect(unknownVisibility(logsFrom).map((l) => l['reason'])).to.deep.equal([reason]);
    });
  }

  it('refuses a file whose visibility the lookup decides with a retryable 503, serving nothing of it, and still serves what it knows', async () => {
    const r = withHerFile();
    const fuser = fileOf(r, 'fuser-order.txt');
    const internal = fileOf(r, 'vendor-ticket-4471.txt');
    h.emulator.faults.set({ ...USER_BULK, status: 503, retryAfterSeconds: 7 });
    const logsFrom = h.logs.length;
    for (const path of [
      `/requests/${r.key}/attachment/${HERS.id}`,
      `/requests/${r.key}/attachment/${HERS.id}/thumbnail`,
    ]) {
      const refused = await alice.fetch(path);
      const body = await refused.text();
      expect(refused.status, path).to.equal(503);
      expect(refused.headers.get('retry-after'), path).to.match(/^[1-9][0-9]*$/);
      expect(refused.headers.get('content-disposition'), path).to.equal(null);
      expect(body, path).to.not.include(HERS.content);
      expect(body, path).to.include('cannot tell right now whether you may open this file');
    }
    expect(unknownVisibility(logsFrom).map((l) => l['reason'])).to.deep.equal([
      'ATLASSIAN_UNAVAILABLE',
      'ATLASSIAN_UNAVAILABLE',
    ]);
    const refusals = h.logs.slice(logsFrom).filter((l) => l['event'] === 'portal.refused');
    expect(refusals.map((l) => [l['reason'], l['status']])).to.deep.equal([
      ['PORTAL_FILE_VISIBILITY_UNKNOWN', 503],
      ['PORTAL_FILE_VISIBILITY_UNKNOWN', 503],
    ]);
    // Known without the lookup: a public comment's file is served, an internal one's is not there.
    const known = await alice.fetch(`/requests/${r.key}/attachment/${fuser.id}`);
    expect(known.status).to.equal(200);
    expect(await known.text()).to.equal('Fuser unit RM1-1082, delivery Thursday');
    expect((await alice.fetch(`/requests/${r.key}/attachment/${internal.id}`)).status).to.equal(404);
    expect((await alice.fetch(`/requests/${r.key}/attachment/99399`)).status, 'no such file').to.equal(404);
  });

  it('writes no comment naming a file it cannot decide now, keeping the text to send again', async () => {
    const r = withHerFile();
    const comments = r.comments.length;
    // Asked before the page is read: once answered, the lookup is held and decides the file.
    h.emulator.faults.set({ ...USER_BULK, status: 503 });
    const token = csrfOf((await alice.text(`/requests/${r.key}`)).body);
    const text = `See [^${HERS.filename}] for the pages`;
    const sent = await alice.post(`/requests/${r.key}/comment`, { body: text, _csrf: token });
    const page = await sent.text();
    expect(r.comments, 'nothing written: the reference would be lost for good').to.have.length(comments);
    expect(sent.status).to.equal(503);
    expect(sent.headers.get('retry-after')).to.match(/^[1-9][0-9]*$/);
    expect(page).to.include('Nothing was sent: we cannot check the files of this request right now');
    expect(page, 'the text kept').to.include(`See [^${HERS.filename}] for the pages`);
    expect(page).to.include(UNLISTED);
  });

  it('holds no failed lookup as "not a customer": once Atlassian answers, her file is listed and served', async () => {
    const r = withHerFile();
    h.emulator.faults.set({ ...USER_BULK, status: 503 });
    expect((await alice.text(`/requests/${r.key}`)).body).to.not.include(HERS.filename);
    expect((await alice.fetch(`/requests/${r.key}/attachment/${HERS.id}`)).status).to.equal(503);
    h.emulator.faults.clear();
    const page = (await alice.text(`/requests/${r.key}`)).body;
    expect(page).to.include(HERS.filename).and.not.include(UNLISTED);
    const served = await alice.fetch(`/requests/${r.key}/attachment/${HERS.id}`);
    expect(served.status).to.equal(200);
    expect(await served.text()).to.equal(HERS.content);
  });
});
