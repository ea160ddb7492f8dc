import { randomUUID } from 'node:crypto';
import type { SAML } from '@node-saml/node-saml';
import { expect } from 'chai';
import { createBrokerApp } from '../../broker/app.js';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { type FlowStore, MemoryFlowStore } from '../../common/flowstore/index.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import type { BuiltPartLimits } from '../../common/pool/built-parts.js';
import { type RunningPool, startPool } from '../../common/pool/start.js';
import type { PoolFlowStore } from '../../common/pool/tenant-pool.js';
import type { PartContext, PartInstance } from '../../common/runtime.js';
import { type DevIdp, startDevIdp } from '../../dev/idp/provider.js';
import {
  Browser,
  createPki,
  devClient,
  loginAtDevIdp,
  oidcIdp,
  type Pki,
  portalSp,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { listenOnLoopbacks, MemoryTenantSource, tenantAt } from '../../testkit/pool.js';
import { connectedFlowStore } from '../../testkit/redis.js';

interface PooledTenant {
  key: string;
  url: string;
  pki: Pki;
  tenant: JsmSsoTenant;
  portal: SAML;
}

/** Polls until `check` holds. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('pool: built tenant parts are released when idle or beyond the limit, and built again on use', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  let servers: Awaited<ReturnType<typeof listenOnLoopbacks>>;
  let idp: DevIdp;
  let tenants: PooledTenant[];
  let running: RunningPool | undefined;
  let closeStore: () => Promise<void> = async () => {};
  const a = () => tenants[0]!;
  const b = () => tenants[1]!;

  before(async () => {
    servers = await listenOnLoopbacks((req, res) => running!.handler(req, res), 2);
    idp = await startDevIdp({
      clients: servers.urls.map((url, i) => devClient(url, { client_id: `jsm-sso-${i}` })),
    });
    tenants = servers.urls.map((url, i) => {
      const name = `evict-${'ab'[i]}-${run}`;
      const idpDoc = oidcIdp('corporate', idp.issuer);
      idpDoc['oidc'].clientId = `jsm-sso-${i}`;
      const pki = createPki();
      return {
        key: name,
        url,
        pki,
        tenant: tenantAt(tenantFor(url, [idpDoc]), 'broker', name, url),
        portal: portalSp(url, pki),
      };
    });
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
    await closeStore();
  });
  after(async () => {
    await servers?.close();
    await idp?.close();
    for (const t of tenants ?? []) t.pki.cleanup();
  });

  /** A broker pool of tenants a and b on `store`, keeping parts within `builtParts`. */
  async function brokerPool(store: PoolFlowStore, builtParts: BuiltPartLimits) {
    const { logger, logs } = capturedLogger({ component: 'broker' });
    running = await startPool({
      part: 'broker',
      build: (context) => createBrokerApp(context),
      source: new MemoryTenantSource(
        tenants.map((t) => ({ key: t.key, tenant: t.tenant, secrets: t.pki.secrets })),
      ),
      store,
      registry: createMetricsRegistry(),
      logger,
      builtParts,
    });
    const events = (event: string, t: PooledTenant) =>
      logs.filter((l) => l['event'] === event && l['tenant'] === t.key);
    return { logs, events };
  }

  const stores: Array<[string, () => Promise<PoolFlowStore & FlowStore>]> = [
    ['Redis', () => connectedFlowStore(`evict-${run}`)],
    ['memory', async () => new MemoryFlowStore()],
  ];
  for (const [kind, open] of stores)
    it(`completes a sign-in whose tenant's part was released between its start and its callback (${kind} flow store)`, async () => {
      const store = await open();
      closeStore = () => store.close();
      const { events } = await brokerPool(store, { idleMs: 3_600_000, max: 1 });
      const browser = new Browser();
      const authorizeUrl = await a().portal.getAuthorizeUrlAsync('rs-evicted', undefined, {});
      const sso = await browser.request(authorizeUrl);
      expect(sso.status).to.equal(302);

      // b's first request builds b: one part at most, so a's (idle between requests) is released.
      expect((await fetch(`${b().url}/saml/metadata`)).status).to.equal(200);
      expect(events('pool.tenant_released', a())).to.have.length(1);
      expect(events('pool.tenant_released', a())[0]).to.include({ reason: 'limit' });
      expect(running!.pool.builtCount).to.equal(1);

      const { page, fields } = await loginAtDevIdp(
        browser,
        new URL(sso.headers.get('location')!, authorizeUrl).href,
        {
          brokerUrl: a().url,
        },
      );
      expect(page.status).to.equal(200);
      expect(fields['RelayState']).to.equal('rs-evicted');
      const { profile } = await a().portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
      // The callback was served by a part built afresh from the tenant's bundle.
      expect(events('pool.tenant_built', a())).to.have.length(2);
    });

  it('releases a part no request has used for the idle period, and builds it again on the next', async () => {
    const { events } = await brokerPool(new MemoryFlowStore(), { idleMs: 300, max: 10 });
    closeStore = async () => {};
    expect((await fetch(`${a().url}/saml/metadata`)).status).to.equal(200);
    expect(running!.pool.builtCount).to.equal(1);
    await until(() => events('pool.tenant_released', a()).length === 1, 'released');
    expect(events('pool.tenant_released', a())[0]).to.include({ reason: 'idle' });
    expect(running!.pool.builtCount).to.equal(0);
    expect((await fetch(`${a().url}/saml/metadata`)).status).to.equal(200);
    expect(events('pool.tenant_built', a())).to.have.length(2);
  });

  it('never releases a part while it serves a request; it is released once idle after it', async () => {
    // A part whose answers wait until the test lets them go: a request held open as long as needed.
    const closed: string[] = [];
    let letGo: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const { logger } = capturedLogger({ component: 'broker' });
    running = await startPool({
      part: 'broker',
      build: async (context: PartContext): Promise<PartInstance> => ({
        handler: (req, res) => {
          const answer = () => res.end(context.tenantId);
          if (req.url === '/slow') void held.then(answer);
          else answer();
        },
        close: async () => {
          closed.push(context.tenantId);
        },
      }),
      source: new MemoryTenantSource(
        tenants.map((t) => ({ key: t.key, tenant: t.tenant, secrets: t.pki.secrets })),
      ),
      store: new MemoryFlowStore(),
      registry: createMetricsRegistry(),
      logger,
      builtParts: { idleMs: 300, max: 1 },
    });
    const slow = fetch(`${a().url}/slow`);
    await until(() => running!.pool.builtCount === 1, 'a built');
    expect(await (await fetch(`${b().url}/fast`)).text()).to.equal(b().key);
    // Beyond the limit and past the idle period, a is still serving: kept. b, used after a began,
    // is released by a sweep that found a idle longer still and passed it over.
    await until(() => closed.includes(b().key), 'b released once idle');
    expect(closed).to.deep.equal([b().key]);
    letGo();
    expect(await (await slow).text()).to.equal(a().key);
    await until(() => closed.includes(a().key), 'a released after its request');
  });
});
