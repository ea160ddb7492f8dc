// Atlassian documents a 503 with Retry-After as "a resource limit has been reached", to be "handled
// with similar logic" as a 429, which it refused; it does not say the 503's work was not done. A proxy
// or load balancer in front of Atlassian may answer 503 with Retry-After once the work was committed
// (the emulator's `statusAfterHandling`). Taken for "nothing was done", such a write was sent again
// wherever its look did not see it at once: a second request (the search lags). A write is now looked
// for after the Retry-After, by a look that sees it the moment it is made, before it is sent again,
// and at most once (ADR 0408).
import { expect } from 'chai';
import {
  type Browser,
  csrfOf,
  type Harness,
  raiseRequestForm,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

/** A proxy answering 503 with Retry-After in front of the write, after Atlassian made it. */
const MADE_BEHIND_A_503 = { statusAfterHandling: 503, retryAfterSeconds: 1, method: 'POST', times: 1 };

describe('faults: a write Atlassian made, answered 503 with Retry-After', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => {
    h.emulator.faults.clear();
    h.emulator.state.searchIndex.catchUp();
  });

  const writeKeyOf = (html: string, action: string) =>
    new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

  /**
   * A comment form of the request `summary`: its action, its fields, where Atlassian takes the comment
   * (`at`), and the comments written under its key.
   */
  async function commentForm(summary: string, body: string) {
    const key = h.keyOf(summary);
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const form = { _csrf: csrfOf(detail), _write: writeKeyOf(detail, action)!, body };
    const written = () =>
      request.comments.filter((c) => c.body.includes(`(portal reference ${form._write})`));
    return { key, action, form, written, at: `/rest/servicedeskapi/request/${key}/comment` };
  }

  it('lands a request made behind a 503 on it, one request, though the search does not show it yet', async () => {
    // Before: not found by the search, the create was sent again after the Retry-After: two requests.
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const summary = 'Created behind a proxy answering 503';
    const fields = { ...(await form.fresh()), f_summary: summary, f_description: 'Raised once.' };
    h.emulator.state.searchIndex.hold();
    h.emulator.faults.set({ ...MADE_BEHIND_A_503, pathPrefix: '/rest/servicedeskapi/request' });
    const res = await form.post(fields);
    const raised = form.created(summary);
    expect(raised, 'requests raised').to.have.length(1);
    expect([res.status, res.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${raised[0]!.key}?created=1`,
    ]);
  });

  it('raises one request made behind a 503 whose look past the search fails: could not confirm, nothing sent again', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const summary = 'Created behind a 503, its look failing';
    const fields = { ...(await form.fresh()), f_summary: summary, f_description: 'Raised once, unseen.' };
    h.emulator.state.searchIndex.hold();
    h.emulator.faults.set(
      { ...MADE_BEHIND_A_503, pathPrefix: '/rest/servicedeskapi/request' },
      { dropConnection: true, pathPrefix: '/rest/api/3/issue/bulkfetch', method: 'POST' },
    );
    const res = await form.post(fields);
    expect(form.created(summary), 'requests raised').to.have.length(1);
    expect(res.status).to.equal(503);
    const page = await res.text();
    expect(page).to.contain('We could not confirm whether your request was created.');
    expect(page).to.contain(`name="_write" value="${fields._write}"`);
  });

  it('writes a comment made behind a 503 once, and lands on it', async () => {
    const { action, form, written, at } = await commentForm(
      'Printer on 3rd floor jams every morning',
      'Once.',
    );
    h.emulator.faults.set({ ...MADE_BEHIND_A_503, pathPrefix: at });
    expect((await alice.post(action, form)).status).to.equal(303);
    expect(written(), 'comments under one write key').to.have.length(1);
  });

  it('says it could not confirm a comment made behind a 503 whose look fails, and the form sent again lands on it', async () => {
    const { key, action, form, written, at } = await commentForm('Laptop screen flickers', 'Said once.');
    h.emulator.faults.set({
      ...MADE_BEHIND_A_503,
      pathPrefix: at,
      // Where the comment is looked for, nothing answers from then on.
      onArrival: async () =>
        h.emulator.faults.add({
          pathPrefix: `/rest/api/3/issue/${key}/comment`,
          method: 'GET',
          status: 503,
          retryAfterSeconds: 0,
        }),
    });
    const first = await alice.post(action, form);
    h.emulator.faults.clear();
    expect(written(), 'written by the first post').to.have.length(1);
    const page = await first.text();
    expect(page).to.contain('We could not confirm whether your comment was added.');
    expect(page).not.to.contain('was not added');
    // The same form sent again looks first, by a look that sees the comment at once: it lands on it.
    const again = await alice.post(action, { ...form, _csrf: csrfOf(page) });
    expect(again.status).to.equal(303);
    expect(written(), 'after the same form sent again').to.have.length(1);
  });

  it('sends a comment Atlassian refused with 503 and Retry-After again once its look found nothing', async () => {
    const { action, form, written, at } = await commentForm(
      'Printer on 3rd floor jams every morning',
      'Again.',
    );
    // Atlassian's own 503, nothing made.
    h.emulator.faults.set({ status: 503, retryAfterSeconds: 1, method: 'POST', times: 1, pathPrefix: at });
    expect((await alice.post(action, form)).status).to.equal(303);
    expect(written(), 'comments under one write key').to.have.length(1);
  });
});
