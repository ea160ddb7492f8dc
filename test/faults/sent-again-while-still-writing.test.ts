// A comment, upload, step or raise form sent again while its first post is still being written at Atlassian,
// longer than a post of the same form waits for it (the write budget): the second post writes nothing
// and answers 409 PORTAL_WRITE_IN_PROGRESS (portal/write-claims.ts, ADR 0141). That answer went to the
// error page, and the comment the customer typed was lost with it. Now it is the request's page, the
// text kept under the same key, saying it is still being sent (ADR 0385); a step's comment is kept on
// the step's own page, its form under the same key; the raise form comes back with every answer under
// the same key (ADR 0386).
import { expect } from 'chai';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  holdNextWrite,
  keyedFileForm,
  keyedFileName,
  raiseRequestForm,
  reasons,
  signIn,
  useHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

const TEXT = 'Typed once, sent while the first was still on its way.';
/** "Add information": a step that keeps the request where it is, so it is offered again once taken. */
const LOOP = { id: '901', name: 'Add information', from: ['Waiting for support'], to: 'Waiting for support' };

describe('faults: a comment, a file, a step or a raise form sent again while its first post is still writing', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      h.emulator.state.workflow.push(LOOP);
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    },
    // A post of the same form waits the write budget for the first: 300 ms, then 409.
    { writes: { budgetMs: 300 } },
  );
  afterEach(() => h.emulator.faults.clear());

  const requestOf = (key: string) => [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
  const commentsUnder = (key: string, writeKey: string) =>
    requestOf(key).comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`)).length;
  const filesUnder = (key: string, writeKey: string) =>
    requestOf(key).attachments.filter((a) => a.filename === keyedFileName(writeKey)).length;
  /** The page's form posting to `action`, as multipart, with a file and `fields`. */
  const multipart = (page: string, action: string, fields: Record<string, string>) =>
    alice.fetch(action, {
      method: 'POST',
      body: keyedFileForm(page, action, fields),
      headers: { origin: alice.base },
    });

  const stepsTaken = (key: string) => requestOf(key).statusHistory.length;

  const commentAction = (key: string) => `/requests/${key}/comment`;
  const stepAction = (key: string) => `/requests/${key}/transition`;
  const comment = {
    /** The page the form is on. */
    page: (key: string) => `/requests/${key}`,
    action: commentAction,
    writes: (key: string) => `/rest/servicedeskapi/request/${key}/comment`,
    send: (key: string, page: string) =>
      alice.post(commentAction(key), {
        _csrf: csrfOf(page),
        _write: writeKeyOf(page, commentAction(key))!,
        body: TEXT,
      }),
    written: commentsUnder,
    says: 'Your comment is still being sent from your earlier click.',
    kept: `>${TEXT}</textarea>` as string | undefined,
    /** Whether the page answered has the form again, under the same key. */
    formKept: true,
    done: 'commented',
  };
  const stepWithComment: typeof comment = {
    page: (key) => `${stepAction(key)}/${LOOP.id}`,
    action: stepAction,
    writes: (key) => `/rest/servicedeskapi/request/${key}/transition`,
    send: (key, page) =>
      alice.post(stepAction(key), {
        _csrf: csrfOf(page),
        _write: writeKeyOf(page, stepAction(key))!,
        transition: LOOP.id,
        body: TEXT,
      }),
    written: (key) => stepsTaken(key),
    says: 'That step is still being sent from your earlier click.',
    kept: comment.kept,
    formKept: true,
    done: 'moved',
  };
  const variants: Record<string, typeof comment> = {
    'a comment': comment,
    'a comment with a file': {
      ...comment,
      writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
      send: (key, page) => multipart(page, commentAction(key), { body: TEXT }),
    },
    // The file is chosen anew (no browser keeps it): its form keeps the key.
    'a file': {
      page: comment.page,
      action: (key) => `/requests/${key}/attachment`,
      writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
      send: (key, page) => multipart(page, `/requests/${key}/attachment`, {}),
      written: filesUnder,
      says: 'Your file is still being sent from your earlier click.',
      kept: undefined,
      formKept: true,
      done: 'uploaded',
    },
    // Its own page again, the comment in its form under the same key: sent from the request's comment
    // form under another scope, it was written while the step's, still on its way, wrote it too.
    'a step with a comment': stepWithComment,
    // Nothing typed: the request's page, its status to check.
    'a step': {
      ...stepWithComment,
      send: (key, page) =>
        alice.post(stepAction(key), {
          _csrf: csrfOf(page),
          _write: writeKeyOf(page, stepAction(key))!,
          transition: LOOP.id,
          body: '',
        }),
      kept: '<h1>Laptop screen flickers</h1>',
      formKept: false,
    },
  };

  for (const [what, variant] of Object.entries(variants)) {
    it(`shows ${what} sent again as still being sent, on its page, what was typed kept under the same key`, async () => {
      const key = h.keyOf('Laptop screen flickers');
      const page = (await alice.text(variant.page(key))).body;
      const writeKey = writeKeyOf(page, variant.action(key))!;
      const before = variant.written(key, writeKey);
      const release = holdNextWrite(h, variant.writes(key));
      try {
        const first = variant.send(key, page);
        await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
        const from = h.logs.length;
        const again = await variant.send(key, page);
        const againPage = await again.text();
        expect(again.status, 'the post sent while the first writes').to.equal(409);
        expect(againPage).to.contain(variant.says);
        if (variant.kept) expect(againPage).to.contain(variant.kept);
        expect(writeKeyOf(againPage, variant.action(key)), 'the form’s key').to.equal(
          variant.formKept ? writeKey : undefined,
        );
        expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_IN_PROGRESS</code>');
        expect(reasons(h, from)).to.include('PORTAL_WRITE_IN_PROGRESS');
        release();
        const answered = await first;
        expect([answered.status, answered.headers.get('location')]).to.deep.equal([
          303,
          `/requests/${key}?${variant.done}=1`,
        ]);
        expect(variant.written(key, writeKey) - before, `${what} written`).to.equal(1);
        if (variant.formKept) {
          // Sent again from the page answered, as its words say: it lands on the first post's write.
          const resent = await variant.send(key, againPage);
          expect([resent.status, resent.headers.get('location')]).to.deep.equal([
            303,
            `/requests/${key}?${variant.done}=1`,
          ]);
          expect(variant.written(key, writeKey) - before, `${what} written, sent again`).to.equal(1);
        }
      } finally {
        release();
      }
    });
  }
  // The raise form, the first post's create held at Atlassian: every answer comes back, with the key.
  it('shows the raise form sent again as still being sent, every answer kept under the same key', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const { fields, chosen } = await form.filled({
      f_summary: 'Raised while the first click was on its way',
      f_description: 'Sent twice, raised once.',
    });
    expect(chosen, 'the choices made beyond the text').to.not.be.empty;
    const release = holdNextWrite(h, '/rest/servicedeskapi/request');
    try {
      const first = form.post(fields);
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first create held at Atlassian');
      const from = h.logs.length;
      const again = await form.post(fields);
      const againPage = await again.text();
      expect(again.status, 'the post sent while the first writes').to.equal(409);
      expect(againPage).to.contain('Your request is still being sent from your earlier click.');
      for (const answer of [fields.f_summary, fields.f_description, ...chosen])
        expect(againPage, 'an answer kept').to.contain(answer);
      expect(againPage).to.contain(`name="_write" value="${fields._write}"`);
      expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_IN_PROGRESS</code>');
      expect(reasons(h, from)).to.include('PORTAL_WRITE_IN_PROGRESS');
      release();
      const [answered, resent] = [await first, await form.post(fields)];
      const [request] = form.created(fields.f_summary);
      for (const post of [answered, resent])
        expect([post.status, post.headers.get('location')]).to.deep.equal([
          303,
          `/requests/${request!.key}?created=1`,
        ]);
      expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
    } finally {
      release();
    }
  });
});
