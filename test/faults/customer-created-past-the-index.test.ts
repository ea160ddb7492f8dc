// A first sign-in creates the customer at Atlassian (createOnFirstLogin), and Atlassian's platform
// user search, which the portal finds accounts with, is eventually consistent: an account just made
// may not be found by it for a while. A create that Atlassian made but whose answer was lost (a 500
// in front of it, the connection reset), or one another replica made at the same moment (409), left
// a sign-in that could not find the account: refused until the search caught up, and no audit line
// (ADR 0372). Each look repeated the sign-in's whole lookup, a search of every desk's customers, on the
// service account's one rate limit: a look is now the user search alone (ADR 0387).
import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { SEARCH_WAIT_MS } from '../../portal/customer-create.js';
import { type HeldClock, holdClock } from '../../testkit/held-clock.js';
import { specClient } from '../../testkit/jsm-emulator-client.js';
import { attemptSignIn, type Harness, startHarness } from '../../testkit/portal-harness.js';

const CREATE = { pathPrefix: '/rest/servicedeskapi/customer', method: 'POST' } as const;
const USER_SEARCH = { pathPrefix: '/rest/api/3/user/search', method: 'GET' } as const;
/** Where the sign-in lands: the harness's sign-ins start at the home page. */
const HOME = '/';

describe('faults: a customer created at sign-in while the user search lags', function () {
  this.timeout(30_000);
  let h: Harness;
  const calls: EmulatorCall[] = [];
  before(async () => {
    h = await startHarness({
      transport: { maxRetries: 0 },
      emulator: { onCall: (call) => calls.push(call) },
      // The site's desks read at each sign-in: the many desks' case adds its own.
      catalogueTtlMs: 0,
    });
  });
  // The portal's clock held still (testkit/held-clock.ts): the sign-in's wait for the search runs out
  // only when a test advances it, never because a loaded machine was slow to look again.
  let clock: HeldClock;
  beforeEach(() => {
    clock = holdClock();
  });
  afterEach(() => {
    clock.release();
    h.emulator.faults.clear();
    h.emulator.state.userSearchIndex.catchUp();
  });
  after(() => h.close());

  const accountsOf = (email: string) => [...h.emulator.state.users.values()].filter((u) => u.email === email);
  const audit = (from: number) =>
    h.logs
      .slice(from)
      .filter((l) => l['event'] === 'portal.audit')
      .map(({ action, accountId }) => ({ action, accountId }));

  async function signIn(email: string) {
    const answer = await attemptSignIn(h, email);
    return {
      status: answer.status,
      location: answer.headers.get('location'),
      retryAfter: answer.headers.get('retry-after'),
      html: await answer.text(),
    };
  }

  /**
   * The user search lags from now, and catches up when the portal asks it for the `nth` time after
   * the create's first arrival (where `onCreate` runs first): the sign-in must look more than once.
   */
  function searchCatchesUpAt(nth: number, onCreate?: () => Promise<void>): FaultRule[] {
    let created = false;
    let searches = 0;
    h.emulator.state.userSearchIndex.hold();
    return [
      {
        ...USER_SEARCH,
        onArrival: async () => {
          if (created && ++searches === nth) h.emulator.state.userSearchIndex.catchUp();
        },
      },
      {
        ...CREATE,
        times: 1,
        onArrival: async () => {
          created = true;
          await onCreate?.();
        },
      },
    ];
  }

  for (const { what, lost } of [
    { what: 'answered 500', lost: { statusAfterHandling: 500 } },
    { what: 'whose connection was reset', lost: { dropAfterHandling: true } },
  ]) {
    it(`signs her in once the search finds the account a create made and ${what}`, async () => {
      const email = `erin.${lost.dropAfterHandling ? 'reset' : '500'}@acme.test`;
      const [search, create] = searchCatchesUpAt(2);
      h.emulator.faults.set({ ...create!, ...lost }, search!);
      const from = h.logs.length;
      const answer = await signIn(email);
      expect([answer.status, answer.location], answer.html).to.deep.equal([303, HOME]);
      const accounts = accountsOf(email);
      expect(accounts).to.have.length(1);
      // Sent again, Atlassian said the account was there: this create most likely made it, but the
      // portal did not hear it, and another at the same moment could have.
      expect(audit(from)[0]).to.deep.equal({
        action: 'customer_create_unconfirmed',
        accountId: accounts[0]!.accountId,
      });
    });
  }

  for (const { what, again } of [
    { what: 'answered', again: {} },
    { what: 'answered unreadably (made, ADR 0279)', again: { rewriteJson: () => null } },
  ]) {
    it(`audits customer_created when a create that failed before the work is sent again and ${what}`, async () => {
      const email = `hugo.${again.rewriteJson ? 'unread' : 'read'}@acme.test`;
      h.emulator.faults.set({ ...CREATE, times: 1, status: 500 }, { ...CREATE, times: 1, ...again });
      const from = h.logs.length;
      const exchanged = h.exchanges.length;
      const answer = await signIn(email);
      // The unreadable answer is the fault's, off the spec by design: not the portal's exchange to check.
      if (again.rewriteJson) h.exchanges.length = exchanged;
      expect([answer.status, answer.location], answer.html).to.deep.equal([303, HOME]);
      expect(h.emulator.faults.hits()).to.deep.equal([1, 1]);
      const accounts = accountsOf(email);
      expect(accounts).to.have.length(1);
      expect(audit(from)[0]).to.deep.equal({ action: 'customer_created', accountId: accounts[0]!.accountId });
    });
  }

  it('signs her in once the search finds the account another replica created at the same moment', async () => {
    const email = 'frank@acme.test';
    const agent = specClient({ baseUrl: h.emulator.url, ...SERVICE_ACCOUNT });
    // Another replica's create of the same person arrives just before this one.
    let otherMade: number | undefined;
    const otherReplica = async () => {
      const made = await agent('POST', '/rest/servicedeskapi/customer?strictConflictStatusCode=true', {
        json: { email, displayName: 'Frank' },
      });
      otherMade = made.status;
    };
    const [search, create] = searchCatchesUpAt(2, otherReplica);
    h.emulator.faults.set(create!, search!);
    const from = h.logs.length;
    const answer = await signIn(email);
    expect([answer.status, answer.location], answer.html).to.deep.equal([303, HOME]);
    const accounts = accountsOf(email);
    expect(accounts).to.have.length(1);
    expect(otherMade).to.equal(201);
    expect(audit(from)[0]).to.deep.equal({ action: 'customer_existed', accountId: accounts[0]!.accountId });
  });

  it('answers a retryable 503 when the search has not caught up within the sign-in, and signs her in later', async () => {
    const email = 'gina@acme.test';
    let created = false;
    let looks = 0;
    h.emulator.state.userSearchIndex.hold();
    h.emulator.faults.set(
      {
        ...CREATE,
        times: 1,
        statusAfterHandling: 500,
        onArrival: async () => {
          created = true;
        },
      },
      {
        ...USER_SEARCH,
        // A look after the create takes longer than the sign-in's whole wait, the index still behind.
        onArrival: async () => {
          if (!created) return;
          looks++;
          clock.advance(SEARCH_WAIT_MS + 1);
        },
      },
    );
    const from = h.logs.length;
    const refused = await signIn(email);
    expect(refused.status, refused.html).to.equal(503);
    expect(looks, 'looks after the create').to.equal(1);
    expect(Number(refused.retryAfter)).to.be.greaterThan(0);
    expect(h.logs.slice(from).map((l) => l['reason'])).to.include('PORTAL_CUSTOMER_NOT_SEARCHABLE');
    expect(refused.html).to.contain('Your account has been set up');
    expect(refused.html).to.contain(`href="/login?return&#61;${encodeURIComponent(HOME)}"`);
    expect(audit(from)).to.deep.equal([]);
    expect(accountsOf(email)).to.have.length(1);
    // Nothing was lost: once the search has caught up, she signs in, and nothing is created again.
    h.emulator.state.userSearchIndex.catchUp();
    h.emulator.faults.set({ ...CREATE });
    const later = await signIn(email);
    expect([later.status, later.location], later.html).to.deep.equal([303, HOME]);
    expect(h.emulator.faults.hits()).to.deep.equal([0]);
    expect(accountsOf(email)).to.have.length(1);
  });

  describe('on a site of many desks', () => {
    const DESKS = 100;
    before(() => {
      const { serviceDesks } = h.emulator.state;
      const itHelp = serviceDesks.get('1')!;
      for (let i = 0; i < DESKS; i++) {
        const id = String(7_000 + i);
        serviceDesks.set(id, {
          ...itHelp,
          id,
          projectId: String(70_000 + i),
          projectKey: `DESK${i}`,
          projectName: `Desk ${i}`,
          organizationIds: [],
          customerIds: [],
          groups: [],
        });
      }
    });

    /** How often each desk's customers were searched, by desk id. */
    const deskSearches = () => {
      const searches = new Map<string, number>();
      for (const c of calls) {
        const desk = /^\/rest\/servicedeskapi\/servicedesk\/([0-9]+)\/customer$/.exec(c.path)?.[1];
        if (c.method === 'GET' && desk) searches.set(desk, (searches.get(desk) ?? 0) + 1);
      }
      return searches;
    };

    it('looks again with the user search alone, and searches each desk once more when it finds her', async () => {
      const email = 'ivan@acme.test';
      const [search, create] = searchCatchesUpAt(3);
      h.emulator.faults.set({ ...create!, statusAfterHandling: 500 }, search!);
      calls.length = 0;
      const answer = await signIn(email);
      expect([answer.status, answer.location], answer.html).to.deep.equal([303, HOME]);
      const searched = deskSearches();
      expect(searched.size, 'desks searched').to.be.greaterThan(DESKS);
      // Before the create (she is in none), and once the search has found her: not once a look.
      expect([...new Set(searched.values())], 'searches of each desk').to.deep.equal([2]);
      // Before the create, then the three looks.
      expect(calls.filter((c) => c.method === 'GET' && c.path === USER_SEARCH.pathPrefix)).to.have.length(4);
    });
  });
});
