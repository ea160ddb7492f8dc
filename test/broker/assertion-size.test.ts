import { expect } from 'chai';
import { decodePostedMessage } from '../../common/saml/deflate.js';
import { parseSamlXml } from '../../common/saml/xml.js';
import type { DevIdp } from '../../dev/idp/provider.js';
import type { DevUser } from '../../dev/idp/users.js';
import * as harness from '../../testkit/broker-harness.js';

/** A person at the IdP in `count` groups named `<prefix><n>`. */
function memberOf(local: string, count: number, prefix: string): DevUser {
  const groups = Array.from({ length: count }, (_, n) => `${prefix}${n}`);
  return { sub: local, email: `${local}@acme.test`, givenName: 'Pat', familyName: 'Lee', groups };
}

const PEOPLE = {
  /** 4,000 groups of 8 to 11 characters: a Response of about 217 KB and 4,040 elements. */
  many: memberOf('many', 4_000, 'group-'),
  /** 5,000 such groups: about 270 KB, past the 256 KiB the portal's ACS reads. */
  tooMany: memberOf('toomany', 5_000, 'group-'),
  /** 4,100 groups of 2 to 5 characters: about 200 KB, but past the ACS's 4,096 elements (ADR 0238). */
  tooManyElements: memberOf('toomanyelements', 4_100, 'g'),
} as const;

/**
 * The portal's ACS reads a Response of at most 256 KiB and 4,096 elements (common/saml/xml.ts,
 * ADR 0238). The broker signed whatever the mapping gave, so a person in some thousands of groups
 * was signed in at the broker and refused at the portal, the broker's log saying success (ADR 0308).
 */
describe("broker: an assertion larger than the portal's ACS reads is refused at the broker (ADR 0308)", () => {
  let pki: harness.Pki;
  let idp: DevIdp;
  let brokers: Partial<Record<'oidc' | 'oauth2', harness.BrokerUnderTest>> = {};

  before(async () => {
    pki = harness.createPki();
    ({ idp, brokers } = await harness.startOidcAndOAuth2Brokers(Object.values(PEOPLE), pki));
  });
  after(async () => {
    for (const broker of Object.values(brokers)) await broker.close();
    await idp?.close();
    pki?.cleanup();
  });

  async function signIn(person: DevUser) {
    const broker = brokers.oidc!;
    const portal = harness.portalSp(broker.url, pki);
    const result = await harness.loginThroughBroker(
      { portal, brokerUrl: broker.url },
      new harness.Browser(),
      { email: person.email },
    );
    return { ...result, broker };
  }

  it('signs in a person in 4,000 groups, a Response the portal reads', async () => {
    const { page, html, fields } = await signIn(PEOPLE.many);
    expect(page.status, html.slice(0, 500)).to.equal(200);
    expect(() => parseSamlXml(decodePostedMessage(fields['SAMLResponse']!))).not.to.throw();
  });

  for (const [what, person] of [
    ['5,000 groups (past 256 KiB)', PEOPLE.tooMany],
    ['4,100 short groups (past 4,096 elements)', PEOPLE.tooManyElements],
  ] as const) {
    it(`refuses a person in ${what}: 403 MAPPING_ASSERTION_TOO_LARGE, nothing sent to the portal`, async () => {
      const { page, html, fields, broker } = await signIn(person);
      expect(page.status, html.slice(0, 500)).to.equal(403);
      expect(harness.pageReason(html)).to.equal('MAPPING_ASSERTION_TOO_LARGE');
      expect(fields['SAMLResponse']).to.equal(undefined);
      const line = broker.logs.findLast((l) => l['event'] === 'broker.login');
      expect([line?.['result'], line?.['reason']]).to.deep.equal(['refused', 'MAPPING_ASSERTION_TOO_LARGE']);
    });
  }
});
