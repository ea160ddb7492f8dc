// Provisioning rules (spec.atlassian.provisioningRules): which desks a customer the portal creates
// joins, and the audit lines for customer creation and organization changes (accountIds only).
import { expect } from 'chai';
import { parseTenant } from '../../common/config/load.js';
import type { AtlassianSpec } from '../../common/config/tenant.generated.js';
import { tenantDocument } from '../../dev/start.js';
import { desksForNewCustomer } from '../../portal/identity.js';
import { csrfOf, type Harness, reasons, signIn, startHarness } from '../../testkit/portal-harness.js';

type Rules = NonNullable<AtlassianSpec['provisioningRules']>;
const DEV_PORTS = {
  emulator: 1,
  idp: 2,
  partnerIdp: 7,
  broker: 3,
  brokerManagement: 4,
  portal: 5,
  portalManagement: 6,
};
const devTenant = () => tenantDocument(DEV_PORTS, { withRedis: false, defaultSeed: true });

describe('portal provisioning rules', () => {
  const desks = ['1', '2', '3'];
  const person = (email: string, groups: string[] = []) => ({ email, groups });

  it('puts a new customer in every portal desk when there are no rules', () => {
    expect(desksForNewCustomer(undefined, person('a@acme.test'), desks)).to.deep.equal(desks);
  });

  it('joins the desks of every matching rule, by e-mail domain or IdP group', () => {
    const rules: Rules = [
      { emailDomain: 'acme.test', serviceDeskIds: ['1', '2'] },
      { idpGroup: 'facilities', serviceDeskIds: ['3'] },
    ];
    expect(desksForNewCustomer(rules, person('a@acme.test'), desks)).to.deep.equal(['1', '2']);
    expect(desksForNewCustomer(rules, person('a@acme.test', ['facilities']), desks)).to.deep.equal(desks);
    expect(desksForNewCustomer(rules, person('p@partner.test', ['facilities']), desks)).to.deep.equal(['3']);
  });

  it('needs every condition of a rule to match when it sets both', () => {
    const rules: Rules = [{ emailDomain: 'partner.test', idpGroup: 'contractors', serviceDeskIds: ['1'] }];
    expect(desksForNewCustomer(rules, person('p@partner.test'), desks)).to.deep.equal([]);
    expect(desksForNewCustomer(rules, person('a@acme.test', ['contractors']), desks)).to.deep.equal([]);
    expect(desksForNewCustomer(rules, person('p@partner.test', ['contractors']), desks)).to.deep.equal(['1']);
  });

  it('joins no desk when no rule matches, and never one the portal does not serve', () => {
    const rules: Rules = [{ emailDomain: 'acme.test', serviceDeskIds: ['1', '99'] }];
    expect(desksForNewCustomer(rules, person('x@elsewhere.test'), desks)).to.deep.equal([]);
    expect(desksForNewCustomer(rules, person('a@acme.test'), desks)).to.deep.equal(['1']);
    // A subdomain is another domain.
    expect(desksForNewCustomer(rules, person('a@mail.acme.test'), desks)).to.deep.equal([]);
  });

  it('refuses a rule with no condition in the CRD', () => {
    const doc = devTenant();
    doc.spec.atlassian.provisioningRules = [{ serviceDeskIds: ['1'] } as never];
    expect(() => parseTenant(JSON.stringify(doc))).to.throw(/emailDomain, idpGroup or both/);
  });
});

describe('portal provisioning with the dev stack’s rules', () => {
  let h: Harness;
  const rules = devTenant().spec.atlassian.provisioningRules;
  before(async () => {
    // The dev tenant is valid as written, and the harness runs its rules against the default seed.
    parseTenant(JSON.stringify(devTenant()));
    h = await startHarness({
      atlassian: {
        provisioningRules: rules,
        organizationMappings: [
          { organizationId: '1', emailDomain: 'acme.test' },
          { organizationId: '2', idpGroup: 'globex-partners' },
        ],
      },
    });
  });
  after(async () => {
    await h.close();
  });
  const desk = (name: string) =>
    [...h.emulator.state.serviceDesks.values()].find((d) => d.projectName === name)!;
  const audit = (from: number) => h.logs.slice(from).filter((l) => l['event'] === 'portal.audit');
  const orgChanges = (from: number) =>
    audit(from)
      .filter((l) => String(l['action']).startsWith('organization_'))
      .map(({ action, accountId, organizationId }) => ({ action, accountId, organizationId }));

  it('creates carol@partner.test as a customer of IT Help only, never HR, and audits it by accountId', async () => {
    const from = h.logs.length;
    await signIn(h, 'carol@partner.test');
    const carol = h.emulator.state.userByEmail('carol@partner.test')!;
    expect(carol, 'carol was created').to.not.equal(undefined);
    expect(desk('IT Help').customerIds).to.include(carol.accountId);
    expect(desk('HR').customerIds).to.not.include(carol.accountId);
    expect(
      audit(from).map(({ action, accountId, serviceDeskIds }) => ({ action, accountId, serviceDeskIds })),
    ).to.deep.equal([
      { action: 'customer_created', accountId: carol.accountId, serviceDeskIds: undefined },
      { action: 'desks_joined', accountId: carol.accountId, serviceDeskIds: [desk('IT Help').id] },
    ]);
    const written = JSON.stringify(h.logs.slice(from));
    expect(written).to.not.include('carol@').and.not.include('Carol');
  });

  it('shows her only the desk she may use: HR is neither listed nor reachable, and nothing is raised there', async () => {
    const carol = await signIn(h, 'carol@partner.test');
    const home = await carol.text('/');
    expect(home.body).to.include(`href="/desk/${desk('IT Help').id}"`);
    expect(home.body).to.not.include(`href="/desk/${desk('HR').id}"`);
    const hr = desk('HR');
    const type = [...h.emulator.state.requestTypes.values()].find((t) => t.serviceDeskId === hr.id)!;
    const from = h.logs.length;
    for (const path of [`/desk/${hr.id}`, `/desk/${hr.id}/create/${type.id}`]) {
      const page = await carol.text(path);
      expect(page.status, path).to.equal(404);
      // Not named anywhere in the page's text (random tokens may hold the letters).
      expect(page.body).to.not.include(`>${hr.projectName}<`).and.not.include(`${hr.projectName} `);
    }
    // The attack: the create form of another desk, posted directly with a valid CSRF token.
    const itType = [...h.emulator.state.requestTypes.values()].find(
      (t) => t.serviceDeskId === desk('IT Help').id,
    )!;
    const csrf = csrfOf((await carol.text(`/desk/${desk('IT Help').id}/create/${itType.id}`)).body);
    const before = h.emulator.state.requests.size;
    const form = new FormData();
    form.set('_csrf', csrf);
    form.set('f_summary', 'Let me into HR');
    const res = await carol.fetch(`/desk/${hr.id}/create/${type.id}`, {
      method: 'POST',
      body: form,
      headers: { origin: carol.base },
    });
    expect(res.status).to.equal(404);
    expect(h.emulator.state.requests.size).to.equal(before);
    expect(reasons(h, from)).to.include('PORTAL_DESK_NOT_FOUND');
  });

  it('shows a customer every desk one of their organizations was added to', async () => {
    const alice = await signIn(h, 'alice@acme.test');
    const home = (await alice.text('/')).body;
    for (const name of ['IT Help', 'HR']) expect(home).to.include(`href="/desk/${desk(name).id}"`);
    // Dana is in Globex Partners (kept by the harness's mapping for that group), which IT Help has.
    const dana = await signIn(h, 'dana@globex.test', { groups: ['globex-partners'] });
    expect((await dana.text(`/desk/${desk('HR').id}`)).status).to.equal(404);
    expect((await dana.text(`/desk/${desk('IT Help').id}`)).status).to.equal(200);
  });

  it('does not add her to more desks on her next sign-in', async () => {
    const from = h.logs.length;
    await signIn(h, 'carol@partner.test');
    const carol = h.emulator.state.userByEmail('carol@partner.test')!;
    expect(desk('HR').customerIds).to.not.include(carol.accountId);
    expect(audit(from)).to.deep.equal([]);
  });

  it('audits organization changes by accountId', async () => {
    const bob = h.emulator.state.userByEmail('bob@acme.test')!;
    // Bob is in the desks through Acme Corp only, so his first sign-in also joins him to the desks
    // the acme.test rule names.
    let from = h.logs.length;
    await signIn(h, 'bob@acme.test', { groups: ['globex-partners'] });
    expect(audit(from).find((l) => l['action'] === 'desks_joined')?.['serviceDeskIds']).to.deep.equal([
      desk('IT Help').id,
      desk('HR').id,
    ]);
    expect(orgChanges(from)).to.deep.equal([
      { action: 'organization_joined', accountId: bob.accountId, organizationId: '2' },
    ]);
    from = h.logs.length;
    await signIn(h, 'bob@acme.test');
    expect(orgChanges(from)).to.deep.equal([
      { action: 'organization_left', accountId: bob.accountId, organizationId: '2' },
    ]);
    expect(JSON.stringify(h.logs.slice(from))).to.not.include('bob@');
  });
});
