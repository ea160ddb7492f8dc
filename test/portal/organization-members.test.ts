// An organization's members are the colleagues a customer may raise a request for and share one
// with. Atlassian pages them (GET /organization/{id}/user, start/limit, isLastPage; 50 a page): a
// colleague past the first 1,000 must still be offered and accepted, and the reading stays bounded.
import { expect } from 'chai';
import { type Browser, csrfOf, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** Acme Corp grows past 1,000 members; the newest joined last. */
const JOINED = 1_060;

/** `count` customers join Acme Corp (`staff<i>@acme.test`), after its members of the seed. */
function joinAcme(h: Harness, count: number): void {
  const { state } = h.emulator;
  const acme = [...state.organizations.values()].find((o) => o.name === 'Acme Corp')!;
  for (let i = 0; i < count; i++) {
    const accountId = `5b10ac8d82e05b22cc7d${String(i).padStart(4, '0')}`;
    state.users.set(accountId, {
      accountId,
      kind: 'customer',
      email: `staff${i}@acme.test`,
      displayName: `Staff ${i}`,
      active: true,
      timeZone: 'Etc/UTC',
    });
    acme.memberIds.push(accountId);
  }
}

describe('portal colleagues from an organization of more than 1,000 members', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    joinAcme(h, JOINED);
    alice = await signIn(h, 'alice@acme.test');
  });
  const newest = () => h.emulator.state.userByEmail(`staff${JOINED - 1}@acme.test`)!;
  const typeId = () => [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;

  it('offers the colleague who joined last, reading the member pages in bounded rounds', async () => {
    const from = h.exchanges.length;
    const form = (await alice.text(`/desk/1/create/${typeId()}`)).body;
    expect(form).to.include(`value="${newest().accountId}"`);
    const members = h.exchanges.slice(from).filter((e) => /\/organization\/[0-9]+\/user(\?|$)/.test(e.path));
    // 22 pages of 50 hold them: the first alone, then five at a time (at most four past the last).
    expect(members.length, 'member pages read').to.be.within(22, 26);
  });

  it('raises a request on behalf of that colleague', async () => {
    const path = `/desk/1/create/${typeId()}`;
    const body = new FormData();
    body.append('_csrf', csrfOf((await alice.text(path)).body));
    body.append('f_summary', 'For the newest colleague');
    body.append('onBehalfOf', newest().accountId);
    const res = await alice.fetch(path, { method: 'POST', body, headers: { origin: h.url } });
    expect(res.status, await res.clone().text()).to.equal(303);
    const [request] = [...h.emulator.state.requests.values()].filter(
      (r) => r.fieldValues['summary'] === 'For the newest colleague',
    );
    expect(request!.reporterId).to.equal(newest().accountId);
  });
});

describe('portal colleagues from an organization of more than 5,000 members (ADR 0257)', () => {
  let h: Harness;
  let alice: Browser;
  useHarness(async (started) => {
    h = started;
    joinAcme(h, 5_010);
    alice = await signIn(h, 'alice@acme.test');
  });
  const shared = () =>
    [...h.emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Shared printer queue for the Acme office',
    )!;

  it('says on the raise form and the request’s share page that not everyone is listed', async () => {
    const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
    const form = (await alice.text(`/desk/1/create/${typeId}`)).body;
    expect(form).to.include('Not everyone in your organizations is listed');
    const page = await alice.text(`/requests/${shared().key}/share`);
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Not everyone in your organizations is listed');
  });

  it('lets the member who joined last see a request shared with the organization', async () => {
    const last = await signIn(h, 'staff5009@acme.test');
    expect((await last.text(`/requests/${shared().key}`)).status).to.equal(200);
  });
});
