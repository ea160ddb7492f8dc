// Provisioning rules (spec.atlassian.provisioningRules): which desks a customer the portal creates
// joins, and the audit lines for customer creation and organization changes (accountIds only).
import { expect } from 'chai';
import { parseTenant } from '../../common/config/load.js';
import type { AtlassianSpec } from '../../common/config/tenant.generated.js';
import { tenantDocument } from '../../dev/start.js';
import { desksForNewCustomer } from '../../portal/identity.js';
import { type Harness, signIn, startHarness } from '../../testkit/portal-harness.js';

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
