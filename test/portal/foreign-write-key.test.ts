// A raise form's write key is no secret (ADR 0435): a post of it lands on the request it raised, found by
// the key among the requests of the reporter the form names. "Raise this on behalf of" lets the poster name
// a colleague, so a customer holding a key of a colleague's request (a notification that quoted its
// description, a form left open on a shared computer, a share since taken from her) landed on that request
// and had the form's share applied to it: the colleague's private request shared with her organization,
// and so hers to read. A landing is hers only when the request is: she is its reporter, or follows it as
// its participant, as raising it for someone else made her (ADR 0446).
import { expect } from 'chai';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('portal: a raise form carrying the write key of a request that is not hers (ADR 0446)', () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  useHarness(async (started) => {
    h = started;
    alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    bob = await signIn(h, 'bob@acme.test', { displayName: 'Bob Brown' });
  });
  const accountOf = (email: string) => h.emulator.state.userByEmail(email)!.accountId;
  const acme = () => [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
  const raised = (summary: string) =>
    [...h.emulator.state.requests.values()].filter((r) => r.fieldValues['summary'] === summary);
  const keyIn = (location: string | null) => /^\/requests\/([A-Z]+-\d+)\?/.exec(location ?? '')?.[1];

  it("refuses Bob's key on Alice's form for Bob, shared with her organization: his request stays his", async () => {
    const bobsForm = raiseRequestForm(h, bob, 'Get IT help');
    const bobsFields = await bobsForm.fresh();
    const bobs = await bob.post(bobsForm.action, {
      ...bobsFields,
      f_summary: 'A question about my payslip',
      f_description: 'Only for the help desk.',
    });
    const key = keyIn(bobs.headers.get('location'));
    expect(key).to.be.a('string');
    const [request] = raised('A question about my payslip');
    expect((await alice.text(`/requests/${key}`)).status, 'not hers to read').to.equal(404);

    const from = h.logs.length;
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const res = await alice.post(form.action, {
      ...(await form.fresh()),
      _write: bobsFields._write,
      f_summary: 'Printer jams',
      f_description: 'Every morning.',
      onBehalfOf: accountOf('bob@acme.test'),
      shareOrganization: acme().id,
    });

    expect(res.status).to.equal(409);
    expect(reasons(h, from)).to.deep.equal(['PORTAL_WRITE_KEY_FOREIGN']);
    expect(request!.organizationIds, 'shared with no one').to.deep.equal([]);
    expect(request!.participantIds).to.deep.equal([]);
    expect((await alice.text(`/requests/${key}`)).status, 'still not hers to read').to.equal(404);
    expect(raised('Printer jams'), 'nothing raised').to.have.length(0);
    // Nothing she typed is lost, and the form she gets back is a new one: sent, it raises her request.
    const page = await res.text();
    expect(page).to.include('This form was sent before, for a request you do not follow');
    expect(page).to.include('Printer jams').and.include('Every morning.');
    const newKey = /name="_write" value="(jsmsso[0-9a-f]{24})"/.exec(page)?.[1];
    expect(newKey).to.be.a('string').and.not.equal(bobsFields._write);
    expect(page).to.not.include(key!);
  });

  it('still lands on the request Alice raised for Bob when she sends the same form again', async () => {
    const form = raiseRequestForm(h, alice, 'Get IT help');
    const fields = {
      ...(await form.fresh()),
      f_summary: 'Bob cannot log in',
      f_description: 'Since this morning.',
      onBehalfOf: accountOf('bob@acme.test'),
      shareOrganization: acme().id,
    };
    const first = await alice.post(form.action, fields);
    const from = h.logs.length;
    const again = await alice.post(form.action, fields);
    expect(first.status).to.equal(303);
    expect(again.status).to.equal(303);
    expect(keyIn(again.headers.get('location'))).to.equal(keyIn(first.headers.get('location')));
    expect(raised('Bob cannot log in')).to.have.length(1);
    expect(reasons(h, from)).to.deep.equal([]);
  });
});
