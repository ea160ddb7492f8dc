// Another customer changes who is on a request (adds a participant, shares it with an organization)
// while Jira's search index still has it as it was (the emulator's index held: ADR 0194). The person
// added never wrote the request, so her session has nothing to reconcile, and the gate's search did
// not find her on it until the index caught up; native JSM shows it at once. The gate now asks again,
// with the request the servicedeskapi found under the key made current (ADR 0381). Nobody else learns
// anything: a refusal is the refusal of a key that does not exist, with the same Atlassian calls.
import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  signIn,
  useHarness,
  withoutAnswerReference,
} from '../../testkit/portal-harness.js';

describe("portal: a customer just named on a request, while Jira's search index lags", () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  let erik: Browser;
  const calls: EmulatorCall[] = [];
  useHarness(
    async (started) => {
      h = started;
      alice = await signIn(h, 'alice@acme.test');
      bob = await signIn(h, 'bob@acme.test');
      erik = await signIn(h, 'erik@acme.test');
    },
    { emulator: { onCall: (call) => calls.push(call) } },
  );
  beforeEach(() => h.emulator.state.searchIndex.hold());
  afterEach(() => h.emulator.state.searchIndex.catchUp());

  /** Alice adds bob to her request from its page (its participant form): 303. */
  const aliceAddsBob = async (key: string) => {
    const page = await alice.text(`/requests/${key}`);
    const { accountId } = h.emulator.state.userByEmail('bob@acme.test')!;
    const added = await alice.post(`/requests/${key}/participants/add`, {
      accountId,
      _csrf: csrfOf(page.body),
    });
    expect(added.status).to.equal(303);
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(request.participantIds, 'bob is on it at Atlassian').to.include(accountId);
    expect(
      h.emulator.state.searchIndex.seen.get(request.id)!.participantIds,
      'not in the index',
    ).to.not.include(accountId);
  };

  /** The Atlassian calls one page view caused, at the emulator, with the key masked; and the page. */
  const viewed = async (browser: Browser, key: string) => {
    const from = calls.length;
    const res = await browser.fetch(`/requests/${key}`);
    const body = await res.text();
    const mask = (text: string) => text.split(encodeURIComponent(key)).join('{key}').split(key).join('{key}');
    return {
      status: res.status,
      body: withoutAnswerReference(mask(body).replace(/nonce="[^"]+"/g, '')),
      made: calls
        .slice(from)
        .map((c) => `${c.method} ${mask(c.path)}`)
        .sort(),
    };
  };

  it('opens the request to a participant just added, at once', async () => {
    const key = h.keyOf('Laptop screen flickers');
    expect((await bob.text(`/requests/${key}`)).status, 'not his before').to.equal(404);
    await aliceAddsBob(key);
    const page = await bob.text(`/requests/${key}`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Laptop screen flickers');
  });

  it('refuses someone the request does not name as a key that does not exist: the same page and calls', async () => {
    const key = h.keyOf('Ergonomic keyboard'); // erik's; alice is on it nowhere
    const missing = 'IT-987654';
    await viewed(alice, missing); // the catalogue's caches warm, as for any signed-in customer
    const named = h.keyOf('Printer on 3rd floor jams every morning');
    await aliceAddsBob(named);
    for (const [who, browser, asked] of [
      ['erik, on a request bob was just added to', erik, named],
      ['alice, on a request of erik', alice, key],
    ] as const) {
      const a = await viewed(browser, missing);
      const b = await viewed(browser, asked);
      expect([a.status, b.status], who).to.deep.equal([404, 404]);
      expect(b.made, who).to.deep.equal(a.made);
      expect(a.made, who).to.deep.equal([
        'GET /rest/servicedeskapi/request/{key}',
        'POST /rest/api/3/search/jql',
        'POST /rest/api/3/search/jql',
      ]);
      expect(b.body, who).to.equal(a.body);
    }
  });

  it('opens a request newly shared with her organization, at once', async () => {
    const key = h.keyOf('Second monitor for home office');
    expect((await bob.text(`/requests/${key}`)).status, 'not his before').to.equal(404);
    const page = await alice.text(`/requests/${key}`);
    const acme = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    const shared = await alice.post(`/requests/${key}/organizations/add`, {
      organizationId: acme.id,
      _csrf: csrfOf(page.body),
    });
    expect(shared.status).to.equal(303);
    const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
    expect(
      h.emulator.state.searchIndex.seen.get(request.id)!.organizationIds,
      'not in the index',
    ).to.not.include(acme.id);
    const seen = await bob.text(`/requests/${key}`);
    expect(seen.status).to.equal(200);
    expect(seen.body).to.include('Second monitor for home office');
  });
});
