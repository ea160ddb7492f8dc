import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MemoryFlowStore, POOL_MEMORY_STORE_SHARES } from '../../common/flowstore/index.js';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { registerPoolMemoryStoreMetrics } from '../../common/pool/memory-store-metrics.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { listenOnLoopbacks, type MemoryTenantSource } from '../../testkit/pool.js';
import { Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolOf,
  portalPoolTenants,
  removePortalPoolTenants,
} from '../../testkit/portal-pool-tenants.js';

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'stored',
    (e: unknown) => (e as { code?: string }).code,
  );

describe("a pool's memory flow store: each tenant's share (ADR 0197)", () => {
  it("keeps each tenant's reserve when others have filled the room they share, and caps each tenant", async () => {
    let now = 1_000_000;
    const store = new MemoryFlowStore({
      now: () => now,
      tenantShares: { reservedPerTenant: 2, shared: 4, mostPerTenant: 5 },
    });
    const [a, b, c] = ['a', 'b', 'c'].map((t) => store.view(t)) as [
      ReturnType<MemoryFlowStore['view']>,
      ReturnType<MemoryFlowStore['view']>,
      ReturnType<MemoryFlowStore['view']>,
    ];
    try {
      // A: its 2 reserved, then 3 of the shared 4: its ceiling.
      for (const key of ['1', '2', '3', '5']) await a.put(key, 'a', 60);
      await a.put('4', 'a', 600);
      expect(await codeOf(a.put('6', 'a', 60))).to.equal('FLOW_STORE_TENANT_FULL');
      expect(await codeOf(a.putIfAbsent('6', 'a', 60))).to.equal('FLOW_STORE_TENANT_FULL');
      await a.put('1', 'again', 60); // replacing a key needs no room
      // B takes the rest of the shared room; then only its reserve is left to it...
      for (const key of ['1', '2', '3']) await b.put(key, 'b', 60);
      expect(await codeOf(b.put('4', 'b', 60))).to.equal('FLOW_STORE_FULL');
      // ...and C, arriving last, still has all of its own.
      await c.put('1', 'c', 60);
      await c.put('2', 'c', 60);
      expect(await codeOf(c.put('3', 'c', 60))).to.equal('FLOW_STORE_FULL');
      expect(await a.get('4')).to.equal('a');
      // What expires or is taken gives its room back, to whoever needs it next.
      expect(await b.take('3')).to.equal('b');
      await c.put('3', 'c', 60);
      now += 61_000;
      for (const key of ['5', '6', '7']) await b.put(key, 'b', 60);
      expect(store.refusals.get('a')?.get('FLOW_STORE_TENANT_FULL')).to.equal(2);
      expect(store.refusals.get('b')?.get('FLOW_STORE_FULL')).to.equal(1);
    } finally {
      await store.close();
    }
  });

  it("keeps a dedicated part's store as it was: one cap, FLOW_STORE_FULL", async () => {
    const store = new MemoryFlowStore({ maxEntries: 2 });
    try {
      await store.put('a', '1', 60);
      await store.put('b', '1', 60);
      expect(await codeOf(store.put('c', '1', 60))).to.equal('FLOW_STORE_FULL');
    } finally {
      await store.close();
    }
  });
});

describe('a portal pool without Redis: one tenant flooded, another still signs in (ADR 0197)', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const registry = createMetricsRegistry();
  const { logger, logs } = capturedLogger({ component: 'portal' });
  // What `jsm-sso portal --pool` opens without --redis-url, with its metrics.
  const store = createPoolFlowStore(undefined) as MemoryFlowStore;
  registerPoolMemoryStoreMetrics(registry, store);
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let emulator: RunningJsmEmulator;
  let running: RunningPool;
  let tenants: PortalTenant[];
  let source: MemoryTenantSource;

  before(async () => {
    servers = await listenOnLoopbacks((req, res) => running.handler(req, res), 2);
    emulator = await startJsmEmulator({});
    tenants = portalPoolTenants(servers.urls, emulator.url, run);
    const pool = portalPoolOf(tenants);
    source = pool.source;
    running = await startPool({
      ...pool,
      store,
      registry,
      logger,
    });
  });

  after(async () => {
    await running?.close();
    await servers?.close();
    await store.close();
    await emulator?.close();
    removePortalPoolTenants(tenants);
  });

  it("refuses A's new sign-ins at A's own ceiling (503 FLOW_STORE_TENANT_FULL, counted for A) while B signs in; A's count leaves with A", async () => {
    const [a, b] = tenants as [PortalTenant, PortalTenant];
    // Sign-in starts from many addresses, written as A's portal writes each one (a flow under A's
    // keys): the per-address rate limit does not stop a flood spread over a botnet.
    const atA = store.view(a.name);
    let stored = 0;
    for (; stored < 30_000; stored++) {
      const outcome = await codeOf(atA.put(`login:flood-${stored}`, '{}', 600));
      if (outcome !== 'stored') break;
    }
    // B: a whole sign-in (its flow, its session), on the same process at the same moment.
    expect((await new Browser(b.url).fetch('/login')).status, "B's sign-in start").to.equal(303);
    const customer = await signInAt(b.url, b.brokerKey, 'alice@acme.test');
    expect((await customer.fetch('/profile')).status).to.equal(200);
    expect(stored, 'entries A could hold').to.equal(POOL_MEMORY_STORE_SHARES.mostPerTenant);
    const from = logs.length;
    const refused = await new Browser(a.url).fetch('/login');
    expect(refused.status).to.equal(503);
    const refusal = logs.slice(from).find((l) => l['reason'] === 'FLOW_STORE_TENANT_FULL');
    expect(refusal?.['tenant']).to.equal(a.name);
    const metrics = await registry.metrics();
    expect(metrics).to.match(
      new RegExp(
        `jsm_sso_pool_flow_store_refusals_total\\{tenant="${a.name}",reason="FLOW_STORE_TENANT_FULL"\\} [1-9]`,
      ),
    );
    expect(metrics).not.to.contain(`jsm_sso_pool_flow_store_refusals_total{tenant="${b.name}"`);

    // A leaves the pool: its refusals leave the metrics, which are made from the store's counts at each
    // scrape (ADR 0367); B's sign-ins go on.
    source.remove(a.name);
    for (const scrape of [1, 2])
      expect(await registry.metrics(), `scrape ${scrape} after A's removal`).not.to.contain(
        `jsm_sso_pool_flow_store_refusals_total{tenant="${a.name}"`,
      );
    expect((await customer.fetch('/profile')).status).to.equal(200);
  });
});
