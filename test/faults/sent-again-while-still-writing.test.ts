// A comment, upload, step or raise form sent again while its first post is still being written at Atlassian,
// longer than a post of the same form waits for it (the write budget): the second post writes nothing
// and answers 409 PORTAL_WRITE_IN_PROGRESS (portal/write-claims.ts, ADR 0141). That answer went to the
// error page, and the comment the customer typed was lost with it. Now it is the request's page, the
// text kept under the same key, saying it is still being sent (ADR 0385); a step's comment is kept on
// the step's own page, its form under the same key; the raise form comes back with every answer under
// the same key (ADR 0386). Each says, and its Retry-After, within how many seconds the first post's claim
// is over at the latest, its outcome known: it said "in a moment" (ADR 0401).
import { expect } from 'chai';
import { createTranslator } from '../../common/i18n/index.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  holdNextWrite,
  raiseRequestForm,
  reasons,
  writeKeyOf,
} from '../../testkit/portal-harness.js';
import {
  LOOP_STEP,
  type RequestWriteForm,
  requestWriteForms,
  useWriteFormsHarness,
} from '../../testkit/request-write-forms.js';

const TEXT = 'Typed once, sent while the first was still on its way.';

describe('faults: a comment, a file, a step or a raise form sent again while its first post is still writing', () => {
  let h: Harness;
  let alice: Browser;
  useWriteFormsHarness((started, signedIn) => {
    h = started;
    alice = signedIn;
  });
  afterEach(() => h.emulator.faults.clear());

  /**
   * Within how many seconds the page `answer` says the first post is over: in its words and its Retry-After
   * alike, no more than the claim's hold (the harness's write budget, 0.3 s, rounded up, and 120 s).
   */
  const knownWithin = (answer: Response, page: string) => {
    const said = /known within (\d+) seconds? at the latest/.exec(page)?.[1];
    expect(said, 'when the page says the first post is over').to.be.a('string');
    expect(answer.headers.get('retry-after'), 'its Retry-After').to.equal(said);
    expect(Number(said)).to.be.within(1, 121);
  };

  const forms = requestWriteForms(() => ({ h, browser: alice }), TEXT, LOOP_STEP.id);
  const stepAction = forms.stepWithComment.action;
  /** A form, what its page says of the post sent while the first writes, and what it keeps. */
  type Variant = RequestWriteForm & {
    says: string;
    kept: string | undefined;
    /** Whether the page answered has the form again, under the same key. */
    formKept: boolean;
  };
  const comment: Variant = {
    ...forms.comment,
    says: 'Your comment is still being sent from your earlier click',
    kept: `>${TEXT}</textarea>`,
    formKept: true,
  };
  const stepWithComment: Variant = {
    ...forms.stepWithComment,
    says: 'That step is still being sent from your earlier click',
    kept: comment.kept,
    formKept: true,
  };
  const variants: Record<string, Variant> = {
    'a comment': comment,
    'a comment with a file': { ...comment, ...forms.commentWithFile },
    // The file is chosen anew (no browser keeps it): its form keeps the key.
    'a file': {
      ...forms.file,
      says: 'Your file is still being sent from your earlier click',
      kept: undefined,
      formKept: true,
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
          transition: LOOP_STEP.id,
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
        knownWithin(again, againPage);
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
      expect(againPage).to.contain('Your request is still being sent from your earlier click');
      knownWithin(again, againPage);
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

  // The words, in every language the portal speaks: with the seconds of the Retry-After.
  for (const locale of ['de', 'fr', 'ja'] as const) {
    it(`says in ${locale} within how many seconds a comment still being sent is known`, async () => {
      const i18n = createTranslator({ locale, timeZone: 'UTC' });
      const key = h.keyOf('Laptop screen flickers');
      const page = (await alice.text(comment.page(key))).body;
      const release = holdNextWrite(h, comment.writes(key));
      try {
        const first = comment.send(key, page);
        await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
        const again = await alice.post(
          comment.action(key),
          { _csrf: csrfOf(page), _write: writeKeyOf(page, comment.action(key))!, body: TEXT },
          { 'accept-language': locale },
        );
        expect(again.status).to.equal(409);
        const seconds = Number(again.headers.get('retry-after'));
        expect(seconds, 'Retry-After').to.be.within(1, 121);
        expect(await again.text()).to.contain(i18n.t('request.refused.commentInProgress', { seconds }));
        release();
        expect((await first).status).to.equal(303);
      } finally {
        release();
      }
    });
  }
});
