import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { JsmSsoError } from '../../common/errors.js';
import type { RedisFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { urlHostKey } from '../../common/pool/host-routing.js';
import type { TenantBundle } from '../../common/pool/source.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import { inflateRedirectPayload } from '../../common/saml/deflate.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { cookiePolicy } from '../../portal/cookies.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import { listenOnLoopbacks, type MemoryTenantSource } from '../../testkit/pool.js';
import { Browser, signedBrokerResponse, signInAt, startLogin } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolBundles,
  portalPoolOf,
  portalPoolTenants,
  removePortalPoolTenants,
} from '../../testkit/portal-pool-tenants.js';
import { connectedFlowStore, redisUrl } from '../../testkit/redis.js';

describe('portal pool: three help centers on one portal process, routed by Host', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const registry = createMetricsRegistry();
  const { logger, logs } = capturedLogger({ component: 'portal' });
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let emulator: RunningJsmEmulator;
  let store: RedisFlowStore;
  let redis: Redis;
  let running: RunningPool;
  let source: MemoryTenantSource;
  let tenants: PortalTenant[];
  const a = () => tenants[0]!;
  const b = () => tenants[1]!;
  const c = () => tenants[2]!;
  const reasonsSince = (from: number, tenant: string) =>
    logs
      .slice(from)
      .flatMap((l) => (l['tenant'] === tenant && typeof l['reason'] === 'string' ? [l['reason']] : []));

  before(async () => {
    servers = await listenOnLoopbacks((req, res) => running.handler(req, res), 3);
    emulator = await startJsmEmulator({});
    tenants = portalPoolTenants(servers.urls, emulator.url, run);
    store = await connectedFlowStore(`portal-pool-${run}`);
    redis = new Redis(redisUrl());
    const pool = portalPoolOf(tenants);
    source = pool.source;
    running = await startPool({
      ...pool,
      store,
      registry,
      logger,
      // A removed tenant's requests in flight may finish (the emulator holds one for a second).
      retireAfterMs: 5000,
    });
  });

  after(async () => {
    await running?.close();
    await servers?.close();
    await store?.close();
    redis?.disconnect();
    await emulator?.close();
    removePortalPoolTenants(tenants);
  });

  it('serves each help center at its own host: its own SP metadata and AuthnRequests', async () => {
    for (const t of [a(), b()]) {
      const metadata = await (await fetch(`${t.url}/saml/metadata`)).text();
      expect(metadata).to.contain(`entityID="${t.url}/saml/metadata"`);
      const { location } = await startLogin(new Browser(t.url));
      const xml = inflateRedirectPayload(new URL(location).searchParams.get('SAMLRequest') ?? '');
      expect(xml).to.contain(`${t.url}/saml/metadata</saml:Issuer>`);
      for (const other of tenants.filter((o) => o !== t)) expect(xml + metadata).not.to.contain(other.url);
    }
  });

  it("binds the session cookie to its tenant's host: A's session sent to B is no session at B", async () => {
    const atA = await signInAt(a().url, a().brokerKey, 'bob@acme.test');
    const setCookie = atA.cookies.get(cookiePolicy(a().url).session);
    expect(setCookie).to.be.a('string');
    expect((await atA.fetch('/profile')).status).to.equal(200);
    // The same cookie, sent by a client to B's host (a browser never would: host-only cookie).
    const atB = new Browser(b().url);
    for (const [name, value] of atA.cookies) atB.cookies.set(name, value);
    const profile = await atB.fetch('/profile');
    expect(profile.status).to.be.within(300, 399);
    expect(profile.headers.get('location')).to.match(/\/login/);
    // A's session is untouched by the attempt.
    expect((await atA.fetch('/profile')).status).to.equal(200);
  });

  it("refuses at B a Response A's broker issued for A, and one signed with A's broker key for B", async () => {
    const browser = new Browser(b().url);
    const { requestId } = await startLogin(browser);
    let from = logs.length;
    const forA = await browser.post(
      '/saml/acs',
      {
        SAMLResponse: signedBrokerResponse(a().url, a().brokerKey, {
          email: 'bob@acme.test',
          inResponseTo: requestId,
        }),
      },
      { origin: 'null' },
    );
    expect(forA.status).to.equal(400);
    expect(reasonsSince(from, b().name)).to.include.oneOf([
      'SAML_DESTINATION_MISMATCH',
      'SAML_AUDIENCE_MISMATCH',
    ]);
    const again = await startLogin(browser);
    from = logs.length;
    const signedByA = await browser.post(
      '/saml/acs',
      {
        SAMLResponse: signedBrokerResponse(b().url, a().brokerKey, {
          email: 'bob@acme.test',
          inResponseTo: again.requestId,
        }),
      },
      { origin: 'null' },
    );
    expect(signedByA.status).to.equal(400);
    expect(reasonsSince(from, b().name)).to.include('SAML_SIGNATURE_INVALID');
    expect(browser.cookies.has(cookiePolicy(b().url).session)).to.equal(false);
  });

  it("keeps replay markers per tenant: an assertion ID used at A is refused again at A, and is not A's to spend at B", async () => {
    const assertionId = `_pool-replay-${run}`;
    await signInAt(a().url, a().brokerKey, 'bob@acme.test', { assertionId });
    const replay = new Browser(a().url);
    const { requestId } = await startLogin(replay);
    const from = logs.length;
    const refused = await replay.post(
      '/saml/acs',
      {
        SAMLResponse: signedBrokerResponse(a().url, a().brokerKey, {
          email: 'bob@acme.test',
          inResponseTo: requestId,
          assertionId,
        }),
      },
      { origin: 'null' },
    );
    expect(refused.status).to.equal(400);
    expect(reasonsSince(from, a().name)).to.include('SAML_REPLAY');
    // B's broker may issue an assertion with the same ID: B's markers are B's own.
    await signInAt(b().url, b().brokerKey, 'bob@acme.test', { assertionId });
    const keys = await redis.keys(`jsm-sso:*${run}*`);
    expect(keys.filter((k) => !tenants.some((t) => k.startsWith(`jsm-sso:${t.name}:`)))).to.deep.equal([]);
    expect(await redis.keys(`jsm-sso:${c().name}:*`)).to.deep.equal([]);
  });

  it('labels Atlassian call outcomes and sign-in logs by tenant; refusals are the pool\'s (tenant="*")', async () => {
    const text = await registry.metrics();
    expect(text).to.match(
      new RegExp(`jsm_sso_portal_atlassian_calls_total\\{tenant="${a().name}",status="200"\\} \\d+`),
    );
    expect(text).not.to.contain(`tenant="${c().name}",status=`);
    expect(text).to.match(/jsm_sso_portal_refusals_total\{tenant="\*",reason="SAML_REPLAY"\} 1/);
    expect(text).to.match(
      /jsm_sso_portal_page_duration_seconds_count\{tenant="\*",method="GET",route="[^"]+"\} \d+/,
    );
    const signIns = logs.filter((l) => l['event'] === 'portal.login');
    expect(signIns.map((l) => l['tenant'])).to.include.members([a().name, b().name]);
  });

  it('answers a page in flight when its tenant is removed, then 404 POOL_TENANT_UNKNOWN; a broken bundle leaves the last good one serving', async () => {
    const t = b();
    const bundle = portalPoolBundles([t])[0]!;
    const customer = await signInAt(t.url, t.brokerKey, 'alice@acme.test');
    // Broken mid-life: refused, and the tenant keeps its last good version.
    const from = logs.length;
    source.invalid(t.name, new JsmSsoError('CONFIG_INVALID', 'spec.portal.url: not a URL'));
    expect(logs.slice(from).map((l) => l['reason'])).to.include('CONFIG_INVALID');
    expect((await customer.fetch('/requests?status=all')).status).to.equal(200);

    emulator.faults.set({ delayMs: 1000, pathPrefix: '/rest/api/3/search' });
    try {
      const page = customer.text('/requests?status=all');
      await eventually(async () => (emulator.faults.hits()[0] ?? 0) > 0, 'the page waiting on Atlassian');
      source.remove(t.name);
      const answered = await page;
      expect(answered.status, answered.body).to.equal(200);
      expect(answered.body).to.contain('Laptop screen flickers');
    } finally {
      emulator.faults.clear();
    }
    const gone = await customer.fetch('/requests?status=all');
    expect(gone.status).to.equal(404);
    expect(logs.at(-1)?.['reason']).to.equal('POOL_TENANT_UNKNOWN');
    source.upsert(bundle);
    expect((await customer.fetch('/requests?status=all')).status).to.equal(200);
  });

  it("keeps serving B at B's host when A, placed before B, moves its URL there: A claims that host later, and waits for it (ADR 0230)", async () => {
    const [bundleA, bundleB] = portalPoolBundles([a(), b()]) as [TenantBundle, TenantBundle];
    // As the kube source delivers a projection: placed at one time, its host first named at another.
    const claiming = (bundle: TenantBundle, tenant: JsmSsoTenant, placed: string, named: string) => ({
      ...bundle,
      tenant,
      claimedAt: Date.parse(placed),
      hostClaims: { portal: { host: urlHostKey(tenant.spec.portal.url), claimedAt: Date.parse(named) } },
    });
    source.upsert(claiming(bundleA, a().tenant, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'));
    source.upsert(claiming(bundleB, b().tenant, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'));
    try {
      const carol = await signInAt(b().url, b().brokerKey, 'carol@acme.test');
      const moved = structuredClone(a().tenant);
      moved.spec.portal.url = b().url;
      const from = logs.length;
      source.upsert(claiming(bundleA, moved, '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z'));
      expect(reasonsSince(from, a().name)).to.include('POOL_TENANT_CONFLICT');
      expect((await carol.fetch('/requests?status=all')).status, "B's customer at B's host").to.equal(200);
      const mallory = await signInAt(b().url, a().brokerKey, 'mallory@acme.test').then(
        () => "signed in by A's broker",
        () => 'refused',
      );
      expect(mallory).to.equal('refused');
      expect(reasonsSince(from, b().name)).to.include('SAML_SIGNATURE_INVALID');
    } finally {
      source.upsert(bundleA);
      source.upsert(bundleB);
    }
  });

  it("keeps rate limits per tenant: a flood of sign-in starts at A's host exhausts A's budget, never C's (ADR 0155)", async () => {
    const flooder = new Browser(a().url);
    let status = 0;
    // spec.portal.limits.signInStarts.perIp is 30 by default; earlier tests spent a few of A's.
    for (let sent = 0; sent < 40 && status !== 429; sent++) status = (await flooder.fetch('/login')).status;
    expect(status).to.equal(429);
    expect(reasonsSince(0, a().name)).to.include('PORTAL_RATE_LIMITED');
    // The same client at C, at once: C's own budget, untouched.
    const atC = await new Browser(c().url).fetch('/login');
    expect(atC.status).to.equal(303);
    expect(atC.headers.get('location')).to.contain('SAMLRequest=');
  });
});
