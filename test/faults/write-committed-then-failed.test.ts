// Atlassian creates the request and then answers 500 (its documented error for a create; here after the work was
// committed), while its search has not caught up: Jira's /search/jql is eventually consistent, a new
// issue may take seconds to minutes to be found (Atlassian's "search and reconcile"). The portal looks
// for the form's write key, does not find it, and must not take that for proof that nothing was written.
import { expect } from 'chai';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('faults: a create Atlassian did, answered 500, while its search lags', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
  });
  afterEach(() => {
    h.emulator.faults.clear();
    h.emulator.state.searchIndex.catchUp();
  });

  it('raises one request: says it could not confirm it, keeps the form, and once sent again lands on it', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const fields = {
      ...(await form.fresh()),
      f_summary: 'Created behind a failing gateway',
      f_description: 'Atlassian wrote it and answered 500.',
    };
    h.emulator.state.searchIndex.hold();
    h.emulator.faults.set({
      statusAfterHandling: 500,
      pathPrefix: '/rest/servicedeskapi/request',
      method: 'POST',
      times: 1,
    });
    const from = h.logs.length;
    const res = await form.post(fields);
    const page = await res.text();
    expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
    expect(res.status).to.equal(502);
    expect(page).to.contain('We could not confirm whether your request was created.');
    expect(page).to.contain('Atlassian wrote it and answered 500.');
    expect(page).to.contain(`name="_write" value="${fields._write}"`);
    expect(reasons(h, from)).to.include('ATLASSIAN_ERROR');
    // Once the search has caught up, the same form sent again finds the request.
    h.emulator.state.searchIndex.catchUp();
    const again = await form.post(fields);
    const [request] = form.created(fields.f_summary);
    expect([again.status, again.headers.get('location')]).to.deep.equal([
      303,
      `/requests/${request!.key}?created=1`,
    ]);
    expect(form.created(fields.f_summary), 'requests raised').to.have.length(1);
  });
});
