import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { BASELINE_COMMIT } from '../../testkit/baseline-build.js';
import {
  Browser,
  createPki,
  devClient,
  formFields,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  pageReason,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { eventually } from '../../testkit/envtest.js';
import { exited, jsmSso, listening } from '../../testkit/part-process.js';
import {
  csrfOf,
  holdNextWrite,
  Browser as PortalBrowser,
  raiseRequestForm,
  writeKeyOf,
} from '../../testkit/portal-harness.js';
import { redisUrl } from '../../testkit/redis.js';
import { type RollingBalancer, rollingBalancer } from '../../testkit/rolling-balancer.js';
import { type Build, buildEntries, readyReplica } from '../../testkit/rolling-replicas.js';
import {
  answerAuthnRequest,
  brokerSpAt,
  postToBrokerAcs,
  upstreamIdp,
  upstreamSamlIdpDoc,
} from '../broker/upstream-saml.js';

type Part = 'broker' | 'portal';
/** The tenant's IdPs: the dev IdP (OIDC) and samlify playing an upstream SAML IdP. */
type Idp = 'corporate' | 'upstream';

/**
 * A rolling upgrade from BASELINE_COMMIT to this tree (ADR 0423): one tenant's broker and portal, each
 * as a process of the previous build and one of this build, behind one public URL per part
 * (testkit/rolling-balancer.ts), on one Redis, with the dev IdP, an upstream SAML IdP (samlify) and the JSM
 * emulator. Each test moves
 * the balancer between builds in the middle of what a customer does and holds that she does not
 * notice: no new sign-in, no sign-in lost, no write made twice, a sign-out that ends her session.
 */
describe(`a rolling upgrade from ${BASELINE_COMMIT.slice(0, 8)}: old and new pods serve one tenant`, function () {
  // A cold baseline build (git archive, tsc) takes up to two minutes on a loaded CI machine.
  this.timeout(240_000);
  let pki: Pki;
  let idp: DevIdp;
  let emulator: RunningJsmEmulator;
  const upstream = upstreamIdp();
  const balancers = {} as Record<Part, RollingBalancer>;
  const replicas = {} as Record<Part, Record<Build, string>>;
  const children: ChildProcess[] = [];

  before(async () => {
    const redis = redisUrl();
    const entries = buildEntries();
    balancers.broker = await rollingBalancer();
    balancers.portal = await rollingBalancer();
    // The IdP posts a logout token to the broker at each sign-out of its own (OIDC back-channel, ADR 0150).
    const backchannel = {
      backchannel_logout_uri: `${balancers.broker.url}/oidc/backchannel-logout/corporate`,
      backchannel_logout_session_required: true,
    };
    idp = await startDevIdp({ clients: [devClient(balancers.broker.url, backchannel)] });
    emulator = await startJsmEmulator();
    pki = createPki();
    const write = (secret: string, key: string, value: string) => {
      mkdirSync(join(pki.dir, secret), { recursive: true });
      writeFileSync(join(pki.dir, secret, key), value);
    };
    write('atlassian', 'email', SERVICE_ACCOUNT.email);
    write('atlassian', 'apiToken', SERVICE_ACCOUNT.apiToken);
    write('redis', 'url', redis);
    // Alice signs in at the dev IdP, Dana (globex.test, a customer of the emulator's seed) at the upstream one.
    const idps = [
      oidcIdp('corporate', idp.issuer, { authority: 'catchAll' }),
      { ...upstreamSamlIdpDoc(upstream), emailDomains: ['globex.test'] },
    ];
    const tenant = tenantFor(balancers.broker.url, idps, (spec) => {
      spec.portal.url = balancers.portal.url;
      spec.atlassian = { siteUrl: emulator.url, credentialsSecretRef: { name: 'atlassian' } };
      spec.redis = { urlSecretRef: { name: 'redis', key: 'url' } };
      // Every sign-in and request of the file comes from one address and the same person.
      spec.portal.limits = {
        signInStarts: { perIp: 1000 },
        acsPosts: { perIp: 1000, perAccount: 1000 },
        requestCreations: { perIp: 1000, perAccount: 1000 },
      };
    });
    const config = join(pki.dir, 'tenant.yaml');
    writeFileSync(config, stringify(tenant));
    for (const part of ['broker', 'portal'] as const) {
      replicas[part] = {} as Record<Build, string>;
      for (const build of ['old', 'new'] as const) {
        const args = [part, '--config', config, '--secrets-dir', pki.dir, '--host', '127.0.0.1'];
        const child = jsmSso(
          [...args, '--port', '0', '--management-port', '0', '--drain-seconds', '0'],
          {},
          entries[build],
        );
        children.push(child);
        replicas[part][build] = await readyReplica(listening(child, [part, 'management']), part, build);
      }
    }
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await Promise.all(Object.values(balancers).map((b) => b.close()));
    await idp?.close();
    await emulator?.close();
    pki?.cleanup();
  });

  const route = (part: Part, build: Build) => balancers[part].routeTo(replicas[part][build]);
  const portal = (path: string) => `${balancers.portal.url}${path}`;

  /** A signed-in page of the portal: 200 while the session lives, 303 to sign-in once it is gone. */
  async function portalPage(browser: Browser): Promise<number> {
    const res = await browser.request(portal('/requests'));
    await res.arrayBuffer();
    return res.status;
  }

  /** The portal's /login up to the IdP `idp` chosen at the broker: where the broker sent the browser. */
  async function startSignIn(browser: Browser, idp: Idp = 'corporate'): Promise<string> {
    const toBroker = await browser.request(portal('/login'));
    expect(toBroker.status, 'portal /login').to.be.within(300, 399);
    const choice = await browser.request(new URL(toBroker.headers.get('location')!, portal('/')).href);
    const page = await choice.text();
    expect(choice.status, `broker /saml/sso: ${page.slice(0, 500)}`).to.equal(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    const toIdp = await browser.request(`${balancers.broker.url}/saml/choose`, {
      form: { csrf: csrf!, idp },
    });
    expect(
      toIdp.status,
      `broker /saml/choose: ${toIdp.status === 200 ? await toIdp.text() : ''}`,
    ).to.be.within(300, 399);
    return new URL(toIdp.headers.get('location')!, balancers.broker.url).href;
  }

  /** The rest of a sign-in from the dev IdP: the broker's callback, the portal's ACS. */
  async function finishSignIn(browser: Browser, idpUrl: string): Promise<void> {
    const { fields, page, html } = await loginAtDevIdp(browser, idpUrl, { brokerUrl: balancers.broker.url });
    expect(page.status, `broker callback: ${html.slice(0, 300)}`).to.equal(200);
    const acs = await browser.request(portal('/saml/acs'), { form: fields });
    expect(acs.status, `portal ACS: ${acs.status === 303 ? '' : await acs.text()}`).to.equal(303);
  }

  /** A customer signed in at the `build` pods, portal and broker. */
  async function signedInAt(build: Build): Promise<Browser> {
    const browser = new Browser();
    route('portal', build);
    route('broker', build);
    await finishSignIn(browser, await startSignIn(browser));
    return browser;
  }

  /** The portal's pages, with the cookies the sign-in left (one host: RFC 6265 cookies ignore the port). */
  function portalPages(browser: Browser): PortalBrowser {
    return new PortalBrowser(balancers.portal.url, browser.cookies.get('127.0.0.1'));
  }

  /** The request the emulator holds whose key or summary is `keyOrSummary`. */
  function requestOf(keyOrSummary: string) {
    const found = [...emulator.state.requests.values()].find(
      (r) => r.key === keyOrSummary || r.fieldValues['summary'] === keyOrSummary,
    );
    if (!found) throw new Error(`no request ${keyOrSummary}`);
    return found;
  }

  /** The raise-request form of Get IT help as `browser` fills it in with `summary`, and how to send it. */
  async function raiseForm(browser: Browser, summary: string) {
    const form = raiseRequestForm(
      { emulator, url: balancers.portal.url },
      portalPages(browser),
      'Get IT help',
    );
    const { fields } = await form.filled({ f_summary: summary });
    return { ...form, fields };
  }

  /**
   * A form posted at the portal routed now, its write held at Atlassian (under `heldPath`) past the call's
   * deadline (10 s), and sent again meanwhile to the `to` portal: the resend waits on the first's claim
   * rather than writing; the write made after all is found by a third post (303 to `landing`), not made
   * again. One write in all.
   *
   * The resend writes nothing whichever of two ends comes first: the first's give-up, after which it says
   * it could not confirm (502), or its own wait for the claim, after which it says the form is still being
   * sent (409, ADR 0141). The give-up comes after the first's 10 s call and its looks at 0.5, 2 and 5 s
   * (about 17.5 s), at the latest when its write budget ends, 20 s from its write's start; the wait is the
   * same 20 s from the resend's own start, a moment later. Slow looks at Atlassian (the emulator of a
   * loaded machine) bring the give-up to its budget's end, and then which comes first is a matter of
   * milliseconds: with the first's last look held 3 s, the resend answered 409 and this test, which wanted
   * the 502 alone, was red. A wait that outlasts the holder is no product rule (the holder's calls take
   * their own time on top of its budget, and the resend's page has the browser's patience), and the old
   * build's wait runs on its own clock, which no test holds: either refusal is the product's.
   */
  async function sentAgainWhileWriting(
    to: Build,
    form: { heldPath: string; post(): Promise<Response>; written(): number; landing(): string },
  ): Promise<void> {
    const release = holdNextWrite({ emulator }, form.heldPath);
    try {
      const first = form.post();
      await eventually(async () => emulator.faults.hits()[0] === 1, 'the first write held at Atlassian');
      route('portal', to);
      const reasonOf = async (answer: Response) => /data-reason>([^<]+)/.exec(await answer.text())?.[1];
      const again = await form.post();
      expect(`${again.status} ${await reasonOf(again)}`, `sent again to ${to}`).to.be.oneOf([
        '502 PORTAL_WRITE_UNCONFIRMED',
        '409 PORTAL_WRITE_IN_PROGRESS',
      ]);
      const answered = await first;
      expect([answered.status, await reasonOf(answered)], 'the first').to.deep.equal([
        502,
        'ATLASSIAN_TIMEOUT',
      ]);
      release();
      await eventually(async () => form.written() === 1, 'the held write made');
      const third = await form.post();
      expect([third.status, third.headers.get('location')], 'sent a third time').to.deep.equal([
        303,
        form.landing(),
      ]);
    } finally {
      release();
      emulator.faults.clear();
    }
    expect(form.written()).to.equal(1);
  }

  // New on both sides first: a failure there is the harness's, told from one between the versions.
  for (const [from, to] of [
    ['new', 'new'],
    ['old', 'new'],
    ['new', 'old'],
  ] as const) {
    it(`serves a customer signed in at the ${from} pods from the ${to} portal without a new sign-in`, async () => {
      const browser = await signedInAt(from);
      expect(await portalPage(browser), `signed in at ${from}`).to.equal(200);
      route('portal', to);
      expect(await portalPage(browser), `served by ${to}`).to.equal(200);
    });

    it(`finishes at the ${to} broker's callback a sign-in the ${from} broker sent to the IdP`, async () => {
      const browser = new Browser();
      route('portal', from);
      route('broker', from);
      const idpUrl = await startSignIn(browser);
      route('broker', to);
      route('portal', to);
      await finishSignIn(browser, idpUrl);
      expect(await portalPage(browser)).to.equal(200);
    });

    // The flow travels as RelayState to the upstream IdP and back; the broker takes it once, wherever.
    it(`finishes at the ${to} broker's ACS a sign-in the ${from} broker sent to an upstream SAML IdP, once`, async () => {
      const browser = new Browser();
      route('portal', from);
      route('broker', from);
      const idpUrl = await startSignIn(browser, 'upstream');
      route('broker', to);
      route('portal', to);
      const brokerUrl = balancers.broker.url;
      const answer = await answerAuthnRequest(upstream, await brokerSpAt(brokerUrl), idpUrl, brokerUrl, {
        nameId: 'dana@globex.test',
        attributes: { email: ['dana@globex.test'] },
      });
      const page = await postToBrokerAcs(browser, brokerUrl, answer.samlResponse, answer.relayState);
      const html = await page.text();
      expect(page.status, `broker ACS: ${html.slice(0, 500)}`).to.equal(200);
      const acs = await browser.request(portal('/saml/acs'), { form: formFields(html) });
      expect(acs.status, `portal ACS: ${acs.status === 303 ? '' : await acs.text()}`).to.equal(303);
      expect(await portalPage(browser)).to.equal(200);
      // The same Response at the other version again: its flow was taken, whichever version took it.
      route('broker', from);
      const again = await postToBrokerAcs(browser, brokerUrl, answer.samlResponse, answer.relayState);
      const refusal = await again.text();
      expect([again.status, pageReason(refusal)], `sent again to ${from}`).to.deep.equal([
        400,
        'FLOW_UNKNOWN',
      ]);
    });

    it(`writes once a raise-request form posted to the ${from} portal and sent again to the ${to}`, async () => {
      const browser = await signedInAt(from);
      const summary = `printer on fire (${from} then ${to})`;
      const { fields, ...form } = await raiseForm(browser, summary);
      expect((await form.post(fields)).status, `posted to ${from}`).to.equal(303);
      route('portal', to);
      expect((await form.post(fields)).status, `sent again to ${to}`).to.equal(303);
      expect(form.created(summary)).to.have.length(1);
    });

    it(`waits on the ${from} portal's claim for a form sent again to the ${to} portal while it writes: written once`, async () => {
      const browser = await signedInAt(from);
      const summary = `sent again while writing (${from} then ${to})`;
      const { fields, ...form } = await raiseForm(browser, summary);
      await sentAgainWhileWriting(to, {
        heldPath: '/rest/servicedeskapi/request',
        post: () => form.post(fields),
        written: () => form.created(summary).length,
        landing: () => `/requests/${form.created(summary)[0]!.key}?created=1`,
      });
    });

    // A comment's claim is `comment:<request>:<write key>` (ADR 0393), apart from a raised request's.
    it(`waits on the ${from} portal's claim for a comment sent again to the ${to} portal while it writes: written once`, async () => {
      const pages = portalPages(await signedInAt(from));
      const key = requestOf('Printer on 3rd floor jams every morning').key;
      const action = `/requests/${key}/comment`;
      const detail = (await pages.text(`/requests/${key}`)).body;
      const body = `Said again while the first was writing (${from} then ${to}).`;
      const fields = { _csrf: csrfOf(detail), _write: writeKeyOf(detail, action)!, body };
      await sentAgainWhileWriting(to, {
        heldPath: `/rest/servicedeskapi/request/${key}/comment`,
        post: () => pages.post(action, fields),
        written: () => requestOf(key).comments.filter((c) => c.body.includes(body)).length,
        landing: () => `/requests/${key}?commented=1`,
      });
    });

    it(`ends at the ${to} pods a sign-out the ${from} pods sent to the IdP`, async () => {
      const browser = await signedInAt(from);
      const profile = await (await browser.request(portal('/profile'))).text();
      const out = await browser.request(portal('/logout'), { form: { _csrf: csrfOf(profile) } });
      expect(out.status).to.equal(200);
      const href = /<a id="continue" href="([^"]+)"/.exec(await out.text())![1]!;
      const toBroker = href
        .replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)))
        .replace(/&amp;/g, '&');
      const confirm = (await browser.follow(toBroker, 'never')).response!;
      const page = await confirm.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
      expect(action, `the IdP's sign-out page: ${page.slice(0, 500)}`).to.be.a('string');
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
      route('broker', to);
      route('portal', to);
      const done = await browser.follow(new URL(action!, confirm.url).href, 'never', {
        form: { xsrf, logout: 'yes' },
      });
      const landed = done.response!;
      expect(new URL(landed.url).pathname, await landed.text()).to.equal('/signed-out');
      expect(landed.url).not.to.include('partial');
      expect(await portalPage(browser), 'signed out').to.equal(303);
    });

    it(`ends at the ${to} pods, by the IdP's back-channel logout, a session the ${from} pods signed in`, async () => {
      const browser = await signedInAt(from);
      expect(await portalPage(browser), `signed in at ${from}`).to.equal(200);
      route('broker', to);
      route('portal', to);
      const delivered = new Promise<void>((resolve, reject) => {
        const failed = (_ctx: unknown, err: Error) => reject(err);
        idp.provider.once('backchannel.error', failed);
        idp.provider.once('backchannel.success', () => {
          idp.provider.off('backchannel.error', failed);
          resolve();
        });
      });
      // The IdP's own sign-out: its end_session, confirmed; it posts the logout token to the broker, which
      // ends the portal's session over SOAP.
      const endSession = `${idp.issuer}/session/end?client_id=jsm-sso`;
      const page = await (await browser.request(endSession)).text();
      const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!;
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
      await (
        await browser.request(new URL(action, endSession).href, { form: { xsrf, logout: 'yes' } })
      ).arrayBuffer();
      await delivered;
      expect(await portalPage(browser), 'the portal session is gone').to.equal(303);
    });
  }
});
