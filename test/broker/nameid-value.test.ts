import { expect } from 'chai';
import { afterAuthenticationSteps, runSteps } from '../../broker/steps/index.js';
import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { JsmSsoError } from '../../common/errors.js';
import { NAMEID_TRANSIENT } from '../../common/saml/namespaces.js';
import type { DevIdp } from '../../dev/idp/provider.js';
import type { DevUser } from '../../dev/idp/users.js';
import * as harness from '../../testkit/broker-harness.js';

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';

/** A person whose `name` claim, which the tenant maps to a persistent NameID, is `name`. */
function personNamed(local: string, name: string): DevUser {
  return { sub: local, email: `${local}@acme.test`, givenName: name, familyName: '', groups: [] };
}

// `name` is `<given> <family>`: the family name left empty, one space follows the given name.
const NAMES = {
  /** 256 characters in all: the most SAML core 8.3.7 allows a persistent identifier. */
  edge: 'e'.repeat(255),
  /** 257 characters. */
  long: 'l'.repeat(256),
  /** 256 characters, one of them outside the Basic Multilingual Plane (two UTF-16 units). */
  astral: `${'a'.repeat(254)}\u{1F600}`,
  c0: 'Ann\u0001Lee',
  del: 'Ann\u007fLee',
  c1: 'Ann\u0085Lee',
  newline: 'Ann\nLee',
} as const;

/**
 * The NameID the broker signs is what the tenant's mapping takes from the IdP's claims, whatever the
 * back end: OIDC bounds only `sub` (ADR 0301), a plain OAuth 2.0 server and an upstream SAML IdP
 * nothing. SAML core 8.3.7: a persistent identifier "MUST NOT exceed 256 characters"; a control
 * character XML cannot carry was written as U+FFFD, so two people became one NameID (ADR 0308).
 */
describe('broker: the NameID it signs is at most 256 characters and holds no control character (ADR 0308)', () => {
  let pki: harness.Pki;
  let idp: DevIdp;
  let brokers: Partial<Record<'oidc' | 'oauth2', harness.BrokerUnderTest>> = {};
  const nameId = { format: PERSISTENT, expression: 'claims.name' };

  before(async () => {
    pki = harness.createPki();
    const users = Object.entries(NAMES).map(([local, name]) => personNamed(local, name));
    ({ idp, brokers } = await harness.startOidcAndOAuth2Brokers(users, pki, { nameId }));
  });
  after(async () => {
    for (const broker of Object.values(brokers)) await broker.close();
    await idp?.close();
    pki?.cleanup();
  });

  async function signIn(kind: 'oidc' | 'oauth2', person: keyof typeof NAMES, nameIdFormat?: string) {
    const broker = brokers[kind]!;
    const portal = harness.portalSp(broker.url, pki, nameIdFormat ? { nameIdFormat } : {});
    const result = await harness.loginThroughBroker(
      { portal, brokerUrl: broker.url },
      new harness.Browser(),
      {
        email: `${person}@acme.test`,
      },
    );
    return { ...result, portal, broker };
  }

  for (const kind of ['oidc', 'oauth2'] as const) {
    for (const person of ['edge', 'astral'] as const) {
      it(`signs in a persistent NameID of 256 characters, as mapped (${kind}, ${person})`, async () => {
        const { page, html, fields, portal } = await signIn(kind, person);
        expect(page.status, html).to.equal(200);
        expect((await portal.validatePostResponseAsync(fields)).profile?.nameID).to.equal(
          `${NAMES[person]} `,
        );
      });
    }

    for (const person of ['long', 'c0', 'del', 'c1', 'newline'] as const) {
      it(`refuses a NameID ${person === 'long' ? 'of 257 characters' : `with a ${person} control character`}: 403 MAPPING_NAMEID_INVALID, nothing sent to the portal (${kind})`, async () => {
        const { page, html, fields, broker } = await signIn(kind, person);
        expect(page.status, html).to.equal(403);
        expect(harness.pageReason(html)).to.equal('MAPPING_NAMEID_INVALID');
        // The tenant's configuration is at fault, not an e-mail address: the page says so.
        expect(html).to.include('sent an identity this help center cannot use').and.not.include('e-mail');
        expect(fields['SAMLResponse']).to.equal(undefined);
        const line = broker.logs.findLast((l) => l['event'] === 'broker.login');
        expect([line?.['result'], line?.['reason']]).to.deep.equal(['refused', 'MAPPING_NAMEID_INVALID']);
      });
    }

    // A transient NameID replaces the mapped value (core 8.3.8), which is then never sent: it cannot
    // refuse the sign-in (ADR 0320).
    for (const person of ['long', 'c0'] as const) {
      it(`signs in a transient NameID where the mapped value would be refused (${kind}, ${person})`, async () => {
        const { page, html, fields, portal } = await signIn(kind, person, NAMEID_TRANSIENT);
        expect(page.status, html).to.equal(200);
        const profile = (await portal.validatePostResponseAsync(fields)).profile;
        expect(profile?.nameIDFormat).to.equal(NAMEID_TRANSIENT);
        expect(profile?.nameID).to.not.equal(`${NAMES[person]} `);
      });
    }
  }
});

describe("broker: an upstream SAML IdP's NameID passed on is held to the same (ADR 0308)", () => {
  const upstream = {
    name: 'corp',
    saml: { entityId: 'https://idp.partner.test', ssoUrl: 'https://idp.partner.test/sso' },
    emailTrust: 'asserted',
    nameId: { format: PERSISTENT, expression: 'claims.nameId' },
  } as IdentityProviderSpec;
  /** The claims the SAML back end makes of an assertion: its NameID among them (saml-backend.ts). */
  const signedInAs = (nameId: string) =>
    runSteps(
      afterAuthenticationSteps([upstream], () => {}),
      {
        idp: 'corp',
        subject: nameId,
        claims: { nameId, nameIdFormat: PERSISTENT, email: 'pat@acme.test' },
        emailVerified: false,
      },
    ).nameId;

  it('passes on a NameID of 256 characters', () => {
    expect(signedInAs('p'.repeat(256))).to.equal('p'.repeat(256));
  });

  for (const [what, nameId] of [
    ['of 257 characters', 'p'.repeat(257)],
    ['with a tab', 'pat\tlee'],
    ['with a C1 control character', 'pat\u0085lee'],
  ] as const) {
    it(`refuses one ${what}, 403 MAPPING_NAMEID_INVALID`, () => {
      expect(() => signedInAs(nameId))
        .to.throw(JsmSsoError)
        .that.include({ code: 'MAPPING_NAMEID_INVALID', status: 403 });
    });
  }
});
