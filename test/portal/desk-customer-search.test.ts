// At sign-in the portal looks for the customer's account among each desk's customers (by e-mail),
// then in the platform user search. A help center of many desks (all of a big site's when
// `serviceDeskIds` is unset) asked them one after another: a customer in no desk waited one round
// trip per desk (100 desks at 150 ms: 15 s), the desks were asked again, all at once, to decide which
// the customer may use (on 300 desks the tenant's bulkhead refused the sign-in ATLASSIAN_BUSY), and a
// newcomer joined them one after another. They are searched a few at a time, each once a sign-in,
// and checked and joined ten at a time at most (ADR 0265).
import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import type { EmulatorCall } from '../../dev/jsm-emulator/emulator.js';
import type { FaultRule } from '../../dev/jsm-emulator/faults.js';
import { accountIdFor } from '../../dev/jsm-emulator/state.js';
import type { AtlassianClient } from '../../portal/atlassian/client.js';
import type { UserDTO } from '../../portal/atlassian/types.js';
import { CustomerResolver } from '../../portal/identity.js';
import * as portal from '../../testkit/portal-harness.js';

const DESK_CUSTOMERS = /^\/rest\/servicedeskapi\/servicedesk\/[0-9]+\/customer$/;

/**
 * How many round trips the calls took one after another: a call starts a new round when it arrived
 * after an answer of the round before it had been sent (it could not have been sent with them).
 * Read from arrival times, so a loaded machine can only make more rounds, never fewer: it bounds joins
 * with room to spare; the desk searches are counted exactly by `RoundGate`.
 */
function sequentialRounds(calls: readonly EmulatorCall[]): number {
  let rounds = 0;
  let firstAnswer = Number.NEGATIVE_INFINITY;
  for (const call of [...calls].sort((a, b) => a.arrivedAt - b.arrivedAt)) {
    if (rounds === 0 || call.arrivedAt >= firstAnswer) {
      rounds++;
      firstAnswer = call.answeredAt;
    } else firstAnswer = Math.min(firstAnswer, call.answeredAt);
  }
  return rounds;
}

/**
 * Holds each desk search at the emulator until all a round should ask at once (`perRound`, fewer for
 * the last) have arrived, then answers them together and counts a round. A client asking fewer at once
 * is answered after `lateMs` with no new arrival, and that counts as a round too: one desk a round
 * trip is counted as `total` rounds, however busy the machine, and a timely one as exactly
 * ceil(total / perRound).
 */
class RoundGate {
  rounds = 0;
  #held: Array<() => void> = [];
  #answered = 0;
  #late: NodeJS.Timeout | undefined;

  constructor(
    private readonly total: number,
    private readonly perRound: number,
    private readonly lateMs = 1_000,
  ) {}

  reset(): void {
    this.rounds = 0;
    this.#answered = 0;
  }

  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.#held.push(resolve);
      clearTimeout(this.#late);
      const roundSize = Math.min(this.perRound, this.total - this.#answered);
      if (this.#held.length >= roundSize) this.#answerRound();
      else this.#late = setTimeout(() => this.#answerRound(), this.lateMs);
    });
  }

  #answerRound(): void {
    clearTimeout(this.#late);
    this.rounds++;
    this.#answered += this.#held.length;
    for (const answer of this.#held.splice(0)) answer();
  }
}

/** The site's desks made `count` copies of desk 1, Erik a customer of the last alone, no organization on any. */
function seedDesks(h: portal.Harness, count: number): void {
  const { serviceDesks } = h.emulator.state;
  const first = serviceDesks.get('1')!;
  serviceDesks.clear();
  for (let i = 0; i < count; i++) {
    const id = String(i + 1);
    serviceDesks.set(id, {
      ...first,
      id,
      projectId: String(60_000 + i),
      projectKey: `D${i}`,
      projectName: `Desk ${i}`,
      organizationIds: [],
      customerIds: i === count - 1 ? [...first.customerIds] : [],
      groups: i === 0 ? first.groups : [],
    });
  }
}

/** The most calls under way at once among `calls`. */
function mostAtOnce(calls: readonly EmulatorCall[]): number {
  const edges = calls.flatMap((c) => [
    { at: c.arrivedAt, by: 1 },
    { at: c.answeredAt, by: -1 },
  ]);
  let now = 0;
  let most = 0;
  for (const edge of edges.sort((a, b) => a.at - b.at || a.by - b.by)) {
    now += edge.by;
    most = Math.max(most, now);
  }
  return most;
}

/**
 * A harness for the enclosing describe block on a site of `count` desks (`seedDesks`), recording the
 * emulator calls `wanted` picks; each desk call takes `delayMs` (a round trip a sequential search cannot hide).
 */
function useDesks(
  count: number,
  wanted: (call: EmulatorCall) => boolean,
  options: Omit<portal.HarnessOptions, 'emulator'> & { delayMs?: number; gate?: RoundGate } = {},
): { harness(): portal.Harness; calls: EmulatorCall[] } {
  const calls: EmulatorCall[] = [];
  let h: portal.Harness | undefined;
  const { delayMs, gate, ...harnessOptions } = options;
  const faults: FaultRule[] = [];
  if (gate)
    faults.push({
      method: 'GET',
      pathPrefix: '/rest/servicedeskapi/servicedesk/',
      onArrival: (req: IncomingMessage) =>
        DESK_CUSTOMERS.test(new URL(req.url ?? '/', 'http://emulator').pathname)
          ? gate.arrive()
          : Promise.resolve(),
    });
  if (delayMs) faults.push({ pathPrefix: '/rest/servicedeskapi/servicedesk/', delayMs });
  portal.useHarness(
    (started) => {
      h = started;
      seedDesks(started, count);
    },
    {
      ...harnessOptions,
      emulator: {
        faults,
        onCall: (call) => {
          if (wanted(call)) calls.push(call);
        },
      },
    },
  );
  return { harness: () => h!, calls };
}

/** Measured without the tenant's rate limit (100 calls a second), which would split a round at its window. */
const UNLIMITED = { transport: { limits: { perSecond: 1_000 } }, delayMs: 15 };
const deskSearch = (call: EmulatorCall) => call.method === 'GET' && DESK_CUSTOMERS.test(call.path);

for (const desks of [1, 10, 100]) {
  describe(`portal sign-in on a help center of ${desks} desk(s) (ADR 0265)`, () => {
    // Nobody joins a desk at sign-in: the desks Atlassian has decide.
    const gate = new RoundGate(desks, 5);
    const { harness, calls } = useDesks(desks, deskSearch, {
      transport: UNLIMITED.transport,
      gate,
      atlassian: { provisioningRules: [], organizationMappings: [] },
    });
    beforeEach(() => gate.reset());

    it('asks each desk once, a few at a time, for a customer in no desk', async () => {
      calls.length = 0;
      await portal.signIn(harness(), `newcomer-${desks}@acme.test`);
      expect(calls.length, 'each desk asked once').to.equal(desks);
      expect(gate.rounds, 'rounds of desk searches').to.equal(Math.ceil(desks / 5));
    });

    it('finds a customer of the last desk alone in as many rounds', async () => {
      calls.length = 0;
      await portal.signIn(harness(), 'erik@acme.test');
      expect(calls.length, 'each desk asked once').to.equal(desks);
      expect(gate.rounds, 'rounds of desk searches').to.equal(Math.ceil(desks / 5));
    });
  });
}

describe('portal sign-in: a newcomer joins every desk of 100, ten at a time (ADR 0265)', () => {
  const { harness, calls: joins } = useDesks(
    100,
    (call) => call.method === 'POST' && DESK_CUSTOMERS.test(call.path),
    UNLIMITED,
  );

  it('adds her to each desk once, ten at a time, not one after another', async () => {
    await portal.signIn(harness(), 'joiner@acme.test');
    expect(joins.length, 'each desk joined once').to.equal(100);
    expect(mostAtOnce(joins), 'joins under way at once').to.be.at.most(10);
    // Ten rounds of ten when each takes as long; a few more when answers come unevenly (one after another: 100).
    expect(sequentialRounds(joins), 'rounds of joins').to.be.at.most(20);
  });
});

describe('portal sign-in on a help center of 300 desks, at the tenant’s rate limit (ADR 0265)', () => {
  // The default bulkhead: 16 calls under way, 100 a second, 2 s at most to wait for a slot.
  const { harness, calls: deskCalls } = useDesks(
    300,
    (call) => /^\/rest\/servicedeskapi\/servicedesk\/[0-9]+\//.test(call.path),
    { atlassian: { provisioningRules: [] } },
  );

  it('signs in a member of an organization, asking ten desks at once at most', async () => {
    deskCalls.length = 0;
    // Alice reaches no desk as its customer; whether her organization is on one is read desk by desk.
    const res = await portal.attemptSignIn(harness(), 'alice@acme.test');
    expect(res.status, 'not 503 ATLASSIAN_BUSY').to.equal(303);
    expect(mostAtOnce(deskCalls)).to.be.at.most(10);
  });
});

describe('portal sign-in: who the desks find, asked a few at a time (ADR 0265)', () => {
  const email = 'twin@acme.test';
  const user = (n: number): UserDTO => ({
    accountId: accountIdFor('customer', `${n}-${email}`),
    emailAddress: email,
    displayName: `Twin ${n}`,
  });
  /** A resolver whose desks answer (or fail) as `desks` says, after `delay` ms each; the user search finds `searched`. */
  function resolverOver(
    desks: Record<string, { users?: UserDTO[]; fails?: boolean; delayMs?: number }>,
    searched: UserDTO[] = [],
  ) {
    const asked: string[] = [];
    const client = {
      deskCustomers: async (deskId: string) => {
        asked.push(deskId);
        const desk = desks[deskId]!;
        await new Promise((resolve) => setTimeout(resolve, desk.delayMs ?? 0));
        if (desk.fails) throw new Error(`desk ${deskId} failed`);
        return desk.users ?? [];
      },
      userSearch: async () => searched,
    } as unknown as AtlassianClient;
    const resolver = new CustomerResolver(
      client,
      {} as never,
      {} as never,
      {} as never,
      () => {},
      {} as never,
    );
    return { resolver, asked };
  }

  it('chooses the first desk’s customer in the desks’ order, not the first to answer', async () => {
    const { resolver } = resolverOver({
      '1': {},
      '2': { users: [user(2)], delayMs: 30 },
      '3': { users: [user(3)] },
    });
    expect(await resolver.accountIdOf(email, ['1', '2', '3'])).to.equal(user(2).accountId);
  });

  it('lets a desk after the one that found the customer fail, as it would not have been asked', async () => {
    const { resolver } = resolverOver({ '1': { users: [user(1)], delayMs: 20 }, '2': { fails: true } });
    expect(await resolver.accountIdOf(email, ['1', '2'])).to.equal(user(1).accountId);
  });

  it('fails when a desk before the one that found the customer failed', async () => {
    const { resolver } = resolverOver({ '1': { fails: true, delayMs: 20 }, '2': { users: [user(2)] } });
    let thrown: unknown;
    await resolver.accountIdOf(email, ['1', '2']).catch((err: unknown) => {
      thrown = err;
    });
    expect(String(thrown)).to.include('desk 1 failed');
  });

  it('asks the next round only when a round found nobody, then the user search', async () => {
    const desks = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [String(i + 1), {}]));
    desks['7'] = { users: [user(7)] };
    const found = resolverOver(desks);
    expect(await found.resolver.accountIdOf(email, Object.keys(desks))).to.equal(user(7).accountId);
    expect(found.asked, 'two rounds of five').to.have.length(10);
    delete desks['7'];
    desks['12'] = {};
    const searched = resolverOver(desks, [user(99)]);
    expect(await searched.resolver.accountIdOf(email, Object.keys(desks))).to.equal(user(99).accountId);
  });
});

describe('portal sign-in: a desk’s customer past the first page its search by his e-mail answers (ADR 0266)', () => {
  let h: portal.Harness;
  // Nobody joins a desk at sign-in, and Erik is in no organization: desk 1 is his as its customer alone.
  portal.useHarness(
    (started) => {
      h = started;
    },
    { atlassian: { provisioningRules: [], organizationMappings: [] } },
  );
  /** `count` customers whose e-mail holds `erik@acme.test` (`anna0.erik@acme.test`): the search by his finds them too. */
  const namesakes = (count: number) =>
    Array.from({ length: count }, (_, i) =>
      portal.addCustomer(h, `anna${i}.erik@acme.test`, `Anna Erik ${i}`),
    );

  it('lets him use the desk when more than a page of its customers hold his e-mail', async () => {
    const desk = h.emulator.state.serviceDesks.get('1')!;
    const kept = desk.customerIds;
    desk.customerIds = [...namesakes(50), ...kept];
    try {
      const erik = await portal.signIn(h, 'erik@acme.test');
      expect((await erik.fetch('/desk/1')).status).to.equal(200);
    } finally {
      desk.customerIds = kept;
    }
  });
});

describe('portal sign-in: a desk of more than 10,000 organizations (ADR 0277)', () => {
  let h: portal.Harness;
  // Nobody joins a desk at sign-in: Alice, in Acme Corp, is no customer of desk 1, only a member of one
  // of its organizations. Desk access is judged again on each page (no cache).
  portal.useHarness(
    (started) => {
      h = started;
    },
    { atlassian: { provisioningRules: [], organizationMappings: [] }, catalogueTtlMs: 0 },
  );
  /** Runs `then` with `count` organizations listed on desk 1 before Alice's. */
  const withOthersFirst = async <T>(count: number, then: () => Promise<T>): Promise<T> => {
    const { state } = h.emulator;
    const desk = state.serviceDesks.get('1')!;
    const kept = desk.organizationIds;
    let nextId = Math.max(...[...state.organizations.keys()].map(Number)) + 1;
    const others = Array.from({ length: count }, (_, i) => {
      const id = String(nextId++);
      state.organizations.set(id, { id, name: `Client ${i}`, created: Date.now(), memberIds: [] });
      return id;
    });
    desk.organizationIds = [...others, ...kept];
    try {
      return await then();
    } finally {
      desk.organizationIds = kept;
    }
  };
  /** Alice's answer at sign-in. */
  const aliceSignsIn = () =>
    portal.signIn(h, 'alice@acme.test').then(
      async (alice) => `signed in, desk 1: ${(await alice.fetch('/desk/1')).status}`,
      (err: Error) => err.message,
    );

  it('gives a member of its 10,000th organization the desk', async () => {
    expect(await withOthersFirst(9_999, aliceSignsIn)).to.equal('signed in, desk 1: 200');
  });

  it('refuses the sign-in of a member of its 10,001st organization rather than leave the desk out unsaid', async () => {
    const from = h.logs.length;
    expect(await withOthersFirst(10_000, aliceSignsIn))
      .to.include('failed: 502')
      .and.include('more participants, approvals, steps or organizations');
    expect(h.logs.slice(from).map((l) => l['reason'])).to.include('ATLASSIAN_LIST_TOO_LONG');
  });

  it('uses no desk for her page, and says why, when the desk comes to list hers past the 10,000th', async () => {
    const alice = await portal.signIn(h, 'alice@acme.test');
    expect((await alice.fetch('/desk/1')).status).to.equal(200);
    const from = h.logs.length;
    expect(await withOthersFirst(10_000, async () => (await alice.fetch('/desk/1')).status)).to.equal(404);
    const unavailable = h.logs.slice(from).filter((l) => l['event'] === 'portal.desks_unavailable');
    expect(unavailable.map((l) => l['reason'])).to.include('ATLASSIAN_LIST_TOO_LONG');
  });

  it('gives its own customer in an organization it lacks the desk on every page, its list past 10,000 or not', async () => {
    // Erik is a customer of desk 1 himself; his organization is on no desk. The desk's organizations
    // cannot tell whether it has his, but his being its customer answers without them.
    const { state } = h.emulator;
    const guild = String(Math.max(...[...state.organizations.keys()].map(Number)) + 1);
    state.organizations.set(guild, {
      id: guild,
      name: 'Engineering Guild',
      created: Date.now(),
      memberIds: [state.userByEmail('erik@acme.test')!.accountId],
    });
    try {
      const erik = await portal.signIn(h, 'erik@acme.test');
      const from = h.logs.length;
      expect(await withOthersFirst(10_000, async () => (await erik.fetch('/desk/1')).status)).to.equal(200);
      expect(h.logs.slice(from).filter((l) => l['event'] === 'portal.desks_unavailable')).to.deep.equal([]);
    } finally {
      state.organizations.delete(guild);
    }
  });
});

describe('portal sign-in: an account past the first page of the user search by its e-mail (ADR 0277)', () => {
  let h: portal.Harness;
  // Nobody joins a desk at sign-in: the account found is used as it is.
  portal.useHarness(
    (started) => {
      h = started;
    },
    { atlassian: { provisioningRules: [], organizationMappings: [] } },
  );
  /**
   * Mia's account, in no desk of the portal, after `count` accounts the user search by her e-mail
   * finds first: each calls itself by her address (a name is the account holder's to choose, and the
   * search matches a name's prefix).
   */
  const seed = (count: number) => {
    for (let i = 0; i < count; i++) portal.addCustomer(h, `namesake${i}@elsewhere.test`, 'mia@acme.test');
    return portal.addCustomer(h, 'mia@acme.test', 'Mia Hansen');
  };

  it('signs her in as her account when 50 others come first', async () => {
    const mia = seed(50);
    const res = await portal.attemptSignIn(h, 'mia@acme.test');
    expect(res.status, 'not refused').to.equal(303);
    const accounts = [...h.emulator.state.users.values()].filter((u) => u.email === 'mia@acme.test');
    expect(
      accounts.map((u) => u.accountId),
      'no second account',
    ).to.deep.equal([mia]);
  });
});
