import { expect } from 'chai';
import { IDP_ATTRIBUTE } from '../../common/portal-attributes.js';
import { signRedirectQuery } from '../../common/saml/redirect-binding.js';
import { accessAllowed, assertedPerson, mappedOrganizations } from '../../portal/identity.js';
import { englishIn } from '../../testkit/catalogue-text.js';
import {
  addCustomer,
  attemptSignIn,
  BROKER_ENTITY_ID,
  type Harness,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

describe('portal customer identity', () => {
  it('adds mapped organizations on match and marks the others for removal', () => {
    const mappings = [
      { organizationId: '1', emailDomain: 'acme.test' },
      { organizationId: '2', idpGroup: 'partners' },
    ];
    expect(mappedOrganizations(mappings, { email: 'a@acme.test', groups: [] })).to.deep.equal({
      wanted: new Set(['1']),
      managed: new Set(['1', '2']),
    });
    expect(
      mappedOrganizations(mappings, { email: 'a@other.test', groups: ['partners'] }).wanted,
    ).to.deep.equal(new Set(['2']));
  });
  it('lets only listed groups in when access mode is groups', () => {
    const portal = {
      access: { mode: 'groups' as const, groups: ['jsm-customers'], allowLicensedUsers: false },
    };
    expect(accessAllowed(portal, ['jsm-customers'])).to.equal(true);
    expect(accessAllowed(portal, ['staff'])).to.equal(false);
    expect(accessAllowed({ access: { mode: 'jira' as const, allowLicensedUsers: false } }, [])).to.equal(
      true,
    );
  });
  it('refuses an assertion that carries no e-mail', () => {
    expect(() =>
      assertedPerson(
        {
          nameId: 'opaque-id',
          nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
          attributes: { [IDP_ATTRIBUTE]: ['corp'] },
        },
        [{ name: 'corp' }],
      ),
    ).to.throw(/no e-mail/);
  });
});

describe('portal access and provisioning over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      portal: { access: { mode: 'groups', groups: ['jsm-customers'] } },
      spec: {
        identityProviders: [
          {
            name: 'corp',
            attributeMapping: { email: 'claims.email', groups: 'claims.groups' },
            oidc: { issuer: 'https://idp.acme.test', clientId: 'x', clientSecretRef: { name: 'oidc' } },
          },
        ],
      },
    });
  });
  after(async () => {
    await h.close();
  });

  it('refuses a person outside the allowed groups, saying so in French', async () => {
    const from = h.logs.length;
    const res = await attemptSignIn(h, 'alice@acme.test', { groups: ['staff'] }, { 'accept-language': 'fr' });
    expect(res.status).to.equal(403);
    const page = await res.text();
    expect(page).to.contain(
      'Votre compte ne fait partie d’aucun groupe autorisé à utiliser ce centre d’aide.',
    );
    expect(englishIn(page, 'fr')).to.deep.equal([]);
    expect(reasons(h, from)).to.include('PORTAL_ACCESS_DENIED');
  });
  it('answers 502 PORTAL_ACCOUNT_INVALID when Atlassian creates a customer with a malformed account id', async () => {
    h.emulator.faults.set({
      pathPrefix: '/rest/servicedeskapi/customer',
      method: 'POST',
      times: 1,
      rewriteJson: (body) => ({ ...(body as object), accountId: 'not an account id' }),
    });
    const from = h.logs.length;
    try {
      const err = await signIn(h, 'erin@acme.test', { groups: ['jsm-customers'] }).catch((e: Error) => e);
      expect(String(err)).to.include('502');
      expect(reasons(h, from)).to.include('PORTAL_ACCOUNT_INVALID');
      expect(h.emulator.faults.hits()).to.deep.equal([1]);
    } finally {
      h.emulator.faults.clear();
    }
  });
  it('lets a member of an allowed group in', async () => {
    const browser = await signIn(h, 'alice@acme.test', { groups: ['jsm-customers'] });
    expect((await browser.text('/')).status).to.equal(200);
  });
  it('refuses a LogoutRequest at /saml/slo, even one the broker signed (the broker never sends one: ADR 0050)', async () => {
    const browser = await signIn(h, 'bob@acme.test', { groups: ['jsm-customers'] });
    const xml =
      `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${h.url}/saml/slo">` +
      `<saml:Issuer>${BROKER_ENTITY_ID}</saml:Issuer><saml:NameID>bob@acme.test</saml:NameID><samlp:SessionIndex>_session-1</samlp:SessionIndex></samlp:LogoutRequest>`;
    const from = h.logs.length;
    const query = signRedirectQuery('SAMLRequest', xml, { keyPem: h.brokerKey.keyPem });
    const res = await fetch(`${h.url}/saml/slo?${query}`, { redirect: 'manual' });
    expect(res.status).to.equal(400);
    expect(reasons(h, from)).to.include('SAML_MESSAGE_TYPE_UNEXPECTED');
    // Nothing it named was touched: the customer is still signed in.
    expect((await browser.fetch('/profile')).status).to.equal(200);
  });
});

describe('portal with existingOnly provisioning', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      atlassian: {
        customerProvisioning: 'existingOnly',
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

  it('refuses a person Atlassian does not know, in German, and creates nobody', async () => {
    const from = h.logs.length;
    const res = await attemptSignIn(h, 'carol@partner.test', {}, { 'accept-language': 'de' });
    expect(res.status).to.equal(403);
    const page = await res.text();
    expect(page).to.contain('Dieses Hilfecenter kennt Ihr Konto noch nicht.');
    expect(englishIn(page, 'de')).to.deep.equal([]);
    expect(reasons(h, from)).to.include('PORTAL_CUSTOMER_UNKNOWN');
    expect([...h.emulator.state.users.values()].some((u) => u.email === 'carol@partner.test')).to.equal(
      false,
    );
  });

  it('takes no account the searches find by prefix, substring or name for the asserted address (only her exact one)', async () => {
    // Each comes back from Atlassian's searches for zoe@acme.test (the user search matches a prefix of
    // an address or a name, a desk's customer search a substring), and none is hers.
    const lookalikes = [
      addCustomer(h, 'zoe@acme.test.evil.test', 'Zoe Evil'),
      addCustomer(h, 'xzoe@acme.test', 'X Zoe'),
      addCustomer(h, 'ZOE@acme.testing', 'Zoe Testing'),
      addCustomer(h, 'mallory@evil.test', 'zoe@acme.test'),
    ];
    const desk = h.emulator.state.serviceDesks.get('1')!;
    const kept = desk.customerIds;
    desk.customerIds = [...lookalikes, ...kept];
    try {
      const from = h.logs.length;
      const res = await attemptSignIn(h, 'zoe@acme.test');
      expect(res.status).to.equal(403);
      expect(reasons(h, from)).to.include('PORTAL_CUSTOMER_UNKNOWN');
    } finally {
      desk.customerIds = kept;
      for (const id of lookalikes) h.emulator.state.users.delete(id);
    }
  });

  it('adds a customer to a mapped organization on match and removes them when it no longer matches', async () => {
    const bob = [...h.emulator.state.users.values()].find((u) => u.email === 'bob@acme.test')!;
    const members = (id: string) => h.emulator.state.organizations.get(id)!.memberIds;
    await signIn(h, 'bob@acme.test', { groups: ['globex-partners'] });
    expect(members('2')).to.include(bob.accountId);
    const browser = await signIn(h, 'bob@acme.test', { groups: [] });
    expect(members('2')).to.not.include(bob.accountId);
    expect(members('1')).to.include(bob.accountId);
    expect((await browser.text('/profile')).body)
      .to.include('Acme Corp')
      .and.not.include('Globex');
  });
});

describe('portal desks a customer may use through an organization', () => {
  let h: Harness;
  before(async () => {
    // Nobody joins a desk at sign-in: Dana (Globex Partners) reaches HR only through her organization.
    // No organization mappings: each keeps the organizations Atlassian has (Erik none).
    h = await startHarness({ atlassian: { provisioningRules: [], organizationMappings: [] } });
    const { state } = h.emulator;
    const hr = state.serviceDesks.get('2')!;
    // A desk with many customer organizations (an MSP's): Globex is added after a thousand others.
    for (let i = 0; i < 1000; i++) {
      const id = String(700000 + i);
      state.organizations.set(id, { id, name: `Client ${i}`, created: Date.now(), memberIds: [] });
      hr.organizationIds.push(id);
    }
    const globex = [...state.organizations.values()].find((o) => o.name === 'Globex Partners')!;
    hr.organizationIds.push(globex.id);
  });
  after(async () => {
    await h.close();
  });

  it('finds her organization however many others the desk has, a page at a time', async () => {
    const from = h.exchanges.length;
    const dana = await signIn(h, 'dana@globex.test');
    expect((await dana.text('/desk/2')).status).to.equal(200);
    const pages = h.exchanges
      .slice(from)
      .filter((e) => e.path.startsWith('/rest/servicedeskapi/servicedesk/2/organization'));
    expect(pages.length, 'pages of 50 until Globex, the 1,002nd').to.equal(21);
  });

  it('reads her organizations once at sign-in, not once a desk (ADR 0296)', async () => {
    const from = h.exchanges.length;
    await signIn(h, 'dana@globex.test');
    const made = h.exchanges.slice(from).map((e) => e.path);
    expect(h.emulator.state.serviceDesks.size, 'desks').to.be.greaterThan(1);
    expect(made.filter((p) => p.startsWith('/rest/servicedeskapi/organization?'))).to.have.length(1);
  });

  it('reads no desk’s organizations for a customer who belongs to none', async () => {
    const from = h.exchanges.length;
    const erik = await signIn(h, 'erik@acme.test');
    expect((await erik.text('/desk/1')).status, 'a customer of IT Help').to.equal(200);
    expect((await erik.text('/desk/2')).status).to.equal(404);
    const read = h.exchanges.slice(from).filter((e) => /\/servicedesk\/[0-9]+\/organization/.test(e.path));
    expect(read).to.deep.equal([]);
  });
});
