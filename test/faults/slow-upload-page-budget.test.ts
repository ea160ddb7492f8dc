// A customer whose form takes longer to arrive than a page's Atlassian budget (25 s; 1 s here): a
// file on a slow uplink (10 MB at 3 Mbit/s), the portal behind a balancer that passes the body on as
// it comes. The budget bounds Atlassian's share of a page, so that the page answers before the
// balancer's wait for its answer; the customer's pace is not Atlassian's. Before ADR 0362 it was
// counted from the request's head: every read after the form had arrived was refused
// ATLASSIAN_PAGE_TIMEOUT at once, no call to Atlassian slow, and the request not raised ("took
// too long"), or raised and not shared.
import { expect } from 'chai';
import {
  type Browser,
  csrfOf,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  startHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

const PAGE_BUDGET_MS = 1000;
/** How long the customer's form takes to arrive: half again the page's budget. */
const UPLOAD_MS = PAGE_BUDGET_MS * 1.5;

/** `form` sent as a browser on a slow link sends it: all but its last bytes, then those UPLOAD_MS later. */
async function slowly(form: FormData): Promise<RequestInit> {
  const encoded = new Response(form);
  const bytes = new Uint8Array(await encoded.arrayBuffer());
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(bytes.subarray(0, bytes.length - 16));
      // The fault itself is time: the customer's pace, past the page's budget.
      await new Promise((resolve) => setTimeout(resolve, UPLOAD_MS));
      controller.enqueue(bytes.subarray(bytes.length - 16));
      controller.close();
    },
  });
  return {
    method: 'POST',
    body,
    duplex: 'half',
    headers: { 'content-type': encoded.headers.get('content-type') ?? '' },
  } as RequestInit;
}

describe('faults: a form that takes longer to arrive than a page’s Atlassian budget', function () {
  this.timeout(60_000);
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({
      transport: { pageBudgetMs: PAGE_BUDGET_MS },
      // Nothing cached between pages: the reads after the form go to Atlassian.
      catalogueTtlMs: 1,
    });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  after(() => h?.close());

  const post = async (action: string, form: FormData) => {
    const init = await slowly(form);
    return alice.fetch(action, { ...init, headers: { ...(init.headers as object), origin: h.url } });
  };

  it('raises the request with its file and shares it with her organization', async () => {
    const raise = raiseRequestForm(h, alice, 'Get IT help');
    const { _csrf, _write } = await raise.fresh();
    const acme = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    const form = new FormData();
    form.set('_csrf', _csrf);
    form.set('_write', _write);
    form.set('f_summary', 'Scanner output attached, sent slowly');
    form.set('f_description', 'The scan is in the file.');
    form.set('shareOrganization', acme.id);
    form.set('attachment', new Blob(['a scan'], { type: 'text/plain' }), 'scan.txt');
    const from = h.logs.length;
    const res = await post(raise.action, form);
    expect(res.status, await res.clone().text()).to.equal(303);
    expect(res.headers.get('location')).to.match(/\?created=1$/);
    expect(reasons(h, from)).to.not.include('ATLASSIAN_PAGE_TIMEOUT');
    const [made] = raise.created('Scanner output attached, sent slowly');
    expect(made?.attachments.map((a) => a.filename)).to.deep.equal(['scan.txt']);
    expect(made?.organizationIds).to.deep.equal([acme.id]);
  });

  it('shows the request page with an upload refused after the form arrived', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const action = `/requests/${key}/attachment`;
    const csrf = csrfOf((await alice.text(`/requests/${key}`)).body);
    const form = new FormData();
    form.set('_csrf', csrf);
    // A file of a type the portal refuses (415): the refusal is shown on the request's page.
    form.set('attachment', new Blob(['MZ'], { type: 'application/x-msdownload' }), 'tool.exe');
    const from = h.logs.length;
    const res = await post(action, form);
    const page = await res.text();
    expect(res.status, page).to.equal(415);
    expect(writeKeyOf(page, action), 'the request page, its attachment form').to.match(/^jsmsso/);
    expect(reasons(h, from)).to.not.include('ATLASSIAN_PAGE_TIMEOUT');
  });
});
