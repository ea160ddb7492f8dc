// A comment or upload form sent again while its first post is still being written at Atlassian, longer
// than a post of the same form waits for it (the write budget): the second post writes nothing and
// answers 409 PORTAL_WRITE_IN_PROGRESS (portal/write-claims.ts, ADR 0141). That answer went to the
// error page, and the comment the customer typed was lost with it. Now it is the request's page, the
// text kept under the same key, saying it is still being sent (ADR 0385).
import { expect } from 'chai';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  keyedFileForm,
  keyedFileName,
  reasons,
  signIn,
  useHarness,
  writeKeyOf,
} from '../../testkit/portal-harness.js';

const TEXT = 'Typed once, sent while the first was still on its way.';

describe('faults: a comment or a file sent again while its first post is still writing', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
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

  const commentAction = (key: string) => `/requests/${key}/comment`;
  const comment = {
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
    done: 'commented',
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
      action: (key) => `/requests/${key}/attachment`,
      writes: (key) => `/rest/servicedeskapi/request/${key}/attachment`,
      send: (key, page) => multipart(page, `/requests/${key}/attachment`, {}),
      written: filesUnder,
      says: 'Your file is still being sent from your earlier click.',
      kept: undefined,
      done: 'uploaded',
    },
  };

  for (const [what, variant] of Object.entries(variants)) {
    it(`shows ${what} sent again as still being sent, on the request’s page, its form under the same key`, async () => {
      const key = h.keyOf('Laptop screen flickers');
      const page = (await alice.text(`/requests/${key}`)).body;
      const writeKey = writeKeyOf(page, variant.action(key))!;
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      h.emulator.faults.set({ heldUntil: held, pathPrefix: variant.writes(key), method: 'POST', times: 1 });
      try {
        const first = variant.send(key, page);
        await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
        const from = h.logs.length;
        const again = await variant.send(key, page);
        const againPage = await again.text();
        expect(again.status, 'the post sent while the first writes').to.equal(409);
        expect(againPage).to.contain(variant.says);
        if (variant.kept) expect(againPage).to.contain(variant.kept);
        expect(writeKeyOf(againPage, variant.action(key)), 'the form’s key').to.equal(writeKey);
        expect(againPage).to.contain('<code data-reason>PORTAL_WRITE_IN_PROGRESS</code>');
        expect(reasons(h, from)).to.include('PORTAL_WRITE_IN_PROGRESS');
        release();
        const answered = await first;
        expect([answered.status, answered.headers.get('location')]).to.deep.equal([
          303,
          `/requests/${key}?${variant.done}=1`,
        ]);
        expect(variant.written(key, writeKey), `${what} written`).to.equal(1);
      } finally {
        release();
      }
    });
  }
});
