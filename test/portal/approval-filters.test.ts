// My requests' approval filters (ADR 0167): "Waiting for my approval" lists the requests whose
// pending approval step still waits for this customer's own answer, "Approvals no longer waiting for
// me" the others they approve; both searched as the service account with JSM's pendingApprovalBy()
// naming the customer, and both only narrow what the visibility gate already lets them open.
import { expect } from 'chai';
import { loadDefaultSeed, type Seed, type SeedRequest } from '../../dev/jsm-emulator/seed.js';
import { specClient } from '../../testkit/jsm-emulator-client.js';
import { type Browser, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

const OWED = 'Approval owed: conference travel to Lisbon';
const ANSWERED = 'Approved by Petra, still waiting for Mia';
const NOT_HERS = 'Approval owed by Mia only';
const DECLINED = 'Declined by Petra';
const OTHER_DESK = 'HR question awaiting Dana, whose desk it is not';
const ALL = [OWED, ANSWERED, NOT_HERS, DECLINED, OTHER_DESK];

/** The default site, plus Petra (a customer of Acme) and requests that only approvals tie to anyone. */
function seed(): Seed {
  const site = loadDefaultSeed();
  const requests = site.requests ?? [];
  site.users.push({
    key: 'petra',
    kind: 'customer',
    email: 'petra@acme.test',
    displayName: 'Petra Park',
    apiToken: 'petra-dev-token',
    organizations: ['acme'],
  });
  // Erik is in no organization, so nothing here is shared with anyone through one.
  const hardware = (summary: string, approvals: SeedRequest['approvals'], status?: string) => ({
    serviceDesk: 'IT',
    requestType: 'Request new hardware',
    reporter: 'erik',
    summary,
    fields: { Items: [{ value: 'Monitor' }], 'Budget (EUR)': 300 },
    approvals,
    ...(status ? { status } : {}),
  });
  site.requests = requests;
  requests.push(
    hardware(OWED, [{ approvers: ['petra'] }]),
    hardware(ANSWERED, [{ approvers: ['petra', 'mia'], decisions: { petra: 'approved' } }]),
    hardware(NOT_HERS, [{ approvers: ['mia'] }]),
    hardware(DECLINED, [{ approvers: ['petra'], decisions: { petra: 'declined' } }], 'Declined'),
    // Dana (Globex) may use IT Help but not HR: her pending answer here must not list it for her.
    {
      serviceDesk: 'HR',
      requestType: 'Ask HR a question',
      reporter: 'alice',
      summary: OTHER_DESK,
      approvals: [{ approvers: ['dana'] }],
    },
  );
  return site;
}

describe('portal My requests: waiting for my approval, and the rest', () => {
  let h: Harness;
  let petra: Browser;
  let bob: Browser;
  let mia: Browser;
  let dana: Browser;
  before(async () => {
    h = await startHarness({
      emulator: { seed: seed() },
      // Nobody joins a desk at sign-in: each uses the desks their organizations have (Dana: IT only).
      atlassian: { provisioningRules: [] },
    });
    petra = await signIn(h, 'petra@acme.test');
    bob = await signIn(h, 'bob@acme.test');
    mia = await signIn(h, 'mia.manager@acme.test');
    dana = await signIn(h, 'dana@globex.test');
  });
  after(async () => {
    await h.close();
  });

  /** The summaries of ALL that a list page shows (every status). */
  const listed = async (who: Browser, ownership: string) => {
    const page = await who.text(`/requests?status=all&ownership=${ownership}`);
    expect(page.status).to.equal(200);
    return ALL.filter((summary) => page.body.includes(summary));
  };

  it('lists only the request waiting for her answer, with the choice selected', async () => {
    await petra.text('/requests'); // the catalogue and her organizations, read once and kept
    const from = h.exchanges.length;
    const page = await petra.text('/requests?status=all&ownership=approvals-pending');
    expect(page.body).to.include(
      '<option value="approvals-pending" selected>Waiting for my approval</option>',
    );
    expect(ALL.filter((s) => page.body.includes(s))).to.deep.equal([OWED]);
    // The same two calls as any list page (ADR 0081), the search naming her, not the service account.
    const calls = h.exchanges.slice(from);
    expect(calls.map((e) => `${e.method} ${e.path}`)).to.have.members([
      'POST /rest/api/3/search/jql',
      'POST /rest/api/3/search/approximate-count',
    ]);
    const me = h.emulator.state.userByEmail('petra@acme.test')!.accountId;
    expect(
      (calls.find((e) => e.path === '/rest/api/3/search/jql')!.requestBody as { jql: string }).jql,
    ).to.include(`approvers = "${me}" AND approvals = pendingApprovalBy("${me}")`);
  });

  it('lists the ones she answered, or that were decided, under the rest; all of them under Approvals', async () => {
    expect(await listed(petra, 'approvals-done')).to.deep.equal([ANSWERED, DECLINED]);
    expect(await listed(petra, 'approvals')).to.deep.equal([OWED, ANSWERED, DECLINED]);
    expect(await listed(petra, 'all')).to.deep.equal([OWED, ANSWERED, DECLINED]);
  });

  it('lists for another approver what waits for her, not what waits for Petra', async () => {
    const pending = await listed(mia, 'approvals-pending');
    expect(pending).to.deep.equal([ANSWERED, NOT_HERS]);
    expect(await listed(mia, 'approvals-done')).to.deep.equal([]);
  });

  it('shows none of them to a customer of the same organization who approves none', async () => {
    for (const ownership of ['approvals-pending', 'approvals-done', 'approvals', 'all', 'org-1'])
      expect(await listed(bob, ownership), ownership).to.deep.equal([]);
    for (const summary of [OWED, ANSWERED, DECLINED])
      expect((await bob.text(`/requests/${h.keyOf(summary)}`)).status, summary).to.equal(404);
  });

  it('does not list a request waiting for the customer on a desk she may not use', async () => {
    // The Approvals field says Dana owes an answer; the gate says HR is not her portal.
    for (const ownership of ['approvals-pending', 'approvals', 'all'])
      expect(await listed(dana, ownership), ownership).to.deep.equal([]);
    expect((await dana.text(`/requests/${h.keyOf(OTHER_DESK)}`)).status).to.equal(404);
  });

  it('takes the filter from the URL only when it is one of the choices', async () => {
    const page = await petra.text(
      `/requests?status=all&ownership=${encodeURIComponent('approvals-pending") OR project = HR')}`,
    );
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<option value="all" selected>');
  });

  it('names the choices in each of the portal’s languages', async () => {
    const expected = {
      de: ['Wartet auf meine Genehmigung', 'Genehmigungen, die nicht mehr auf mich warten'],
      fr: ['En attente de mon approbation', 'Approbations qui ne m’attendent plus'],
      ja: ['自分の承認待ち', '自分の回答を待っていない承認'],
    };
    for (const [locale, [pending, done]] of Object.entries(expected)) {
      const page = await petra.fetch('/requests?status=all&ownership=approvals-pending', {
        headers: { 'accept-language': locale },
      });
      const body = await page.text();
      expect(body, locale).to.include(`<option value="approvals-pending" selected>${pending}</option>`);
      expect(body, locale).to.include(`<option value="approvals-done">${done}</option>`);
    }
  });

  it('moves a request to the rest once she has answered it', async () => {
    // She answers from Atlassian's e-mail (ADR 0001): here, as herself through the servicedeskapi.
    const asPetra = specClient({
      baseUrl: h.emulator.url,
      email: 'petra@acme.test',
      apiToken: 'petra-dev-token',
    });
    const key = h.keyOf(OWED);
    const [approval] = (
      (await asPetra('GET', `/rest/servicedeskapi/request/${key}/approval`)).body as {
        values: { id: string }[];
      }
    ).values;
    const answered = await asPetra('POST', `/rest/servicedeskapi/request/${key}/approval/${approval!.id}`, {
      json: { decision: 'approve' },
    });
    expect(answered.status).to.equal(200);
    expect(await listed(petra, 'approvals-pending')).to.deep.equal([]);
    expect(await listed(petra, 'approvals-done')).to.deep.equal([OWED, ANSWERED, DECLINED]);
  });
});
