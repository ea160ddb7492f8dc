import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SecretDirectory } from '../../common/config/secrets.js';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import { Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  type RunningPortalPool,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';

/**
 * A pool process's CPU and memory are every tenant's (ADR 0223): one tenant may have
 * `maxInFlightPerTenant` requests under way at once in it; past that its requests are answered at
 * once (503, Retry-After), and the pool's other tenants are served meanwhile.
 */
describe("a portal pool: one tenant's requests under way at once are bounded (ADR 0223)", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger, logs } = capturedLogger({ component: 'portal' });
  const registry = createMetricsRegistry();
  const store = createPoolFlowStore(undefined);
  let pool: RunningPortalPool;

  before(async () => {
    pool = await startPortalPool(2, run, { store, registry, logger, maxInFlightPerTenant: 2 });
  });

  after(async () => {
    await pool?.close();
    await store.close();
  });

  it("answers A's third request at once while two wait on its Atlassian site, serves B meanwhile, and A again once one ends", async () => {
    const [a, b] = pool.tenants as [PortalTenant, PortalTenant];
    const alice = await signInAt(a.url, a.brokerKey, 'alice@acme.test');
    // A's site answers the next two searches after 2 s: My requests searches once a page, so two
    // of A's pages wait on it, each until its own search is answered.
    pool.emulator.faults.set({ pathPrefix: '/rest/api/3/search/jql', delayMs: 2_000, times: 2 });
    const waiting = [alice.fetch('/requests?status=all'), alice.fetch('/requests?status=all')];
    await eventually(async () => pool.emulator.faults.hits()[0] === 2, "both pages' searches at Atlassian");
    const from = logs.length;
    const busy = await alice.fetch('/requests?status=all');
    expect(busy.status).to.equal(503);
    expect(busy.headers.get('retry-after')).to.equal('1');
    expect(await busy.text()).to.contain('POOL_TENANT_BUSY');
    expect(
      logs
        .slice(from)
        .filter((l) => l['reason'] === 'POOL_TENANT_BUSY')
        .map((l) => l['tenant']),
    ).to.deep.equal([a.name]);
    expect(await registry.metrics()).to.contain(
      `jsm_sso_pool_tenant_busy_refusals_total{tenant="${a.name}"} 1`,
    );
    // B, on the same process at the same moment.
    expect((await new Browser(b.url).fetch('/login')).status).to.equal(303);
    for (const page of await Promise.all(waiting)) expect(page.status).to.equal(200);
    expect((await alice.fetch('/requests?status=all')).status, 'A once its pages ended').to.equal(200);
  });

  // Counted per tenant, not per member: a changed bundle (an edit of its spec, a rotated Secret) makes a
  // new member while the old one's requests go on; each change gave another full bound (ADR 0229).
  it("keeps A at 2 requests under way while A's bundle changes twice", async () => {
    const [a] = pool.tenants as [PortalTenant, PortalTenant];
    const alice = await signInAt(a.url, a.brokerKey, 'alice@acme.test');
    pool.emulator.faults.set({ pathPrefix: '/rest/api/3/search/jql', delayMs: 3_000, times: 6 });
    const waiting = [alice.fetch('/requests?status=all'), alice.fetch('/requests?status=all')];
    await eventually(
      async () => pool.emulator.faults.hits()[0] === 2,
      'two of A’s pages waiting on its site',
    );
    const afterEdits: Promise<Response>[] = [];
    for (let i = 1; i <= 2; i++) {
      const tenant = structuredClone(a.tenant);
      (tenant.spec.portal as { title?: string }).title = `Help Center A, edit ${i}`;
      pool.running.pool.upsert({ key: a.name, tenant, secrets: new SecretDirectory(a.secretsDir) });
      afterEdits.push(alice.fetch('/requests?status=all'), alice.fetch('/requests?status=all'));
    }
    const refused = (await Promise.all(afterEdits)).map((r) => r.status);
    expect(refused, 'A’s pages after the edits, while two are under way').to.deep.equal([503, 503, 503, 503]);
    expect(pool.emulator.faults.hits()[0], 'A’s pages that reached its site').to.equal(2);
    expect((await Promise.all(waiting)).map((r) => r.status)).to.deep.equal([200, 200]);
  });
});
