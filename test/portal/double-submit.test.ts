// A double click on "Send" posts the same form twice, the second before the first has an answer:
// both carry the form's write key, and neither may find the other's request yet. One writes; the
// other waits for it and lands on the same request (portal/write-claims.ts).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  raiseRequestForm,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';
import { passOnWriteClaim, readsServed, redisUrl } from '../../testkit/redis.js';

describe('portal: the same form sent twice at once writes once', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness();
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => h.emulator.faults.clear());
  after(() => h.close());

  const writeKeyOf = (html: string, action: string) =>
    new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

  /**
   * Holds Atlassian's handling of the first write (the rule's delay), sends the second post once the
   * first is held there, and returns both answers. Without a claim on the write key, the second
   * looks for the key, finds nothing (the first is not written yet) and writes too.
   */
  async function doubleClick(pathPrefix: string, send: () => Promise<Response>) {
    h.emulator.faults.set({ delayMs: 1500, pathPrefix, method: 'POST' });
    const first = send();
    await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
    const second = send();
    return Promise.all([first, second]);
  }

  it('raises one request for two posts of one raise-request form, and both land on it', async () => {
    const desk = (await alice.text('/desk/1')).body;
    const typeId = /href="\/desk\/1\/create\/(\d+)"><strong>Get IT help/.exec(desk)![1]!;
    const action = `/desk/1/create/${typeId}`;
    const form = (await alice.text(action)).body;
    const fields = {
      _csrf: csrfOf(form),
      _write: writeKeyOf(form, action)!,
      f_summary: 'Double-clicked send',
      f_description: 'Sent twice by an impatient mouse.',
    };
    const send = () => {
      const body = new FormData();
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      return alice.fetch(action, { method: 'POST', body, headers: { origin: h.url } });
    };
    const from = h.logs.length;
    const answers = await doubleClick('/rest/servicedeskapi/request', send);
    const created = [...h.emulator.state.requests.values()].filter(
      (r) => r.fieldValues['summary'] === 'Double-clicked send',
    );
    expect(created, 'requests raised').to.have.length(1);
    expect(h.emulator.faults.hits(), 'creates Atlassian received').to.deep.equal([1]);
    expect(answers.map((a) => a.status)).to.deep.equal([303, 303]);
    expect(answers.map((a) => a.headers.get('location'))).to.deep.equal([
      `/requests/${created[0]!.key}?created=1`,
      `/requests/${created[0]!.key}?created=1`,
    ]);
    const events = h.logs.slice(from).map((l) => l['event']);
    expect(events.filter((e) => e === 'portal.request_created')).to.have.length(1);
    expect(events.filter((e) => e === 'portal.request_resubmitted')).to.have.length(1);
  });

  it('moves a request once for two posts of one transition confirmation, and both land on the moved request', async () => {
    const request = () =>
      [...h.emulator.state.requests.values()].find(
        (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
      )!;
    const key = request().key;
    // "Resolve this issue" from In progress: the second post, unclaimed, found the step gone.
    const confirmPath = `/requests/${key}/transition/761`;
    const confirm = (await alice.text(confirmPath)).body;
    const action = `/requests/${key}/transition`;
    const fields = {
      _csrf: csrfOf(confirm),
      _write: writeKeyOf(confirm, action)!,
      transition: '761',
      body: 'Fixed by the new fuser, clicked twice.',
    };
    const answers = await doubleClick(`/rest/servicedeskapi/request/${key}/transition`, () =>
      alice.post(action, fields),
    );
    expect(h.emulator.faults.hits(), 'transitions Atlassian received').to.deep.equal([1]);
    expect(request().status).to.equal('Resolved');
    expect(request().comments.filter((c) => c.body.includes('clicked twice'))).to.have.length(1);
    expect(answers.map((a) => [a.status, a.headers.get('location')])).to.deep.equal([
      [303, `/requests/${key}?moved=1`],
      [303, `/requests/${key}?moved=1`],
    ]);
  });

  describe('a step offered again from where it leads, which Atlassian took and answered 500', () => {
    // "Add information": a step that keeps the request where it is, so it is still offered after it
    // was taken, as a Jira workflow may (a loop transition).
    const loop = {
      id: '901',
      name: 'Add information',
      from: ['Waiting for support'],
      to: 'Waiting for support',
    };
    before(() => h.emulator.state.workflow.push(loop));
    after(() => h.emulator.state.workflow.splice(h.emulator.state.workflow.indexOf(loop), 1));

    /** Both posts of one confirmation form, the first held at Atlassian, taken, and answered 500. */
    async function twiceTakenThenFailed(body?: string) {
      const r = [...h.emulator.state.requests.values()].find(
        (x) => x.fieldValues['summary'] === 'Laptop screen flickers',
      )!;
      expect(r.status).to.equal('Waiting for support');
      const steps = r.statusHistory.length;
      const confirm = (await alice.text(`/requests/${r.key}/transition/${loop.id}`)).body;
      const action = `/requests/${r.key}/transition`;
      const fields = {
        _csrf: csrfOf(confirm),
        _write: writeKeyOf(confirm, action)!,
        transition: loop.id,
        ...(body === undefined ? {} : { body }),
      };
      const pathPrefix = `/rest/servicedeskapi/request/${r.key}/transition`;
      h.emulator.faults.set({
        delayMs: 1500,
        statusAfterHandling: 500,
        pathPrefix,
        method: 'POST',
        times: 1,
      });
      const first = alice.post(action, fields);
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first step held at Atlassian');
      const answers = await Promise.all([first, alice.post(action, fields)]);
      const texts = await Promise.all(answers.map((a) => a.text()));
      return { r, taken: r.statusHistory.length - steps, answers, texts };
    }

    it('takes it and adds its comment once, and both posts land on the request', async () => {
      const { r, taken, answers } = await twiceTakenThenFailed('Serial number is on the box, clicked twice.');
      expect(taken, 'steps taken').to.equal(1);
      expect(
        r.comments.filter((c) => c.body.includes('clicked twice')),
        'comments added',
      ).to.have.length(1);
      expect(answers.map((a) => [a.status, a.headers.get('location')])).to.deep.equal([
        [303, `/requests/${r.key}?moved=1`],
        [303, `/requests/${r.key}?moved=1`],
      ]);
    });

    it('takes it once without a comment, and the second post says the step may have been taken', async () => {
      const { taken, answers, texts } = await twiceTakenThenFailed();
      expect(taken, 'steps taken').to.equal(1);
      expect(answers.map((a) => a.status)).to.deep.equal([502, 502]);
      expect(texts[1]).to.contain('We could not confirm whether the request was updated.');
      expect(texts[1]).to.not.contain('created');
    });
  });

  it('adds one comment for two posts of one comment form', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const fields = {
      _csrf: csrfOf(detail),
      _write: writeKeyOf(detail, action)!,
      body: 'Said once, clicked twice.',
    };
    const answers = await doubleClick(`/rest/servicedeskapi/request/${key}/comment`, () =>
      alice.post(action, fields),
    );
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(request.comments.filter((c) => c.body.includes('Said once, clicked twice.'))).to.have.length(1);
    expect(answers.map((a) => [a.status, a.headers.get('location')])).to.deep.equal([
      [303, `/requests/${key}?commented=1`],
      [303, `/requests/${key}?commented=1`],
    ]);
  });

  // The first post's claim must outlive its write, whatever its calls take: the write budget (20 s)
  // and two minutes for its calls' own deadlines (portal/requests.ts, ADR 0141). A claim gone before
  // the write ends lets the second post claim and write too. The two minutes pass on the stored
  // claim (ADR 0299), not on the clock; what is left of it then (20 s) is the test's, in real time.
  it('raises one request when the second click comes two minutes into the first’s create: it waits for the first and lands on its request', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const fields = {
      ...(await form.fresh()),
      f_summary: 'Clicked twice while Atlassian took long',
      f_description: 'The second click came two minutes into the first one’s create.',
    };
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.emulator.faults.set(
      { heldUntil: held, pathPrefix: '/rest/servicedeskapi/request', method: 'POST', times: 1 },
      // No fault: counts the look-ups for the form's key.
      { pathPrefix: '/rest/api/3/search/jql', method: 'POST' },
    );
    const redis = new Redis(redisUrl());
    let answers: Response[];
    try {
      const first = form.post(fields);
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first create held at Atlassian');
      await passOnWriteClaim(redis, 'create:', fields._write, 120_000);
      let secondAnswered = false;
      const second = form.post(fields).finally(() => {
        secondAnswered = true;
      });
      await eventually(async () => h.emulator.faults.hits()[1] === 2, 'the second post looked for the key');
      const before = await readsServed(redis);
      // With the claim already gone, the second post writes and answers without waiting.
      await eventually(
        async () => secondAnswered || (await readsServed(redis)) >= before + 2,
        'the second post waiting for the first, or answered',
      );
      release();
      answers = await Promise.all([first, second]);
    } finally {
      release();
      redis.disconnect();
    }
    const raised = form.created(fields.f_summary);
    expect(raised, 'requests raised').to.have.length(1);
    const landed = [303, `/requests/${raised[0]!.key}?created=1`];
    expect(answers.map((a) => [a.status, a.headers.get('location')])).to.deep.equal([landed, landed]);
  });
});
