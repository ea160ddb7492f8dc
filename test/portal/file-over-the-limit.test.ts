import { expect } from 'chai';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  spooledBytes,
  useHarness,
} from '../../testkit/portal-harness.js';

/**
 * A form with one file over the per-file limit (10 MB in the harness) among others, as a browser
 * without the page's script sends it: nothing of it reaches Atlassian (no file uploaded, no request
 * or comment written), the page names the file and the limit and gives the form's text back, one log
 * line says why with a stable code and no file name, and nothing stays spooled.
 */
const LIMIT = 10 * 1024 * 1024;
const LAPTOP = 'Laptop screen flickers';
/** The 2nd of three files, over the limit; its name is hers, personal data the log must not carry. */
const BIG = 'Salary slip of Alice Anders.txt';
const threeFiles = () => [
  { name: 'before.txt', bytes: 1000 },
  { name: BIG, bytes: LIMIT + 1 },
  { name: 'after.txt', bytes: 1000 },
];

describe('portal: a form with a file over the limit sends nothing', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test');
  });
  const uploadsTo = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.path.endsWith('/attachTemporaryFile')).length;
  const appendFiles = (form: FormData, files: { name: string; bytes: number }[]) => {
    for (const f of files) form.append('attachment', new Blob([new Uint8Array(f.bytes).fill(65)]), f.name);
  };
  /** The one log line of the refusal: its code, and no file name of hers. */
  const expectOneRefusalLine = (from: number, code: string) => {
    expect(reasons(h, from)).to.deep.equal([code]);
    expect(JSON.stringify(h.logs.slice(from))).to.not.include('Salary');
  };

  it('comment form: refuses it whole, names the file and the limit, keeps her text', async () => {
    const key = h.keyOf(LAPTOP);
    const page = (await alice.text(`/requests/${key}`)).body;
    const form = new FormData();
    form.set('_csrf', csrfOf(page));
    form.set('_write', /name="_write" value="([^"]+)"/.exec(page)?.[1] ?? '');
    form.set('body', 'Three photos of the flicker.');
    appendFiles(form, threeFiles());
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const before = JSON.stringify([request.comments.length, request.attachments.length]);
    const from = h.logs.length;
    const sent = h.exchanges.length;
    const res = await alice.fetch(`/requests/${key}/comment`, {
      method: 'POST',
      body: form,
      headers: { origin: alice.base },
    });
    expect(res.status).to.equal(413);
    const body = await res.text();
    expect(body).to.include('>Three photos of the flicker.</textarea>');
    expect(body).to.match(
      /<div id="comment-files-err" class="error" role="alert">Salary slip of Alice Anders\.txt is larger than 10 MB/,
    );
    expect(uploadsTo(sent), 'files sent to Atlassian').to.equal(0);
    expect(JSON.stringify([request.comments.length, request.attachments.length])).to.equal(before);
    expectOneRefusalLine(from, 'PORTAL_UPLOAD_TOO_LARGE');
    await eventually(async () => spooledBytes(h) === 0, 'nothing of the form left spooled');
  });

  it('raise-request form: refuses it whole, names the file and the limit, keeps her answers', async () => {
    const type = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.name === 'Get IT help' && t.serviceDeskId === '1',
    )!;
    const path = `/desk/1/create/${type.id}`;
    const page = (await alice.text(path)).body;
    expect(page).to.include('type="file"');
    const form = new FormData();
    form.set('_csrf', csrfOf(page));
    form.set('_write', /name="_write" value="([^"]+)"/.exec(page)?.[1] ?? '');
    form.set('f_summary', 'Printer on floor 3 jams');
    appendFiles(form, threeFiles());
    const requests = h.emulator.state.requests.size;
    const from = h.logs.length;
    const sent = h.exchanges.length;
    const res = await alice.fetch(path, { method: 'POST', body: form, headers: { origin: h.url } });
    expect(res.status).to.equal(413);
    const body = await res.text();
    expect(body).to.include('value="Printer on floor 3 jams"');
    expect(body).to.match(/role="alert">Salary slip of Alice Anders\.txt is larger than 10 MB/);
    expect(uploadsTo(sent), 'files sent to Atlassian').to.equal(0);
    expect(h.emulator.state.requests.size).to.equal(requests);
    expectOneRefusalLine(from, 'PORTAL_UPLOAD_TOO_LARGE');
    await eventually(async () => spooledBytes(h) === 0, 'nothing of the form left spooled');
  });
});
