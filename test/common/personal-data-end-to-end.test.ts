import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { startDevIdp } from '../../dev/idp/provider.js';
import type { DevUser } from '../../dev/idp/users.js';
import { startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
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
import { startBrokerProcess } from '../../testkit/broker-process.js';
import { eventually } from '../../testkit/envtest.js';
import { checkMetricsAt } from '../../testkit/metrics-scan.js';
import { exited, onLogLine } from '../../testkit/part-process.js';
import { PERSONAL_MARKER, personalDataIn } from '../../testkit/personal-data.js';
import {
  addCustomer,
  csrfOf,
  type Harness,
  type Browser as PortalBrowser,
  raiseRequestForm,
  signIn,
  signInAt,
  signOut,
  spooledBytes,
  startHarness,
} from '../../testkit/portal-harness.js';
import { startPortalProcess, waitReady, writePortalFiles } from '../../testkit/portal-process.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';
import { keysAtRest } from '../../testkit/store-scan.js';
import { signInAtUpstreamIdp, upstreamIdp, upstreamSamlIdpDoc } from '../broker/upstream-saml.js';

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
 * of her: accountId, client IP, last sign-in, expires too). A broker and a portal started as their own
 * processes, each once: every line of their output as it comes, and their /metrics at the end.
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
    await atBroker(
      url,
      server,
      upstreamSamlIdpDoc(idp, ['email', 'displayName']),
      async (portal, browser) => {
        const page = await signInAtUpstreamIdp(
          { browser, portal, brokerUrl: url, idp, relayState: 'rs-saml' },
          {
            nameId: `${PERSONAL_MARKER}-name-id`,
            sessionIndex: `_${PERSONAL_MARKER}-idp-session`,
            attributes: { email: [PERSON.email], displayName: [`Ann Lee-${PERSONAL_MARKER}`] },
          },
        );
        expect(page.status).to.equal(200);
        return formFields(await page.text());
      },
    );
  });

  it('writes nothing of her to the output or the /metrics of a broker started as its own process: an OIDC sign-in at debug level and the portal signing her out', async function () {
    // A process started from source (tsx compiles its imports) on a loaded machine, as the fault tests'.
    this.timeout(120_000);
    // Every line the process writes to stdout and stderr is checked as it comes (testkit/part-process.ts);
    // at debug level, so that no line it can write goes unread.
    const broker = await startBrokerProcess({ drainSeconds: 0, users: [PERSON], logLevel: 'debug' });
    try {
      const publicUrl = broker.tenant.spec.broker.url;
      const via = broker.urls.broker;
      const portal = portalSp(publicUrl, broker.pki);
      const browser = new Browser();
      const { fields } = await loginThroughBroker(
        { portal, brokerUrl: publicUrl, callbackVia: via },
        browser,
        {
          email: PERSON.email,
          startVia: via,
        },
      );
      const { profile } = await portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal(PERSON.email);
      const toIdp = await browser.request(await portal.getLogoutUrlAsync(profile!, 'rs-out', {}), { via });
      expect(toIdp.status, 'the broker takes the LogoutRequest, and sends her to the IdP').to.equal(302);
      // She confirms at the IdP; its answer comes back to the broker, which answers the portal.
      const endSession = new URL(toIdp.headers.get('location')!);
      const html = await (await browser.request(endSession.href)).text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      const back = await browser.follow(new URL(action, endSession).href, publicUrl, {
        form: { xsrf, logout: 'yes' },
      });
      const toPortal = await browser.request(back.location!, { via });
      expect(toPortal.headers.get('location'), 'her LogoutResponse').to.include('SAMLResponse=');
      await eventually(
        async () => ['broker.login', 'broker.logout'].every((e) => broker.logs.some((l) => l['event'] === e)),
        'her sign-in and sign-out logged, the lines read by the scan',
      );

      const metrics = await checkMetricsAt(broker.urls.management, 'broker process');
      expect(metrics, 'the sign-in counted').to.match(/^jsm_sso_broker_logins_total\{[^}]*\} [1-9]/m);
      // Her address is in the broker's audit line by design (ADR 0340), in no series.
      expect(metrics).to.not.include('127.0.0.1');
    } finally {
      await broker.stop();
    }
  });

  /**
   * At a portal (`site`: in this process or its own), a marked customer signed in as `bea` raises a
   * request with a marked summary, description and file, and comments on it.
   */
  async function raiseAndComment(site: Pick<Harness, 'emulator' | 'url'>, bea: PortalBrowser): Promise<void> {
    const form = raiseRequestForm(site, bea, 'Get IT help');
    const body = new FormData();
    for (const [name, value] of Object.entries({
      ...(await form.fresh()),
      f_summary: `Printer of ${PERSONAL_MARKER}`,
      f_description: `Call me, ${PERSONAL_MARKER}`,
    }))
      body.append(name, value);
    body.append('attachment', new Blob([`scan of ${PERSONAL_MARKER}`]), `${PERSONAL_MARKER}-scan.txt`);
    const created = await bea.fetch(form.action, { method: 'POST', body, headers: { origin: site.url } });
    expect(created.status).to.equal(303);
    const key = new URL(created.headers.get('location')!, site.url).pathname.split('/').pop()!;
    const page = await bea.text(`/requests/${key}`);
    expect(page.status).to.equal(200);
    const commented = await bea.post(`/requests/${key}/comment`, {
      _csrf: csrfOf(page.body),
      body: `It is ${PERSONAL_MARKER} again`,
    });
    expect(commented.status).to.equal(303);
  }

  /** A customer of the emulator's organization, her address and name marked: her address. */
  function markedCustomer(site: Pick<Harness, 'emulator'>): string {
    const email = `${PERSONAL_MARKER}.bea@acme.test`;
    const accountId = addCustomer(site, email, `Bea ${PERSONAL_MARKER}`);
    site.emulator.state.organizations.get('1')?.memberIds.push(accountId);
    return email;
  }

  it('keeps nothing of her at the portal but her accountId, address and last sign-in, each with an expiry: sign-in, a request with a file, a comment, sign-out', async () => {
    const h = await startHarness();
    try {
      const bea = await signIn(h, markedCustomer(h), {
        displayName: `Bea ${PERSONAL_MARKER}`,
        sessionIndex: '_broker-session-1',
      });
      await raiseAndComment(h, bea);
      await eventually(async () => spooledBytes(h) === 0, 'nothing of her file left spooled');
      const stored = `${h.keyPrefix}*`;
      expect(await keysAtRest(redisUrl(), stored), 'the portal keeps its session in Redis').to.not.be.empty;
      expect(await storeProblems(stored), 'at rest while signed in').to.deep.equal([]);

      await signOut(bea);
      expect(await storeProblems(stored), 'at rest after the sign-out').to.deep.equal([]);
    } finally {
      await h.close();
    }
  });

  it('writes nothing of her to the output or the /metrics of a portal started as its own process: at debug level, sign-in, a request with a file, a comment, sign-out', async function () {
    // A process started from source (tsx compiles its imports) on a loaded machine, as the fault tests'.
    this.timeout(120_000);
    const emulator = await startJsmEmulator({});
    const url = `http://127.0.0.1:${await freePort()}`;
    const files = writePortalFiles({ name: 'marked', portalUrl: url, siteUrl: emulator.url });
    const management = `http://127.0.0.1:${await freePort()}`;
    // Every line it writes to stdout and stderr is checked as it comes (testkit/part-process.ts).
    const portal = startPortalProcess(files, Number(new URL(url).port), Number(new URL(management).port), {
      LOG_LEVEL: 'debug',
    });
    const done = exited(portal);
    const events: unknown[] = [];
    onLogLine(portal, (line) => events.push(line['event']));
    try {
      await waitReady(`${url}/saml/metadata`, 90_000);
      const site = { emulator, url };
      const bea = await signInAt(url, files.brokerKey, markedCustomer(site), {
        displayName: `Bea ${PERSONAL_MARKER}`,
      });
      await raiseAndComment(site, bea);
      await signOut(bea);
      await eventually(
        async () => ['portal.login', 'portal.logout'].every((event) => events.includes(event)),
        'her sign-in and sign-out logged, the lines read by the scan',
      );

      const metrics = await checkMetricsAt(management, 'portal process');
      expect(metrics, 'her calls to Atlassian counted').to.match(/^jsm_sso_portal_atlassian_calls_total\{/m);
      // Her address is in the portal's activity list by design (ADR 0340), in no series.
      expect(metrics).to.not.include('127.0.0.1');
    } finally {
      portal.kill('SIGKILL');
      await done;
      await emulator.close();
      files.cleanup();
    }
  });
});
