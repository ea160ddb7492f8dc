import { expect } from 'chai';
import { RedisFlowStore } from '../../common/flowstore/index.js';
import { HealthMonitor } from '../../common/http/health.js';
import { partReadiness } from '../../common/runtime.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { freePort, startLocalRedis } from '../../testkit/local-redis.js';

// A part's /readyz at start, against a real Redis whose connection attempt is slow: the first probe
// waits for the attempt as the flow store's own commands do (ADR 0117), instead of reading not-ready.
describe("a part's readiness at start (common/runtime.ts partReadiness)", function () {
  this.timeout(30_000);

  it('is ready at its first probe when the Redis connection attempt outlasts a probe deadline', async () => {
    const redis = await startLocalRedis();
    // Stopped: the kernel accepts the connection, the ready check stays unanswered until SIGCONT.
    redis.process.kill('SIGSTOP');
    // The ready check's deadline raised well past the stall, so a loaded machine cannot make the
    // attempt miss it; the first probe's allowance follows the store's own deadlines.
    const store = RedisFlowStore.connect(redis.url, 't', { commandTimeout: 4000, socketTimeout: 10_000 });
    const { logger, logs } = capturedLogger({ component: 'broker' });
    const health = partReadiness(store, async () => {}, logger);
    // A first probe without the allowance, on the same store, started just after the part's: once
    // it has given up at a probe's own deadline (0.5 s), so would the part's have without it. Its
    // verdict, not a sleep, says when the stall has outlasted a probe, however slow the machine.
    let witnessGaveUp!: () => void;
    const gaveUp = new Promise<void>((resolve) => (witnessGaveUp = resolve));
    const witness = new HealthMonitor({
      check: () => store.ping(),
      onChange: (ready) => {
        if (!ready) witnessGaveUp();
      },
    });
    try {
      expect(store.connectionAttemptMs).to.equal(1000 + 4000);
      const started = health.start();
      void witness.start();
      await gaveUp;
      redis.process.kill('SIGCONT');
      await started;
      health.assertReady();
      // One line at start: ready, never a "not ready" for the slow handshake.
      expect(logs.filter((l) => l['event'] === 'process.readiness').map((l) => l['ready'])).to.deep.equal([
        true,
      ]);
    } finally {
      health.stop();
      witness.stop();
      redis.process.kill('SIGCONT');
      await store.close();
      await redis.stop();
    }
  });

  it('reads not-ready at once when Redis refuses the connection (the allowance is no delay for a dead Redis)', async function () {
    // The attempt's deadlines, and with them the start's allowance, set past this test's timeout: a
    // start that waited the allowance out fails by the timeout, so an answer at all is the refusal
    // ending the wait (not a bound in ms that a loaded machine could overrun).
    const store = RedisFlowStore.connect(`redis://127.0.0.1:${await freePort()}`, 't', {
      connectTimeout: 60_000,
      commandTimeout: 60_000,
    });
    const { logger } = capturedLogger({ component: 'broker' });
    const health = partReadiness(store, async () => {}, logger);
    try {
      expect(store.connectionAttemptMs).to.be.above(this.timeout());
      await health.start();
      expect(() => health.assertReady()).to.throw('the shared state store cannot be reached');
    } finally {
      health.stop();
      await store.close();
    }
  });
});
