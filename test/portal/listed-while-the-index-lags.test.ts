// A customer shares her request with a colleague (adds him, or adds their organization) or stops sharing
// it, while Jira's search index still has the request as it was (the emulator's index held: ADR 0194).
// The colleague's page for it opened at once (ADR 0381), but his My requests, a search with no key to
// fetch by, reconciled only what his own session wrote: it did not list a request just shared with him,
// and still listed one just unshared, until the index caught up. The portal now remembers, for the
// person or organization a share changed, the request it changed (`portal:shared-with:*`, ADR 0419),
// and his list reconciles it. Reconciling selects nothing: the list's JQL still decides.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  useHarness,
} from '../../testkit/portal-harness.js';
import { redisUrl } from '../../testkit/redis.js';

describe("portal: My requests of someone a request was just shared with, while Jira's search index lags", () => {
  let h: Harness;
  let alice: Browser;
  let bob: Browser;
  let erik: Browser;
  let dana: Browser;
  const redis = new Redis(redisUrl());
  useHarness(
    async (started) => {
      h = started;
      const signedIn: Browser[] = [];
      for (const email of ['alice@acme.test', 'bob@acme.test', 'erik@acme.test', 'dana@globex.test'])
        signedIn.push(await signIn(h, email));
      [alice, bob, erik, dana] = signedIn as [Browser, Browser, Browser, Browser];
    },
    { transport: { maxRetries: 0 } },
  );
  beforeEach(() => h.emulator.state.searchIndex.hold());
  afterEach(async () => {
    h.emulator.faults.clear();
    h.emulator.state.searchIndex.catchUp();
    // Each test starts with no share remembered: what one shared is not what the next one sees.
    const keys = await redis.keys(`${h.keyPrefix}portal:shared-with*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  after(() => redis.quit());

  const request = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  const accountOf = (email: string) => h.emulator.state.userByEmail(email)!.accountId;
  const acme = () => [...h.emulator.state.organizations.values()].find((o) => o.name === 'Acme Corp')!.id;

  /** Alice posts a share action on the request `summary` from its page; the answer. */
  const aliceShares = async (summary: string, action: string, field: string, value: string) => {
    const { key } = request(summary);
    const page = await alice.text(`/requests/${key}`);
    return alice.post(`/requests/${key}/${action}`, { [field]: value, _csrf: csrfOf(page.body) });
  };
  /** Whether `browser`'s My requests (every status, every request she may see) lists `summary`'s request. */
  const lists = async (browser: Browser, summary: string) => {
    const page = await browser.text('/requests?ownership=all&status=all');
    expect(page.status).to.equal(200);
    return page.body.includes(`href="/requests/${request(summary).key}"`);
  };

  it('lists a request to the participant just added, at once, and to nobody else it does not name', async () => {
    const summary = 'Laptop screen flickers';
    expect(await lists(bob, summary), 'not his before').to.equal(false);
    const added = await aliceShares(summary, 'participants/add', 'accountId', accountOf('bob@acme.test'));
    expect(added.status).to.equal(303);
    expect(h.emulator.state.searchIndex.seen.get(request(summary).id)!.participantIds).to.not.include(
      accountOf('bob@acme.test'),
    );
    expect(await lists(bob, summary), 'listed while the index lags').to.equal(true);
    expect(await lists(erik, summary), 'erik, not on it').to.equal(false);
  });

  it('no longer lists a request to the participant just taken off', async () => {
    const summary = 'Password expired while on holiday';
    h.emulator.state.searchIndex.catchUp();
    expect(
      (await aliceShares(summary, 'participants/add', 'accountId', accountOf('bob@acme.test'))).status,
    ).to.equal(303);
    h.emulator.state.searchIndex.catchUp();
    h.emulator.state.searchIndex.hold();
    expect(await lists(bob, summary), 'his, indexed').to.equal(true);
    const removed = await aliceShares(
      summary,
      'participants/remove',
      'accountId',
      accountOf('bob@acme.test'),
    );
    expect(removed.status).to.equal(303);
    expect(h.emulator.state.searchIndex.seen.get(request(summary).id)!.participantIds).to.include(
      accountOf('bob@acme.test'),
    );
    expect(await lists(bob, summary), 'no longer listed while the index lags').to.equal(false);
  });

  it('does not list a request shared and then unshared while the index lags', async () => {
    const summary = 'Second monitor for home office';
    const bobId = accountOf('bob@acme.test');
    expect((await aliceShares(summary, 'participants/add', 'accountId', bobId)).status).to.equal(303);
    expect((await aliceShares(summary, 'participants/remove', 'accountId', bobId)).status).to.equal(303);
    expect(await lists(bob, summary)).to.equal(false);
  });

  it('does not list a request whose share Atlassian refused (400); lists one whose share was made but its answer lost (500)', async () => {
    const summary = 'GitHub organisation access';
    const { key } = request(summary);
    const bobId = accountOf('bob@acme.test');
    /** Alice adds bob, Atlassian's answer to the add being `fault`'s; the portal's status. */
    const addedWith = async (fault: { status: number } | { statusAfterHandling: number }) => {
      h.emulator.faults.set({
        pathPrefix: `/rest/servicedeskapi/request/${key}/participant`,
        method: 'POST',
        times: 1,
        ...fault,
      });
      return (await aliceShares(summary, 'participants/add', 'accountId', bobId)).status;
    };
    expect(await addedWith({ status: 400 })).to.equal(400);
    expect(request(summary).participantIds).to.not.include(bobId);
    expect(await lists(bob, summary), 'refused: not his').to.equal(false);
    expect(await addedWith({ statusAfterHandling: 500 })).to.equal(502);
    expect(request(summary).participantIds, 'made at Atlassian').to.include(bobId);
    expect(await lists(bob, summary), 'made: his, though Alice was told it is unconfirmed').to.equal(true);
  });

  it('lists a request newly shared with an organization to its members, at once; not to others', async () => {
    const summary = 'Printer on 3rd floor jams every morning';
    expect(await lists(bob, summary), 'not his before').to.equal(false);
    expect((await aliceShares(summary, 'organizations/add', 'organizationId', acme())).status).to.equal(303);
    expect(h.emulator.state.searchIndex.seen.get(request(summary).id)!.organizationIds).to.not.include(
      acme(),
    );
    // Erik too (acme.test: the tenant's mapping puts him in Acme at sign-in).
    expect([await lists(bob, summary), await lists(erik, summary)], 'bob and erik, of Acme').to.deep.equal([
      true,
      true,
    ]);
    expect(await lists(dana, summary), 'dana, of Globex').to.equal(false);
  });

  it('no longer lists a request to the members of an organization it was just unshared with', async () => {
    const summary = 'Printer on 3rd floor jams every morning';
    h.emulator.state.searchIndex.catchUp();
    h.emulator.state.searchIndex.hold();
    expect(await lists(bob, summary), 'his through Acme, indexed').to.equal(true);
    expect((await aliceShares(summary, 'organizations/remove', 'organizationId', acme())).status).to.equal(
      303,
    );
    expect(await lists(bob, summary), 'no longer listed while the index lags').to.equal(false);
  });

  it('shares all the same when the store cannot keep the share, and lists without it: one warn line each', async () => {
    const summary = 'Laptop screen flickers';
    const bobId = accountOf('bob@acme.test');
    h.emulator.state.searchIndex.catchUp();
    expect((await aliceShares(summary, 'participants/add', 'accountId', bobId)).status).to.equal(303);
    h.emulator.state.searchIndex.catchUp();
    h.emulator.state.searchIndex.hold();
    // The fault is real Redis: the key Bob's shares are remembered under (written by the add) turns
    // into a list, so the portal's GET of it is refused (WRONGTYPE), at the share and at his list.
    const [bobsKey, ...more] = await redis.keys(`${h.keyPrefix}portal:shared-with:*`);
    expect(more, "only bob's").to.deep.equal([]);
    await redis.del(bobsKey!);
    await redis.lpush(bobsKey!, 'not a string');
    const logFrom = h.logs.length;
    const removed = await aliceShares(summary, 'participants/remove', 'accountId', bobId);
    expect(removed.status).to.equal(303);
    expect(request(summary).participantIds).to.not.include(bobId);
    const events = () => h.logs.slice(logFrom).map((l) => l['event']);
    expect(h.logs.slice(logFrom).find((l) => l['event'] === 'portal.recent_share_not_kept')).to.include({
      level: 'warn',
      reason: 'FLOW_STORE_REFUSED',
      redisError: 'WRONGTYPE',
    });
    // His list answers without the hint: listed as the index has it, the lag as before it.
    expect(await lists(bob, summary), 'listed as the index still has it').to.equal(true);
    expect(h.logs.slice(logFrom).find((l) => l['event'] === 'portal.recent_shares_unread')).to.include({
      level: 'warn',
      reason: 'FLOW_STORE_REFUSED',
      redisError: 'WRONGTYPE',
    });
    expect(reasons(h, logFrom)).to.not.include('PORTAL_INTERNAL');
    expect(events()).to.not.include('portal.unexpected_error');
    h.emulator.state.searchIndex.catchUp();
    expect(await lists(bob, summary), 'not listed once indexed').to.equal(false);
  });
});
