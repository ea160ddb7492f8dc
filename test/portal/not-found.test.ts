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
  // A parameter that is no percent-encoding: the router's URIError was a 500 PORTAL_INTERNAL (ADR 0229).
  for (const path of [
    '/desk/%E0%A4%A',
    '/requests/%zz',
    '/requests/HELP-1/attachment/%ff',
    '/desk/1/article/%C0',
  ])
    notFound.push({
      path,
      code: 'PORTAL_NOT_FOUND',
      what: `a parameter that is no percent-encoding (${path})`,
    });
  for (const { path, code, what } of notFound) {
    it(`answers 404 ${code} for ${what}`, async () => {
      const from = h.logs.length;
      const page = await alice.text(path);
      expect(page.status).to.equal(404);
      expect(reasons(h, from)).to.include(code);
    });
  }

  it('answers a signed-out visitor 404 PORTAL_NOT_FOUND for a parameter that is no percent-encoding', async () => {
    const from = h.logs.length;
    const page = await new Browser(h.url).text('/desk/%zz');
    expect(page.status).to.equal(404);
    expect(reasons(h, from)).to.deep.equal(['PORTAL_NOT_FOUND']);
    expect(h.logs.slice(from).filter((l) => l['level'] === 'error')).to.deep.equal([]);
  });

  it('answers 401 PORTAL_SESSION_MISSING to a form sent without a session', async () => {
    const from = h.logs.length;
    const stranger = new Browser(alice.base);
    const response = await stranger.post('/requests/HELP-1/comment', { body: 'hello' });
    expect(response.status).to.equal(401);
    expect(reasons(h, from)).to.include('PORTAL_SESSION_MISSING');
  });

  it("offers to come back to the form's page after signing in, its address in any letter case or with one trailing slash (ADR 0306, 0309)", async () => {
    const stranger = new Browser(alice.base);
    for (const [path, page] of [
      ['/requests/HELP-1/comment', '/requests/HELP-1'],
      ['/REQUESTS/HELP-1/comment', '/REQUESTS/HELP-1'],
      ['/requests/HELP-1/comment/', '/requests/HELP-1'],
      ['/Desk/1/Create/2', '/Desk/1/Create/2'],
      ['/desk/1/create/2/', '/desk/1/create/2/'],
    ]) {
      const response = await stranger.post(path!, { body: 'hello' });
      expect(response.status, path).to.equal(401);
      expect(await response.text(), path).to.include(`href="/login?return&#61;${encodeURIComponent(page!)}"`);
    }
  });
});
