// Pages that do not exist, and forms sent without a session, answer with their own reason code,
// logged and counted, never a 500 or a silent redirect of the form.
import { expect } from 'chai';
import { Browser, type Harness, reasons, signIn, useHarness } from '../../testkit/portal-harness.js';

describe('portal: unknown pages and signed-out forms', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
    },
    { atlassian: { serviceDeskIds: ['1'] } },
  );

  const notFound = [
    { path: '/no-such-page', code: 'PORTAL_NOT_FOUND', what: 'an address no route serves' },
    {
      path: '/desk/1/create/999999',
      code: 'PORTAL_REQUEST_TYPE_NOT_FOUND',
      what: 'a request type the desk does not have',
    },
    {
      path: '/requests/NOPE-999999',
      code: 'PORTAL_REQUEST_NOT_FOUND',
      what: 'a request key that does not exist',
    },
  ];
  for (const { path, code, what } of notFound) {
    it(`answers 404 ${code} for ${what}`, async () => {
      const from = h.logs.length;
      const page = await alice.text(path);
      expect(page.status).to.equal(404);
      expect(reasons(h, from)).to.include(code);
    });
  }

  it('answers 401 PORTAL_SESSION_MISSING to a form sent without a session', async () => {
    const from = h.logs.length;
    const stranger = new Browser(alice.base);
    const response = await stranger.post('/requests/HELP-1/comment', { body: 'hello' });
    expect(response.status).to.equal(401);
    expect(reasons(h, from)).to.include('PORTAL_SESSION_MISSING');
  });
});
