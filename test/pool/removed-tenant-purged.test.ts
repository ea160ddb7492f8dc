import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { tenantId } from '../../common/config/load.js';
import { ConfigError } from '../../common/errors.js';
import { MemoryFlowStore } from '../../common/flowstore/index.js';
import { PURGE_BATCH } from '../../common/flowstore/keyspace-purge.js';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore, tenantKeyPrefix } from '../../common/flowstore/redis-store.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import type { TenantBundle } from '../../common/pool/source.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalCluster } from '../../testkit/local-cluster.js';
import { stoppedAfterEach } from '../../testkit/local-redis.js';
import { type Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolBundles,
  type RunningPortalPool,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';
import { answering, connectedFlowStore } from '../../testkit/redis.js';

/**
 * ADR 0390: a pooled tenant that is gone (its projection deleted, or replaced by another incarnation
 * under its name) leaves nothing in the pool's Redis. Its customers' sessions (accountId, NameID,
 * SessionIndex), flows, markers and counters stayed until they expired: a session up to 7 days.
 */
describe("portal pool on Redis: a removed tenant's keys are purged", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger, logs } = capturedLogger({ component: 'portal' });
  let store: RedisFlowStore;
  let pool: RunningPortalPool;
  let a: PortalTenant;
  let b: PortalTenant;

  before(async () => {
    store = await connectedFlowStore(`purged-${run}`);
    pool = await startPortalPool(2, run, {
      store,
      registry: createMetricsRegistry(),
      logger,
      retireAfterMs: 100,
    });
    [a, b] = pool.tenants as [PortalTenant, PortalTenant];
  });

  after(async () => {
    await pool?.close();
    await store?.close();
  });

  /** `tenant` as the kube source delivers it, with the identity `uid`. */
  const incarnation = (tenant: PortalTenant, uid: string): TenantBundle => ({
    ...portalPoolBundles([tenant])[0]!,
    uid,
  });

  /** The keys of incarnation `uid` of `tenant` in the pool's Redis. */
  const keysOf = (tenant: PortalTenant, uid: string): Promise<string[]> =>
    (store.client as Redis).keys(`${tenantKeyPrefix(tenantId(tenant.tenant), uid)}*`);

  const purgeLines = (tenant: PortalTenant) =>
    logs.filter((l) => l['event'] === 'pool.tenant_purged' && l['tenant'] === tenantId(tenant.tenant));

  /** Until the pool has logged `count` purges of `tenant`. */
  const purged = (tenant: PortalTenant, count = 1) =>
    eventually(async () => purgeLines(tenant).length >= count, `${count} purge(s) of ${tenant.name}`);

  /** Signs a customer in at each tenant (as incarnations `uidA`, `uidB`); their sessions' keys are there. */
  const signedIn = async (uidA: string, uidB: string) => {
    pool.source.upsert(incarnation(a, uidA));
    pool.source.upsert(incarnation(b, uidB));
    const atA = await signInAt(a.url, a.brokerKey, 'bob@acme.test');
    const atB = await signInAt(b.url, b.brokerKey, 'carol@acme.test');
    expect((await atA.fetch('/profile')).status).to.equal(200);
    expect((await atB.fetch('/profile')).status).to.equal(200);
    expect(await keysOf(a, uidA), "A's keys after a sign-in").to.not.be.empty;
    return { atA, atB, keysOfB: (await keysOf(b, uidB)).sort() };
  };

  /**
   * That A, signed in as incarnation `uidA` with `purgesOfA` purges logged before, was not purged: B's
   * purge is sent after anything A's changes could have sent, on the same connection, and A's keys
   * and its customer's session are still there once it is served again (as if moved back).
   */
  const keptA = async (atA: Browser, uidA: string, uidB: string, purgesOfA: number) => {
    const beforeB = purgeLines(b).length;
    pool.source.remove(b.name, { uid: uidB });
    await purged(b, beforeB + 1);
    expect(purgeLines(a).length, 'purges of A').to.equal(purgesOfA);
    expect(await keysOf(a, uidA), "A's keys").to.not.be.empty;
    pool.source.upsert(incarnation(a, uidA));
    expect((await atA.fetch('/profile')).status, "A's customer's session").to.equal(200);
    pool.source.remove(a.name);
  };

  it("deletes a deleted tenant's keys, and no other tenant's", async () => {
    const [uidA, uidB] = [randomUUID(), randomUUID()];
    const { atB, keysOfB } = await signedIn(uidA, uidB);
    const before = purgeLines(a).length;
    // The kube source's removal of a projection the operator marked deleted.
    pool.source.remove(a.name, { uid: uidA });
    await purged(a, before + 1);
    expect(await keysOf(a, uidA), "the removed tenant's keys").to.be.empty;
    const line = purgeLines(a).at(-1)!;
    expect(line['keys'], 'the keys counted').to.be.above(0);
    expect(JSON.stringify(line)).to.not.contain('bob@acme.test');
    expect((await keysOf(b, uidB)).sort(), "the other tenant's keys").to.deep.equal(keysOfB);
    expect((await atB.fetch('/profile')).status, "the other tenant's session").to.equal(200);
    pool.source.remove(b.name);
  });

  it("deletes a replaced incarnation's keys, not those of the tenant re-created under its name", async () => {
    const [uidA, uidB, successor] = [randomUUID(), randomUUID(), randomUUID()];
    await signedIn(uidA, uidB);
    const before = purgeLines(a).length;
    // Deleted and re-created inside one relist: the pool sees one bundle of another uid, no removal.
    pool.source.upsert(incarnation(a, successor));
    const atNew = await signInAt(a.url, a.brokerKey, 'dave@acme.test');
    await purged(a, before + 1);
    expect(await keysOf(a, uidA), "the predecessor's keys").to.be.empty;
    expect(await keysOf(a, successor), "the successor's keys").to.not.be.empty;
    expect((await atNew.fetch('/profile')).status, "the successor's session").to.equal(200);
    pool.source.remove(a.name);
    pool.source.remove(b.name);
  });

  it('keeps the keys of a tenant whose bundle turned invalid, changed under the same uid, or that left the pool alive', async () => {
    const [uidA, uidB] = [randomUUID(), randomUUID()];
    const { atA } = await signedIn(uidA, uidB);
    const before = purgeLines(a).length;
    pool.source.invalid(a.name, new ConfigError([{ path: 'spec', message: 'a Secret is missing' }]));
    pool.source.upsert(incarnation(a, uidA));
    expect((await atA.fetch('/profile')).status, "A's customer's session").to.equal(200);
    // Moved to another pool or to its own pods, which may share this Redis: not known to be gone.
    pool.source.remove(a.name);
    await keptA(atA, uidA, uidB, before);
  });

  it('keeps the keys of a deleted incarnation that is not the one the pool serves under its name', async () => {
    const [uidA, uidB, other] = [randomUUID(), randomUUID(), randomUUID()];
    const { atA } = await signedIn(uidA, uidB);
    const before = purgeLines(a).length;
    pool.source.remove(a.name, { uid: other });
    await keptA(atA, uidA, uidB, before);
  });
});

describe("a pool's memory store: a removed incarnation's entries are purged", () => {
  it('deletes the entries of one incarnation of a tenant and no other', async () => {
    const store = new MemoryFlowStore();
    const gone = store.view('ns/a', 'uid-1');
    const successor = store.view('ns/a', 'uid-2');
    const other = store.view('ns/b', 'uid-3');
    const byName = store.view('ns/a');
    for (const view of [gone, successor, other, byName]) await view.put('session:x', 'v', 60);
    await gone.put('flow:y', 'v', 60);
    expect(await store.purge('ns/a', 'uid-1')).to.equal(2);
    expect(await gone.get('session:x')).to.equal(undefined);
    for (const view of [successor, other, byName]) expect(await view.get('session:x')).to.equal('v');
    await store.close();
  });
});

describe("a pool's store on Redis Cluster: a removed incarnation's keys are purged on every master (real redis-server cluster nodes)", function () {
  this.timeout(90_000);
  const running = stoppedAfterEach();
  const cli = (port: number, ...args: string[]) =>
    spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

  it("deletes the keys on both shards, the hash-tagged ones too, and no other tenant's", async () => {
    // Shard B owns the slot of the `{on-b}` keys alone, shard A every other.
    const cluster = await startLocalCluster(running, 'x{on-b}');
    const store = await answering(RedisFlowStore.open(parseRedisAddress(cluster.url), undefined));
    running.stops.push(() => store.close());
    const gone = store.view('ns/a', 'uid-1');
    const other = store.view('ns/b', 'uid-2');
    // More keys than one SCAN step asks for, spread over A's slots; one in a slot of B's.
    const spread = Array.from({ length: PURGE_BATCH + 20 }, (_, n) => `session:${n}`);
    for (const view of [gone, other]) {
      for (const key of spread) await view.put(key, 'v', 60);
      await view.putInFirstFree(['person:{on-b}:0', 'person:{on-b}:1'], 'v', 60, 0);
    }
    const onB = () => Number(cli(cluster.b.port, 'dbsize'));
    expect(onB(), "the person keys on B's slot").to.equal(2);
    expect(await store.purge('ns/a', 'uid-1')).to.equal(spread.length + 1);
    expect(onB(), "B's slot holds the other tenant's key alone").to.equal(1);
    expect(await gone.get('person:{on-b}:0')).to.equal(undefined);
    expect(await gone.get('session:0')).to.equal(undefined);
    expect(await other.get('person:{on-b}:0')).to.equal('v');
    for (const key of spread) expect(await other.get(key), key).to.equal('v');
    // Another replica purging the same incarnation finds nothing left.
    expect(await store.purge('ns/a', 'uid-1')).to.equal(0);
  });
});
