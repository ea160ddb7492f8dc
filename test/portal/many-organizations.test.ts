// A customer in many organizations (a provider's staff, a group's shared service centre). Their
// organizations decide what they see (a request shared with any one of them) and are read whole; the
// people of those organizations (whom a request may be shared with) are read only when the customer
// asks to share, so a plain view of a request costs the same few Atlassian calls whatever the number
// of organizations (ADR 0081, 0263).
import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** The figure of issue 16: Atlassian calls per warm request-detail view. */
const MAX_CALLS_PER_WARM_VIEW = 3;
/** Customers by how many organizations they are in: Acme Corp and that many branches less one. */
const SIZES = [1, 10, 100, 1_001] as const;

describe('portal customer in many organizations (ADR 0263)', () => {
  let h: Harness;
  const browsers = new Map<number, Browser>();
  const calls: EmulatorCall[] = [];
  /** The branch organizations, in the order Atlassian lists a member's organizations. */
  const branches: string[] = [];
  const accountOf = (size: number) => `5b10ac8d82e05b22cc7e${String(size).padStart(4, '0')}`;

  useHarness(
    async (started) => {
      h = started;
      const { state } = h.emulator;
      const acme = [...state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
      let nextId = Math.max(...[...state.organizations.keys()].map(Number)) + 1;
      for (let i = 0; i < 1_000; i++) {
        const id = String(nextId++);
        state.organizations.set(id, { id, name: `Branch ${i}`, created: Date.now(), memberIds: [] });
        branches.push(id);
      }
      // Every branch is added to IT Help: a request there is shared through them (ADR 0312), and with
      // their people (ADR 0329).
      state.serviceDesks.get('1')!.organizationIds.push(...branches);
      for (const size of SIZES) {
        const accountId = accountOf(size);
        state.users.set(accountId, {
          accountId,
          kind: 'customer',
          email: `many${size}@acme.test`,
          displayName: `Member of ${size}`,
          active: true,
          timeZone: 'Etc/UTC',
        });
        acme.memberIds.push(accountId);
        for (const branch of branches.slice(0, size - 1))
          state.organizations.get(branch)!.memberIds.push(accountId);
      }
      // A colleague found only in the 100th organization of the customers in 100 and in 1,001.
      state.organizations
        .get(branches[98]!)!
        .memberIds.push(state.userByEmail('dana@globex.test')!.accountId);
      for (const size of SIZES) browsers.set(size, await signIn(h, `many${size}@acme.test`));
    },
    { emulator: { onCall: (call) => calls.push(call) } },
  );
  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;

  /**
   * The calls one view of `key` made, counted at the emulator, after a first view warmed the caches;
   * neither view reads an organization's members.
   */
  const warmView = async (browser: Browser, key: string) => {
    const first = calls.length;
    expect((await browser.text(`/requests/${key}`)).status).to.equal(200);
    const members = calls.slice(first).filter((c) => /\/organization\/[0-9]+\/user(\?|$)/.test(c.path));
    expect(members.length, 'member lists read by the first view').to.equal(0);
    const from = calls.length;
    const page = await browser.text(`/requests/${key}`);
    expect(page.status, page.body.slice(0, 300)).to.equal(200);
    return calls.slice(from).map((c) => `${c.method} ${c.path}`);
  };

  for (const size of SIZES) {
    it(`views a request shared with Acme Corp in at most ${MAX_CALLS_PER_WARM_VIEW} calls in ${size} organization(s)`, async () => {
      const made = await warmView(browsers.get(size)!, request('VPN access for travel').key);
      expect(made.length, made.slice(0, 10).join(', ')).to.be.at.most(MAX_CALLS_PER_WARM_VIEW);
    });
  }

  it('shows a request shared only with the 1,001st organization to its member, and only to them', async () => {
    const r = request('Locked out of my account');
    r.organizationIds = [branches.at(-1)!];
    expect((await browsers.get(1_001)!.text(`/requests/${r.key}`)).status).to.equal(200);
    expect((await browsers.get(100)!.text(`/requests/${r.key}`)).status).to.equal(404);
  });

  it('offers and shares with a colleague of the 100th organization on a page of its own, without a script', async () => {
    const browser = browsers.get(100)!;
    const key = request('VPN access for travel').key;
    const page = (await browser.text(`/requests/${key}`)).body;
    const share = /<a[^>]*href="([^"]*\/share)"/.exec(page)?.[1];
    expect(share, 'the page links to the share page').to.equal(`/requests/${key}/share`);
    const form = await browser.text(share!);
    expect(form.status).to.equal(200);
    const dana = h.emulator.state.userByEmail('dana@globex.test')!;
    expect(form.body).to.include(`value="${dana.accountId}"`).and.not.include('Not everyone');
    const res = await browser.post(`/requests/${key}/participants/add`, {
      _csrf: csrfOf(form.body),
      accountId: dana.accountId,
    });
    expect(res.status).to.equal(303);
    expect(request('VPN access for travel').participantIds).to.include(dana.accountId);
  });

  it('reads the people of 100 organizations at most for the share page, and says not everyone is listed', async () => {
    const from = calls.length;
    const form = await browsers.get(1_001)!.text(`/requests/${request('VPN access for travel').key}/share`);
    expect(form.status).to.equal(200);
    expect(form.body).to.include('Not everyone in your organizations is listed');
    const members = calls.slice(from).filter((c) => /\/organization\/[0-9]+\/user(\?|$)/.test(c.path));
    expect(members.length, 'member lists read').to.be.at.most(100);
  });

  it('neither offers nor accepts a colleague found only in the 101st organization (ADR 0263, 0296)', async () => {
    const key = request('VPN access for travel').key;
    const accountId = '5b10ac8d82e05b22cc7e9101';
    h.emulator.state.users.set(accountId, {
      accountId,
      kind: 'customer',
      email: 'branch99@acme.test',
      displayName: 'Only in Branch 99',
      active: true,
      timeZone: 'Etc/UTC',
    });
    h.emulator.state.organizations.get(branches[99]!)!.memberIds.push(accountId);
    const browser = browsers.get(1_001)!;
    const form = await browser.text(`/requests/${key}/share`);
    expect(form.body).to.include('Not everyone in your organizations is listed').and.not.include(accountId);
    const res = await browser.post(`/requests/${key}/participants/add`, {
      _csrf: csrfOf(form.body),
      accountId,
    });
    expect(res.status, 'the share').to.equal(400);
    expect(await res.text()).to.include('people from your organizations that its service desk has');
    expect(request('VPN access for travel').participantIds).not.to.include(accountId);
  });

  it('shows the raise form to a customer in 1,001 organizations, its people from 100 of them, and says so', async () => {
    const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
    const from = calls.length;
    const form = await browsers.get(1_001)!.text(`/desk/1/create/${typeId}`);
    expect(form.status).to.equal(200);
    expect(form.body).to.include('Not everyone in your organizations is listed');
    const members = calls.slice(from).filter((c) => /\/organization\/[0-9]+\/user(\?|$)/.test(c.path));
    expect(members.length, 'member lists read').to.be.at.most(100);
  });

  it('refuses the sign-in of a customer in more than 10,000 organizations, not deciding on a part', async () => {
    const { state } = h.emulator;
    const accountId = '5b10ac8d82e05b22cc7f0000';
    state.users.set(accountId, {
      accountId,
      kind: 'customer',
      email: 'everywhere@acme.test',
      displayName: 'Everywhere',
      active: true,
      timeZone: 'Etc/UTC',
    });
    const acme = [...state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
    acme.memberIds.push(accountId);
    for (const id of branches) state.organizations.get(id)!.memberIds.push(accountId);
    let nextId = Math.max(...[...state.organizations.keys()].map(Number)) + 1;
    for (let i = 1_000; i < 10_000; i++) {
      const id = String(nextId++);
      state.organizations.set(id, { id, name: `Branch ${i}`, created: Date.now(), memberIds: [accountId] });
    }
    const from = h.logs.length;
    // The harness's sign-in throws with the portal's answer when it is not the redirect home.
    const refused = await signIn(h, 'everywhere@acme.test').then(
      () => 'signed in',
      (err: Error) => err.message,
    );
    expect(refused)
      .to.include('failed: 502')
      .and.include('more participants, approvals, steps or organizations');
    expect(h.logs.slice(from).map((l) => l['reason'])).to.include('ATLASSIAN_LIST_TOO_LONG');
  });
});
