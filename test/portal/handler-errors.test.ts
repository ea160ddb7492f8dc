// Route handlers are async and let their errors go: Express 5 hands a rejected handler to the
// error handler (portal/app.ts). Each page that reads Atlassian is asserted to reach it, so no
// handler's failure can hang the request or answer anything but the friendly error page.
import { expect } from 'chai';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: a failing Atlassian call in any page handler reaches the error page', () => {
  let h: Harness;
  let alice: Browser;
  let requestKey: string;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
      requestKey = await firstRequestKey(alice);
    },
    { atlassian: { serviceDeskIds: ['1'] } },
  );
  afterEach(() => h.emulator.faults.clear());
  // The servicedeskapi only: the emulator's fault body is in its error format, not the platform's.
  const failAtlassian = () =>
    h.emulator.faults.set({ status: 503, retryAfterSeconds: 0, pathPrefix: '/rest/servicedeskapi/' });

  async function firstRequestKey(browser: Browser): Promise<string> {
    const page = await (await browser.fetch('/requests?status=all')).text();
    return /href="\/requests\/([A-Z]+-\d+)"/.exec(page)![1]!;
  }

  const pages = [
    { path: () => '/?q=printer', what: 'a knowledge base search on the home page' },
    { path: () => `/requests/${requestKey}`, what: 'a request' },
    { path: () => `/requests/${requestKey}/transition/1`, what: 'a transition to confirm' },
  ];
  for (const { path, what } of pages) {
    it(`answers ${what} with the friendly 503 page, a Retry-After and a logged reason when Atlassian is unavailable`, async () => {
      const from = h.logs.length;
      failAtlassian();
      const res = await alice.fetch(path());
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.match(/^[1-9][0-9]*$/);
      expect(await res.text()).to.include('Something went wrong');
      const line = h.logs.slice(from).find((l) => l['event'] === 'portal.atlassian_error');
      expect(line?.['reason'], JSON.stringify(h.logs.slice(from))).to.be.a('string');
    });
  }

  it('answers a comment refused by Atlassian, whose page then cannot be read either, with its text kept (ADR 0400, 0401)', async () => {
    const token = csrfOf((await alice.text(`/requests/${requestKey}`)).body);
    const from = h.logs.length;
    // The comment is refused (its request's visibility cannot be read: nothing sent), and reading the
    // request for the answer fails too: the page keeps the form, not the error page, which lost it.
    failAtlassian();
    const res = await alice.post(`/requests/${requestKey}/comment`, { body: 'hello', _csrf: token });
    expect(res.status).to.equal(503);
    const page = await res.text();
    expect(page).to.include('This request cannot be shown right now');
    expect(page).to.match(/<textarea id="kept-text" name="body"[^>]*>hello<\/textarea>/);
    expect(page).not.to.include('Something went wrong');
    const events = h.logs.slice(from).map((l) => l['event']);
    expect(events).to.include('portal.action_refused');
    expect(events).to.include('portal.request_unreadable');
  });
});
