// Portals of several tenants in one process, each against its own real JSM emulator: first two
// dedicated portals sharing nothing but the event loop, then a pool of three tenants behind one
// handler. Tenant A's Atlassian site stalls: A's customers get a quick, stable answer
// (ATLASSIAN_BUSY or ATLASSIAN_TIMEOUT), A's site never sees more than A's limit of calls at once,
// and the other tenants go on being served meanwhile.
import type { RequestListener } from 'node:http';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { createPortalApp } from '../../portal/app.js';
import { listenOnLoopbacks, MemoryTenantSource } from '../../testkit/pool.js';
import {
  type Browser,
  type Harness,
  reasons,
  signIn,
  signInAt,
  startHarness,
} from '../../testkit/portal-harness.js';
import {
  brokerCertificatesOf,
  type PortalTenant,
  portalPoolBundles,
  portalPoolTenants,
  removePortalPoolTenants,
} from '../../testkit/portal-pool-tenants.js';

const LIMITS = { maxConcurrentCalls: 2, callsPerSecond: 100 };
const STALLED_TIMEOUT_MS = 4_000;
const WAIT_BOUND_MS = 300;
// No retry after a timeout here, so each stalled customer request ends after one timeout.
const TRANSPORT = { timeoutMs: STALLED_TIMEOUT_MS, maxRetries: 0, limits: { maxWaitMs: WAIT_BOUND_MS } };
const PAGE = '/requests?status=all';
const STALLED_REQUESTS = 8;

/** One tenant as the scenario sees it: its site, a signed-in customer, its logs and its metrics. */
interface TenantUnderTest {
  /** Its calls counted as `busy` in jsm_sso_portal_atlassian_calls_total (a per-tenant series, pooled too). */
  busyCalls(): Promise<number>;
  emulator: RunningJsmEmulator;
  alice: Browser;
  logged(): Record<string, unknown>[];
}

/**
 * Stalls `stalled`'s site, sends its customer STALLED_REQUESTS pages at once, and checks that
 * `others` are served meanwhile and that every stalled request ends with a stable reason.
 */
async function stalledSiteScenario(stalled: TenantUnderTest, others: TenantUnderTest[]): Promise<void> {
  const from = stalled.logged().length;
  const othersFrom = others.map((o) => o.logged().length);
  const busyBefore = await stalled.busyCalls();
  // Longer than the timeout: A's site accepts each call and never answers in time.
  stalled.emulator.faults.set({ delayMs: STALLED_TIMEOUT_MS * 2 });
  const requests = Array.from({ length: STALLED_REQUESTS }, async () => {
    const started = performance.now();
    const res = await stalled.alice.fetch(PAGE);
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: await res.text(),
      ms: performance.now() - started,
    };
  });
  // The statuses in the order the answers came: the order, not a bound in ms, says what came first.
  const settledStatuses: number[] = [];
  let mostAnswered!: () => void;
  const mostAnsweredNow = new Promise<void>((resolve) => (mostAnswered = resolve));
  for (const p of requests)
    void p.then(({ status }) => {
      settledStatuses.push(status);
      // A page may hold both of A's slots (it searches and counts at once), so one or two customer
      // requests wait on A's site; every other one is answered once the wait bound passes.
      if (settledStatuses.length === STALLED_REQUESTS - LIMITS.maxConcurrentCalls) mostAnswered();
    });
  await mostAnsweredNow;
  expect(settledStatuses, 'customers beyond A’s limit answered before A’s timeout').to.not.include(502);
  expect(stalled.emulator.faults.hits(), 'calls that reached A’s site: exactly its limit').to.deep.equal([
    LIMITS.maxConcurrentCalls,
  ]);

  // The other tenants are served meanwhile, at their own pace, while A's calls still hang.
  for (let i = 0; i < 3; i++) {
    for (const other of others) {
      const res = await other.alice.fetch(PAGE);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('Laptop screen flickers');
    }
  }
  expect(settledStatuses.length, 'A’s requests holding its slots are still waiting on A’s site').to.be.below(
    STALLED_REQUESTS,
  );

  const answers = await Promise.all(requests);
  const busy = answers.filter((r) => r.status === 503);
  const timedOut = answers.filter((r) => r.status === 502);
  expect(busy.length + timedOut.length, JSON.stringify(answers.map((r) => r.status))).to.equal(
    STALLED_REQUESTS,
  );
  expect(timedOut.length).to.be.within(1, LIMITS.maxConcurrentCalls);
  // Every busy answer came before A's timeout ended any request: soon after the wait bound.
  expect(settledStatuses.indexOf(502), 'busy answers before the first timeout').to.equal(busy.length);
  for (const r of busy) {
    expect(r.retryAfter).to.equal('5');
    expect(r.body).to.include('The help center is busy right now. Please try again in 5 seconds.');
  }
  for (const r of timedOut) {
    expect(r.body).to.include('took too long');
    expect(r.ms).to.be.at.least(STALLED_TIMEOUT_MS - 50);
  }
  // Each answer logged with its stable reason; nothing of it in the other tenants' logs.
  const logged = reasonsIn(stalled.logged().slice(from));
  expect(logged.filter((r) => r === 'ATLASSIAN_BUSY')).to.have.length(busy.length);
  expect(logged.filter((r) => r === 'ATLASSIAN_TIMEOUT')).to.have.length(timedOut.length);
  others.forEach((other, i) => {
    expect(reasonsIn(other.logged().slice(othersFrom[i]))).to.deep.equal([]);
  });
  // Counted under A alone: every busy page, and any busy call a page could do without.
  expect((await stalled.busyCalls()) - busyBefore).to.be.at.least(busy.length);
  for (const other of others) expect(await other.busyCalls()).to.equal(0);
  stalled.emulator.faults.clear();
  // And the stalled tenant is served again as soon as its site answers.
  expect((await stalled.alice.fetch(PAGE)).status).to.equal(200);
}

/** Busy calls counted in `registry`, for `tenant` or for every tenant in it. */
async function busyCallsOf(registry: Registry, tenant?: string): Promise<number> {
  const metric = await registry.getSingleMetric('jsm_sso_portal_atlassian_calls_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels['status'] === 'busy' && (tenant === undefined || v.labels['tenant'] === tenant))
    .reduce((sum, v) => sum + v.value, 0);
}

const reasonsIn = (lines: Record<string, unknown>[]) =>
  lines.flatMap((l) => (typeof l['reason'] === 'string' ? [l['reason']] : []));

describe('portal bulkheads: one tenant’s stalled Atlassian site does not hold up another tenant', () => {
  describe('two dedicated portals in one process', () => {
    let a: Harness;
    let b: Harness;
    const underTest = async (h: Harness): Promise<TenantUnderTest> => {
      const alice = await signIn(h, 'alice@acme.test');
      // Warm: the catalogue is cached, so each page below needs only its per-customer calls.
      expect((await alice.fetch(PAGE)).status).to.equal(200);
      return {
        emulator: h.emulator,
        alice,
        logged: () => h.logs,
        // Each harness has a registry of its own.
        busyCalls: () => busyCallsOf(h.registry),
      };
    };
    before(async () => {
      const options = { atlassian: { limits: LIMITS }, transport: TRANSPORT };
      [a, b] = await Promise.all([startHarness(options), startHarness(options)]);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('answers the stalled tenant’s customers with ATLASSIAN_BUSY or ATLASSIAN_TIMEOUT while the other is served', async () => {
      await stalledSiteScenario(await underTest(a), [await underTest(b)]);
      expect(reasons(b)).to.not.include('ATLASSIAN_BUSY');
    });
  });

  describe('a pool of three tenants behind one handler', () => {
    const logs: Record<string, unknown>[] = [];
    const emulators: RunningJsmEmulator[] = [];
    let tenants: PortalTenant[];
    let front: Awaited<ReturnType<typeof listenOnLoopbacks>>;
    let running: RunningPool;
    const store = new MemoryFlowStore();
    const registry = createMetricsRegistry();

    before(async () => {
      let handler: RequestListener = (_req, res) => res.writeHead(503).end();
      front = await listenOnLoopbacks((req, res) => handler(req, res), 3);
      // A site of its own for each tenant, so that one alone can stall.
      emulators.push(...(await Promise.all(front.urls.map(() => startJsmEmulator({})))));
      tenants = portalPoolTenants(
        front.urls,
        emulators.map((e) => e.url),
        'bulkhead',
        { limits: LIMITS },
      );
      const brokerCertificates = brokerCertificatesOf(tenants);
      running = await startPool({
        part: 'portal',
        build: (context) =>
          createPortalApp(context, {
            brokerCertificatesPem: brokerCertificates.get(context.tenantId)!,
            atlassian: TRANSPORT,
          }),
        source: new MemoryTenantSource(portalPoolBundles(tenants)),
        store,
        registry,
        logger: createLogger({
          component: 'portal',
          level: 'info',
          destination: {
            write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
          },
        }),
      });
      handler = running.handler;
    });
    after(async () => {
      await running?.close();
      await front?.close();
      await store.close();
      await Promise.all(emulators.map((e) => e.close()));
      removePortalPoolTenants(tenants);
    });

    it('answers the stalled tenant’s customers with ATLASSIAN_BUSY or ATLASSIAN_TIMEOUT while the two others are served', async () => {
      const underTest = await Promise.all(
        tenants.map(async ({ name, url, brokerKey }, i): Promise<TenantUnderTest> => {
          const alice = await signInAt(url, brokerKey, 'alice@acme.test');
          expect((await alice.fetch(PAGE)).status).to.equal(200);
          return {
            emulator: emulators[i]!,
            alice,
            logged: () => logs.filter((l) => l['tenant'] === name),
            busyCalls: () => busyCallsOf(registry, name),
          };
        }),
      );
      await stalledSiteScenario(underTest[0]!, underTest.slice(1));
    });
  });
});
