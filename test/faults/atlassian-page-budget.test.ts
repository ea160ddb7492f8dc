// An Atlassian site slow but answering: every call answered just within its own deadline. A page
// makes its calls in rounds one after another, so before ADR 0185 such a site held a page for
// several deadlines (the request page 4 rounds, a first sign-in 6 calls), past what a balancer
// waits. Now the page's Atlassian work ends within one budget: the page answers 502
// ATLASSIAN_PAGE_TIMEOUT in the customer's language, having made fewer calls; a fetch shared
// between pages is not failed by one page's budget; and a write keeps its own budget.
import { expect } from 'chai';
import { createTranslator } from '../../common/i18n/index.js';
import { createTlsFetch, type TlsFetch } from '../../common/tls/index.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../../dev/tenant.js';
import { AtlassianClient } from '../../portal/atlassian/client.js';
import type { AtlassianError } from '../../portal/atlassian/errors.js';
import { withinPage } from '../../portal/atlassian/page-budget.js';
import { Catalogue } from '../../portal/catalogue.js';
import {
  attemptSignIn,
  type Browser,
  csrfOf,
  type Harness,
  reasons,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

const german = createTranslator({ locale: 'de', timeZone: 'UTC' });
/** Each call's own deadline; the site answers every call in 80 % of it. */
const TIMEOUT_MS = 1000;
const DELAY_MS = 800;
/** Two slow rounds of calls do not fit in it; without it the pages below take four or more. */
const PAGE_BUDGET_MS = 2000;

describe('faults: an Atlassian site answering each call just within its deadline', function () {
  this.timeout(60_000);

  describe('a page', () => {
    let h: Harness;
    let alice: Browser;
    before(async () => {
      h = await startHarness({
        transport: { timeoutMs: TIMEOUT_MS, pageBudgetMs: PAGE_BUDGET_MS },
        // Nothing cached between pages: each page makes all of its rounds.
        catalogueTtlMs: 1,
      });
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    });
    afterEach(() => h.emulator.faults.clear());
    after(() => h?.close());

    /** The calls a page makes when Atlassian is quick, then that page with every call slow. */
    async function quickThenSlow(send: () => Promise<Response>) {
      let from = h.exchanges.length;
      const quick = await send();
      expect(quick.status, 'the page with a quick site').to.be.oneOf([200, 303]);
      const quickCalls = h.exchanges.length - from;
      h.emulator.faults.set({ delayMs: DELAY_MS });
      from = h.exchanges.length;
      const logsFrom = h.logs.length;
      const slow = await send();
      return { quickCalls, slow, slowCalls: h.exchanges.length - from, reasons: reasons(h, logsFrom) };
    }

    it('answers the request page 502 ATLASSIAN_PAGE_TIMEOUT in German at its budget, having made fewer calls', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const page = await quickThenSlow(() =>
        alice.fetch(`/requests/${key}`, { headers: { 'accept-language': 'de' } }),
      );
      expect(page.slow.status).to.equal(502);
      expect(await page.slow.text()).to.contain(german.t('refusal.atlassianTimeout'));
      expect(page.reasons).to.include('ATLASSIAN_PAGE_TIMEOUT');
      expect(page.reasons).not.to.include('ATLASSIAN_TIMEOUT');
      expect(page.slowCalls, 'calls answered for the slow page').to.be.below(page.quickCalls);
    });

    it('answers a first sign-in 502 ATLASSIAN_PAGE_TIMEOUT at its budget, having made fewer calls', async () => {
      let n = 0;
      const page = await quickThenSlow(() =>
        attemptSignIn(h, `newcomer${++n}@acme.test`, { displayName: `Newcomer ${n}` }),
      );
      expect(page.slow.status).to.equal(502);
      expect(page.reasons).to.include('ATLASSIAN_PAGE_TIMEOUT');
      expect(page.slowCalls, 'calls answered for the slow sign-in').to.be.below(page.quickCalls);
    });
  });

  describe('a write', () => {
    let h: Harness;
    let alice: Browser;
    before(async () => {
      // The page's budget shorter than one call's deadline: a write held by it would be cut.
      h = await startHarness({ transport: { timeoutMs: 3000, pageBudgetMs: 1000 } });
      alice = await signIn(h, 'alice@acme.test', { displayName: 'Alice Anders' });
    });
    afterEach(() => h.emulator.faults.clear());
    after(() => h?.close());

    it('keeps its own budget: a comment Atlassian takes longer than the page budget to write is written once', async () => {
      const key = h.keyOf('Printer on 3rd floor jams every morning');
      const detail = (await alice.text(`/requests/${key}`)).body;
      const action = `/requests/${key}/comment`;
      const write = /name="_write" value="(jsmsso[0-9a-f]{24})"/.exec(
        detail.slice(detail.indexOf(`action="${action}"`)),
      )![1]!;
      h.emulator.faults.set({
        delayMs: 1500,
        pathPrefix: `/rest/servicedeskapi/request/${key}/comment`,
        method: 'POST',
      });
      const from = h.logs.length;
      const answer = await alice.post(action, {
        _csrf: csrfOf(detail),
        _write: write,
        body: 'Slow but sure.',
      });
      expect(answer.status, 'the comment post').to.equal(303);
      expect(h.emulator.faults.hits(), 'comment writes Atlassian received').to.deep.equal([1]);
      const request = [...h.emulator.state.requests.values()].find((r) => r.key === key)!;
      expect(request.comments.filter((c) => c.body.includes('Slow but sure.'))).to.have.length(1);
      expect(reasons(h, from)).not.to.include('ATLASSIAN_PAGE_TIMEOUT');
    });
  });

  describe('a fetch shared between pages', () => {
    let emulator: RunningJsmEmulator;
    let fetch: TlsFetch;
    let client: AtlassianClient;
    before(async () => {
      emulator = await startJsmEmulator({});
      fetch = createTlsFetch({ maxResponseBytes: 8 * 1024 * 1024 });
      client = new AtlassianClient({
        siteUrl: emulator.url,
        ...SERVICE_ACCOUNT,
        timeoutMs: 10_000,
        fetch,
      });
    });
    afterEach(() => emulator.faults.clear());
    after(async () => {
      await fetch.close();
      await emulator.close();
    });

    /**
     * Page A, with little budget, starts the shared fetch (Atlassian takes a second for it); page B,
     * with plenty, waits for the same fetch. A gives up at its deadline; B gets the answer.
     */
    async function twoPages<T>(pathPrefix: string, fetchShared: () => Promise<T>) {
      emulator.faults.set({ delayMs: 1000, pathPrefix });
      const a = withinPage(200, fetchShared).then(
        () => 'answered',
        (err: AtlassianError) => err.code,
      );
      const b = withinPage(20_000, fetchShared);
      expect(await a, 'page A').to.equal('ATLASSIAN_PAGE_TIMEOUT');
      const value = await b;
      expect(emulator.faults.hits(), 'calls Atlassian received').to.deep.equal([1]);
      return value;
    }

    it("the catalogue's desks: a second page gets them though the page that asked first ran out of budget", async () => {
      const catalogue = new Catalogue(client, undefined, 60_000);
      const desks = await twoPages('/rest/servicedeskapi/servicedesk', () => catalogue.desks());
      expect(desks.map((d) => d.id)).to.include('1');
    });

    it("the service account's id: a second page gets it though the page that asked first ran out of budget", async () => {
      const id = await twoPages('/rest/api/3/myself', () => client.serviceAccountId());
      expect(id).to.be.a('string').and.not.equal('');
    });
  });
});
