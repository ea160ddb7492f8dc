// A form with files is read after the request's visibility (ADR 0392) and the session: its body may take
// minutes. A customer taken off the request meanwhile (its reporter removed her, an agent took her
// organization off it), or whose session ended (signed out in another tab, ended by an admin), must not
// have her comment, files or request written when the body ends (ADR 0447).
import { expect } from 'chai';
import type { CustomerRequest } from '../../dev/jsm-emulator/state.js';
import { eventually } from '../../testkit/envtest.js';
import { postHeldUpload } from '../../testkit/held-upload.js';
import {
  Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  signOut,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('portal: a form with files whose sender lost the right to send it while its body was on its way (ADR 0447)', () => {
  let h: Harness;
  let erik: Browser;
  let bob: Browser;
  let alice: Browser;
  let mia: Browser;
  useHarness(async (started) => {
    h = started;
    erik = await signIn(h, 'erik@acme.test');
    bob = await signIn(h, 'bob@acme.test');
    alice = await signIn(h, 'alice@acme.test');
    mia = await signIn(h, 'mia.manager@acme.test');
  });
  const accountOf = (email: string) =>
    [...h.emulator.state.users.values()].find((u) => u.email === email)!.accountId;
  const requestOf = (summary: string): CustomerRequest =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  /** Erik's private request, which Bob reads only as its participant. */
  const erikRequest = () => requestOf('Wi-Fi drops in meeting room Nile');

  /**
   * Posts a multipart form of `fields` and a file to `path` as `sender`, its last bytes held; once the
   * portal is reading the body (it holds the tenant's upload slot: whatever the route reads first has
   * been read), runs `meanwhile`, then ends the body. The answer.
   */
  const heldPost = async (
    sender: Browser,
    path: string,
    fields: Record<string, string>,
    meanwhile: () => Promise<void>,
  ) => {
    await eventually(async () => h.app.uploads.stats.active === 0, 'no upload in flight');
    const held = postHeldUpload(sender, path, { origin: h.url, fields, fileName: 'late.txt' });
    await eventually(async () => h.app.uploads.stats.active === 1, 'the portal reading the held form');
    await meanwhile();
    held.finish();
    const res = await held.answer;
    return { status: res.status, page: await res.text() };
  };

  /**
   * `sender` (`email`) posts `action` on the request `summary` with a file (heldPost); while its body
   * is on its way, the request's reporter takes her off it from its page. Her answer.
   */
  const postedWhileTakenOff = async (
    action: 'comment' | 'attachment',
    {
      sender,
      email,
      reporter,
      summary,
    }: { sender: Browser; email: string; reporter: Browser; summary: string },
  ) => {
    const request = requestOf(summary);
    if (!request.participantIds.includes(accountOf(email))) request.participantIds.push(accountOf(email));
    const page = await sender.text(`/requests/${request.key}`);
    expect(page.status, 'she reads it as a participant').to.equal(200);
    const fields = { _csrf: csrfOf(page.body), body: 'still here' };
    return heldPost(sender, `/requests/${request.key}/${action}`, fields, async () => {
      const taken = await reporter.post(`/requests/${request.key}/participants/remove`, {
        accountId: accountOf(email),
        _csrf: csrfOf((await reporter.text(`/requests/${request.key}`)).body),
      });
      expect(taken.status, 'the reporter took her off').to.equal(303);
      expect(requestOf(summary).participantIds).to.not.include(accountOf(email));
    });
  };

  for (const action of ['comment', 'attachment'] as const) {
    it(`writes nothing of ${action === 'comment' ? 'a comment' : 'an upload'} form whose sender was taken off the request before its body ended: 404`, async () => {
      const before = { comments: erikRequest().comments.length, files: erikRequest().attachments.length };
      const from = h.logs.length;
      const { status, page } = await postedWhileTakenOff(action, {
        sender: bob,
        email: 'bob@acme.test',
        reporter: erik,
        summary: 'Wi-Fi drops in meeting room Nile',
      });
      expect(status).to.equal(404);
      expect(page).to.not.include('Wi-Fi drops in meeting room Nile');
      expect(reasons(h, from)).to.include('PORTAL_REQUEST_NOT_FOUND');
      expect(erikRequest().comments, 'comments').to.have.length(before.comments);
      expect(erikRequest().attachments, 'files').to.have.length(before.files);
    });
  }

  for (const action of ['comment', 'attachment'] as const) {
    it(`refuses the files of ${action === 'comment' ? 'a comment' : 'an upload'} form whose sender is only its approver by the time its body ended: 403`, async () => {
      // Alice's request awaits Mia's approval; Alice had made her a participant too, then takes her off.
      const summary = 'Second monitor for home office';
      const before = {
        comments: requestOf(summary).comments.length,
        files: requestOf(summary).attachments.length,
      };
      const from = h.logs.length;
      const { status } = await postedWhileTakenOff(action, {
        sender: mia,
        email: 'mia.manager@acme.test',
        reporter: alice,
        summary,
      });
      expect(status).to.equal(403);
      expect(reasons(h, from)).to.include('PORTAL_ACTION_APPROVER_ONLY');
      expect(requestOf(summary).comments, 'comments').to.have.length(before.comments);
      expect(requestOf(summary).attachments, 'files').to.have.length(before.files);
    });
  }

  describe('a session that ends while its form with files is on its way', () => {
    /** Alice's own request, and the raise form of "Get IT help". */
    const ownRequest = () => requestOf('Laptop screen flickers');
    const raisePath = () =>
      `/desk/1/create/${[...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id}`;
    const forms: { name: string; path: () => string; fields: Record<string, string> }[] = [
      {
        name: 'a comment with a file',
        path: () => `/requests/${ownRequest().key}/comment`,
        fields: { body: 'late' },
      },
      { name: 'an upload', path: () => `/requests/${ownRequest().key}/attachment`, fields: {} },
      {
        name: 'a raise form with a file',
        path: raisePath,
        fields: { f_summary: 'Raised after signing out' },
      },
    ];
    for (const form of forms) {
      it(`writes nothing of ${form.name} whose session was signed out in another tab before its body ended: 401`, async () => {
        const sender = await signIn(h, 'alice@acme.test');
        const token = csrfOf(
          (await sender.text(form.path().startsWith('/desk') ? form.path() : `/requests/${ownRequest().key}`))
            .body,
        );
        const before = {
          comments: ownRequest().comments.length,
          files: ownRequest().attachments.length,
          requests: h.emulator.state.requests.size,
        };
        const from = h.logs.length;
        const { status, page } = await heldPost(
          sender,
          form.path(),
          { _csrf: token, ...form.fields },
          async () => {
            // The same cookie in another tab: the session ends, this post's body still on its way.
            const tab = new Browser(h.url, new Map(sender.cookies));
            await signOut(tab);
          },
        );
        expect(status).to.equal(401);
        expect(page).to.not.include('Alice Anders');
        expect(reasons(h, from)).to.include('PORTAL_SESSION_MISSING');
        expect(ownRequest().comments, 'comments').to.have.length(before.comments);
        expect(ownRequest().attachments, 'files').to.have.length(before.files);
        expect(h.emulator.state.requests.size, 'requests').to.equal(before.requests);
      });
    }
  });
});
