// A comment, a file or a step with a comment that Atlassian is still processing when the portal's
// deadline for it passes, and commits later. The post gives up (502: it cannot tell), its claim was
// dropped, and the customer's post of the same form while Atlassian still held the first looked, found
// nothing and wrote it again: two comments, two files, the step taken twice (ADR 0378). Now the give-up
// leaves its claim saying the write may have been made: for 30 s a post of the same form writes
// nothing, says it could not confirm and keeps what was typed; later it looks first and lands on the
// write Atlassian made.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { uploadWriteKey } from '../../portal/upload-write-key.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  KEYED_FILE_CONTENT,
  keyedFileForm,
  keyedFileName,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';
import { passOnWriteClaim, redisUrl } from '../../testkit/redis.js';

const writeKeyOf = (html: string, action: string) =>
  new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

/** One form of the request's page, as the customer sends it: from the page it is on. */
interface Form {
  /** Where it is posted, and the scope of its write claim. */
  action: (key: string) => string;
  scope: (key: string) => string;
  /** Its write key on `page` (the request's, or the step's confirmation). */
  page: (h: Harness, alice: Browser, key: string) => Promise<string>;
  send: (alice: Browser, key: string, page: string) => Promise<Response>;
  /** The Atlassian call that writes it, held past the portal's deadline. */
  writes: (key: string) => string;
  /** What it wrote on the request, under the key of `page`. */
  written: (h: Harness, key: string, writeKey: string) => number;
  /** What the page says when it cannot tell, and shows of what was typed (a file is chosen anew). */
  unconfirmed: string;
  kept?: string;
  /** The key its write claim is under, when not the form's (a file's is of the form and the file, ADR 0383). */
  claimKey?: (writeKey: string) => Promise<string>;
}

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
  scope: (key) => `comment:${key}:`,
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
  kept: `>${TEXT}</textarea>`,
};

const forms: Record<string, Form> = {
  'a comment': comment,
  'a comment with a file': {
    ...comment,
    scope: (key) => `attachment:${key}:`,
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
    scope: (key) => `attachment:${key}:`,
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
    claimKey: async (writeKey) => {
      const path = join(tmpdir(), `${writeKey}.txt`);
      await writeFile(path, KEYED_FILE_CONTENT);
      return uploadWriteKey(writeKey, { filename: keyedFileName(writeKey), path });
    },
  },
  'a step with a comment': {
    action: (key) => `/requests/${key}/transition`,
    scope: (key) => `transition:${key}:`,
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
    kept: comment.kept,
  },
};

describe('faults: a write Atlassian commits after the portal’s deadline, its form sent again meanwhile', () => {
  let h: Harness;
  let alice: Browser;
  const redis = new Redis(redisUrl());
  useHarness(
    async (started) => {
      h = started;
      h.emulator.state.workflow.push(LOOP);
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    },
    // The call's deadline 1 s, the write's budget 1.2 s: the post gives up when its call times out.
    { transport: { timeoutMs: 1000 }, writes: { budgetMs: 1200 } },
  );
  afterEach(() => h.emulator.faults.clear());
  after(() => redis.disconnect());

  for (const [what, form] of Object.entries(forms)) {
    it(`writes ${what} once: the post sent again while Atlassian still holds the first writes nothing and keeps what was typed`, async () => {
      const key = h.keyOf('Laptop screen flickers');
      const page = await form.page(h, alice, key);
      const writeKey = writeKeyOf(page, form.action(key))!;
      let commit = () => {};
      const committed = new Promise<void>((resolve) => {
        commit = resolve;
      });
      h.emulator.faults.set({ heldUntil: committed, pathPrefix: form.writes(key), method: 'POST', times: 1 });
      try {
        const first = await form.send(alice, key, page);
        const firstPage = await first.text();
        expect(first.status, 'the first post, past its deadline').to.equal(502);
        expect(firstPage).to.contain(form.unconfirmed);
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
        const before = form.written(h, key, writeKey);
        commit();
        await eventually(
          async () => form.written(h, key, writeKey) > before,
          'the first write committed at Atlassian',
        );
        expect(form.written(h, key, writeKey), `${what} written`).to.equal(1);
        expect(again.status, 'the post sent again').to.equal(502);
        expect(againPage).to.contain(form.unconfirmed);
        if (form.kept) expect(againPage).to.contain(form.kept);
        // The reason, on the page beside the words and in the log line.
        expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_UNCONFIRMED</code>');
        expect(h.logs.slice(from).map((l) => l['reason'])).to.include('PORTAL_WRITE_UNCONFIRMED');
        // Past the 30 s, the same form looks first and lands on what Atlassian wrote.
        const claimKey = form.claimKey ? await form.claimKey(writeKey) : writeKey;
        await passOnWriteClaim(redis, form.scope(key), claimKey, 31_000);
        const late = await form.send(alice, key, resendFrom(againPage));
        expect(late.status, 'the form sent 31 s later').to.equal(303);
        expect(form.written(h, key, writeKey), `${what} written, the form sent 31 s later`).to.equal(1);
      } finally {
        commit();
      }
    });
  }
});
