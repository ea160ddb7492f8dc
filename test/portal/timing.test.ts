import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  signIn,
  startHarness,
  viewWithStatusNamesRead,
  withoutAnswerReference,
} from '../../testkit/portal-harness.js';

describe('portal: request keys cannot be probed by timing', () => {
  let h: Harness;
  let alice: Browser;
  const calls: EmulatorCall[] = [];
  before(async () => {
    h = await startHarness({ emulator: { onCall: (call) => calls.push(call) } });
    alice = await signIn(h, 'alice@acme.test');
    // Warm the catalogue cache (desks, and Jira's field list that My requests and the visibility gate
    // read), as for any signed-in customer: what is compared is the per-key cost.
    await alice.text('/');
    await viewWithStatusNamesRead(h, alice, '/requests');
  });
  after(() => h.close());

  /** The Atlassian calls one browser request caused, as counted at the emulator, with the key masked. */
  async function callsFor(key: string, send: () => Promise<Response>) {
    const from = calls.length;
    const res = await send();
    const body = await res.text();
    const made = calls
      .slice(from)
      .map(
        (c) => `${c.method} ${c.path.split(encodeURIComponent(key)).join('{key}').split(key).join('{key}')}`,
      )
      .sort();
    return {
      status: res.status,
      body: body.replace(new RegExp(key, 'g'), '{key}').replace(/nonce="[^"]+"/g, ''),
      made,
    };
  }

  const missing = 'IT-987654';
  const notHers = () => h.keyOf('Cannot reach the partner extranet'); // dana's, Globex

  it('opens "does not exist" and "exists but not yours" with the same Atlassian calls and the same 404', async () => {
    const a = await callsFor(missing, () => alice.fetch(`/requests/${missing}`));
    const b = await callsFor(notHers(), () => alice.fetch(`/requests/${notHers()}`));
    expect(a.status).to.equal(404);
    expect(b.status).to.equal(404);
    expect(b.made).to.deep.equal(a.made);
    // The gate's search, asked again with the request made current for every key it does not list (ADR 0381).
    expect(a.made).to.deep.equal([
      'GET /rest/servicedeskapi/request/{key}',
      'POST /rest/api/3/search/jql',
      'POST /rest/api/3/search/jql',
    ]);
    expect(withoutAnswerReference(b.body)).to.equal(withoutAnswerReference(a.body));
  });

  it('refuses a comment on either with the same Atlassian calls', async () => {
    const token = csrfOf((await alice.text('/profile')).body);
    const comment = (key: string) => () =>
      alice.post(`/requests/${key}/comment`, { body: 'hi', _csrf: token });
    const a = await callsFor(missing, comment(missing));
    const b = await callsFor(notHers(), comment(notHers()));
    expect([a.status, b.status]).to.deep.equal([404, 404]);
    expect(b.made).to.deep.equal(a.made);
  });

  it('refuses a download from either with the same Atlassian calls', async () => {
    const a = await callsFor(missing, () => alice.fetch(`/requests/${missing}/attachment/1`));
    const b = await callsFor(notHers(), () => alice.fetch(`/requests/${notHers()}/attachment/1`));
    expect([a.status, b.status]).to.deep.equal([404, 404]);
    expect(b.made).to.deep.equal(a.made);
  });

  it('still opens her own request, and one shared through her organization', async () => {
    expect(
      (await alice.text(`/requests/${h.keyOf('Printer on 3rd floor jams every morning')}`)).status,
    ).to.equal(200);
    expect((await alice.text(`/requests/${h.keyOf('VPN access for travel')}`)).status).to.equal(200);
  });
});
