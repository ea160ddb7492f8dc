// The tenant admins' activity page: names asked of Atlassian for each view and never kept, a
// filter, and ending every portal session of one customer (server-side, CSRF-protected, audited by
// accountId only).
import { expect } from 'chai';
import { accountIdFor } from '../../dev/jsm-emulator/state.js';
import { ActivityLog } from '../../portal/activity.js';
import {
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';
import { connectedFlowStore } from '../../testkit/redis.js';

describe('portal: activity page for admins', () => {
  let h: Harness;
  let admin: Browser;
  let log: ActivityLog;
  const accountOf = (email: string) =>
    [...h.emulator.state.users.values()].find((u) => u.email === email)!.accountId;
  const bulkLookups = (from: number) =>
    h.exchanges.slice(from).filter((e) => e.path.startsWith('/rest/api/3/user/bulk'));

  before(async () => {
    const store = await connectedFlowStore(`test-activity-${Date.now()}`);
    log = new ActivityLog(store);
    h = await startHarness({ store });
    await signIn(h, 'bob@acme.test');
    admin = await signIn(h, 'alice@acme.test', { groups: ['portal-admins'] });
  });
  after(async () => {
    await h.close();
  });

  it('shows display names fetched from Atlassian for each view, and keeps only accountId, IP and time', async () => {
    const from = h.exchanges.length;
    const page = await admin.text('/activity');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('Alice Anders').and.include('Bob').and.include(accountOf('bob@acme.test'));
    expect(page.body).to.not.include('@acme.test');
    await admin.text('/activity');
    // Never cached: each view asks Atlassian again, one bulk lookup for the page's accounts.
    const lookups = bulkLookups(from);
    expect(lookups).to.have.length(2);
    expect(new URL(`http://x${lookups[0]!.path}`).searchParams.getAll('accountId')).to.have.members([
      accountOf('alice@acme.test'),
      accountOf('bob@acme.test'),
    ]);
    for (const entry of await log.list())
      expect(Object.keys(entry).sort()).to.deep.equal(['accountId', 'ip', 'lastLoginAt']);
  });

  it('filters by name (through Atlassian), by accountId or IP, and by sign-in time', async () => {
    const bob = accountOf('bob@acme.test');
    const alice = accountOf('alice@acme.test');
    const rows = (body: string) => [...body.matchAll(/name="accountId" value="([^"]+)"/g)].map((m) => m[1]);
    expect(rows((await admin.text('/activity?q=Bob')).body)).to.deep.equal([bob]);
    expect(
      rows((await admin.text(`/activity?q=${encodeURIComponent(alice.slice(-10))}`)).body),
    ).to.deep.equal([alice]);
    expect(rows((await admin.text('/activity?q=127.0.0')).body)).to.have.members([alice, bob]);
    expect(rows((await admin.text('/activity?q=nobody-matches-this')).body)).to.deep.equal([]);
    // Someone who last signed in ten days ago is in the 30 days, not in the last 7.
    await log.record({
      accountId: 'qm:old-visitor',
      ip: '10.9.8.7',
      lastLoginAt: new Date(Date.now() - 10 * 86_400_000).toISOString(),
    });
    expect(rows((await admin.text('/activity')).body)).to.include('qm:old-visitor');
    expect(rows((await admin.text('/activity?since=week')).body)).to.have.members([alice, bob]);
    expect(rows((await admin.text('/activity?since=day&q=10.9')).body)).to.deep.equal([]);
    // An unknown period or page is "everything", not an error.
    expect((await admin.text('/activity?since=forever&page=-3')).status).to.equal(200);
  });

  it('forgets a customer whose last sign-in is older than the 30 days, though others sign in since: not shown, and gone from the store at the next sign-in', async () => {
    const rows = async () =>
      [...(await admin.text('/activity')).body.matchAll(/name="accountId" value="([^"]+)"/g)].map(
        (m) => m[1],
      );
    await log.record({
      accountId: 'qm:long-gone',
      ip: '10.31.0.1',
      lastLoginAt: new Date(Date.now() - 31 * 86_400_000).toISOString(),
    });
    expect(await rows(), 'shown past its 30 days').to.not.include('qm:long-gone');
    await signIn(h, 'bob@acme.test');
    expect(await rows())
      .to.include(accountOf('bob@acme.test'))
      .and.not.include('qm:long-gone');
    expect((await h.storedValues()).join('\n'), 'her address kept past its 30 days').to.not.include(
      '10.31.0.1',
    );
  });

  it('pages through more sign-ins than fit one page, looking up names for the shown page only', async () => {
    for (let i = 0; i < 55; i++)
      await log.record({
        accountId: `qm:visitor-${i}`,
        ip: '10.0.0.1',
        lastLoginAt: new Date().toISOString(),
      });
    const first = await admin.text('/activity?q=qm:visitor');
    expect(first.body).to.include('55 people').and.include('Page 1 of 2');
    const next = /href="([^"]+)">Next page/
      .exec(first.body)![1]!
      .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
      .replace(/&amp;/g, '&');
    expect(next).to.equal('/activity?q=qm%3Avisitor&page=2');
    const from = h.exchanges.length;
    const second = await admin.text(next);
    expect(second.body).to.include('Previous page').and.not.include('Next page');
    expect([...second.body.matchAll(/name="accountId"/g)]).to.have.length(5);
    const lookup = bulkLookups(from)[0]!;
    expect(new URL(`http://x${lookup.path}`).searchParams.getAll('accountId')).to.have.length(5);
  });

  it('shows accountIds when Atlassian cannot give names, and says so', async () => {
    h.emulator.faults.set({ status: 401, pathPrefix: '/rest/api/3/user/bulk', times: 1 });
    const page = await admin.text('/activity?q=127.0.0');
    h.emulator.faults.clear();
    expect(page.status).to.equal(200);
    expect(page.body)
      .to.include('Names cannot be fetched from Atlassian right now')
      .and.include(accountOf('bob@acme.test'));
    expect(page.body).to.not.include('Bob Brown');
  });

  it('ends every portal session of a customer: the revoked cookie no longer works, a new sign-in does', async () => {
    const bobId = accountOf('bob@acme.test');
    const phone = await signIn(h, 'bob@acme.test');
    const laptop = await signIn(h, 'bob@acme.test');
    const dana = await signIn(h, 'dana@globex.test');
    expect((await phone.fetch('/requests')).status).to.equal(200);
    const token = csrfOf((await admin.text('/activity')).body);
    const logsFrom = h.logs.length;

    const res = await admin.post('/activity/revoke', { _csrf: token, accountId: bobId });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal(`/activity?revoked=${encodeURIComponent(bobId)}`);
    for (const b of [phone, laptop]) {
      const after = await b.fetch('/requests');
      expect(after.status).to.equal(303);
      expect(after.headers.get('location')).to.match(/^\/login\?return=/);
    }
    // Nobody else is signed out, the admin neither.
    expect((await dana.fetch('/requests')).status).to.equal(200);
    expect((await admin.fetch('/activity')).status).to.equal(200);
    // The confirmation names the person, and only a real revocation shows it.
    const confirmation = (await admin.text(res.headers.get('location')!)).body;
    expect(confirmation).to.include('Every portal session of Bob');
    expect(
      (await admin.text(`/activity?revoked=${encodeURIComponent(accountOf('alice@acme.test'))}`)).body,
    ).to.not.include('Every portal session of');
    // The audit line names both people by accountId, nothing else.
    const audit = h.logs.slice(logsFrom).filter((l) => l['event'] === 'portal.audit');
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({
      action: 'sessions_revoked',
      accountId: bobId,
      by: accountOf('alice@acme.test'),
    });
    expect(JSON.stringify(audit[0])).to.not.match(/@|Bob|Alice/);
    // Signing in again after the revocation works.
    const again = await signIn(h, 'bob@acme.test');
    expect((await again.fetch('/requests')).status).to.equal(200);
  });

  it('refuses a revocation without the CSRF token, from another origin, or from a non-admin', async () => {
    const bobId = accountOf('bob@acme.test');
    const bob = await signIn(h, 'bob@acme.test');
    const token = csrfOf((await admin.text('/activity')).body);
    const from = h.logs.length;
    expect((await admin.post('/activity/revoke', { accountId: bobId })).status).to.equal(403);
    expect(
      (await admin.post('/activity/revoke', { _csrf: 'x'.repeat(43), accountId: bobId })).status,
    ).to.equal(403);
    expect(
      (
        await admin.post(
          '/activity/revoke',
          { _csrf: token, accountId: bobId },
          { origin: 'https://evil.test' },
        )
      ).status,
    ).to.equal(403);
    const bobToken = csrfOf((await bob.text('/profile')).body);
    expect(
      (await bob.post('/activity/revoke', { _csrf: bobToken, accountId: accountOf('alice@acme.test') }))
        .status,
    ).to.equal(404);
    expect(
      (await admin.post('/activity/revoke', { _csrf: token, accountId: 'a b<script>' })).status,
    ).to.equal(400);
    expect(reasons(h, from)).to.deep.equal([
      'PORTAL_CSRF',
      'PORTAL_CSRF',
      'PORTAL_CSRF',
      'PORTAL_NOT_ADMIN',
      'PORTAL_ACTION_INVALID',
    ]);
    // None of these ended anything.
    expect((await bob.fetch('/requests')).status).to.equal(200);
    expect((await admin.fetch('/activity')).status).to.equal(200);
    expect(h.logs.slice(from).filter((l) => l['event'] === 'portal.audit')).to.deep.equal([]);
  });

  it('filters by a name the user search finds past its first page (ADR 0277)', async () => {
    const { users } = h.emulator.state;
    // Fifty accounts the search by "zoe" finds before hers, which the sign-in creates last.
    for (let i = 0; i < 50; i++) {
      const email = `zoe${i}@elsewhere.test`;
      const accountId = accountIdFor('customer', email);
      users.set(accountId, {
        accountId,
        kind: 'customer',
        email,
        displayName: `Zoe ${i}`,
        active: true,
        timeZone: 'UTC',
      });
    }
    await signIn(h, 'zoe@acme.test');
    const rows = [
      ...(await admin.text('/activity?q=zoe')).body.matchAll(/name="accountId" value="([^"]+)"/g),
    ];
    expect(rows.map((m) => m[1])).to.deep.equal([accountOf('zoe@acme.test')]);
  });
});
