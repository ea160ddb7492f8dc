import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import type { DevIdp } from '../../dev/idp/provider.js';
import { DEV_USERS, type DevUser } from '../../dev/idp/users.js';
import * as harness from '../../testkit/broker-harness.js';
import { startTwoIdpBroker, type TwoIdpBroker } from './fake-oidc.js';

/** A JSON number written with these digits, as an IdP holding 64-bit ids serialises it. */
const written = (digits: string) => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(digits);
/** Two ids that JSON.parse reads as one double, 2^53. */
const IDS = ['9007199254740993', '9007199254740992'] as const;

/** The values of one attribute of the broker's assertion, as the portal reads it. */
async function attributeOf(portal: SAML, fields: Record<string, string>, name: string): Promise<unknown[]> {
  const { profile } = await portal.validatePostResponseAsync(fields);
  return [profile?.[name]].flat();
}

/**
 * A claim beside the subject holding an integer beyond 2^53 (a group's id, an employee number):
 * JSON.parse reads 9007199254740993 as 9007199254740992, so two people of two groups would be named
 * members of one in the assertion the portal trusts (ADR 0253; ADR 0243 kept only the subject).
 */
describe('broker: a claim holding an integer beyond 2^53 reaches the assertion as the IdP wrote it (ADR 0253)', () => {
  describe('against oidc-provider, as an OIDC IdP (userinfo) and as a plain OAuth 2.0 server', () => {
    let pki: harness.Pki;
    let idp: DevIdp;
    let brokers: Partial<Record<'oidc' | 'oauth2', harness.BrokerUnderTest>> = {};
    // alice is in group ...993, bob in group ...992: one id each, written as the IdP holds it.
    const users: DevUser[] = DEV_USERS.filter((u) => u.email.endsWith('@acme.test')).map((u, i) => ({
      ...u,
      groups: [written(IDS[i]!)] as unknown as string[],
    }));

    before(async () => {
      pki = harness.createPki();
      ({ idp, brokers } = await harness.startOidcAndOAuth2Brokers(users, pki));
    });
    after(async () => {
      for (const broker of Object.values(brokers)) await broker.close();
      await idp?.close();
      pki?.cleanup();
    });

    for (const kind of ['oidc', 'oauth2'] as const) {
      it(`names alice's and bob's groups apart, each as written (${kind})`, async () => {
        const broker = brokers[kind]!;
        const portal = harness.portalSp(broker.url, pki);
        const seen: unknown[][] = [];
        for (const email of users.map((u) => u.email)) {
          const { page, html, fields } = await harness.loginThroughBroker(
            { portal, brokerUrl: broker.url },
            new harness.Browser(),
            { email },
          );
          expect(page.status, html).to.equal(200);
          seen.push(await attributeOf(portal, fields, 'groups'));
        }
        expect(seen).to.deep.equal([[IDS[0]], [IDS[1]]]);
      });
    }
  });

  describe('in a forged ID token and a signed userinfo answer (fake IdP)', () => {
    let stack: TwoIdpBroker;
    before(async () => {
      stack = await startTwoIdpBroker({
        alpha: { attributeMapping: { email: 'claims.email', employeeNumber: 'claims.org.employee_number' } },
      });
    });
    after(async () => stack?.close());

    async function employeeNumberSent(): Promise<unknown[]> {
      const { broker, pki, idpA } = stack;
      const browser = new harness.Browser();
      const portal = harness.portalSp(broker.url, pki);
      const choice = await browser.request(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
      const { csrf } = harness.formFields(await choice.text());
      const toIdp = await browser.request(`${broker.url}/saml/choose`, {
        form: { csrf: csrf!, idp: 'alpha' },
      });
      const authorize = new URL(toIdp.headers.get('location')!);
      await fetch(authorize);
      const state = authorize.searchParams.get('state')!;
      const iss = encodeURIComponent(idpA.issuer);
      const page = await browser.request(
        `${broker.url}/oidc/callback/alpha?code=${state}&state=${state}&iss=${iss}`,
      );
      const html = await page.text();
      expect(page.status, harness.pageReason(html) ?? html.slice(0, 300)).to.equal(200);
      return attributeOf(portal, harness.formFields(html), 'employeeNumber');
    }

    it('keeps the digits of a nested claim of the ID token', async () => {
      const { idpA } = stack;
      idpA.forgery = 'valid';
      idpA.userinfoPerson = { email: 'mallory@acme.test', email_verified: true };
      for (const id of IDS) {
        idpA.person = {
          email: 'mallory@acme.test',
          email_verified: true,
          org: { employee_number: written(id) },
        };
        expect(await employeeNumberSent()).to.deep.equal([id]);
      }
    });

    it('keeps the digits of a nested claim of a signed userinfo answer', async () => {
      const { idpA } = stack;
      idpA.forgery = 'userinfo-jwt';
      idpA.person = { email: 'mallory@acme.test', email_verified: true };
      for (const id of IDS) {
        idpA.userinfoPerson = { ...idpA.person, org: { employee_number: written(id) } };
        expect(await employeeNumberSent()).to.deep.equal([id]);
      }
    });
  });
});
