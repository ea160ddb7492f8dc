// Two tenants' portals in one process, sharing nothing but the event loop (as in a pool), each
// against its own real JSM emulator. Tenant A's Atlassian site stalls: A's customers get a quick,
// stable answer (ATLASSIAN_BUSY or ATLASSIAN_TIMEOUT), A's site never sees more than A's limit of
// calls at once, and tenant B goes on being served meanwhile.
import { expect } from 'chai';
import {
  type Browser,
  type Harness,
  reasons,
  refusalCount,
  signIn,
  startHarness,
} from '../../testkit/portal-harness.js';

const LIMITS = { maxConcurrentCalls: 2, callsPerSecond: 100 };
const STALLED_TIMEOUT_MS = 4_000;
const WAIT_BOUND_MS = 300;
const PAGE = '/requests?status=all';

describe('portal bulkheads: one tenant’s stalled Atlassian site does not hold up another tenant', () => {
  let a: Harness;
  let b: Harness;
  let aliceAtA: Browser;
  let aliceAtB: Browser;
  before(async () => {
    const options = {
      atlassian: { limits: LIMITS },
      // No retry after a timeout here, so each stalled customer request ends after one timeout.
      transport: { timeoutMs: STALLED_TIMEOUT_MS, maxRetries: 0, limits: { maxWaitMs: WAIT_BOUND_MS } },
    };
    [a, b] = await Promise.all([startHarness(options), startHarness(options)]);
    [aliceAtA, aliceAtB] = await Promise.all([signIn(a, 'alice@acme.test'), signIn(b, 'alice@acme.test')]);
    // Warm both (the catalogue is cached), so each page below needs only its per-customer calls.
    for (const browser of [aliceAtA, aliceAtB]) expect((await browser.fetch(PAGE)).status).to.equal(200);
  });
  after(async () => {
    a?.emulator.faults.clear();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('answers the stalled tenant’s customers with 503 ATLASSIAN_BUSY or ATLASSIAN_TIMEOUT while the other tenant serves', async () => {
    const from = a.logs.length;
    // Longer than the timeout: A's site accepts each call and never answers in time.
    a.emulator.faults.set({ delayMs: STALLED_TIMEOUT_MS * 2 });
    const stalled = Array.from({ length: 8 }, async () => {
      const started = performance.now();
      const res = await aliceAtA.fetch(PAGE);
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: await res.text(),
        ms: performance.now() - started,
      };
    });
    let stalledSettled = 0;
    for (const p of stalled) void p.then(() => stalledSettled++);
    // A page may hold both of A's slots (it searches and counts at once), so one or two customer
    // requests wait on A's site; every other one is answered once the wait bound passes.
    const mostAnswered = async () => {
      while (stalledSettled < 8 - LIMITS.maxConcurrentCalls)
        await new Promise((resolve) => setTimeout(resolve, 20));
      return 'answered';
    };
    const early = await Promise.race([
      mostAnswered(),
      new Promise((resolve) => setTimeout(resolve, STALLED_TIMEOUT_MS - 500, 'still waiting')),
    ]);
    expect(early, 'customers beyond A’s limit answered before A’s timeout').to.equal('answered');
    expect(a.emulator.faults.hits(), 'calls that reached A’s site: exactly its limit').to.deep.equal([
      LIMITS.maxConcurrentCalls,
    ]);

    // Tenant B is served meanwhile, at its own pace, while A's calls still hang.
    for (let i = 0; i < 5; i++) {
      const res = await aliceAtB.fetch(PAGE);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('Laptop screen flickers');
    }
    expect(stalledSettled, 'A’s requests holding its slots are still waiting on A’s site').to.be.below(8);

    const answers = await Promise.all(stalled);
    const busy = answers.filter((r) => r.status === 503);
    const timedOut = answers.filter((r) => r.status === 502);
    expect(busy.length + timedOut.length, JSON.stringify(answers.map((r) => r.status))).to.equal(8);
    expect(timedOut.length).to.be.within(1, LIMITS.maxConcurrentCalls);
    for (const r of busy) {
      expect(r.retryAfter).to.equal('5');
      expect(r.body).to.include('The help center is busy right now. Please try again in 5 seconds.');
      expect(r.ms, 'a busy answer comes soon after the wait bound').to.be.below(STALLED_TIMEOUT_MS);
    }
    for (const r of timedOut) {
      expect(r.body).to.include('took too long');
      expect(r.ms).to.be.at.least(STALLED_TIMEOUT_MS - 50);
    }
    // Each answer logged with its stable reason, and counted.
    const logged = reasons(a, from);
    expect(logged.filter((r) => r === 'ATLASSIAN_BUSY')).to.have.length(busy.length);
    expect(logged.filter((r) => r === 'ATLASSIAN_TIMEOUT')).to.have.length(timedOut.length);
    expect(await refusalCount(a, 'ATLASSIAN_BUSY')).to.equal(busy.length);
    expect(await refusalCount(b, 'ATLASSIAN_BUSY')).to.equal(0);
    expect(reasons(b)).to.not.include('ATLASSIAN_BUSY');
  });

  it('serves the stalled tenant again as soon as its site answers', async () => {
    a.emulator.faults.clear();
    const res = await aliceAtA.fetch(PAGE);
    expect(res.status).to.equal(200);
  });
});
