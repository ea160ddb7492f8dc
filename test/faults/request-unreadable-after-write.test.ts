// A comment (plain or with a file), a file or a step whose write failed in a way that keeps what was typed
// ("could not confirm", ADR 0393; "still being sent", ADR 0385) was answered with the request's own page,
// which reads the request from Atlassian again. During an outage longer than the one call, that read
// failed too: the error page, the text and the form's key lost (ADR 0392's "not fixed"). Now a page that
// says the request cannot be shown right now, keeping the form (ADR 0400); also for a post whose own look at
// the request's visibility failed, a page made of what she sent alone, the same for any key (ADR 0401).
import { expect } from 'chai';
import {
  clearOutageAfterEach,
  failEveryRead as failEveryReadOf,
  pageButKey,
} from '../../testkit/atlassian-outage.js';
import { eventually } from '../../testkit/envtest.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  holdNextWrite,
  signIn,
  writeKeyOf,
} from '../../testkit/portal-harness.js';
import {
  LOOP_STEP,
  type RequestWriteForm,
  requestWriteForms,
  useWriteFormsHarness,
} from '../../testkit/request-write-forms.js';

const TEXT = 'Typed during the outage, kept through it.';
const UNREADABLE = '<h1>This request cannot be shown right now</h1>';
const OTHERS_WRITE_KEY = 'jsmsso0123456789abcdef01234567';

describe('faults: the request’s page cannot be read after a write failed, Atlassian failing every read', () => {
  let h: Harness;
  let alice: Browser;
  useWriteFormsHarness((started, signedIn) => {
    h = started;
    alice = signedIn;
  });
  clearOutageAfterEach(() => h);

  const failEveryRead = () => failEveryReadOf(h);

  const key = () => h.keyOf('Laptop screen flickers');
  /** A form, what its page says after each failure, and what it keeps of it. */
  type Variant = RequestWriteForm & {
    /** Searches a post makes to see the request: a form with files twice, before and after its body (ADR 0447). */
    visibilitySearches: number;
    unconfirmed: string;
    stillWriting: string;
    notSent: string;
    kept: string[];
  };
  /** The four forms as `browser` sends them. */
  const variantsOf = (browser: () => Browser): Record<string, Variant> => {
    const forms = requestWriteForms(() => ({ h, browser: browser() }), TEXT, LOOP_STEP.id);
    const comment: Variant = {
      ...forms.comment,
      visibilitySearches: 1,
      unconfirmed: 'We could not confirm whether your comment was added.',
      stillWriting: 'Your comment is still being sent from your earlier click',
      notSent: 'Your comment was not added.',
      kept: [`>${TEXT}</textarea>`],
    };
    return {
      'a comment': comment,
      'a comment with a file': {
        ...comment,
        ...forms.commentWithFile,
        visibilitySearches: 2,
        kept: [...comment.kept, 'type="file" name="attachment"'],
      },
      'a file': {
        ...forms.file,
        visibilitySearches: 2,
        unconfirmed: 'We could not confirm whether your file was attached.',
        stillWriting: 'Your file is still being sent from your earlier click',
        notSent: 'Your file was not attached',
        kept: ['type="file" name="attachment"'],
      },
      'a step with a comment': {
        ...forms.stepWithComment,
        visibilitySearches: 1,
        unconfirmed: 'We could not confirm whether the request was updated.',
        stillWriting: 'That step is still being sent from your earlier click',
        notSent: 'The request was not updated.',
        kept: [`>${TEXT}</textarea>`, `name="transition" value="${LOOP_STEP.id}"`],
      },
    };
  };
  const variants = variantsOf(() => alice);
  let dana: Browser;
  const danas = variantsOf(() => dana);

  /** The page answered keeps the form: its key, a token, what was typed; and says why. */
  const expectKept = (page: string, variant: Variant, writeKey: string, says: string) => {
    expect(page).to.contain(UNREADABLE);
    expect(page).to.contain(says);
    expect(writeKeyOf(page, variant.action(key())), 'the form’s key').to.equal(writeKey);
    expect(csrfOf(page)).to.be.a('string');
    for (const kept of variant.kept) expect(page).to.contain(kept);
  };

  /**
   * `variant` sent from its page into the outage `outage` makes for request `k`: answered `status` with the
   * page that keeps its form and `says` why; sent again from that page once Atlassian answers, written once.
   */
  const keptThenWrittenOnce = async (
    what: string,
    variant: Variant,
    status: number,
    says: string,
    outage: (k: string) => unknown,
  ) => {
    const k = key();
    const page = (await alice.text(variant.page(k))).body;
    const writeKey = writeKeyOf(page, variant.action(k))!;
    const before = variant.written(k, writeKey);
    await outage(k);
    const failed = await variant.send(k, page);
    const failedPage = await failed.text();
    expect(failed.status).to.equal(status);
    expectKept(failedPage, variant, writeKey, says);
    expect(failedPage).to.not.contain('Laptop screen flickers');
    h.emulator.faults.clear();
    const again = await variant.send(k, failedPage);
    expect([again.status, again.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${k}?${variant.done}=1`,
    ]);
    expect(variant.written(k, writeKey) - before, `${what} written`).to.equal(1);
  };

  for (const [what, variant] of Object.entries(variants)) {
    it(`keeps ${what} whose write could not be confirmed, and the form sent again once Atlassian answers writes it once`, () =>
      keptThenWrittenOnce(what, variant, 502, variant.unconfirmed, (k) =>
        h.emulator.faults.set({
          statusAfterHandling: 500,
          pathPrefix: variant.writes(k),
          method: 'POST',
          times: 1,
          onArrival: failEveryRead,
        }),
      ));

    it(`keeps ${what} sent again while its first post is still writing`, async () => {
      const k = key();
      const page = (await alice.text(variant.page(k))).body;
      const writeKey = writeKeyOf(page, variant.action(k))!;
      const release = holdNextWrite(h, variant.writes(k));
      try {
        const first = variant.send(k, page);
        await eventually(async () => h.emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
        // The second post's own looks at the request's visibility are answered; every search after them
        // fails, the page's first: the request cannot be read for its page.
        h.emulator.faults.add({
          pathPrefix: '/rest/api/3/search',
          method: 'POST',
          times: variant.visibilitySearches,
        });
        h.emulator.faults.add({ pathPrefix: '/rest/api/3/search', method: 'POST', status: 503 });
        const again = await variant.send(k, page);
        expect(again.status).to.equal(409);
        expectKept(await again.text(), variant, writeKey, variant.stillWriting);
        h.emulator.faults.set();
        release();
        expect((await first).status).to.equal(303);
      } finally {
        release();
      }
    });
  }

  /**
   * The form of `variant` as a page of a session with token `csrf` holds it, under a key of its own: made, as
   * a customer who may not see the request has no page of it to send it from.
   */
  const formPage = (csrf: string, variant: Variant, k: string) =>
    `<form action="${variant.action(k)}"><input name="_csrf" value="${csrf}"><input name="_write" value="${OTHERS_WRITE_KEY}"></form>`;

  for (const [what, variant] of Object.entries(variants)) {
    // Nothing was sent: the post's own look at the request's visibility failed, and every read after it.
    it(`keeps ${what} whose own visibility read failed, the request’s page unreadable too, and the form sent again once Atlassian answers writes it once`, () =>
      keptThenWrittenOnce(what, variant, 503, variant.notSent, failEveryRead));

    // The page answered depends on what she sent alone: nothing read, every key failing alike (ADR 0401).
    it(`answers ${what} of a customer who may not see the request as one to a key nobody has, while Atlassian fails`, async () => {
      dana = await signIn(h, 'dana@globex.test');
      const csrf = csrfOf((await dana.text('/profile')).body);
      await failEveryRead();
      const answer = async (k: string) => {
        const res = await danas[what]!.send(k, formPage(csrf, variant, k));
        return pageButKey(res, k);
      };
      const hers = await answer(key());
      const nobodys = await answer('HELP-98765');
      expect(hers).to.deep.equal(nobodys);
      expect(hers.status).to.equal(503);
      expect(hers.page).to.contain(UNREADABLE);
      expect(hers.page).to.contain(variant.notSent);
      expect(hers.page).to.not.contain('Laptop screen flickers');
    });
  }
});
