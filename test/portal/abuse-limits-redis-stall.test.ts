import { expect } from 'chai';
import { checkTenant } from '../../common/config/load.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { AbuseLimits, RateLimitedError } from '../../portal/abuse-limits.js';
import { type LocalRedis, startLocalRedis, whileStalled } from '../../testkit/local-redis.js';
import { answering } from '../../testkit/redis.js';
import { validTenantDocument } from '../../testkit/tenants.js';

/**
 * The portal's rate limits count in Redis through the flow store's connection, which gives ioredis
 * no command timeout (the store keeps its own deadline, ADR 0214): the limiter keeps to the same
 * deadline, and while Redis does not answer each process counts on its own, as while it is away.
 */
describe('portal rate limits while Redis is stalled (SIGSTOP on a real redis-server)', function () {
  this.timeout(30_000);
  let redis: LocalRedis;
  let store: RedisFlowStore;
  before(async () => {
    redis = await startLocalRedis();
    store = await answering(RedisFlowStore.connect(redis.url, 'rate-stall'));
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('counts in the process, neither hanging nor failing, and still refuses past the limit', async () => {
    const doc = validTenantDocument();
    doc.spec['portal'] = {
      ...doc.spec['portal'],
      limits: { windowSeconds: 60, signInStarts: { perIp: 2 } },
    };
    const limits = new AbuseLimits(checkTenant(doc).spec.portal.limits, 'key material', store);
    const outcomes = await whileStalled(redis, async () => {
      const results: string[] = [];
      for (let i = 0; i < 3; i++)
        results.push(
          await limits.consume('signInStarts', 'ip', '192.0.2.7').then(
            () => 'counted',
            (err: unknown) => (err instanceof RateLimitedError ? 'limited' : `failed: ${String(err)}`),
          ),
        );
      return results;
    });
    expect(outcomes).to.deep.equal(['counted', 'counted', 'limited']);
  });
});
