import { expect } from 'chai';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { startLocalRedis } from '../../testkit/local-redis.js';
import { timed } from '../../testkit/timed.js';

/** Polls `probe` until it returns true (at most `ms`). */
async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('faults: Redis stalls (SIGSTOP on a real redis-server)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  it('answers pages with 503 within about a second and /readyz at once, and recovers by itself after SIGCONT', async () => {
    const redis = await startLocalRedis();
    let broker: BrokerProcess | undefined;
    try {
      broker = await startBrokerProcess({ redisUrl: redis.url, drainSeconds: 0 });
      const readyz = () => fetch(`${broker!.urls.management}/readyz`);
      // Ready once a background probe has reached Redis: on a loaded machine the first may miss its deadline.
      expect(await until(async () => (await readyz()).status === 200, 10_000)).to.equal(true);
      expect((await broker.signIn()).status).to.equal(302);

      // The connection stays up but nothing answers: the case a missing command timeout hangs on.
      redis.process.kill('SIGSTOP');
      const page = await timed(() => broker!.signIn());
      expect(page.value.status).to.equal(503);
      expect(await page.value.text()).to.contain('temporarily unavailable');
      // Design bound: 0.5 s per command; the margin is for a loaded CI machine, not for the code.
      expect(page.ms, 'sign-in page during the stall (ms)').to.be.lessThan(2500);

      // /readyz answers from the background probe, never waiting on Redis itself.
      expect(await until(async () => (await readyz()).status === 503, 5000)).to.equal(true);
      for (let i = 0; i < 5; i++) {
        const probe = await timed(() => readyz());
        expect(probe.value.status).to.equal(503);
        expect(await probe.value.text()).to.contain('not ready');
        expect(probe.ms, '/readyz during the stall (ms)').to.be.lessThan(1000);
      }

      redis.process.kill('SIGCONT');
      expect(await until(async () => (await broker!.signIn()).status === 302, 10_000)).to.equal(true);
      expect(await until(async () => (await readyz()).status === 200, 5000)).to.equal(true);
    } finally {
      redis.process.kill('SIGCONT');
      await broker?.stop();
      await redis.stop();
    }
  });
});
