import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  refusalCount,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';

/**
 * Sharing a request with an organization from its page, as the native portal's Share does (ADR
 * 0154): the customer's own organizations only, the others it is shared with kept and never named,
 * and only whoever raised it may stop sharing it. Every refusal is sent and must change nothing.
 */
describe('portal: sharing a request with an organization from its page', () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  let dana: Browser;
  const calls: EmulatorCall[] = [];
  /** A second organization of Laptop's desk, without members until a test puts Alice in it. */
  let initech: string;
  useHarness(
    async (started) => {
      h = started;
      // On the desk before anyone signs in: a desk's organization list is read once a cache lifetime
      // for the whole tenant (ADR 0319), so one added later would show only a lifetime later.
      const state = h.emulator.state;
      initech = String(Math.max(...[...state.organizations.keys()].map(Number)) + 1);
      state.organizations.set(initech, { id: initech, name: 'Initech', created: Date.now(), memberIds: [] });
      state.serviceDesks.get(request(LAPTOP).serviceDeskId)!.organizationIds.push(initech);
      alice = await signIn(h, 'alice@acme.test');
      bob = await signIn(h, 'bob@acme.test');
      dana = await signIn(h, 'dana@globex.test');
    },
    { emulator: { onCall: (call) => calls.push(call) } },
  );

  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const organization = (name: string) =>
    [...h.emulator.state.organizations.values()].find((o) => o.name === name)!.id;
  /** Alice's own request, shared with no organization and no participant when a test starts. */
  const LAPTOP = 'Laptop screen flickers';
  beforeEach(() => {
    request(LAPTOP).organizationIds = [];
  });

  /** Posts an organization change on `summary`'s page with the CSRF token of that page. */
  const change = async (who: Browser, summary: string, action: 'add' | 'remove', organizationId: string) => {
    const key = request(summary).key;
    const token = csrfOf((await who.text('/profile')).body);
    return who.post(`/requests/${key}/organizations/${action}`, { organizationId, _csrf: token });
  };

  it('shares her request with her organization, shows it, lets a colleague in, and stops sharing it', async () => {
    const key = request(LAPTOP).key;
    const acme = organization('Acme Corp');
    const before = (await alice.text(`/requests/${key}`)).body;
    expect(before).to.include('<label for="share-organization">Share with an organization of yours</label>');
    expect(before).to.include(`<option value="${acme}">Everyone in Acme Corp</option>`);
    expect((await bob.text(`/requests/${key}`)).status, 'not shared with bob yet').to.equal(404);

    const shared = await change(alice, LAPTOP, 'add', acme);
    expect(shared.status).to.equal(303);
    expect(shared.headers.get('location')).to.equal(`/requests/${key}?shared=1`);
    expect(request(LAPTOP).organizationIds).to.deep.equal([acme]);
    const after = (await alice.text(`/requests/${key}?shared=1`)).body;
    expect(after)
      .to.include('Sharing was updated.')
      .and.include('<ul class="organizations"><li>Everyone in Acme Corp');
    expect(after).to.include('aria-label="Stop sharing with Acme Corp"');
    expect(after, 'nothing left to offer').to.not.include('id="share-organization"');
    expect(after).to.not.include('Not shared with anyone yet.');

    // Bob, in Acme Corp, reads it now, and sees with whom it is shared; it is not his to withdraw.
    const bobs = await bob.text(`/requests/${key}`);
    expect(bobs.status).to.equal(200);
    expect(bobs.body).to.include('Everyone in Acme Corp').and.not.include('Stop sharing with');

    expect((await change(alice, LAPTOP, 'remove', acme)).status).to.equal(303);
    expect(request(LAPTOP).organizationIds).to.deep.equal([]);
    expect((await bob.text(`/requests/${key}`)).status, 'no longer shared with bob').to.equal(404);
  });

  it('keeps the organizations it is shared with beyond hers, counted and never named', async () => {
    const globex = organization('Globex Partners');
    const acme = organization('Acme Corp');
    request(LAPTOP).organizationIds = [globex];
    const page = (await alice.text(`/requests/${request(LAPTOP).key}`)).body;
    expect(page).to.include('Also shared with 1 other organization.');
    expect(page).to.not.include('Globex').and.not.include(`value="${globex}"`);
    expect((await change(alice, LAPTOP, 'add', acme)).status).to.equal(303);
    expect(request(LAPTOP).organizationIds).to.deep.equal([globex, acme]);
    expect((await change(alice, LAPTOP, 'remove', acme)).status).to.equal(303);
    expect(request(LAPTOP).organizationIds).to.deep.equal([globex]);
  });

  describe('changes sent at the same instant', () => {
    /**
     * Alice in a second organization of the desk (Initech), signed in afresh so her session has it.
     * Both edits are held at the site until both posts have read the request, so each post's view of
     * its organizations is the one from before either change: a whole-field write would lose one.
     */
    let both: Browser;
    before(async () => {
      const state = h.emulator.state;
      state.organizations.get(initech)!.memberIds.push(state.userByEmail('alice@acme.test')!.accountId);
      both = await signIn(h, 'alice@acme.test');
    });
    afterEach(() => h.emulator.faults.clear());
    const holdBothEdits = () =>
      h.emulator.faults.set({ pathPrefix: '/rest/api/3/issue/', method: 'PUT', delayMs: 300, times: 2 });

    it('keeps both of two shares with different organizations', async () => {
      const acme = organization('Acme Corp');
      holdBothEdits();
      const answers = await Promise.all([
        change(both, LAPTOP, 'add', acme),
        change(both, LAPTOP, 'add', initech),
      ]);
      expect(answers.map((a) => a.status)).to.deep.equal([303, 303]);
      expect([...request(LAPTOP).organizationIds].sort()).to.deep.equal([acme, initech].sort());
    });

    it('keeps a share that races a stop-sharing of another organization', async () => {
      const acme = organization('Acme Corp');
      request(LAPTOP).organizationIds = [acme];
      holdBothEdits();
      const answers = await Promise.all([
        change(both, LAPTOP, 'add', initech),
        change(both, LAPTOP, 'remove', acme),
      ]);
      expect(answers.map((a) => a.status)).to.deep.equal([303, 303]);
      expect(request(LAPTOP).organizationIds).to.deep.equal([initech]);
    });
  });

  it('refuses an organization she is not in, to add or to remove, and changes nothing', async () => {
    const globex = organization('Globex Partners');
    request(LAPTOP).organizationIds = [globex];
    for (const action of ['add', 'remove'] as const) {
      const from = h.logs.length;
      const refused = await change(alice, LAPTOP, action, globex);
      expect(refused.status, action).to.equal(400);
      expect(await refused.text()).to.include(
        'You can share requests only with organizations you belong to.',
      );
      expect(reasons(h, from), action).to.include('PORTAL_ACTION_INVALID');
      expect(request(LAPTOP).organizationIds, action).to.deep.equal([globex]);
    }
  });

  it('refuses forged organization ids without writing anything', async () => {
    const before = calls.length;
    for (const forged of [
      '',
      '1 OR 1=1',
      `${organization('Acme Corp')},${organization('Globex Partners')}`,
      '999999',
    ]) {
      const refused = await change(alice, LAPTOP, 'add', forged);
      expect(refused.status, forged).to.equal(400);
    }
    expect(request(LAPTOP).organizationIds).to.deep.equal([]);
    expect(
      calls.slice(before).filter((c) => c.method === 'PUT'),
      'no issue edit sent',
    ).to.deep.equal([]);
  });

  it('says so when asked to stop sharing with an organization of hers it is not shared with', async () => {
    const from = h.logs.length;
    const refused = await change(alice, LAPTOP, 'remove', organization('Acme Corp'));
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.include('This request is not shared with that organization.');
    expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID');
    expect(request(LAPTOP).organizationIds).to.deep.equal([]);
  });

  it('lets only whoever raised it stop sharing it: a colleague who reads it through the share may not', async () => {
    const acme = organization('Acme Corp');
    request(LAPTOP).organizationIds = [acme];
    const from = h.logs.length;
    const refused = await change(bob, LAPTOP, 'remove', acme);
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.include(
      'Only the person who raised this request can stop sharing it with an organization.',
    );
    expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID');
    expect(request(LAPTOP).organizationIds).to.deep.equal([acme]);
  });

  it('answers 404 to a customer who cannot see the request, whatever she sends', async () => {
    const globex = organization('Globex Partners');
    const refusedBefore = await refusalCount(h, 'PORTAL_REQUEST_NOT_FOUND');
    for (const action of ['add', 'remove'] as const) {
      expect((await change(dana, LAPTOP, action, globex)).status, action).to.equal(404);
    }
    expect(await refusalCount(h, 'PORTAL_REQUEST_NOT_FOUND')).to.equal(refusedBefore + 2);
    expect(request(LAPTOP).organizationIds).to.deep.equal([]);
  });

  it('refuses an approver who only answers the request (403), and offers her no sharing form', async () => {
    const summary = 'Standing desk converter for the support team';
    const acme = organization('Acme Corp');
    const page = (await alice.text(`/requests/${request(summary).key}`)).body;
    expect(page).to.not.include('share-organization').and.not.include('organizations/');
    const from = h.logs.length;
    const refused = await change(alice, summary, 'add', acme);
    expect(refused.status).to.equal(403);
    expect(reasons(h, from)).to.include('PORTAL_ACTION_APPROVER_ONLY');
    expect(request(summary).organizationIds).to.deep.equal([]);
  });
});
