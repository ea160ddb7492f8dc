import { expect } from 'chai';
import { withoutWriteKey } from '../../portal/write-once.js';
import { type Browser, csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal request actions', () => {
  let h: Harness;
  let alice: Browser;
  let mia: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test');
    mia = await signIn(h, 'mia.manager@acme.test');
  });
  after(async () => {
    await h.close();
  });
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const accountOf = (email: string) =>
    [...h.emulator.state.users.values()].find((u) => u.email === email)!.accountId;

  it('shares a request with someone from the customer’s organization, and unshares it', async () => {
    const r = request('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${r.key}`);
    expect(page.body).to.include('Share with someone from your organization');
    const bob = accountOf('bob@acme.test');
    const add = await alice.post(`/requests/${r.key}/participants/add`, {
      accountId: bob,
      _csrf: csrfOf(page.body),
    });
    expect(add.status).to.equal(303);
    expect(request('Printer on 3rd floor jams every morning').participantIds).to.include(bob);
    const remove = await alice.post(`/requests/${r.key}/participants/remove`, {
      accountId: bob,
      _csrf: csrfOf(page.body),
    });
    expect(remove.status).to.equal(303);
    expect(request('Printer on 3rd floor jams every morning').participantIds).to.not.include(bob);
  });

  it('sends a participant who removes themselves to My requests, not to a page that is gone', async () => {
    // Erik (in no organization, a customer of IT) reads Alice's request only as its participant:
    // once he takes himself off, it is no longer his to open. The notice says what happened.
    const r = request('Printer on 3rd floor jams every morning');
    const erikId = accountOf('erik@acme.test');
    r.participantIds.push(erikId);
    const erik = await signIn(h, 'erik@acme.test');
    const page = await erik.text(`/requests/${r.key}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include(`aria-label="Remove Erik Eng"`);
    const leave = await erik.post(`/requests/${r.key}/participants/remove`, {
      accountId: erikId,
      _csrf: csrfOf(page.body),
    });
    expect(leave.status).to.equal(303);
    expect(r.participantIds).to.not.include(erikId);
    const location = leave.headers.get('location')!;
    expect(location).to.equal('/requests?left=1');
    const list = await erik.text(location);
    expect(list.status).to.equal(200);
    expect(list.body).to.include('You are no longer a participant').and.not.include(`/requests/${r.key}"`);
    // Taking someone else off keeps the remover on the request's page, as before.
    const bob = accountOf('bob@acme.test');
    r.participantIds.push(bob);
    const alicePage = await alice.text(`/requests/${r.key}`);
    const other = await alice.post(`/requests/${r.key}/participants/remove`, {
      accountId: bob,
      _csrf: csrfOf(alicePage.body),
    });
    expect(other.headers.get('location')).to.equal(`/requests/${r.key}?shared=1`);
  });

  it('refuses to share with someone outside the customer’s organizations', async () => {
    const r = request('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${r.key}`);
    const dana = accountOf('dana@globex.test');
    expect(page.body).to.not.include(dana);
    const res = await alice.post(`/requests/${r.key}/participants/add`, {
      accountId: dana,
      _csrf: csrfOf(page.body),
    });
    expect(res.status).to.equal(400);
    expect(request('Printer on 3rd floor jams every morning').participantIds).to.not.include(dana);
  });

  it('asks before a transition, then performs it with the optional comment', async () => {
    const r = request('Calendar invites arrive twice');
    const page = await alice.text(`/requests/${r.key}`);
    const link = new RegExp(
      `<a class="button secondary" href="(/requests/${r.key}/transition/([^"]+))">([^<]+)</a>`,
    ).exec(page.body);
    expect(link, 'a transition link').to.not.equal(null);
    const [, href, id, name] = link!;
    // Following the link changes nothing: it asks first.
    const confirm = await alice.text(href!);
    expect(confirm.status).to.equal(200);
    expect(confirm.body).to.include(`<h1>${name}?</h1>`).and.include('Add a comment (optional)');
    expect(confirm.body).to.include(`<input type="hidden" name="transition" value="${id}">`);
    expect(confirm.body).to.include(`<a href="/requests/${r.key}">Keep the request as it is</a>`);
    expect(request('Calendar invites arrive twice').status).to.equal('Waiting for support');
    const res = await alice.post(`/requests/${r.key}/transition`, {
      transition: id!,
      body: 'Solved after the update.',
      _csrf: csrfOf(confirm.body),
    });
    expect(res.status).to.equal(303);
    const after = request('Calendar invites arrive twice');
    expect(after.status).to.not.equal('Waiting for support');
    // Written by the service account, opened by the customer's name for the agents (comment-author.ts),
    // with the form's key (write-once.ts): a post of the same form finds the step taken by it.
    expect(after.comments.map((c) => withoutWriteKey(c.body))).to.include(
      'Alice Anders (via the help center):\n\nSolved after the update.',
    );
    expect(after.comments.at(-1)!.body).to.match(/\(portal reference jsmsso[0-9a-f]{24}\)$/);
    const forged = await alice.post(`/requests/${r.key}/transition`, {
      transition: '999',
      _csrf: csrfOf(page.body),
    });
    expect(forged.status).to.equal(400);
    expect((await alice.text(`/requests/${r.key}/transition/999`)).status).to.equal(404);
  });

  it('says so when a request has no comments, files or people yet', async () => {
    const aliceId = accountOf('alice@acme.test');
    const bare = [...h.emulator.state.requests.values()].find(
      (r) =>
        r.reporterId === aliceId &&
        r.comments.length === 0 &&
        r.attachments.length === 0 &&
        r.participantIds.length === 0,
    );
    expect(bare, 'a seeded request of alice with nothing on it').to.not.equal(undefined);
    const page = await alice.text(`/requests/${bare!.key}`);
    expect(page.body)
      .to.include('No comments yet.')
      .and.include('No files attached.')
      .and.include('Not shared with anyone yet.');
  });

  it('serves a favicon in the tenant’s colour without sign-in, and every page links it', async () => {
    const res = await fetch(`${h.url}/favicon.ico`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    expect(await res.text()).to.match(/^<svg [^>]*>.*fill="#[0-9a-fA-F]{6}"/);
    expect((await alice.text('/')).body).to.include(
      '<link rel="icon" href="/favicon.svg" type="image/svg+xml">',
    );
  });

  it('shows each approval with its approvers and their decisions, and no answer buttons', async () => {
    const pending = await mia.text(`/requests/${request('Second monitor for home office').key}`);
    expect(pending.status).to.equal(200);
    expect(pending.body).to.include('Waiting for approval').and.include('Mia Meyer (you): Not answered yet');
    expect(pending.body).to.include('Your approval is requested.');
    const bob = await signIn(h, 'bob@acme.test');
    const approved = await bob.text(`/requests/${request('JetBrains licence').key}`);
    expect(approved.body).to.include('>Approved</span>').and.include('Mia Meyer: Approved');
    expect(approved.body).to.not.include('Your approval is requested.');
    const declined = await bob.text(`/requests/${request('Visio for process diagrams').key}`);
    expect(declined.body).to.include('>Declined</span>').and.include('Mia Meyer: Declined');
    for (const page of [pending, approved, declined]) {
      expect(page.body).to.not.include('name="decision"').and.not.include('<button>Approve');
    }
  });

  it('explains notifications instead of offering a switch that would change the service account’s', async () => {
    const page = await alice.text(`/requests/${request('Printer on 3rd floor jams every morning').key}`);
    expect(page.body).to.include('use the unsubscribe link in those e-mails');
    expect(page.body).to.include('a switch would change that account’s notifications, not yours');
    expect(page.body).to.not.include('/notification');
  });

  it('lets an approver open a request they did not report, but not other people’s requests', async () => {
    expect((await mia.text(`/requests/${request('Second monitor for home office').key}`)).status).to.equal(
      200,
    );
    expect((await mia.text(`/requests/${request('Calendar invites arrive twice').key}`)).status).to.equal(
      404,
    );
  });
});
