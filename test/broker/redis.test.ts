import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { RedisFlowStore } from '../../common/flowstore/index.js';
import { managementHandler } from '../../common/http/management.js';
import { startDevIdp } from '../../dev/idp/provider.js';
import {
  Browser,
  createPki,
  devClient,
  listenPlaceholder,
  loginThroughBroker,
  oidcIdp,
  portalSp,
  serveBroker,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { startLocalRedis } from '../../testkit/local-redis.js';
import { redisUrl } from '../../testkit/redis.js';

describe('broker: shared state in Redis', () => {
  it('completes on a second broker process a login started on the first, and refuses the replayed callback', async () => {
    const pki = createPki();
    const a = await listenPlaceholder();
    const b = await listenPlaceholder();
    const idp = await startDevIdp({ clients: [devClient(a.url)] });
    const tenant = tenantFor(a.url, [oidcIdp('corporate', idp.issuer)]);
    const prefix = `broker-test-${Date.now()}`;
    const storeA = RedisFlowStore.connect(redisUrl(), prefix);
    const storeB = RedisFlowStore.connect(redisUrl(), prefix);
    const brokerA = await serveBroker(a.server, a.url, tenant, pki, storeA);
    const brokerB = await serveBroker(b.server, b.url, tenant, pki, storeB);
    try {
      const portal = portalSp(a.url, pki);
      const browser = new Browser();
      const { page, fields, callbackUrl } = await loginThroughBroker(
        { portal, brokerUrl: a.url, callbackVia: b.url },
        browser,
      );
      expect(page.status).to.equal(200);
      const { profile } = await portal.validatePostResponseAsync(fields);
      expect(profile?.nameID).to.equal('alice@acme.test');
      expect(brokerB.logs.some((l) => l['event'] === 'broker.login' && l['result'] === 'success')).to.equal(
        true,
      );

      // Replaying the IdP's callback (same state and code) on the other replica is refused.
      const replay = await browser.request(callbackUrl);
      expect(replay.status).to.equal(400);
      expect(await replay.text()).to.contain('OIDC_STATE_REPLAYED');
      expect(brokerA.logs.findLast((l) => l['event'] === 'broker.refusal')?.['reason']).to.equal(
        'OIDC_STATE_REPLAYED',
      );
    } finally {
      await brokerA.close();
      await brokerB.close();
      await storeA.close();
      await storeB.close();
      await idp.close();
      pki.cleanup();
    }
  });

  it('answers 503 with a readable page while Redis is down, fails /readyz, and recovers by itself', async () => {
    const redis = await startLocalRedis();
    const pki = createPki();
    const { server, url } = await listenPlaceholder();
    const idp = await startDevIdp({ clients: [devClient(url)] });
    const store = RedisFlowStore.connect(redis.url, 'broker-down');
    const broker = await serveBroker(
      server,
      url,
      tenantFor(url, [oidcIdp('corporate', idp.issuer)]),
      pki,
      store,
    );
    const readyz = async () => {
      let status = 0;
      const res = {
        statusCode: 0,
        setHeader() {},
        hasHeader: () => false,
        end() {
          status = this.statusCode;
        },
      };
      await managementHandler({ registry: broker.context.registry, ready: broker.app.ready })(
        { method: 'GET', url: '/readyz' } as unknown as IncomingMessage,
        res as unknown as ServerResponse,
      );
      return status;
    };
    const portal = portalSp(url, pki);
    try {
      expect(await readyz()).to.equal(200);
      await redis.stop();
      const down = await fetch(await portal.getAuthorizeUrlAsync('rs', undefined, {}), {
        redirect: 'manual',
      });
      expect(down.status).to.equal(503);
      expect(await down.text()).to.contain('temporarily unavailable');
      expect(await readyz()).to.equal(503);
      const again = await startLocalRedis([], redis.port);
      try {
        let status = 0;
        for (let i = 0; i < 50 && status !== 302; i++) {
          await new Promise((r) => setTimeout(r, 200));
          status = (
            await fetch(await portal.getAuthorizeUrlAsync('rs', undefined, {}), { redirect: 'manual' })
          ).status;
        }
        expect(status).to.equal(302);
        expect(await readyz()).to.equal(200);
      } finally {
        await again.stop();
      }
    } finally {
      await broker.close();
      await store.close();
      await idp.close();
      pki.cleanup();
    }
  });
});
