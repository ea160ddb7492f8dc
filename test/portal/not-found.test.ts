// Pages that do not exist, and forms sent without a session, answer with their own reason code,
// logged and counted, never a 500 or a silent redirect of the form.
import { expect } from 'chai';
import { Browser, type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

describe('portal: unknown pages and signed-out forms', () => {
  let h: Harness;
  let alice: Browser;
  before(async () => {
    h = await startHarness({ atlassian: { serviceDeskIds: ['1'] } });
    alice = await signIn(h, 'alice@acme.test');
  });
  after(async () => {
    await h.close();
  });

  it('answers 404 PORTAL_NOT_FOUND for an address no route serves', async () => {
    const from = h.logs.length;
    const page = await alice.text('/no-such-page');
    expect(page.status).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_NOT_FOUND');
  });

  it('answers 404 PORTAL_REQUEST_TYPE_NOT_FOUND for a request type the desk does not have', async () => {
    const from = h.logs.length;
    const page = await alice.text('/desk/1/create/999999');
    expect(page.status).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_REQUEST_TYPE_NOT_FOUND');
  });

  it('answers 404 PORTAL_REQUEST_NOT_FOUND for a request key that does not exist', async () => {
    const from = h.logs.length;
    const page = await alice.text('/requests/NOPE-999999');
    expect(page.status).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_REQUEST_NOT_FOUND');
  });

  it('answers 401 PORTAL_SESSION_MISSING to a form sent without a session', async () => {
    const from = h.logs.length;
    const stranger = new Browser(alice.base);
    const response = await stranger.post('/requests/HELP-1/comment', { body: 'hello' });
    expect(response.status).to.equal(401);
    expect(reasons(h, from)).to.include('PORTAL_SESSION_MISSING');
  });
});
