// Approvers as viewers: a customer asked to approve a request they neither reported, joined nor

// share through an organization finds it in My requests ("Approvals") and may open it, as in the
// native portal; nobody else does. The answer itself cannot be given here (Atlassian records approvals
// for the calling account only): the page says where to answer and offers no button that would fail.
import { expect } from 'chai';
import { withoutWriteKey } from '../../portal/write-once.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

const APPROVAL_ONLY = 'Standing desk converter for the support team';

describe('portal visibility for approvers', () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test');
    bob = await signIn(h, 'bob@acme.test');
  });
  after(async () => {
    await h.close();
  });
  const request = () =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === APPROVAL_ONLY)!;

  it('lists a request awaiting the customer’s approval under Approvals, and only those', async () => {
    const from = h.exchanges.length;
    const page = await alice.text('/requests?status=open&ownership=approvals');
    expect(page.status).to.equal(200);
    expect(page.body).to.include(APPROVAL_ONLY);
    expect(page.body).to.not.include('Printer on 3rd floor jams every morning'); // hers, no approval
    const search = h.exchanges.slice(from).find((e) => e.path.startsWith('/rest/api/3/search/jql'))!;
    expect((search.requestBody as { jql: string }).jql).to.match(/ AND approvers = "qm:[^"]+" AND /);
    expect(page.body).to.include('<option value="approvals" selected>');
  });

  it('lists it under Any too, since an approver may open it', async () => {
    const page = await alice.text('/requests?status=open&ownership=all');
    expect(page.body).to.include(APPROVAL_ONLY).and.include('Printer on 3rd floor jams every morning');
  });

  it('hides it from a customer of the same organization who is not an approver', async () => {
    for (const ownership of ['all', 'approvals', 'org-1']) {
      const page = await bob.text(`/requests?status=all&ownership=${ownership}`);
      expect(page.status).to.equal(200);
      expect(page.body, ownership).to.not.include(APPROVAL_ONLY);
    }
    expect((await bob.text(`/requests/${request().key}`)).status).to.equal(404);
  });

  it('lets the approver open it and tells her to answer from Atlassian’s e-mail', async () => {
    const page = await alice.text(`/requests/${request().key}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include(APPROVAL_ONLY).and.include('Team lead approval');
    expect(page.body).to.include('Alice Anders (you): Not answered yet');
    expect(page.body).to.include('Your approval is requested.');
    expect(page.body).to.include(
      'answer with the <em>Approve</em> or <em>Decline</em> button in that e-mail',
    );
    expect(page.body).to.not.include('name="decision"').and.not.include('/approval/');
  });

  it('refuses an approver-only viewer the changes that belong to the request’s people', async () => {
    const r = request();
    const page = await alice.text(`/requests/${r.key}`);
    expect(page.body).to.not.include('/transition').and.not.include('participants/add');
    expect((await alice.text(`/requests/${r.key}/transition/801`)).status).to.equal(403);
    expect((await alice.text(`/requests/${r.key}/share`)).status, 'the share page').to.equal(403);
    expect(page.body).to.not.include('type="file"');
    const csrf = csrfOf(page.body);
    const from = h.logs.length;
    const cancel = await alice.post(`/requests/${r.key}/transition`, { transition: '801', _csrf: csrf });
    const share = await alice.post(`/requests/${r.key}/participants/add`, {
      accountId: [...h.emulator.state.users.values()].find((u) => u.email === 'bob@acme.test')!.accountId,
      _csrf: csrf,
    });
    const form = new FormData();
    form.append('_csrf', csrf);
    form.append('attachment', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    const upload = await alice.fetch(`/requests/${r.key}/attachment`, {
      method: 'POST',
      body: form,
      headers: { origin: h.url },
    });
    for (const res of [cancel, share, upload]) {
      expect(res.status).to.equal(403);
      expect(await res.text()).to.include('As an approver of this request you can read it');
    }
    expect(reasons(h, from)).to.deep.equal(Array(3).fill('PORTAL_ACTION_APPROVER_ONLY'));
    expect(request().status).to.equal('Waiting for approval');
    expect(request().participantIds).to.deep.equal([]);
    expect(request().attachments).to.deep.equal([]);
  });

  it('lets the approver comment', async () => {
    const r = request();
    const page = await alice.text(`/requests/${r.key}`);
    const res = await alice.post(`/requests/${r.key}/comment`, {
      body: 'Which model?',
      _csrf: csrfOf(page.body),
    });
    expect(res.status).to.equal(303);
    // In Atlassian the comment carries the form's write key (portal/write-once.ts).
    expect(request().comments.map((c) => withoutWriteKey(c.body))).to.include(
      'Alice Anders (via the help center):\n\nWhich model?',
    );
  });

  it('has no endpoint that takes an answer, so a forged one changes nothing at Atlassian', async () => {
    const r = request();
    const before = { status: r.status, approvals: JSON.stringify(r.approvals) };
    const page = await alice.text(`/requests/${r.key}`);
    const from = h.exchanges.length;
    const res = await alice.post(`/requests/${r.key}/approval/${r.approvals[0]!.id}`, {
      decision: 'approve',
      _csrf: csrfOf(page.body),
    });
    expect(res.status).to.equal(404);
    expect(h.exchanges.slice(from).filter((e) => e.path.includes('/approval/'))).to.deep.equal([]);
    expect({ status: request().status, approvals: JSON.stringify(request().approvals) }).to.deep.equal(
      before,
    );
  });
});
