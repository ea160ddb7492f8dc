// A step taken without a comment leaves nothing at Atlassian its form's write key could be found by.
// Where the workflow offers the step again from where it leads (a step that keeps the status, a
// Reopen cycle), the same form sent again later, after a give-up on a 5xx (500, what Atlassian
// documents for this call) or after the claim of a step taken fine has ended, must not take it a
// second time (ADR 0288). A new form takes it. The time between the posts is made to pass on the
// stored claim itself (its TTL and, after a give-up, its time), so nothing waits on the clock.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';
import { passOnWriteClaim, redisUrl } from '../../testkit/redis.js';

describe('faults: a step without a comment, its form sent again while the step is still offered', () => {
  let h: Harness;
  let alice: Browser;
  const redis = new Redis(redisUrl());
  // "Add information": a step that keeps the request where it is, so it is offered again once taken.
  const loop = {
    id: '901',
    name: 'Add information',
    from: ['Waiting for support'],
    to: 'Waiting for support',
  };
  useHarness(async (started) => {
    h = started;
    h.emulator.state.workflow.push(loop);
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => h.emulator.faults.clear());
  after(() => redis.disconnect());

  const request = () =>
    [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Laptop screen flickers',
    )!;
  const action = () => `/requests/${request().key}/transition`;
  /** Where a post went: 303 to the request's page says the step was taken (or is the one taken). */
  const answered = (res: Response) => [res.status, res.headers.get('location')];
  const landed = () => [303, `/requests/${request().key}?moved=1`];

  /** A new confirmation form of the step: its fields. */
  async function confirmation() {
    const page = (await alice.text(`${action()}/${loop.id}`)).body;
    const write = new RegExp(`action="${action()}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's');
    return { _csrf: csrfOf(page), _write: write.exec(page)![1]!, transition: loop.id };
  }

  const pass = (writeKey: string, ms: number) =>
    passOnWriteClaim(redis, `transition:${request().key}:`, writeKey, ms);

  it('sends nothing for the same form 31 s after Atlassian took the step and answered 500, nor in its session’s last minute; a new form takes it', async () => {
    const steps = request().statusHistory.length;
    const form = await confirmation();
    h.emulator.faults.set({
      statusAfterHandling: 500,
      pathPrefix: `/rest/servicedeskapi/request/${request().key}/transition`,
      method: 'POST',
      times: 1,
    });
    const first = await alice.post(action(), form);
    expect(first.status, 'the first post').to.equal(502);
    expect(request().statusHistory.length - steps, 'steps taken by the first post').to.equal(1);
    // Its own page says so too (ADR 0377): before, "Something went wrong … Please try again" alone,
    // and the step's button, a new form, took the step a second time.
    expect(await first.text(), 'the first post’s page').to.contain(
      'We could not confirm whether the request was updated.',
    );
    // Past the 30 s in which a post of the same form is refused outright (ADR 0245).
    await pass(form._write, 31_000);
    const again = await alice.post(action(), form);
    expect(request().statusHistory.length - steps, 'steps taken, the form sent again').to.equal(1);
    expect(again.status).to.equal(502);
    expect(await again.text()).to.contain('We could not confirm whether the request was updated.');
    // Refused for as long as the form can be posted (ADR 0288), not only past the 30 s: at 31 s a
    // refusal for the 30 s, or for a keep of minutes, would look the same.
    await pass(form._write, h.formLifeMs - 60_000 - 31_000);
    const late = await alice.post(action(), form);
    expect(request().statusHistory.length - steps, 'steps taken, the form sent in its last minute').to.equal(
      1,
    );
    expect(late.status, 'the form sent in its last minute').to.equal(502);
    // The customer checked the status and takes the step anew: a new form.
    const anew = await alice.post(action(), await confirmation());
    expect(answered(anew)).to.deep.equal(landed());
    expect(request().statusHistory.length - steps, 'steps taken, a new form').to.equal(2);
  });

  it('sends nothing for the same form after Atlassian took the step and a proxy answered 503 with Retry-After (ADR 0408)', async () => {
    // Before, a 503 with Retry-After was read as "nothing done": the claim was dropped, and the same
    // form sent again took the step a second time.
    const steps = request().statusHistory.length;
    const form = await confirmation();
    h.emulator.faults.set({
      statusAfterHandling: 503,
      retryAfterSeconds: 1,
      pathPrefix: `/rest/servicedeskapi/request/${request().key}/transition`,
      method: 'POST',
      times: 1,
    });
    const first = await alice.post(action(), form);
    expect(request().statusHistory.length - steps, 'steps taken by the first post').to.equal(1);
    expect(first.status, 'the first post').to.not.equal(303);
    expect(await first.text()).to.contain('We could not confirm whether the request was updated.');
    const again = await alice.post(action(), form);
    expect(request().statusHistory.length - steps, 'steps taken, the form sent again').to.equal(1);
    expect(again.status, 'the form sent again').to.equal(502);
  });

  it('keeps nothing of a form whose step was not offered: sent again once it is, it takes the step', async () => {
    const steps = request().statusHistory.length;
    const form = await confirmation();
    // An agent moved the request on meanwhile: the step is not offered there.
    request().status = 'In progress';
    const refused = await alice.post(action(), form);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('That step is not available.');
    request().status = 'Waiting for support';
    const again = await alice.post(action(), form);
    expect(answered(again)).to.deep.equal(landed());
    expect(request().statusHistory.length - steps, 'steps taken').to.equal(1);
  });

  it('lands the same form sent again past the 140 s a claim is held, to its session’s last minute, on the step taken fine, taking nothing', async () => {
    const steps = request().statusHistory.length;
    const form = await confirmation();
    expect(answered(await alice.post(action(), form))).to.deep.equal(landed());
    // The claim of another finished write is held 140 s (the write budget and a margin); this one
    // keeps its outcome for as long as the form can be posted (ADR 0288).
    for (const [ms, when] of [
      [141_000, 'past the 140 s'],
      [h.formLifeMs - 60_000 - 141_000, 'in its last minute'],
    ] as const) {
      await pass(form._write, ms);
      const again = await alice.post(action(), form);
      expect(answered(again), when).to.deep.equal(landed());
      expect(request().statusHistory.length - steps, `steps taken, the form sent ${when}`).to.equal(1);
    }
  });
});
