// A Redis that answers, but with an error, at the broker and the portal (ADR 0205): full (maxmemory
// reached, noeviction) is 503 FLOW_STORE_FULL; a command its ACL user lacks is 500
// FLOW_STORE_REFUSED. Each is counted under its own reason and logged with Redis's error kind and
// the command, nothing is written, and the same request goes through once Redis takes it. Before,
// both were FLOW_STORE_UNAVAILABLE, "did not answer in time". Real redis-servers of their own.
// The customer's page says which (ADR 0212): full, try again in a minute (Retry-After); refused, the
// service's operators have to fix it, no Retry-After; no Redis detail. Seen as Chromium renders it.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Browser as Chromium } from 'playwright-core';
import { RedisFlowStore } from '../../common/flowstore/index.js';
import { axeViolations } from '../../testkit/axe.js';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { launchChromium } from '../../testkit/chromium.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import {
  type Browser,
  type Harness,
  raiseRequestForm,
  shownReference,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';
import { answering } from '../../testkit/redis.js';

/** A connection that keeps every right while the test takes some from the default user. */
async function adminOf(redis: LocalRedis): Promise<Redis> {
  const setup = new Redis(redis.url);
  await setup.acl('SETUSER', 'admin', 'on', '>admin-password', '~*', '&*', '+@all');
  setup.disconnect();
  return new Redis({ port: redis.port, username: 'admin', password: 'admin-password' });
}

/** What the page tells of the store: nothing of Redis, its error kinds or the command. */
const STORE_DETAIL = /redis|\bOOM\b|maxmemory|NOPERM|\bACL\b/i;

/**
 * The page at `url` as Chromium shows it (with the cookies given): its heading, its visible text and
 * axe's violations. Opened while the store still refuses, so the page is the refusal's.
 */
async function shownInChromium(chromium: Chromium, url: string, cookies: Map<string, string> = new Map()) {
  const context = await chromium.newContext();
  try {
    await context.addCookies([...cookies].map(([name, value]) => ({ name, value, url })));
    const page = await context.newPage();
    const response = await page.goto(url);
    return {
      status: response?.status(),
      heading: await page.textContent('h1'),
      // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered is what a customer reads
      text: await page.innerText('body'),
      violations: await axeViolations(page),
    };
  } finally {
    await context.close();
  }
}

/** A refused store's page: a 500 that says the operators must act and a retry will not help, with the reference. */
function expectOperatorsMustFix(shown: Awaited<ReturnType<typeof shownInChromium>>, heading: string) {
  expect(shown).to.include({ status: 500, heading });
  expect(shown.text).to.include('a problem on the service’s side that its operators have to fix');
  expect(shown.text).to.include('Trying again will not help until they have');
  expect(shown.text).to.include('FLOW_STORE_REFUSED').and.not.match(STORE_DETAIL);
  expect(shown.violations).to.deep.equal([]);
}

describe('faults: Redis refuses a command (full, or an ACL without it)', function () {
  this.timeout(90_000);
  let chromium: Chromium;
  before(async () => {
    chromium = await launchChromium();
  });
  after(async () => chromium?.close());

  describe('at the broker (real process)', () => {
    let redis: LocalRedis;
    let admin: Redis;
    let broker: BrokerProcess;
    before(async () => {
      redis = await startLocalRedis();
      admin = await adminOf(redis);
      broker = await startBrokerProcess({ redisUrl: redis.url, drainSeconds: 0 });
      expect((await broker.signIn()).status, 'a sign-in starts').to.equal(302);
    });
    after(async () => {
      await broker?.stop();
      admin?.disconnect();
      await redis?.stop();
    });

    const errorsCounted = async (reason: string) => {
      const text = await (await fetch(`${broker.urls.management}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('jsm_sso_broker_errors_total{') && l.includes(`reason="${reason}"`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const unavailableLines = (from: number) =>
      broker.logs.slice(from).filter((l) => l['event'] === 'broker.unavailable');
    /** The process writes its log line as it answers: the test may read the answer first. */
    const firstUnavailableLine = (from: number) =>
      eventually(async () => unavailableLines(from)[0], 'the broker.unavailable line');

    it('answers 503 FLOW_STORE_FULL while Redis holds its maxmemory and evicts nothing, and signs in once it has room', async () => {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const from = broker.logs.length;
      const keysBefore = await admin.dbsize();
      try {
        const res = await broker.signIn();
        expect(res.status).to.equal(503);
        expect(res.headers.get('retry-after'), 'room comes back as entries expire').to.equal('60');
        const page = await res.text();
        expect(page).to.include('Sign-in is busy').and.include('try again in a minute');
        expect(page).to.include('<code>FLOW_STORE_FULL</code>').and.not.match(STORE_DETAIL);
        expect(await firstUnavailableLine(from)).to.include({
          reason: 'FLOW_STORE_FULL',
          status: 503,
          redisError: 'OOM',
        });
        expect(unavailableLines(from)).to.have.length(1);
        expect(await errorsCounted('FLOW_STORE_FULL')).to.equal(1);
        expect(await admin.dbsize(), 'no flow written').to.equal(keysBefore);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      expect((await broker.signIn()).status).to.equal(302);
    });

    it('answers 500 FLOW_STORE_REFUSED when its ACL user may not write, naming NOPERM and the command', async () => {
      await admin.acl('SETUSER', 'default', '-set');
      const from = broker.logs.length;
      try {
        const res = await broker.signIn();
        expect(res.status).to.equal(500);
        expect(res.headers.get('retry-after'), 'no retry helps').to.equal(null);
        expect(await firstUnavailableLine(from)).to.include({
          reason: 'FLOW_STORE_REFUSED',
          status: 500,
          redisError: 'NOPERM',
          command: 'set',
        });
        expect(await errorsCounted('FLOW_STORE_REFUSED')).to.equal(1);
        expect(await errorsCounted('FLOW_STORE_UNAVAILABLE')).to.equal(0);
        const shown = await shownInChromium(chromium, `${broker.urls.broker}${await broker.signInPath()}`);
        expectOperatorsMustFix(shown, 'Sign-in is unavailable');
        expect(shown.text).to.not.include('try again in a few moments');
      } finally {
        await admin.acl('SETUSER', 'default', '+set');
      }
      expect((await broker.signIn()).status).to.equal(302);
    });
  });

  describe('at the portal, as a request is raised', () => {
    let redis: LocalRedis;
    let admin: Redis;
    let h: Harness;
    let alice: Browser;
    before(async () => {
      redis = await startLocalRedis();
      admin = await adminOf(redis);
      h = await startHarness({ store: await answering(RedisFlowStore.connect(redis.url, 'acme-refusals')) });
      alice = await signIn(h, 'alice@acme.test');
    });
    after(async () => {
      await h?.close();
      admin?.disconnect();
      await redis?.stop();
    });

    const errorsCounted = async (reason: string) => {
      const metric = await h.registry.getSingleMetric('jsm_sso_portal_errors_total')?.get();
      return metric?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
    };

    it('answers 503 FLOW_STORE_FULL, sends nothing to Atlassian, and raises the request once when sent again', async () => {
      const form = raiseRequestForm(h, alice, 'Get IT help');
      const fields = { ...(await form.fresh()), f_summary: 'Sent while Redis is full' };
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const from = h.logs.length;
      try {
        const res = await form.post(fields);
        expect(res.status, await res.clone().text()).to.equal(503);
        expect(res.headers.get('retry-after'), 'room comes back as entries expire').to.equal('60');
        const page = await res.text();
        expect(page).to.include('please try again in a minute').and.not.match(STORE_DETAIL);
        const line = h.logs.slice(from).find((l) => l['event'] === 'portal.error');
        expect(line).to.include({ reason: 'FLOW_STORE_FULL', redisError: 'OOM' });
        expect(shownReference(page)).to.deep.equal({ reason: 'FLOW_STORE_FULL', id: line?.['reference'] });
        expect(await errorsCounted('FLOW_STORE_FULL')).to.equal(1);
        expect(form.created('Sent while Redis is full'), 'nothing created').to.have.length(0);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      const again = await form.post(fields);
      expect(again.status, await again.clone().text()).to.equal(303);
      expect(form.created('Sent while Redis is full'), 'created once').to.have.length(1);
    });

    it('answers 500 FLOW_STORE_REFUSED when its ACL user lacks a command, naming NOPERM and the command', async () => {
      await admin.acl('SETUSER', 'default', '-get');
      const from = h.logs.length;
      try {
        const { status, res } = await alice.text('/');
        expect(status).to.equal(500);
        expect(res.headers.get('retry-after'), 'no retry helps').to.equal(null);
        const line = h.logs.slice(from).find((l) => l['event'] === 'portal.error');
        expect(line).to.include({ reason: 'FLOW_STORE_REFUSED', redisError: 'NOPERM', command: 'get' });
        expect(await errorsCounted('FLOW_STORE_REFUSED')).to.equal(1);
        const shown = await shownInChromium(chromium, `${h.url}/`, alice.cookies);
        expectOperatorsMustFix(shown, 'Something went wrong');
        expect(shown.text).to.not.include('Please try again later');
      } finally {
        await admin.acl('SETUSER', 'default', '+get');
      }
      expect((await alice.text('/')).status).to.equal(200);
    });
  });
});
