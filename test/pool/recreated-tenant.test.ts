import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { MemoryFlowStore, RedisFlowStore } from '../../common/flowstore/index.js';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import type { TenantBundle } from '../../common/pool/source.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { Browser, postBrokerResponse, signInAt, startLogin } from '../../testkit/portal-harness.js';
import {
  type PortalTenant,
  portalPoolBundles,
  type RunningPortalPool,
  startPortalPool,
} from '../../testkit/portal-pool-tenants.js';
import { connectedFlowStore } from '../../testkit/redis.js';

/**
 * ADR 0371: a pooled tenant deleted and re-created under its namespace and name is another tenant (a
 * SaaS operator gives a freed name to another company's help center, with its own IdP and Atlassian
 * site). The pool's store kept each tenant's data under its name, so the new one honoured its
 * predecessor's sessions and sign-ins under way and carried its counters, until they expired (a session:
 * up to 7 days). Each incarnation now has the keys of its identity (metadata.uid).
 */
for (const kind of ['redis', 'memory'] as const) {
  describe(`portal pool (${kind} store): a tenant deleted and re-created under its name starts with nothing of its predecessor's`, function () {
    this.timeout(60_000);
    const run = randomUUID().slice(0, 8);
    const { logger, logs } = capturedLogger({ component: 'portal' });
    const registry = createMetricsRegistry();
    let store: RedisFlowStore | MemoryFlowStore;
    let pool: RunningPortalPool;
    let a: PortalTenant;

    before(async () => {
      store =
        kind === 'redis' ? await connectedFlowStore(`recreated-${run}`) : createPoolFlowStore(undefined);
      pool = await startPortalPool(1, run, { store, registry, logger, retireAfterMs: 100 });
      a = pool.tenants[0]!;
    });

    after(async () => {
      await pool?.close();
      await store?.close();
    });

    /** Tenant A as the kube source delivers it: with the identity of one incarnation, its title its own. */
    const incarnation = (title: string): TenantBundle => {
      const bundle = portalPoolBundles([a])[0]!;
      const tenant = structuredClone(a.tenant);
      tenant.spec.portal.title = title;
      return { ...bundle, tenant, uid: randomUUID() };
    };

    /** Deletes A from the pool and places another tenant under its name (and at its host). */
    const recreate = (): void => {
      pool.source.remove(a.name);
      pool.source.upsert(incarnation('Another Company Help Center'));
    };

    const reasonsSince = (from: number) =>
      logs.slice(from).flatMap((l) => (typeof l['reason'] === 'string' ? [l['reason']] : []));

    beforeEach(() => pool.source.upsert(incarnation('Help Center A')));

    it("does not honour the predecessor's session cookie", async () => {
      const bob = await signInAt(a.url, a.brokerKey, 'bob@acme.test');
      expect((await bob.fetch('/profile')).status, "bob's session at the first tenant").to.equal(200);
      recreate();
      const profile = await bob.fetch('/profile');
      expect(profile.status, "the predecessor's session at the new tenant").to.be.within(300, 399);
      expect(profile.headers.get('location')).to.match(/\/login/);
      // Served by a part built for the new tenant: its configuration, not the predecessor's kept in memory.
      const carol = await signInAt(a.url, a.brokerKey, 'carol@acme.test');
      expect(await (await carol.fetch('/')).text()).to.contain('Another Company Help Center');
    });

    it('does not finish a sign-in the predecessor started', async () => {
      const browser = new Browser(a.url);
      const { requestId } = await startLogin(browser);
      recreate();
      const from = logs.length;
      const acs = await postBrokerResponse(browser, a.brokerKey, {
        email: 'bob@acme.test',
        inResponseTo: requestId,
      });
      expect(acs.status, "the predecessor's flow answered at the new tenant").to.equal(400);
      expect(reasonsSince(from)).to.include('PORTAL_LOGIN_FLOW_MISSING');
      expect((await browser.fetch('/profile')).status).to.be.within(300, 399);
    });

    it("does not carry the predecessor's rate limits", async () => {
      const flooder = new Browser(a.url);
      let status = 0;
      for (let sent = 0; sent < 40 && status !== 429; sent++) status = (await flooder.fetch('/login')).status;
      expect(status, 'the first tenant limits the flood').to.equal(429);
      recreate();
      const atNew = await flooder.fetch('/login');
      expect(atNew.status, "the new tenant's first sign-in start").to.equal(303);
    });
  });
}
