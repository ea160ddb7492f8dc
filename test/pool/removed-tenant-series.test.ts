import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { within } from '../../testkit/pool.js';
import { signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  type RecordedPart,
  type RunningPortalPool,
  recordingBuild,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';

/** How long a retired part is kept once its requests have ended (the pool's grace, shortened). */
const RETIRE_MS = 100;

/**
 * ADR 0367: a pool process keeps a few series per tenant (its sign-ins, its Atlassian calls, its
 * refusals; ADR 0101). Tenants come and go while the process runs for weeks: a removed tenant's
 * series stayed in the registry, and in every scrape, until the process restarted, so the series grew
 * with every tenant the pool had ever served, and a tenant gone from the pool was still named in it.
 */
describe("portal pool: a removed tenant's series leave the process's metrics", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'portal' });
  const store = createPoolFlowStore(undefined);
  const registry = createMetricsRegistry();
  let pool: RunningPortalPool;
  /** Each part built, in order, with whether its close has begun. */
  const parts: RecordedPart[] = [];
  /** A part's close waits for this: the test looks at the metrics between its start and its end. */
  let closesGo = () => {};
  const closesMayGo = new Promise<void>((resolve) => (closesGo = resolve));

  before(async () => {
    pool = await startPortalPool(2, run, { store, registry, logger, retireAfterMs: RETIRE_MS }, (build) =>
      recordingBuild(build, parts, closesMayGo),
    );
  });

  after(async () => {
    closesGo();
    await pool?.close();
    await store.close();
  });

  /** The exposition lines naming `tenant` in a `tenant` label. */
  const seriesOf = async (tenant: string) =>
    (await registry.metrics()).split('\n').filter((line) => line.includes(`tenant="${tenant}"`));
  /** The series of `tenant`, without their values (a scrape's own metrics move). */
  const seriesNamesOf = async (tenant: string) => (await seriesOf(tenant)).map((line) => line.split(' ')[0]);

  it("drops A's series when A is removed, and again once the request A had in flight has ended; B's stay", async () => {
    const { emulator, source } = pool;
    const [a, b] = pool.tenants as [PortalTenant, PortalTenant];
    const atA = await signInAt(a.url, a.brokerKey, 'alice@acme.test');
    await signInAt(b.url, b.brokerKey, 'alice@acme.test');
    expect(await seriesOf(a.name), "A's series while it is served").not.to.deep.equal([]);
    const ofB = await seriesNamesOf(b.name);
    expect(ofB, "B's series").not.to.deep.equal([]);

    // A customer of A opens her requests; Atlassian holds every call (the page makes some at once)
    // until the test lets them go, so nothing of A's is counted until then.
    let release = () => {};
    emulator.faults.add({ heldUntil: new Promise<void>((resolve) => (release = resolve)) });
    const page = atA.fetch('/requests');
    await within(20_000, async () => (emulator.faults.hits()[0]! > 0 ? true : undefined));

    source.remove(a.name);
    await within(20_000, async () => ((await seriesOf(a.name)).length === 0 ? true : undefined));

    // Her page ends on A's retiring part, its Atlassian call counted under A after A left.
    release();
    expect((await page).status, 'the page A was serving when it left').to.equal(200);
    const aPart = parts.find((p) => p.tenant === a.name)!;
    await within(20_000, async () => (aPart.closing ? true : undefined));
    expect((await seriesOf(a.name)).join('\n'), "A's series while its last part closes").to.match(
      /^jsm_sso_portal_atlassian_calls_total\{tenant="portal-a-[^"]+",status="200"\} \d+$/,
    );
    closesGo();
    await within(20_000, async () => ((await seriesOf(a.name)).length === 0 ? true : undefined));
    expect(await seriesNamesOf(b.name), "B's series").to.deep.equal(ofB);
  });
});
