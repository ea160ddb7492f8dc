// An outside attack suite's IDOR pass: every route that takes an identifier, sent one the customer
// must not reach. The answer is the one a thing that does not exist gets, and nothing is read for
// them or written (ADR 0147).
import { expect } from 'chai';
import type { RequestType } from '../../dev/jsm-emulator/state.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

describe('portal: identifiers of things the customer may not reach (IDOR)', () => {
  let h: Harness;
  let alice: Browser;
  let hidden: RequestType;
  useHarness(async (started) => {
    h = started;
    // A request type in no group: JSM hides it from the portal (agents use such types for e-mail
    // requests and for requests raised inside Jira).
    const shown = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!;
    hidden = {
      ...shown,
      id: '9901',
      name: 'Vendor escalation (agents only)',
      description: 'Escalate to a vendor.',
      groupIds: [],
    };
    h.emulator.state.requestTypes.set(hidden.id, hidden);
    alice = await signIn(h, 'alice@acme.test');
  });

  it('neither offers nor takes a request type hidden from the portal (in no group)', async () => {
    const requestsBefore = h.emulator.state.requests.size;
    const desk = (await alice.text('/desk/1')).body;
    expect(desk).to.include('Get IT help').and.not.include(hidden.name);
    expect((await alice.text(`/?q=${encodeURIComponent('vendor escalation')}`)).body).to.not.include(
      hidden.name,
    );
    const from = h.logs.length;
    const form = await alice.text(`/desk/1/create/${hidden.id}`);
    expect(form.status).to.equal(404);
    expect((await alice.text(`/desk/1/icon/${hidden.id}`)).status).to.equal(404);
    const body = new FormData();
    body.set('_csrf', csrfOf((await alice.text('/profile')).body));
    body.set('f_summary', 'raised through a hidden type');
    const posted = await alice.fetch(`/desk/1/create/${hidden.id}`, {
      method: 'POST',
      body,
      headers: { origin: h.url },
    });
    await posted.arrayBuffer();
    expect(posted.status).to.equal(404);
    expect(reasons(h, from)).to.include('PORTAL_REQUEST_TYPE_NOT_FOUND');
    expect(h.emulator.state.requests.size, 'requests raised').to.equal(requestsBefore);
  });
});
