import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { checkTenant } from '../../common/config/load.js';
import { FlowStoreTenantFullError, RedisFlowStore } from '../../common/flowstore/index.js';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import {
  DEFAULT_POOL_SIGN_IN_SHARES,
  POOL_SIGN_IN_STARTS_PER_TENANT,
} from '../../common/pool/sign-in-starts.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { AbuseLimits, signInStartsCeiling } from '../../portal/abuse-limits.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { PoolSessionCount } from '../../portal/pool-session-count.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { listenOnLoopbacks } from '../../testkit/pool.js';
import { Browser, signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolOf,
  portalPoolTenants,
  type RunningPortalPool,
  removePortalPoolTenants,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';
import { answering, redisUrl } from '../../testkit/redis.js';
import { validTenantDocument } from '../../testkit/tenants.js';

/** Each tenant's share where the pool sets none (JsmSsoPool spec.portal.signInStartsPerTenant's default). */
const SHARE = POOL_SIGN_IN_STARTS_PER_TENANT.default;

/**
 * A pool with Redis (ADR 0215): every tenant's sign-in flows are written to the one Redis the pool's
 * replicas share, and a flood of one tenant's `/login` spread over many addresses (which the
 * per-address limit does not stop) would fill it for every tenant. Each tenant may start
 * POOL_SIGN_IN_STARTS_PER_TENANT.default sign-ins within one flow lifetime, counted in Redis over both
 * replicas; past that its own sign-ins wait (503) and the other tenant signs in.
 */
describe("a portal pool on Redis: one tenant's sign-in flood is held to its own share (ADR 0215)", function () {
  this.timeout(90_000);
  const run = randomUUID().slice(0, 8);
  // Each replica a process of its own: its own metrics.
  const registries = [createMetricsRegistry(), createMetricsRegistry()];
  const { logger, logs } = capturedLogger({ component: 'portal' });
  // Two replicas of the pool, each with its own connection to the pool's Redis.
  const stores = [createPoolFlowStore({ url: redisUrl() }), createPoolFlowStore({ url: redisUrl() })] as [
    RedisFlowStore,
    RedisFlowStore,
  ];
  const replicas: RunningPool[] = [];
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let emulator: RunningJsmEmulator;
  let tenants: PortalTenant[];
  let redis: Redis;
  // A front door taking turns: the first request to replica 1, the next to replica 2, and so on.
  let turn = 0;
  const frontDoor = (req: IncomingMessage, res: ServerResponse) => {
    const replica = replicas[turn++ % replicas.length];
    if (replica) replica.handler(req, res);
  };

  before(async () => {
    await Promise.all(stores.map((store) => answering(store)));
    redis = new Redis(redisUrl());
    servers = await listenOnLoopbacks(frontDoor, 2);
    emulator = await startJsmEmulator({});
    tenants = portalPoolTenants(servers.urls, emulator.url, run);
    for (const [i, store] of stores.entries())
      replicas.push(
        await startPool({
          ...portalPoolOf(tenants),
          store,
          registry: registries[i]!,
          logger,
          // The flood comes from many addresses, each named by the proxy in front.
          trustedProxyHops: 1,
        }),
      );
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await servers?.close();
    await Promise.all(stores.map((store) => store.close()));
    redis?.disconnect();
    await emulator?.close();
    removePortalPoolTenants(tenants);
  });

  it("refuses A's sign-ins past its share on either replica (503, Retry-After, named by tenant) while B signs in", async () => {
    const [a, b] = tenants as [PortalTenant, PortalTenant];
    // All but two of A's share started already, as a third replica of the pool counts them: in Redis.
    const third = new AbuseLimits(a.tenant.spec.portal.limits, 'another replica', stores[0].view(a.name), {
      starts: SHARE,
      windowSeconds: a.tenant.spec.broker.flowTtlSeconds,
      setBy: 'pool',
    });
    for (let started = 0; started < SHARE - 2; started += 200)
      await Promise.all(
        Array.from({ length: Math.min(200, SHARE - 2 - started) }, () => third.startSignIn()),
      );
    const startAtA = (n: number) =>
      new Browser(a.url).fetch('/login', { headers: { 'x-forwarded-for': `198.51.100.${n}` } });
    turn = 0;
    const accepted = [await startAtA(1), await startAtA(2)];
    expect(
      accepted.map((res) => res.status),
      'the last two of the share, one on each replica',
    ).to.deep.equal([303, 303]);
    for (const res of accepted)
      expect(res.headers.get('set-cookie')).to.contain(`${cookiePolicy(a.url).login}=`);
    const from = logs.length;
    const perAddress = `jsm-sso:${a.name}:portal:rate:signInStarts:ip:*`;
    const countersBefore = (await redis.keys(perAddress)).length;
    const refusedAt1 = await startAtA(3);
    const refusedAt2 = await startAtA(4);
    // Past the share a flood writes nothing more to the Redis the tenants share, not even a counter
    // for each new address.
    expect((await redis.keys(perAddress)).length, 'per-address counters').to.equal(countersBefore);
    for (const refused of [refusedAt1, refusedAt2]) {
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('60');
      expect(refused.headers.get('set-cookie') ?? '', 'no sign-in flow started').not.to.contain(
        `${cookiePolicy(a.url).login}=`,
      );
    }
    const refusals = logs.slice(from).filter((l) => l['reason'] === 'FLOW_STORE_TENANT_FULL');
    expect(refusals.map((l) => l['tenant'])).to.deep.equal([a.name, a.name]);
    // B, on the same replicas and the same Redis at the same moment: a whole sign-in.
    expect((await new Browser(b.url).fetch('/login')).status, "B's sign-in start").to.equal(303);
    const customer = await signInAt(b.url, b.brokerKey, 'alice@acme.test');
    expect((await customer.fetch('/profile')).status).to.equal(200);
    for (const registry of registries) {
      const metrics = await registry.metrics();
      expect(metrics).to.contain(
        `jsm_sso_portal_pool_share_refusals_total{tenant="${a.name}",reason="FLOW_STORE_TENANT_FULL"} 1`,
      );
      expect(metrics).not.to.contain(`jsm_sso_portal_pool_share_refusals_total{tenant="${b.name}"`);
    }
  });
});

describe("a pool tenant's share of sign-in starts (portal/abuse-limits.ts)", () => {
  it('counts in each process while Redis is away, and refuses past the share there too', async () => {
    // A port nothing listens on: every count falls back to the process's own.
    const store = RedisFlowStore.connect('redis://127.0.0.1:1', 'away');
    try {
      const limits = new AbuseLimits(checkTenant(validTenantDocument()).spec.portal.limits, 'k', store, {
        starts: 2,
        windowSeconds: 600,
        setBy: 'pool',
      });
      await limits.startSignIn();
      await limits.startSignIn();
      const err = await limits.startSignIn().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(FlowStoreTenantFullError);
      expect((err as FlowStoreTenantFullError).status).to.equal(503);
      expect((err as Error).message).to.contain('2 sign-ins started in 600 s');
    } finally {
      await store.close();
    }
  });

  it('counts a pool tenant against its own perTenant where that is lower, refused as its own (ADR 0256)', () => {
    expect(signInStartsCeiling(undefined, 6_000), 'none set').to.deep.equal({ starts: 6_000, setBy: 'pool' });
    expect(signInStartsCeiling(undefined, 20_000), "a share above the tenant's default").to.deep.equal({
      starts: 20_000,
      setBy: 'pool',
    });
    expect(signInStartsCeiling(250, 6_000), 'its own, lower').to.deep.equal({ starts: 250, setBy: 'tenant' });
    expect(signInStartsCeiling(50_000, 6_000), 'its own, higher').to.deep.equal({
      starts: 6_000,
      setBy: 'pool',
    });
    expect(signInStartsCeiling(6_000, 6_000), 'equal: the pool refuses').to.deep.equal({
      starts: 6_000,
      setBy: 'pool',
    });
  });

  it('neither refuses a start nor fails a sign-in over the session count while Redis is away (ADR 0220)', async () => {
    const store = RedisFlowStore.connect('redis://127.0.0.1:1', 'away');
    try {
      // A share of one session: were the count's failure read as "held", every start would be refused.
      const sessions = new PoolSessionCount(store, 1);
      await sessions.add(Date.now() + 60_000);
      await sessions.add(Date.now() + 60_000);
      await sessions.refuseWhenHeld();
    } finally {
      await store.close();
    }
  });
});

describe("a portal pool's own share setting reaches each tenant's part (--sign-in-starts-per-tenant)", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'portal' });
  const store = createPoolFlowStore(undefined);
  let pool: RunningPortalPool;

  before(async () => {
    pool = await startPortalPool(1, run, {
      store,
      registry: createMetricsRegistry(),
      logger,
      trustedProxyHops: 1,
      signInShares: { ...DEFAULT_POOL_SIGN_IN_SHARES, startsPerTenant: 3 },
    });
  });

  after(async () => {
    await pool?.close();
    await store.close();
  });

  it('accepts three starts from three addresses, then refuses the fourth', async () => {
    const [a] = pool.tenants as [PortalTenant];
    const statuses: number[] = [];
    for (let n = 1; n <= 4; n++)
      statuses.push(
        (await new Browser(a.url).fetch('/login', { headers: { 'x-forwarded-for': `203.0.113.${n}` } }))
          .status,
      );
    expect(statuses).to.deep.equal([303, 303, 303, 503]);
  });
});

/**
 * A pool on Redis (ADR 0220): a tenant's team writes its own IdP and session lifetimes, so the starts
 * share alone let it fill the Redis every tenant shares with sessions. Each tenant may hold
 * `sessionsPerTenant` sessions at once, each counted until its absolute end; while it holds them, its
 * new sign-ins wait (503) and its signed-in customers and the other tenants go on.
 */
describe("a portal pool on Redis: one tenant's sessions are held to its own share (ADR 0220)", function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger, logs } = capturedLogger({ component: 'portal' });
  const store = createPoolFlowStore({ url: redisUrl() }) as RedisFlowStore;
  const registry = createMetricsRegistry();
  let pool: RunningPortalPool;
  let redis: Redis;

  before(async () => {
    await answering(store);
    redis = new Redis(redisUrl());
    pool = await startPortalPool(2, run, {
      store,
      registry,
      logger,
      trustedProxyHops: 1,
      signInShares: { ...DEFAULT_POOL_SIGN_IN_SHARES, sessionsPerTenant: 2 },
    });
  });

  after(async () => {
    await pool?.close();
    await store.close();
    redis?.disconnect();
  });

  it("refuses A's new sign-ins while it holds its share, its customers and B going on; a session past its end frees its room", async () => {
    const [a, b] = pool.tenants as [PortalTenant, PortalTenant];
    const signedIn = [
      await signInAt(a.url, a.brokerKey, 'alice@acme.test'),
      await signInAt(a.url, a.brokerKey, 'bob@acme.test'),
    ];
    const key = `jsm-sso:${a.name}:portal:pool:sessions`;
    expect(await redis.zcard(key), 'sessions counted').to.equal(2);
    // Kept until the last session's absolute end (spec.portal.session.absoluteTimeoutSeconds, 8 h here).
    expect(await redis.pttl(key)).to.be.within(28_800_000 - 60_000, 28_800_000);
    const from = logs.length;
    const refused = await new Browser(a.url).fetch('/login', {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('60');
    expect(refused.headers.get('set-cookie') ?? '', 'no sign-in flow started').not.to.contain(
      `${cookiePolicy(a.url).login}=`,
    );
    expect(
      logs
        .slice(from)
        .filter((l) => l['reason'] === 'FLOW_STORE_TENANT_FULL')
        .map((l) => l['tenant']),
    ).to.deep.equal([a.name]);
    // Named by tenant, as a refusal past the starts share is: the alert JsmSsoPoolTenantShareUsed.
    expect(await registry.metrics()).to.contain(
      `jsm_sso_portal_pool_share_refusals_total{tenant="${a.name}",reason="FLOW_STORE_TENANT_FULL"} 1`,
    );
    for (const customer of signedIn) expect((await customer.fetch('/profile')).status).to.equal(200);
    const other = await signInAt(b.url, b.brokerKey, 'alice@acme.test');
    expect((await other.fetch('/profile')).status).to.equal(200);
    // One of A's sessions past its absolute end (as 8 hours later): counted no more, room for one.
    const [first] = await redis.zrange(key, '0', '0');
    await redis.zadd(key, 'XX', String(Date.now() - 1_000), first!);
    expect((await new Browser(a.url).fetch('/login')).status, 'a start with room again').to.equal(303);
  });
});
