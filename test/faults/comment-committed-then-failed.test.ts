// A comment Atlassian wrote and answered 500, on a request with more comments than the portal reads
// in one look (20 pages): looked for oldest first, the comment just written was past the bound, not
// found, and written again (ADR 0229). Looked for newest first, it is the first one read.
import { expect } from 'chai';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('faults: a comment Atlassian wrote and answered 500, on a request with a long history', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => h.emulator.faults.clear());

  const writeKeyOf = (html: string, action: string) =>
    new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

  it('writes it once, and a second post of the same form lands on it', async () => {
    const key = h.keyOf('Printer on 3rd floor jams every morning');
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    // More public comments than 20 pages of the emulator's 25 hold (Atlassian's: 20 of 50).
    const author = request.comments[0]!.authorId;
    for (let i = 0; i < 520; i++)
      request.comments.push({
        id: String(900_000 + i),
        authorId: author,
        body: `automation update ${i}`,
        public: true,
        created: Date.now(),
        attachmentIds: [],
      });
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const form = {
      _csrf: csrfOf(detail),
      _write: writeKeyOf(detail, action)!,
      body: 'Written once, please.',
    };
    h.emulator.faults.set({
      statusAfterHandling: 500,
      pathPrefix: `/rest/servicedeskapi/request/${key}/comment`,
      method: 'POST',
      times: 1,
    });
    const written = () =>
      request.comments.filter((c) => c.body.includes(`(portal reference ${form._write})`));
    expect((await alice.post(action, form)).status).to.equal(303);
    expect(written(), 'comments under one write key').to.have.length(1);
    expect((await alice.post(action, form)).status).to.equal(303);
    expect(written(), 'comments under one write key, sent again').to.have.length(1);
  });

  it('says it cannot tell when its look fails too, keeps the text under the same key, and the comment sent again lands on it', async () => {
    const key = h.keyOf('Laptop screen flickers');
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const form = { _csrf: csrfOf(detail), _write: writeKeyOf(detail, action)!, body: 'Said once, even now.' };
    h.emulator.faults.set({
      statusAfterHandling: 500,
      pathPrefix: `/rest/servicedeskapi/request/${key}/comment`,
      method: 'POST',
      times: 1,
      // Where the comment is looked for, nothing answers from then on (Atlassian having a bad minute).
      onArrival: async () =>
        h.emulator.faults.add({ pathPrefix: `/rest/api/3/issue/${key}/comment`, method: 'GET', status: 503 }),
    });
    const first = await alice.post(action, form);
    const page = await first.text();
    h.emulator.faults.clear();
    const written = () =>
      request.comments.filter((c) => c.body.includes(`(portal reference ${form._write})`));
    expect(written(), 'written by the first post').to.have.length(1);
    expect(first.status).to.equal(502);
    // Before, "Your comment was not added": it was.
    expect(page).to.contain('We could not confirm whether your comment was added.');
    expect(page).to.contain('>Said once, even now.</textarea>');
    expect(writeKeyOf(page, action)).to.equal(form._write);
    const again = await alice.post(action, { ...form, _csrf: csrfOf(page) });
    expect(again.status).to.equal(303);
    expect(written(), 'after the comment sent again').to.have.length(1);
  });

  it('takes an internal comment carrying the key for no proof that the customer’s comment was written', async () => {
    const key = h.keyOf('Laptop screen flickers');
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    const detail = (await alice.text(`/requests/${key}`)).body;
    const action = `/requests/${key}/comment`;
    const form = { _csrf: csrfOf(detail), _write: writeKeyOf(detail, action)!, body: 'Mine, in public.' };
    // An agent pasted the portal's reference into an internal note: the customer's comment is not there.
    request.comments.push({
      id: '990001',
      authorId: request.reporterId,
      body: `Seen (portal reference ${form._write})`,
      public: false,
      created: Date.now(),
      attachmentIds: [],
    });
    expect((await alice.post(action, form)).status).to.equal(303);
    const written = request.comments.filter(
      (c) => c.public && c.body.includes(`(portal reference ${form._write})`),
    );
    expect(written, 'the customer’s public comment').to.have.length(1);
  });
});
