import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { startDevIdp } from '../../dev/idp/provider.js';
import type { DevUser } from '../../dev/idp/users.js';
import {
  Browser,
  createPki,
  devClient,
  devOAuth2Idp,
  formFields,
  type IdpDoc,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { PERSONAL_MARKER, personalDataIn } from '../../testkit/personal-data.js';
import {
  addCustomer,
  csrfOf,
  raiseRequestForm,
  signIn,
  signOut,
  spooledBytes,
  startHarness,
} from '../../testkit/portal-harness.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';
import { keysAtRest } from '../../testkit/store-scan.js';
import { answerAuthnRequest, brokerAsSp, upstreamIdp } from '../broker/upstream-saml.js';

/** Whom the tests sign in: each field marked, her address also an address. */
const PERSON: DevUser = {
  sub: `${PERSONAL_MARKER}-subject`,
  email: `${PERSONAL_MARKER}.ann@acme.test`,
  givenName: 'Ann',
  familyName: `Lee-${PERSONAL_MARKER}`,
  groups: [`${PERSONAL_MARKER}-group`],
};

/**
 * Personal data and secrets end to end (ADR 0340): a person every field of whom carries the privacy
 * scan's marker (testkit/personal-data.ts) signs in through the broker (OIDC, plain OAuth 2.0, an
 * upstream SAML IdP) and is signed out by the portal; at the portal she signs in, raises a request
 * with a file, comments and signs out. The root hooks read every log line and process output (ADR
 * 0246, 0255), each harness its metrics as it closes; here, after each step, the store: nothing of
 * her in any key or value, and no key without an expiry (the portal's activity list, all it may keep
 * of her: accountId, client IP, last sign-in, expires too).
 */
describe('personal data and secrets end to end: a marked person through every flow', function () {
  this.timeout(60_000);

  /**
   * The keys `match` finds in the store that hold anything of the person (and, `withoutAddress`, her
   * browser's address: the broker keeps none), or that never expire.
   */
  async function storeProblems(match: string, withoutAddress = false): Promise<string[]> {
    return (await keysAtRest(redisUrl(), match)).flatMap(({ key, text, ttl }) => [
      ...personalDataIn(text).map((what) => `${what}: ${text}`),
      ...(withoutAddress && text.includes('127.0.0.1') ? [`her address: ${text}`] : []),
      ...(ttl === -1 ? [`kept without an expiry: ${key}`] : []),
    ]);
  }

  /**
   * A broker of one IdP (`idpDoc`) on the run's Redis under a prefix of its own: `run` signs her in,
   * with the portal (node-saml) and a browser, and the store is read after the sign-in and after
   * the portal's LogoutRequest; then all is closed.
   */
  async function atBroker(
    url: string,
    server: Parameters<typeof serveBroker>[0],
    idpDoc: IdpDoc,
    signIn: (portal: SAML, browser: Browser) => Promise<Record<string, string>>,
  ): Promise<void> {
    const prefix = `pii-broker-${Date.now()}`;
    const stored = `jsm-sso:${prefix}:*`;
    const store = await connectedFlowStore(prefix);
    const pki = createPki();
    const broker = await serveBroker(server, url, tenantFor(url, [idpDoc]), pki, store);
    try {
      const portal = portalSp(url, pki);
      const browser = new Browser();
      const { profile } = await portal.validatePostResponseAsync(await signIn(portal, browser));
      expect(profile?.nameID).to.equal(PERSON.email);
      expect(await keysAtRest(redisUrl(), stored), 'the broker keeps her session in Redis').to.not.be.empty;
      expect(await storeProblems(stored, true), 'at rest after the sign-in').to.deep.equal([]);

      const logout = await browser.request(await portal.getLogoutUrlAsync(profile!, 'rs-out', {}));
      expect(logout.status, 'the broker takes the LogoutRequest').to.be.within(200, 399);
      expect(await storeProblems(stored, true), 'at rest after the sign-out').to.deep.equal([]);
    } finally {
      await broker.close();
      pki.cleanup();
      await store.close();
    }
  }

  const SIGN_INS = [
    { kind: 'an OIDC', client: {}, idp: (issuer: string) => oidcIdp('corporate', issuer) },
    {
      kind: 'a plain OAuth 2.0',
      client: { client_id: 'jsm-sso-plain' },
      idp: (issuer: string) => devOAuth2Idp(issuer, 'jsm-sso-plain'),
    },
  ];
  for (const { kind, client, idp: idpDoc } of SIGN_INS)
    it(`keeps nothing of her at the broker, and nothing without an expiry: ${kind} sign-in and the portal signing her out`, async () => {
      const { server, url } = await listenPlaceholder();
      const idp = await startDevIdp({ users: [PERSON], clients: [devClient(url, client)] });
      try {
        await atBroker(url, server, idpDoc(idp.issuer), async (portal, browser) => {
          const { fields } = await loginThroughBroker({ portal, brokerUrl: url }, browser, {
            email: PERSON.email,
          });
          return fields;
        });
      } finally {
        await idp.close();
      }
    });

  it('keeps nothing of her at the broker, and nothing without an expiry: an upstream SAML sign-in (her NameID and IdP session marked) and her sign-out there', async () => {
    const { server, url } = await listenPlaceholder();
    const idp = upstreamIdp();
    const idpDoc = {
      name: 'upstream',
      saml: { metadataXml: idp.getMetadata() },
      emailTrust: 'asserted',
      attributeMapping: { email: 'claims.email', displayName: 'claims.displayName' },
    };
    await atBroker(url, server, idpDoc, async (portal, browser) => {
      const sso = await browser.request(await portal.getAuthorizeUrlAsync('rs-saml', undefined, {}));
      const sp = brokerAsSp(await (await fetch(`${url}/saml/sp-metadata`)).text());
      const upstream = await answerAuthnRequest(idp, sp, sso.headers.get('location')!, url, {
        nameId: `${PERSONAL_MARKER}-name-id`,
        sessionIndex: `_${PERSONAL_MARKER}-idp-session`,
        attributes: { email: [PERSON.email], displayName: [`Ann Lee-${PERSONAL_MARKER}`] },
      });
      const page = await browser.request(`${url}/saml/acs`, {
        form: { SAMLResponse: upstream.samlResponse, RelayState: upstream.relayState },
      });
      expect(page.status).to.equal(200);
      return formFields(await page.text());
    });
  });

  it('keeps nothing of her at the portal but her accountId, address and last sign-in, each with an expiry: sign-in, a request with a file, a comment, sign-out', async () => {
    const h = await startHarness();
    try {
      const email = `${PERSONAL_MARKER}.bea@acme.test`;
      const accountId = addCustomer(h, email, `Bea ${PERSONAL_MARKER}`);
      h.emulator.state.organizations.get('1')?.memberIds.push(accountId);
      const bea = await signIn(h, email, {
        displayName: `Bea ${PERSONAL_MARKER}`,
        sessionIndex: '_broker-session-1',
      });
      const form = raiseRequestForm(h, bea, 'Get IT help');
      const body = new FormData();
      for (const [name, value] of Object.entries({
        ...(await form.fresh()),
        f_summary: `Printer of ${PERSONAL_MARKER}`,
        f_description: `Call me, ${PERSONAL_MARKER}`,
      }))
        body.append(name, value);
      body.append('attachment', new Blob([`scan of ${PERSONAL_MARKER}`]), `${PERSONAL_MARKER}-scan.txt`);
      const created = await bea.fetch(form.action, { method: 'POST', body, headers: { origin: h.url } });
      expect(created.status).to.equal(303);
      const key = new URL(created.headers.get('location')!, h.url).pathname.split('/').pop()!;
      await eventually(async () => spooledBytes(h) === 0, 'nothing of her file left spooled');

      const page = await bea.text(`/requests/${key}`);
      expect(page.status).to.equal(200);
      const commented = await bea.post(`/requests/${key}/comment`, {
        _csrf: csrfOf(page.body),
        body: `It is ${PERSONAL_MARKER} again`,
      });
      expect(commented.status).to.equal(303);
      const stored = `${h.keyPrefix}*`;
      expect(await keysAtRest(redisUrl(), stored), 'the portal keeps its session in Redis').to.not.be.empty;
      expect(await storeProblems(stored), 'at rest while signed in').to.deep.equal([]);

      await signOut(bea);
      expect(await storeProblems(stored), 'at rest after the sign-out').to.deep.equal([]);
    } finally {
      await h.close();
    }
  });
});
