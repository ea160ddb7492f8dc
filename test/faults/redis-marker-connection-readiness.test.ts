// A replicated Redis connection has a second connection for its one-time markers (ADR 0291). When
// only that one is down (dropped, and Redis takes no new connection: maxclients reached), every
// sign-in step answers 503 while pages go on: readiness must say so, or Kubernetes keeps sending
// sign-ins to a pod that cannot serve them (ADR 0302). A real redis-server and replica; the part's
// readiness as every process runs it (partReadiness), for a dedicated part's store and a pool's.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { JsmSsoError } from '../../common/errors.js';
import { parseRedisAddress } from '../../common/flowstore/redis-address.js';
import { RedisFlowStore } from '../../common/flowstore/redis-store.js';
import { partReadiness } from '../../common/runtime.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { startLocalRedis, startLocalReplica, stoppedAfterEach } from '../../testkit/local-redis.js';
import { untilNotReady, untilReady } from '../../testkit/readiness.js';
import { answering, clientLastIn, PATIENT_REPLICA } from '../../testkit/redis.js';
import { silencingProxy } from '../../testkit/silencing-proxy.js';

describe("faults: readiness follows the one-time markers' own Redis connection", function () {
  this.timeout(60_000);
  const { started, stops } = stoppedAfterEach();

  for (const [what, tenant] of [
    ['a dedicated part', 'marked'],
    ['a pool', undefined],
  ] as const) {
    it(`${what}: not ready while the markers' connection is down, pages still served; ready again once it is back`, async () => {
      const master = await started(startLocalRedis());
      await started(startLocalReplica(master.port));
      const admin = new Redis(master.url);
      stops.push(async () => admin.disconnect());
      const connection = await answering(
        RedisFlowStore.open(
          parseRedisAddress(`${master.url}?waitForReplica=yes`),
          tenant,
          undefined,
          PATIENT_REPLICA,
        ),
      );
      stops.push(() => connection.close());
      const store = tenant === undefined ? connection.view('marked') : connection;
      const { logger, logs } = capturedLogger({ component: 'broker' });
      const health = partReadiness(connection, async () => {}, logger);
      stops.push(async () => health.stop());

      expect(await store.putIfAbsent('before', 'used', 60)).to.equal(true);
      const markers = await clientLastIn(admin, 'wait');
      await health.start();
      health.assertReady();

      // Redis takes no new connection (existing ones stay), then drops the markers' one.
      await admin.config('SET', 'maxclients', '1');
      await admin.call('client', 'kill', 'id', markers);
      const marking = await store.putIfAbsent('during', 'used', 60).catch((err: JsmSsoError) => err.code);
      expect(marking).to.equal('FLOW_STORE_UNAVAILABLE');
      await store.put('page', 'read', 60);

      expect(await untilNotReady(health, logs)).to.equal('FLOW_STORE_UNAVAILABLE');
      // Pages go on meanwhile: only the markers' connection is down.
      expect(await store.get('page')).to.equal('read');

      await admin.config('SET', 'maxclients', '10000');
      await untilReady(health);
      expect(await store.putIfAbsent('after', 'used', 60)).to.equal(true);
    });
  }

  it("not ready while the markers' idle connection is half-open (its peer gone without a FIN), ready again once it is made anew", async () => {
    const master = await started(startLocalRedis());
    await started(startLocalReplica(master.port));
    const proxy = await silencingProxy(master.port);
    stops.push(() => proxy.close());
    const store = await answering(
      RedisFlowStore.open(
        parseRedisAddress(`redis://127.0.0.1:${proxy.port}?waitForReplica=yes`),
        'marked',
        undefined,
        PATIENT_REPLICA,
      ),
    );
    stops.push(() => store.close());
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const health = partReadiness(store, async () => {}, logger);
    stops.push(async () => health.stop());

    expect(await store.putIfAbsent('before', 'used', 60)).to.equal(true);
    await health.start();
    health.assertReady();

    // The markers' connection (the one that sent WAIT), idle now, loses its peer unsaid: pages go on.
    expect(proxy.silenceThoseThatSent(/wait/i)).to.equal(1);
    await store.put('page', 'read', 60);

    // Red before: ready until a sign-in's marker waited on it, was refused 503, and its socket
    // timeout dropped the connection.
    expect(await untilNotReady(health, logs, 10_000)).to.equal('FLOW_STORE_UNAVAILABLE');
    expect(await store.get('page')).to.equal('read');

    await untilReady(health);
    expect(await store.putIfAbsent('after', 'used', 60)).to.equal(true);
  });
});
