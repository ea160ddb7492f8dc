// A comment, a file or a step with a comment that Atlassian is still processing when the portal's
// deadline for it passes, and commits later. The post gives up (502: it cannot tell), its claim was
// dropped, and the customer's post of the same form while Atlassian still held the first looked, found
// nothing and wrote it again: two comments, two files, the step taken twice (ADR 0378). Now the give-up
// leaves its claim saying the write may have been made: for 30 s a post of the same form writes
// nothing, says it could not confirm and keeps what was typed; later it looks first and lands on the
// write Atlassian made.
//
// Within one post, too: a write not found by the post's looks after its deadline (0.5, 2 and 5 s) was
// sent again by that post, and one Atlassian committed later still was written twice (ADR 0393). Now the
// post gives up after its looks as a create does, says it could not confirm and keeps what was typed; a
// write lost on its way is written by the customer's own post of the same form, which looks first.
// And the comment of a step whose outcome is unknown, sent from the request's comment form under the
// step's key while Atlassian still made the step, was claimed apart from it and written beside the
// step's: now every write found by its comment under a key shares that key's claim (ADR 0393).

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createTranslator } from '../../common/i18n/index.js';
import { uploadWriteKey } from '../../portal/upload-write-key.js';
import { clearOutageAfterEach, failEveryRead } from '../../testkit/atlassian-outage.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  type HarnessOptions,
  holdNextWrite,
  KEYED_FILE_CONTENT,
  keyedFileForm,
  keyedFileName,
  raiseRequestForm,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';
import { passOnWriteClaim, redisUrl } from '../../testkit/redis.js';

const writeKeyOf = (html: string, action: string) =>
  new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

/** One form of the request's page, as the customer sends it: from the page it is on. */
interface Form {
  /** Where it is posted. */
  action: (key: string) => string;
  /** Its write key on `page` (the request's, or the step's confirmation). */
  page: (h: Harness, alice: Browser, key: string) => Promise<string>;
  send: (alice: Browser, key: string, page: string) => Promise<Response>;
  /** The Atlassian call that writes it, held past the portal's deadline. */
  writes: (key: string) => string;
  /** What it wrote on the request, under the key of `page`. */
  written: (h: Harness, key: string, writeKey: string) => number;
  /** What the page says when it cannot tell, and shows of what was typed (a file is chosen anew). */
  unconfirmed: string;
  /** What the page says to a post of the same form within the hold: still checked, nothing sent (ADR 0399). */
  stillChecked: string;
  kept?: string;
  /** The key its write claim is under, when not the form's (a file's is of the form and the file, ADR 0383). */
  claimKey?: (writeKey: string) => string;
}

/**
 * The scope of each form's write claim: one for every write its request's comments show under a key, a
 * comment, files with their note, a step with its comment (ADR 0393).
 */
const claimScope = (key: string) => `comment:${key}:`;
const TEXT = 'Sent once, however slow the help center.';
const requestOf = (h: Harness, key: string) =>
  [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
const commentsUnder = (h: Harness, key: string, writeKey: string) =>
  requestOf(h, key).comments.filter((c) => c.body.includes(`(portal reference ${writeKey})`)).length;
const filesUnder = (h: Harness, key: string, writeKey: string) =>
  requestOf(h, key).attachments.filter((a) => a.filename === keyedFileName(writeKey)).length;
/** "Add information": a step that keeps the request where it is, so it is offered again once taken. */
const LOOP = { id: '901', name: 'Add information', from: ['Waiting for support'], to: 'Waiting for support' };

const comment: Form = {
  action: (key) => `/requests/${key}/comment`,
  page: async (_h, alice, key) => (await alice.text(`/requests/${key}`)).body,
  send: (alice, key, page) =>
    alice.post(comment.action(key), {
      _csrf: csrfOf(page),
      _write: writeKeyOf(page, comment.action(key))!,
      body: TEXT,
    }),
  writes: (key) => `/rest/servicedeskapi/request/${key}/comment`,
  written: commentsUnder,
  unconfirmed: 'We could not confirm whether your comment was added.',
  stillChecked: 'We are still checking whether the comment from your earlier click was added',
  kept: `>${TEXT}</textarea>`,
};

const forms: Record<string, Form> = {
  'a comment': comment,
  'a comment with a file': {
    ...comment,
    send: (alice, key, page) =>
      alice.fetch(comment.action(key), {
        method: 'POST',
        body: keyedFileForm(page, comment.action(key), { body: TEXT }),
        headers: { origin: alice.base },
      }),
    writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
    written: filesUnder,
  },
  'a file': {
    action: (key) => `/requests/${key}/attachment`,
    page: comment.page,
    send: (alice, key, page) =>
      alice.fetch(`/requests/${key}/attachment`, {
        method: 'POST',
        body: keyedFileForm(page, `/requests/${key}/attachment`, {}),
        headers: { origin: alice.base },
      }),
    writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
    written: filesUnder,
    unconfirmed: 'We could not confirm whether your file was attached.',
    stillChecked: 'We are still checking whether the file from your earlier click was attached',
    claimKey: (writeKey) =>
      uploadWriteKey(writeKey, {
        filename: keyedFileName(writeKey),
        sha256: createHash('sha256').update(KEYED_FILE_CONTENT).digest('hex'),
      }),
  },
  'a step with a comment': {
    action: (key) => `/requests/${key}/transition`,
    page: async (_h, alice, key) => (await alice.text(`/requests/${key}/transition/${LOOP.id}`)).body,
    send: (alice, key, page) =>
      alice.post(`/requests/${key}/transition`, {
        _csrf: csrfOf(page),
        _write: writeKeyOf(page, `/requests/${key}/transition`)!,
        transition: LOOP.id,
        body: TEXT,
      }),
    writes: (key) => `/rest/servicedeskapi/request/${key}/transition`,
    written: commentsUnder,
    unconfirmed: 'We could not confirm whether the request was updated.',
    stillChecked: 'We are still checking whether your earlier click updated the request',
    kept: comment.kept,
  },
};

/** The page a post of `form` answered when it could not confirm its write, checked for what it says and keeps. */
async function expectUnconfirmedPage(form: Form, answer: Response) {
  const text = await answer.text();
  expect(answer.status, 'the post that could not confirm').to.equal(502);
  expect(text).to.contain(form.unconfirmed);
  if (form.kept) expect(text).to.contain(form.kept);
  return text;
}

/**
 * When the page `answer` says its form can be sent again, in seconds: the same in its words and in its
 * Retry-After, and within the 30 s hold (ADR 0399).
 */
async function sendableAgainIn(answer: Response, page: string): Promise<number> {
  const said = /send (?:it|this form) again in (\d+) seconds?/.exec(page)?.[1];
  expect(said, 'when the page says it can be sent again').to.be.a('string');
  expect(answer.headers.get('retry-after'), 'its Retry-After').to.equal(said);
  expect(Number(said)).to.be.within(1, 30);
  return Number(said);
}

/** `form` on its page of the request, as Alice opens it, and its write key there. */
async function opened(h: Harness, alice: Browser, form: Form) {
  const key = h.keyOf('Laptop screen flickers');
  const page = await form.page(h, alice, key);
  return { key, page, writeKey: writeKeyOf(page, form.action(key))! };
}

/** Lets the write held at Atlassian commit, and waits until it has: what `form` wrote under `writeKey` then. */
async function committed(h: Harness, form: Form, key: string, writeKey: string, commit: () => void) {
  const before = form.written(h, key, writeKey);
  commit();
  await eventually(
    async () => form.written(h, key, writeKey) > before,
    'the held write committed at Atlassian',
  );
  return form.written(h, key, writeKey);
}

/**
 * A portal as `options` say, its workflow offering LOOP, Alice signed in (handed to `started`); the
 * emulator's faults cleared after each test. The Redis client that makes time pass on a claim.
 */
function usePortal(options: HarnessOptions, started: (h: Harness, alice: Browser) => void): Redis {
  const redis = new Redis(redisUrl());
  let harness: Harness | undefined;
  useHarness(async (h) => {
    harness = h;
    h.emulator.state.workflow.push(LOOP);
    started(h, await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' }));
  }, options);
  afterEach(() => harness?.emulator.faults.clear());
  after(() => redis.disconnect());
  return redis;
}

describe('faults: a write Atlassian commits after the portal’s deadline, its form sent again meanwhile', () => {
  let h: Harness;
  let alice: Browser;
  const redis = usePortal(
    // The call's deadline 1 s, the write's budget 1.2 s: the post gives up when its call times out.
    { transport: { timeoutMs: 1000 }, writes: { budgetMs: 1200 } },
    (started, signedIn) => {
      h = started;
      alice = signedIn;
    },
  );
  clearOutageAfterEach(() => h);

  for (const [what, form] of Object.entries(forms)) {
    it(`writes ${what} once: the post sent again while Atlassian still holds the first writes nothing and keeps what was typed`, async () => {
      const { key, page, writeKey } = await opened(h, alice, form);
      const commit = holdNextWrite(h, form.writes(key));
      try {
        const first = await form.send(alice, key, page);
        const firstPage = await first.text();
        expect(first.status, 'the first post, past its deadline').to.equal(502);
        expect(firstPage).to.contain(form.unconfirmed);
        // When it can be sent again: the hold's 30 s, the time its write may still be under way.
        await sendableAgainIn(first, firstPage);
        // Sent again from the page it got (the same key), while Atlassian still processes the first.
        const from = h.logs.length;
        // The request's page keeps the form's key (a step's form is a page of its own: sent from there).
        const resendFrom = (answer: string) => {
          const kept = writeKeyOf(answer, form.action(key));
          if (kept !== undefined) expect(kept, 'the key of the form on the page').to.equal(writeKey);
          return kept === undefined ? page : answer;
        };
        const again = await form.send(alice, key, resendFrom(firstPage));
        const againPage = await again.text();
        // 25 s into the hold, what is left of it.
        const claimKey = form.claimKey ? form.claimKey(writeKey) : writeKey;
        await passOnWriteClaim(redis, claimScope(key), claimKey, 25_000);
        const later = await form.send(alice, key, resendFrom(againPage));
        const laterPage = await later.text();
        expect(laterPage).to.contain(form.stillChecked);
        expect(await sendableAgainIn(later, laterPage), 'seconds left, 25 s into the hold').to.be.at.most(5);
        expect(await committed(h, form, key, writeKey, commit), `${what} written`).to.equal(1);
        expect(again.status, 'the post sent again').to.equal(502);
        // Not the first post's words again: this one sent nothing, the first is still being checked.
        expect(againPage).to.contain(form.stillChecked);
        expect(againPage).to.contain('nothing was sent this time');
        expect(againPage).to.not.contain(form.unconfirmed);
        await sendableAgainIn(again, againPage);
        if (form.kept) expect(againPage).to.contain(form.kept);
        // The reason, on the page beside the words and in the log line.
        expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_UNCONFIRMED</code>');
        expect(h.logs.slice(from).map((l) => l['reason'])).to.include('PORTAL_WRITE_UNCONFIRMED');
        // Past the 30 s, the same form looks first and lands on what Atlassian wrote.
        await passOnWriteClaim(redis, claimScope(key), claimKey, 31_000);
        const late = await form.send(alice, key, resendFrom(againPage));
        expect(late.status, 'the form sent 31 s later').to.equal(303);
        expect(form.written(h, key, writeKey), `${what} written, the form sent 31 s later`).to.equal(1);
      } finally {
        commit();
      }
    });
  }

  // The words of the hold, in every language the portal speaks (ADR 0399): with the seconds of its Retry-After.
  for (const locale of ['de', 'fr', 'ja'] as const) {
    it(`says in ${locale} when a comment it could not confirm can be sent again, and that a post within the hold sent nothing`, async () => {
      const i18n = createTranslator({ locale, timeZone: 'UTC' });
      const { key, page } = await opened(h, alice, comment);
      const send = (from: string) =>
        alice.post(
          comment.action(key),
          { _csrf: csrfOf(from), _write: writeKeyOf(from, comment.action(key))!, body: TEXT },
          { 'accept-language': locale },
        );
      const commit = holdNextWrite(h, comment.writes(key));
      try {
        for (const words of [
          'request.refused.commentUnconfirmedHeld',
          'request.refused.commentStillChecked',
        ] as const) {
          const answer = await send(page);
          const text = await answer.text();
          expect(answer.status).to.equal(502);
          const seconds = Number(answer.headers.get('retry-after'));
          expect(seconds, 'Retry-After').to.be.within(1, 30);
          expect(text).to.contain(i18n.t(words, { seconds }));
        }
      } finally {
        commit();
      }
    });
  }

  const step = forms['a step with a comment']!;

  // The page after the step's give-up keeps its comment in the request's comment form under the step's
  // key (ADR 0378). Sent while Atlassian still makes the step, it wrote its own comment beside the
  // step's: two (ADR 0386 left it; ADR 0393).
  it('writes the comment once when the comment form is sent while Atlassian still makes the step', async () => {
    const { key, page, writeKey } = await opened(h, alice, step);
    const commit = holdNextWrite(h, step.writes(key));
    try {
      const first = await expectUnconfirmedPage(step, await step.send(alice, key, page));
      expect(writeKeyOf(first, comment.action(key)), 'the comment form’s key').to.equal(writeKey);
      const again = await comment.send(alice, key, first);
      const againPage = await again.text();
      expect(await committed(h, step, key, writeKey, commit), 'comments under the step’s key').to.equal(1);
      expect(again.status, 'the comment form sent meanwhile').to.equal(502);
      expect(againPage).to.contain(comment.stillChecked);
      await sendableAgainIn(again, againPage);
      expect(againPage).to.contain(comment.kept);
      expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_UNCONFIRMED</code>');
      // Past the 30 s, the comment form looks first and lands on the step's comment.
      await passOnWriteClaim(redis, claimScope(key), writeKey, 31_000);
      const late = await comment.send(alice, key, againPage);
      expect(late.status, 'the comment form sent 31 s later').to.equal(303);
      expect(step.written(h, key, writeKey), 'comments under the step’s key, 31 s later').to.equal(1);
    } finally {
      commit();
    }
  });

  /**
   * A raise form whose create Atlassian holds past the call's deadline (`commit` lets it be made): its first
   * post, a 502, and that page.
   */
  async function raisedPastItsDeadline(summary: string, description: string) {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const { fields } = await form.filled({ f_summary: summary, f_description: description });
    const commit = holdNextWrite(h, '/rest/servicedeskapi/request');
    try {
      const first = await form.post(fields);
      const firstPage = await first.text();
      expect(first.status, 'the first post, past its deadline').to.equal(502);
      return { form, fields, commit, first, firstPage };
    } catch (err) {
      // Not held for the tests after this one.
      commit();
      throw err;
    }
  }

  // ADR 0435: a write Atlassian commits later than the hold cannot be told from one lost on its way, which the
  // customer's post after the hold must write. The pages promised it "will not be added twice" (or raise the
  // request twice): a promise the portal cannot keep. They now say what sending again does.
  it('says what sending a comment again after the hold does, when Atlassian commits the first later still: added only if the first is not there by then, so both show', async () => {
    const { key, page, writeKey } = await opened(h, alice, comment);
    const commit = holdNextWrite(h, comment.writes(key));
    try {
      const firstPage = await expectUnconfirmedPage(comment, await comment.send(alice, key, page));
      expect(firstPage).to.not.contain('twice)');
      expect(firstPage).to.contain(
        '(it is added only if the earlier one is not there by then; if that one still arrives later, both show)',
      );
      await passOnWriteClaim(redis, claimScope(key), writeKey, 31_000);
      const again = await comment.send(alice, key, firstPage);
      expect(again.status, 'the comment sent again after the hold, the first still held').to.equal(303);
      expect(await committed(h, comment, key, writeKey, commit), 'comments once the first commits').to.equal(
        2,
      );
    } finally {
      commit();
    }
  });

  // The same give-up answered with the page that keeps the form when the request cannot be read (ADR 0400):
  // it promised "(it will not be written twice)". Its form carries the same key and, sent after the hold,
  // looks and writes as the request's own page's does: a comment committed later still makes two.
  it('says what sending a comment kept on the unreadable request’s page again does, when Atlassian commits the first later still', async () => {
    const { key, page, writeKey } = await opened(h, alice, comment);
    const commit = holdNextWrite(h, comment.writes(key));
    try {
      const first = comment.send(alice, key, page);
      // The comment at Atlassian, held: from now on every read fails, the give-up's page too. The post
      // reads nothing before its call's deadline, a timer due after this check's.
      await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the comment held at Atlassian');
      await failEveryRead(h);
      const firstPage = await expectUnconfirmedPage(comment, await first);
      expect(firstPage).to.contain('<h1>This request cannot be shown right now</h1>');
      expect(firstPage).to.not.contain('twice)');
      expect(firstPage).to.contain(
        '(it is written only if the earlier one is not there by then; if that one still arrives later, both show)',
      );
      h.emulator.faults.clear();
      await passOnWriteClaim(redis, claimScope(key), writeKey, 31_000);
      const again = await comment.send(alice, key, firstPage);
      expect(again.status, 'the kept form sent after the hold, the first still held').to.equal(303);
      expect(await committed(h, comment, key, writeKey, commit), 'comments once the first commits').to.equal(
        2,
      );
    } finally {
      commit();
    }
  });

  it('says what sending a raise form again after the hold does, when Atlassian makes the first later still', async () => {
    const { form, fields, commit, firstPage } = await raisedPastItsDeadline(
      'Raised after the hold while the first was still being made',
      'Sent again after the hold.',
    );
    try {
      expect(firstPage).to.not.contain('twice)');
      expect(firstPage).to.contain(
        '(it raises the request only if the earlier one is not there by then; if that one still arrives later, you will have both)',
      );
      await passOnWriteClaim(redis, 'create:', fields._write, 31_000);
      expect((await form.post(fields)).status, 'the form sent again after the hold').to.equal(303);
      commit();
      await eventually(async () => form.created(fields.f_summary).length === 2, 'the held create made too');
    } finally {
      commit();
    }
  });

  // A raise form the same (ADR 0399).
  it('says when a raise form it could not confirm can be sent again, and that a post within the hold sent nothing', async () => {
    const { form, fields, commit, first, firstPage } = await raisedPastItsDeadline(
      'Raised while the help center was slow',
      'Sent twice, raised once.',
    );
    try {
      expect(firstPage).to.contain('We could not confirm whether your request was created.');
      await sendableAgainIn(first, firstPage);
      const again = await form.post(fields);
      const againPage = await again.text();
      expect(again.status, 'the form sent again within the hold').to.equal(502);
      expect(againPage).to.contain(
        'We are still checking whether the request from your earlier click was created',
      );
      expect(againPage).to.contain('nothing was sent this time');
      expect(againPage).to.contain(`name="_write" value="${fields._write}"`);
      await sendableAgainIn(again, againPage);
      commit();
      await eventually(async () => form.created(fields.f_summary).length === 1, 'the held create made');
      await passOnWriteClaim(redis, 'create:', fields._write, 31_000);
      const late = await form.post(fields);
      expect(late.status, 'the form sent 31 s later').to.equal(303);
      expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
    } finally {
      commit();
    }
  });
});

describe('faults: a write Atlassian commits after the post’s own looks for it', () => {
  let h: Harness;
  let alice: Browser;
  const redis = usePortal(
    // The call's deadline 1 s, and a budget that has room for the looks after it (and, before ADR
    // 0393, for the write sent again once they found nothing).
    { transport: { timeoutMs: 1000 }, writes: { budgetMs: 5000, reconcileDelaysMs: [100, 200, 300] } },
    (started, signedIn) => {
      h = started;
      alice = signedIn;
    },
  );

  for (const [what, form] of Object.entries(forms)) {
    it(`writes ${what} once when Atlassian commits it after the post has looked: the post does not send it again`, async () => {
      const { key, page, writeKey } = await opened(h, alice, form);
      const commit = holdNextWrite(h, form.writes(key));
      try {
        const first = await form.send(alice, key, page);
        expect(await committed(h, form, key, writeKey, commit), `${what} written`).to.equal(1);
        await expectUnconfirmedPage(form, first);
      } finally {
        commit();
      }
    });

    it(`says ${what} lost on its way could not be confirmed, keeps it, and writes it once the customer sends it again`, async () => {
      const { key, page, writeKey } = await opened(h, alice, form);
      // Answered 500 without being made: the post looks once, finds nothing, and no longer sends it again.
      h.emulator.faults.set({ status: 500, pathPrefix: form.writes(key), method: 'POST', times: 1 });
      const firstPage = await expectUnconfirmedPage(form, await form.send(alice, key, page));
      expect(form.written(h, key, writeKey), `${what} written by the post`).to.equal(0);
      // The form kept on the page (or the step's own page) carries the same key: sent past the 30 s
      // hold, it looks first, finds nothing, and writes.
      const kept = writeKeyOf(firstPage, form.action(key));
      if (kept !== undefined) expect(kept, 'the key of the form on the page').to.equal(writeKey);
      const claimKey = form.claimKey ? form.claimKey(writeKey) : writeKey;
      await passOnWriteClaim(redis, claimScope(key), claimKey, 31_000);
      const again = await form.send(alice, key, kept === undefined ? page : firstPage);
      expect(again.status, 'the form sent again').to.equal(303);
      expect(form.written(h, key, writeKey), `${what} written`).to.equal(1);
    });
  }
});
