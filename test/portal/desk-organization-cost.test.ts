// What a desk's organization list says is the same for every customer of the tenant: read per account,
// each customer in an organization a large desk lacks read the whole list every cache lifetime, all on
// the tenant's one service-account rate limit (ADR 0312). Read once per desk per lifetime, shared by
// every account, and read on from where it stopped (ADR 0319).
import { expect } from 'chai';
import {
  type EmulatorCall,
  type RunningJsmEmulator,
  startJsmEmulator,
} from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import { DeskAccess } from '../../portal/desk-access.js';
import { DeskOrganizations } from '../../portal/desk-organizations.js';
import type { Customer } from '../../portal/visibility.js';
import { type Browser, type Harness, signIn, useHarness } from '../../testkit/portal-harness.js';

/** Customers of IT Help in an organization it does not have: each needs its whole list read. */
const OUTSIDERS = 5;
/** Organizations added to IT Help besides the seeded ones: a provider's customer companies, 11 pages. */
const ON_DESK = 500;
/** The servicedeskapi page size of a desk's organizations (Atlassian's and the emulator's 50). */
const PAGE = 50;

describe('portal reads of desks’ organization lists (ADR 0319)', () => {
  let h: Harness;
  const calls: EmulatorCall[] = [];
  const browsers: Browser[] = [];
  /** The organization on IT Help at this position (its 4th page) has the first customer signing in. */
  const INSIDER_AT = 170;

  useHarness(
    async (started) => {
      h = started;
      const { state } = h.emulator;
      const itHelp = state.serviceDesks.get('1')!;
      let nextId = Math.max(...[...state.organizations.keys()].map(Number)) + 1;
      const organization = (name: string, memberIds: string[] = []) => {
        const id = String(nextId++);
        state.organizations.set(id, { id, name, created: Date.now(), memberIds });
        return id;
      };
      for (let i = 0; i < ON_DESK; i++) itHelp.organizationIds.push(organization(`Company ${i}`));
      const customer = (n: number, email: string) => {
        const accountId = `5b10ac8d82e05b22cc7f${String(n).padStart(4, '0')}`;
        state.users.set(accountId, {
          accountId,
          kind: 'customer',
          email,
          displayName: `Customer ${n}`,
          active: true,
          timeZone: 'Etc/UTC',
        });
        itHelp.customerIds.push(accountId);
        return accountId;
      };
      state.organizations
        .get(itHelp.organizationIds[INSIDER_AT]!)!
        .memberIds.push(customer(0, 'inside@acme.test'));
      for (let n = 1; n <= OUTSIDERS; n++)
        organization(`Outside ${n}`, [customer(n, `outside${n}@acme.test`)]);
      calls.length = 0;
      browsers.push(await signIn(h, 'inside@acme.test'));
      for (let n = 1; n <= OUTSIDERS; n++) browsers.push(await signIn(h, `outside${n}@acme.test`));
    },
    {
      emulator: { onCall: (call) => calls.push(call) },
      atlassian: { organizationMappings: [] },
      // One lifetime longer than the test: every call counted falls in it.
      catalogueTtlMs: 10 * 60_000,
    },
  );

  /** Reads of each desk's organization list, by desk id. */
  const listReads = () => {
    const reads = new Map<string, number>();
    for (const c of calls) {
      const desk = /\/servicedesk\/([0-9]+)\/organization(\?|$)/.exec(c.path)?.[1];
      if (c.method === 'GET' && desk) reads.set(desk, (reads.get(desk) ?? 0) + 1);
    }
    return reads;
  };
  const pagesOf = (deskId: string) =>
    Math.max(1, Math.ceil(h.emulator.state.serviceDesks.get(deskId)!.organizationIds.length / PAGE));

  it(`reads each desk's organization pages once a lifetime for ${OUTSIDERS + 1} customers signing in and browsing`, async () => {
    for (const browser of browsers) {
      expect((await browser.text('/desk/1')).status).to.equal(200);
      expect((await browser.text('/requests?status=all')).status).to.equal(200);
    }
    const reads = listReads();
    expect(pagesOf('1'), 'IT Help’s list').to.equal(11);
    for (const [deskId, count] of reads)
      expect(count, `reads of desk ${deskId}'s organizations`).to.equal(pagesOf(deskId));
  });

  it('gives the desk through an organization found past the first pages, and not through one it lacks', async () => {
    const [inside, outside] = browsers;
    const request = [...h.emulator.state.requests.values()].find((r) => r.serviceDeskId === '1')!;
    const before = request.organizationIds;
    const itHelp = h.emulator.state.serviceDesks.get('1')!;
    try {
      request.organizationIds = [itHelp.organizationIds[INSIDER_AT]!];
      expect((await inside!.text(`/requests/${request.key}`)).status, 'shared with his').to.equal(200);
      const theirs = [...h.emulator.state.organizations.values()].find((o) => o.name === 'Outside 1')!;
      request.organizationIds = [theirs.id];
      expect((await outside!.text(`/requests/${request.key}`)).status, 'not on the desk').to.equal(404);
    } finally {
      request.organizationIds = before;
    }
  });

  it('holds a decision on a desk no longer than the shared organization list it was made on', async () => {
    // The lists live no time here, the decisions ten minutes: each decision is made again, so an
    // organization taken off a desk shows within one lifetime, not a list's and then a decision's.
    const client = new AtlassianClient({ siteUrl: h.emulator.url, ...SERVICE_ACCOUNT });
    const desks = new DeskAccess(client, new DeskOrganizations(client, 0), 10 * 60_000);
    const { state } = h.emulator;
    const itHelp = state.serviceDesks.get('1')!;
    const organizationId = itHelp.organizationIds[INSIDER_AT]!;
    const inside = state.userByEmail('inside@acme.test')!;
    const customer: Customer = {
      accountId: inside.accountId,
      displayName: inside.displayName,
      organizationIds: [organizationId],
      serviceDeskIds: ['1'],
    };
    try {
      expect((await desks.current(customer, inside.email)).organizationIdsByDesk).to.deep.equal({
        '1': [organizationId],
      });
      itHelp.organizationIds = itHelp.organizationIds.filter((id) => id !== organizationId);
      expect((await desks.current(customer, inside.email)).organizationIdsByDesk).to.deep.equal({ '1': [] });
    } finally {
      if (!itHelp.organizationIds.includes(organizationId))
        itHelp.organizationIds.splice(INSIDER_AT, 0, organizationId);
    }
  });
});

describe('a decision on a desk made of organization pages read within a lifetime (ADR 0322)', () => {
  /** The shared lists' lifetime here: long enough that only a read the test holds outlives it. */
  const LIST_TTL_MS = 2_000;
  let emulator: RunningJsmEmulator;
  before(async () => {
    emulator = await startJsmEmulator({});
  });
  after(async () => {
    await emulator.close();
  });

  /**
   * The real client, whose reads of a desk's organization pages first wait for `gate`, and whose
   * searches of a desk's customers for `customersGate`, if set.
   */
  class GatedClient extends AtlassianClient {
    gate: ((serviceDeskId: string, start: number) => Promise<void>) | undefined;
    customersGate: (() => Promise<void>) | undefined;
    override async deskOrganizationsPage(serviceDeskId: string, start: number) {
      await this.gate?.(serviceDeskId, start);
      return super.deskOrganizationsPage(serviceDeskId, start);
    }
    override async deskCustomers(serviceDeskId: string, query: string) {
      await this.customersGate?.();
      return super.deskCustomers(serviceDeskId, query);
    }
  }
  /** Resolves once the clock is past `at`: what is waited for is a list's expiry itself. */
  const past = async (at: number) => {
    while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, at - Date.now() + 1));
  };
  /** `count` new organizations added to the desk, their ids. */
  const addedTo = (deskId: string, count: number) => {
    const { state } = emulator;
    const desk = state.serviceDesks.get(deskId)!;
    return Array.from({ length: count }, () => {
      const id = String(Math.max(...[...state.organizations.keys()].map(Number)) + 1);
      state.organizations.set(id, { id, name: `Company ${id}`, created: Date.now(), memberIds: [] });
      desk.organizationIds.push(id);
      return id;
    });
  };
  const takenOff = (deskId: string, organizationId: string) => {
    const desk = emulator.state.serviceDesks.get(deskId)!;
    desk.organizationIds = desk.organizationIds.filter((id) => id !== organizationId);
  };
  beforeEach(() => emulator.reset());

  it('reads again from its first page a list that outlived its lifetime while a customer waited for its next page', async () => {
    const first = emulator.state.serviceDesks.get('1')!.organizationIds[0]!;
    // Past the first page.
    const last = addedTo('1', PAGE + 10).at(-1)!;
    const client = new GatedClient({ siteUrl: emulator.url, ...SERVICE_ACCOUNT });
    const organizations = new DeskOrganizations(client, LIST_TTL_MS);
    // Another customer's question reads the first page.
    expect(await organizations.on('1', [first])).to.deep.include({ found: [first], complete: true });
    const firstPageRead = Date.now();
    // The first organization is taken off the desk; the second page is read once the list is past
    // its lifetime, so what its first page said is then older than a lifetime.
    takenOff('1', first);
    client.gate = (_desk, start) => (start > 0 ? past(firstPageRead + LIST_TTL_MS) : Promise.resolve());
    expect(await organizations.on('1', [first, last])).to.deep.include({ found: [last], complete: true });
  });

  it('holds no decision on a list that outlived its lifetime while another desk was read', async () => {
    // The same organization is on IT Help's first page and on the second desk's second.
    const [organizationId] = addedTo('1', 1) as [string];
    addedTo('2', PAGE);
    emulator.state.serviceDesks.get('2')!.organizationIds.push(organizationId);
    const client = new GatedClient({ siteUrl: emulator.url, ...SERVICE_ACCOUNT });
    const organizations = new DeskOrganizations(client, LIST_TTL_MS);
    const desks = new DeskAccess(client, organizations, 10 * 60_000);
    const customer: Customer = {
      accountId: '5b10ac8d82e05b22cc7f0001',
      displayName: 'Customer',
      organizationIds: [organizationId],
      serviceDeskIds: ['1', '2'],
    };
    // Another customer's question reads IT Help's list; the second desk's second page is read once
    // that list is past its lifetime.
    await organizations.on('1', [organizationId]);
    const itHelpRead = Date.now();
    client.gate = (desk, start) =>
      desk === '2' && start > 0 ? past(itHelpRead + LIST_TTL_MS) : Promise.resolve();
    // No e-mail: the session's desks are the customer's, judged on their organizations only.
    expect((await desks.current(customer, undefined)).organizationIdsByDesk).to.deep.equal({
      '1': [organizationId],
      '2': [organizationId],
    });
    takenOff('1', organizationId);
    expect((await desks.current(customer, undefined)).organizationIdsByDesk).to.deep.equal({
      '1': [],
      '2': [organizationId],
    });
  });

  it('holds no decision on a list that outlived its lifetime after answering, though another customer began the desk’s next list before the decision was made', async () => {
    // Erik is IT Help's own customer and HR's; his organization is on IT Help only, so HR's customers
    // are searched by his e-mail after both desks' lists answered.
    const { state } = emulator;
    const erik = state.userByEmail('erik@acme.test')!;
    state.serviceDesks.get('2')!.customerIds.push(erik.accountId);
    const [organizationId] = addedTo('1', 1) as [string];
    const client = new GatedClient({ siteUrl: emulator.url, ...SERVICE_ACCOUNT });
    const organizations = new DeskOrganizations(client, LIST_TTL_MS);
    const desks = new DeskAccess(client, organizations, 10 * 60_000);
    const customer: Customer = {
      accountId: erik.accountId,
      displayName: erik.displayName,
      organizationIds: [organizationId],
      serviceDeskIds: ['1', '2'],
    };
    // HR's customers answer once both desks' lists that answered are past their lifetime (begun before
    // the search, they end before a lifetime from it), the organization has been taken off IT Help, and
    // other customers have begun both desks' next lists.
    client.customersGate = async () => {
      await past(Date.now() + LIST_TTL_MS);
      takenOff('1', organizationId);
      await organizations.on('1', [organizationId]);
      await organizations.on('2', [organizationId]);
    };
    expect((await desks.current(customer, erik.email)).organizationIdsByDesk, 'the decision').to.deep.equal({
      '1': [organizationId],
      '2': [],
    });
    client.customersGate = undefined;
    // Made on IT Help's list that has since ended: made again, on the list begun since.
    expect((await desks.current(customer, erik.email)).organizationIdsByDesk, 'the next page').to.deep.equal({
      '1': [],
      '2': [],
    });
  });
});
