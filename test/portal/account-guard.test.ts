import { expect } from 'chai';
import { createLogger } from '../../common/log.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AccountGuard, AccountRefusedError } from '../../portal/account-guard.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import { cookiePolicy } from '../../portal/cookies.js';
import {
  attemptSignIn,
  csrfOf,
  type Harness,
  reasons,
  refusalCount,
  signIn,
  startHarness,
  useHarness,
} from '../../testkit/portal-harness.js';

const changes = (h: Harness, from: number) =>
  h.exchanges.slice(from).filter((e) => e.method !== 'GET' && e.path !== '/rest/api/3/search/jql');

/** A guard that lets licensed users in, talking to the harness's emulator as the service account. */
function guardAt(h: Harness, serviceAccountEmail: string) {
  const client = new AtlassianClient({
    siteUrl: h.emulator.url,
    ...SERVICE_ACCOUNT,
  });
  const logger = createLogger({ component: 'portal', level: 'silent' });
  return {
    client,
    guard: new AccountGuard(client, { serviceAccountEmail, allowLicensedUsers: true, logger, ttlMs: 0 }),
  };
}

describe('portal: accounts it must never become', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('refuses the service account’s own e-mail before asking Atlassian anything', async () => {
    const from = h.logs.length;
    const calls = h.exchanges.length;
    const res = await attemptSignIn(h, 'portal-bot@acme.test');
    const lookups = h.exchanges.slice(calls).filter((e) => /customer|\/user/.test(e.path));
    expect(res.status).to.equal(403);
    expect(await res.text()).to.include('own service account, which cannot sign in here');
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${cookiePolicy(h.url).session}=`))).to.equal(
      false,
    );
    expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_SERVICE');
    expect(h.logs.slice(from).some((l) => l['event'] === 'portal.account_refused')).to.equal(true);
    expect(lookups, 'no user or customer lookup').to.deep.equal([]);
    expect(await refusalCount(h, 'PORTAL_ACCOUNT_SERVICE')).to.be.at.least(1);
  });

  it('refuses the service account also in another spelling of its e-mail', async () => {
    const res = await attemptSignIn(h, 'Portal-Bot@ACME.test');
    expect(res.status).to.equal(403);
  });

  it('refuses an agent (accountType atlassian, from Atlassian’s answer) and changes nothing for them', async () => {
    const from = h.logs.length;
    const calls = h.exchanges.length;
    const res = await attemptSignIn(h, 'ian.it@acme.test');
    expect(res.status).to.equal(403);
    expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_LICENSED');
    const audit = h.logs.slice(from).find((l) => l['event'] === 'portal.account_refused')!;
    const ian = [...h.emulator.state.users.values()].find((u) => u.email === 'ian.it@acme.test')!;
    expect(audit['accountId']).to.equal(ian.accountId);
    expect(JSON.stringify(h.logs.slice(from))).to.not.include('ian.it@acme.test');
    expect(changes(h, calls), 'no desk, organization or customer change').to.deep.equal([]);
    expect(await refusalCount(h, 'PORTAL_ACCOUNT_LICENSED')).to.be.at.least(1);
  });

  it('still signs a customer in (accountType customer, asked of Atlassian when the desk search omits it)', async () => {
    await signIn(h, 'alice@acme.test'); // first sign-in: found by user search, added to the desks
    const calls = h.exchanges.length;
    const alice = await signIn(h, 'alice@acme.test'); // now found as a desk customer
    expect((await alice.text('/')).status).to.equal(200);
    const paths = h.exchanges.slice(calls).map((e) => e.path);
    expect(paths.some((p) => p.startsWith('/rest/api/3/user?accountId='))).to.equal(true);
  });

  it('refuses the service account by its accountId (GET /myself), whatever e-mail it is reached by', async () => {
    const { client, guard } = guardAt(h, 'another-alias@acme.test');
    const me = await client.myself();
    const refused = await guard.check({ accountId: me.accountId }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(AccountRefusedError);
    expect((refused as AccountRefusedError).code).to.equal('PORTAL_ACCOUNT_SERVICE');
  });

  it('refuses system and app accounts (accountType app) even with licensed users allowed', async () => {
    const { guard } = guardAt(h, 'portal-bot@acme.test');
    const err = await guard.check({ accountId: 'app:1', accountType: 'app' }).catch((e: unknown) => e);
    expect((err as AccountRefusedError).code).to.equal('PORTAL_ACCOUNT_TYPE');
  });
});

describe('portal: a tenant that lets licensed users in', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ portal: { access: { mode: 'jira', allowLicensedUsers: true } } });
  });
  after(() => h.close());

  it('signs an agent in when spec.portal.access.allowLicensedUsers is true', async () => {
    const ian = await signIn(h, 'ian.it@acme.test');
    expect((await ian.text('/profile')).status).to.equal(200);
  });

  it('still refuses the service account', async () => {
    expect((await attemptSignIn(h, 'portal-bot@acme.test')).status).to.equal(403);
  });
});

// An admin revokes a customer's portal access in Atlassian ("Revoke access": "the customer will be
// unable to access the instance's customer portal anymore"), or deactivates a managed account: the
// account stays, `active: false`. The portal's service account still reads everything for them.
describe('portal: an account Atlassian has deactivated', () => {
  let h: Harness;
  const userOf = (email: string) => [...h.emulator.state.users.values()].find((u) => u.email === email)!;
  const requestOf = (summary: string) =>
    [...h.emulator.state.requests.values()].find((r) => r.fieldValues['summary'] === summary)!;
  useHarness(
    (started) => {
      h = started;
    },
    // Nothing read from Atlassian is kept: the deactivation counts at the next page.
    { catalogueTtlMs: 0 },
  );
  afterEach(() => {
    for (const u of h.emulator.state.users.values()) u.active = true;
  });

  it('is refused at sign-in (PORTAL_ACCOUNT_INACTIVE) and nothing is changed for it', async () => {
    userOf('bob@acme.test').active = false;
    const from = h.logs.length;
    const calls = h.exchanges.length;
    const res = await attemptSignIn(h, 'bob@acme.test');
    expect(res.status).to.equal(403);
    expect(await res.text()).to.include('no longer has access to this help center');
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${cookiePolicy(h.url).session}=`))).to.equal(
      false,
    );
    expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_INACTIVE');
    const audit = h.logs.slice(from).find((l) => l['event'] === 'portal.account_refused')!;
    expect(audit['accountId']).to.equal(userOf('bob@acme.test').accountId);
    expect(changes(h, calls), 'no desk, organization or customer change').to.deep.equal([]);
  });

  it('ends a live session at its next page: no request read, nothing written', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const laptop = requestOf('Laptop screen flickers');
    expect((await alice.text(`/requests/${laptop.key}`)).status).to.equal(200);
    const csrf = csrfOf((await alice.text('/profile')).body);
    userOf('alice@acme.test').active = false;

    const from = h.logs.length;
    const page = await alice.text(`/requests/${laptop.key}`);
    expect(page.status).to.equal(403);
    expect(page.body).to.not.include('Laptop screen flickers');
    expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_INACTIVE');
    // The session is gone, not only this page refused: even reactivated, she must sign in again.
    userOf('alice@acme.test').active = true;
    const after = await alice.fetch('/requests');
    expect(after.status, 'signed out').to.equal(303);
    expect(after.headers.get('location')).to.match(/\/login\?/);
    const comments = laptop.comments.length;
    const posted = await alice.post(`/requests/${laptop.key}/comment`, { body: 'still here?', _csrf: csrf });
    expect(posted.status, 'a form sent after the session ended').to.equal(401);
    expect(requestOf('Laptop screen flickers').comments).to.have.length(comments);
  });

  it('ends a live session of an account Atlassian no longer knows (deleted)', async () => {
    const mia = await signIn(h, 'mia.manager@acme.test');
    expect((await mia.text('/requests')).status).to.equal(200);
    const user = userOf('mia.manager@acme.test');
    h.emulator.state.users.delete(user.accountId);
    try {
      const from = h.logs.length;
      expect((await mia.text('/requests')).status).to.equal(403);
      expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_INACTIVE');
    } finally {
      h.emulator.state.users.set(user.accountId, user);
    }
    expect((await mia.fetch('/requests')).status, 'signed out').to.equal(303);
  });

  it('ends a live session of an account that became an agent’s (licensed), as its sign-in would be', async () => {
    const erik = await signIn(h, 'erik@acme.test');
    const user = userOf('erik@acme.test');
    user.kind = 'agent';
    try {
      const from = h.logs.length;
      expect((await erik.text('/requests')).status).to.equal(403);
      expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_LICENSED');
    } finally {
      user.kind = 'customer';
    }
  });

  it('is neither offered nor taken as a colleague to raise for or share with', async () => {
    // Atlassian's own pickers leave a deactivated account out ("won't be searchable and selectable
    // in the user-picker fields"); Bob is still a member of Alice's organization.
    const bob = userOf('bob@acme.test');
    bob.active = false;
    const alice = await signIn(h, 'alice@acme.test');
    const typeId = [...h.emulator.state.requestTypes.values()].find((t) => t.name === 'Get IT help')!.id;
    const form = await alice.text(`/desk/1/create/${typeId}`);
    expect(form.body).to.include(`value="${userOf('mia.manager@acme.test').accountId}"`);
    expect(form.body, 'the raise form').to.not.include(bob.accountId);
    const requestsBefore = h.emulator.state.requests.size;
    const raise = new FormData();
    raise.append('_csrf', csrfOf(form.body));
    raise.append('f_summary', 'raised for a deactivated colleague');
    raise.append('onBehalfOf', bob.accountId);
    const from = h.logs.length;
    const raised = await alice.fetch(`/desk/1/create/${typeId}`, {
      method: 'POST',
      body: raise,
      headers: { origin: h.url },
    });
    expect(raised.status).to.equal(400);
    expect(reasons(h, from)).to.include('PORTAL_COLLEAGUE_INVALID');
    expect(h.emulator.state.requests.size, 'requests raised').to.equal(requestsBefore);

    const printer = requestOf('Printer on 3rd floor jams every morning');
    const page = await alice.text(`/requests/${printer.key}`);
    expect(page.body, 'the request page').to.not.include(bob.accountId);
    const shared = await alice.post(`/requests/${printer.key}/participants/add`, {
      accountId: bob.accountId,
      _csrf: csrfOf(page.body),
    });
    expect(shared.status).to.equal(400);
    expect(reasons(h, from)).to.include('PORTAL_ACTION_INVALID');
    expect(requestOf('Printer on 3rd floor jams every morning').participantIds).to.not.include(bob.accountId);
  });

  it('goes on with the session when Atlassian cannot say, and logs it', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    h.emulator.faults.set({ status: 401, pathPrefix: '/rest/api/3/user', times: 1 });
    try {
      const from = h.logs.length;
      expect((await alice.text('/requests')).status).to.equal(200);
      const unchecked = h.logs.slice(from).find((l) => l['event'] === 'portal.account_unchecked');
      expect(unchecked?.['reason']).to.be.a('string');
    } finally {
      h.emulator.faults.clear();
    }
  });
});

describe('portal: whether an account is still active, at what cost', () => {
  let h: Harness;
  useHarness((started) => {
    h = started;
  });

  it('asks Atlassian once per cache lifetime (primed at sign-in), not once per page', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const calls = h.exchanges.length;
    for (const path of ['/', '/requests', '/profile']) expect((await alice.text(path)).status).to.equal(200);
    const lookups = h.exchanges.slice(calls).filter((e) => e.path.startsWith('/rest/api/3/user?'));
    expect(lookups, 'user lookups after sign-in').to.deep.equal([]);
  });
});
