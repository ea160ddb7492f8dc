import { expect } from 'chai';
import { type Browser, csrfOf, type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal: a write Atlassian keeps refusing leaves no dead end', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    // A short budget: a throttled write gives up after one retry.
    h = await startHarness({ writes: { budgetMs: 1500 } });
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => h.emulator.faults.clear());
  after(() => h.close());

  const throttleWrites = (pathPrefix: string) =>
    h.emulator.faults.set({ status: 429, retryAfterSeconds: 30, pathPrefix, method: 'POST' });
  /** How many times the portal has sent an Atlassian read again, whatever the reason. */
  const readsRetried = async () => {
    const metric = await h.registry.getSingleMetric('jsm_sso_portal_atlassian_retries_total')?.get();
    return (metric?.values ?? []).filter((v) => v.labels['kind'] === 'read').reduce((n, v) => n + v.value, 0);
  };
  const writeKeyOf = (html: string, action: string) =>
    new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

  it('says the request was not created, links to My requests, and keeps the text and the write key', async () => {
    const desk = (await alice.text('/desk/1')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
    const action = `/desk/1/create/${typeId}`;
    const form = (await alice.text(action)).body;
    const writeKey = writeKeyOf(form, action);
    expect(writeKey).to.be.a('string');
    throttleWrites('/rest/servicedeskapi/request');
    const body = new FormData();
    for (const [k, v] of Object.entries({
      _csrf: csrfOf(form),
      _write: writeKey!,
      f_summary: 'Throttled until the budget ends',
      f_description: 'Every word of this is kept.',
    }))
      body.append(k, v);
    const res = await alice.fetch(action, { method: 'POST', body, headers: { origin: h.url } });
    expect(res.status).to.equal(503);
    const page = await res.text();
    expect(page).to.contain('Your request was not created.');
    expect(page).to.contain('<a href="/requests">My requests</a>');
    expect(page).to.contain('Every word of this is kept.');
    // Sending the page again is the same write: it cannot create a second request.
    expect(writeKeyOf(page, action)).to.equal(writeKey);
    expect(
      [...h.emulator.state.requests.values()].filter(
        (r) => r.fieldValues['summary'] === 'Throttled until the budget ends',
      ),
    ).to.have.length(0);
  });

  it('says a comment was not added and gives its text back under the same write key', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const writeKey = writeKeyOf(detail, action);
    throttleWrites(`/rest/servicedeskapi/request/${key}/comment`);
    const res = await alice.post(action, {
      _csrf: csrfOf(detail),
      _write: writeKey!,
      body: 'Please keep this comment.',
    });
    expect(res.status).to.equal(503);
    const page = await res.text();
    expect(page).to.contain('Your comment was not added.');
    expect(page).to.contain('>Please keep this comment.</textarea>');
    expect(writeKeyOf(page, action)).to.equal(writeKey);
  });

  it('sends a write Atlassian answers 503 with Retry-After: 0 again once, after a wait and a look, rather than back to back', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    h.emulator.faults.set({
      status: 503,
      retryAfterSeconds: 0,
      method: 'POST',
      pathPrefix: `/rest/servicedeskapi/request/${key}/comment`,
    });
    const res = await alice.post(action, {
      _csrf: csrfOf(detail),
      _write: writeKeyOf(detail, action)!,
      body: 'Sent into a 503 that asks for no wait.',
    });
    expect(res.status).to.equal(503);
    // Without the least wait the portal sent hundreds (Retry-After: 0 taken as "at once", the look
    // and the write in a loop); then a handful within the budget; now one more at most (ADR 0408:
    // each send behind a 503 is one a look may miss).
    expect(h.emulator.faults.hits()[0], 'comments sent').to.equal(2);
  });

  it('looks for a step Atlassian answered 500 by its comment, does not send it again, says so, and takes it when sent again', async () => {
    const r = [...h.emulator.state.requests.values()].find(
      (x) => x.fieldValues['summary'] === 'Calendar invites arrive twice',
    )!;
    const before = r.status;
    const page = (await alice.text(`/requests/${r.key}`)).body;
    const href = new RegExp(`href="(/requests/${r.key}/transition/[^"]+)"`).exec(page)![1]!;
    const confirm = (await alice.text(href)).body;
    const form = {
      transition: /name="transition" value="([^"]+)"/.exec(confirm)![1]!,
      body: 'Moved on once.',
      _csrf: csrfOf(confirm),
    };
    h.emulator.faults.set({
      status: 500,
      method: 'POST',
      pathPrefix: `/rest/servicedeskapi/request/${r.key}/transition`,
    });
    const failed = await alice.post(`/requests/${r.key}/transition`, form);
    // A transition is no idempotent call, never repeated blindly: its comment carries the form's key
    // and is looked for on the request (ADR 0245); not found, the step is not sent again, as it may
    // still be taken (ADR 0393).
    expect(h.emulator.faults.hits()[0], 'steps sent').to.equal(1);
    expect(failed.status).to.equal(502);
    expect(await failed.text()).to.contain('Something went wrong while talking to the help center.');
    expect(r.status).to.equal(before);
    expect(r.comments.filter((c) => c.body.includes('Moved on once.'))).to.have.length(0);
    h.emulator.faults.clear();
    const again = await alice.post(`/requests/${r.key}/transition`, form);
    expect(again.status).to.equal(303);
    expect(r.status).to.not.equal(before);
    expect(r.comments.filter((c) => c.body.includes('Moved on once.'))).to.have.length(1);
  });

  it("answers a page Atlassian keeps throttling past its retries 503 with Atlassian's Retry-After, in words", async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    // Longer than the transport waits for a read (5 s): each call ends at its first answer, Atlassian
    // asked once, no attempt waited for and sent again. Counted, not timed.
    h.emulator.faults.set({ status: 429, retryAfterSeconds: 30, pathPrefix: '/rest/', method: 'GET' });
    const retriedBefore = await readsRetried();
    const res = await alice.fetch(`/requests/${key}`);
    expect(await readsRetried(), 'reads sent again').to.equal(retriedBefore);
    expect(res.status).to.equal(503);
    expect(res.headers.get('retry-after')).to.equal('30');
    expect(await res.text()).to.contain('The help center is busy right now. Please try again in a minute.');
    h.emulator.faults.clear();
    expect((await alice.fetch(`/requests/${key}`)).status, 'the same page once Atlassian takes it').to.equal(
      200,
    );
  });
});
