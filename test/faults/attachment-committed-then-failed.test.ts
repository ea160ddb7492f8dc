// A file Atlassian attached whose answer the portal never had (a 500 after the work was done, its look
// failing too; a timeout the write budget leaves no look after): the page said "Your file was not
// attached; please choose it and upload it again" and its upload form carried a new write key, so the
// customer who did as told had the file attached twice. The page now says it cannot tell and keeps
// the form's key: the upload sent again looks first and lands on the file attached.
import { expect } from 'chai';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  type HarnessOptions,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

const writeKeyOf = (html: string, action: string) =>
  new RegExp(`action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`, 's').exec(html)?.[1];

/**
 * One suite: `attachedThenLost` makes the fault on the request's attach call (`POST .../attachment`);
 * the customer uploads a file, then does what the page says, with the page's own form.
 */
function attachedOnceWhen(
  title: string,
  attachedThenLost: (h: Harness, key: string) => FaultRule,
  options: HarnessOptions,
): void {
  describe(title, () => {
    let h: Harness;
    let alice: Browser;
    useHarness(async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    }, options);
    afterEach(() => h.emulator.faults.clear());

    const upload = (key: string, page: string, filename: string, content = 'minutes of the meeting\n') => {
      const action = `/requests/${key}/attachment`;
      const form = new FormData();
      form.set('_csrf', csrfOf(page));
      form.set('_write', writeKeyOf(page, action)!);
      form.set('attachment', new Blob([content], { type: 'text/plain' }), filename);
      return alice.fetch(action, { method: 'POST', body: form, headers: { origin: h.url } });
    };

    it('attaches it once: the page says it cannot tell, and the same upload sent again lands on it', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
      const filename = `minutes-${Date.now()}.txt`;
      const attached = () => request.attachments.filter((a) => a.filename === filename);
      h.emulator.faults.set(attachedThenLost(h, key));
      const first = await upload(key, (await alice.text(`/requests/${key}`)).body, filename);
      const page = await first.text();
      h.emulator.faults.clear();
      expect(attached(), 'attached by the first upload').to.have.length(1);
      expect(first.status).to.be.within(502, 504);
      expect(page).to.contain('We could not confirm whether your file was attached.');
      expect(page).not.to.contain('Your file was not attached');
      const again = await upload(key, page, filename);
      expect(again.status, 'the same upload sent again').to.equal(303);
      expect(again.headers.get('location')).to.equal(`/requests/${key}?uploaded=1`);
      expect(attached(), 'attached after the upload sent again').to.have.length(1);
    });

    // The page keeps the failed form's key for the same file sent again; the customer who sees it
    // attached and chooses another file with that form must have it attached, not told it was.
    for (const { what, other } of [
      {
        what: 'another file',
        other: (filename: string) => ({ filename: `agenda-${filename}`, content: 'agenda\n' }),
      },
      {
        what: 'a file of the same name with other content',
        other: (filename: string) => ({ filename, content: 'minutes, corrected\n' }),
      },
    ])
      it(`attaches ${what} chosen next with that page's form`, async () => {
        const key = h.keyOf('Printer on 3rd floor jams every morning');
        const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
        const filename = `minutes-${Date.now()}.txt`;
        h.emulator.faults.set(attachedThenLost(h, key));
        const first = await upload(key, (await alice.text(`/requests/${key}`)).body, filename);
        const page = await first.text();
        h.emulator.faults.clear();
        expect(first.status).to.be.within(502, 504);
        const before = request.attachments.length;
        const next = other(filename);
        const answer = await upload(key, page, next.filename, next.content);
        expect(answer.status, 'the next upload').to.equal(303);
        const added = request.attachments.slice(before);
        expect(
          added.map((a) => [a.filename, a.content.toString()]),
          'attached by the next upload',
        ).to.deep.equal([[next.filename, next.content]]);
      });
  });
}

describe('faults: a file Atlassian attached and never answered for', () => {
  attachedOnceWhen(
    'answered 500 after the work, and its look answered 503',
    (h, key) => ({
      pathPrefix: `/rest/servicedeskapi/request/${key}/attachment`,
      method: 'POST',
      statusAfterHandling: 500,
      times: 1,
      // The request's comments, where the file's note carries the key, are not answered from then on
      // (Atlassian having a bad minute); the look before the write was.
      onArrival: async () =>
        h.emulator.faults.add({ pathPrefix: `/rest/api/3/issue/${key}/comment`, method: 'GET', status: 503 }),
    }),
    {},
  );
  attachedOnceWhen(
    'answered after the portal’s deadline, with no time left in the write’s budget to look',
    (_h, key) => ({
      pathPrefix: `/rest/servicedeskapi/request/${key}/attachment`,
      method: 'POST',
      holdAnswerMs: 1500,
      times: 1,
    }),
    // The call's deadline 1 s, the write's budget 1.2 s: its first look (after 0.5 s) does not fit.
    { transport: { timeoutMs: 1000 }, writes: { budgetMs: 1200 } },
  );
});
