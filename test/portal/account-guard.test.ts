import { expect } from 'chai';
import { createLogger } from '../../common/log.js';
import { AccountGuard, AccountRefusedError } from '../../portal/account-guard.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import {
  attemptSignIn,
  type Harness,
  reasons,
  refusalCount,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

const changes = (h: Harness, from: number) =>
  h.exchanges.slice(from).filter((e) => e.method !== 'GET' && e.path !== '/rest/api/3/search/jql');

/** A guard that lets licensed users in, talking to the harness's emulator as the service account. */
function guardAt(h: Harness, serviceAccountEmail: string) {
  const client = new AtlassianClient({
    siteUrl: h.emulator.url,
    email: 'portal-bot@acme.test',
    apiToken: 'dev-api-token',
  });
  const logger = createLogger({ component: 'portal', level: 'silent' });
  return {
    client,
    guard: new AccountGuard(client, { serviceAccountEmail, allowLicensedUsers: true, logger }),
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
    expect(res.headers.getSetCookie().some((c) => c.startsWith('jsmsso_session='))).to.equal(false);
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
