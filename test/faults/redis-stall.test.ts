import { expect } from 'chai';
import { Redis } from 'ioredis';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
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

/**
 * A way to stall Redis with its connections up and nothing answered: `stall` starts it and returns
 * `stalled` (whether it still holds: the checks made meanwhile must have met it) and `over` (ends it,
 * or waits for its end).
 */
interface Stall {
  name: string;
  extraArgs: string[];
  stall(redis: LocalRedis): Promise<{ stalled: () => boolean; over: () => Promise<void> }>;
}

const STALLS: Stall[] = [
  {
    name: 'SIGSTOP on a real redis-server',
    extraArgs: [],
    async stall(redis) {
      redis.process.kill('SIGSTOP');
      return { stalled: () => true, over: async () => void redis.process.kill('SIGCONT') };
    },
  },
  {
    // Redis itself busy past every deadline of a request (a slow command, a long fork): it wakes by itself.
    name: 'DEBUG SLEEP 15 on a real redis-server',
    extraArgs: ['--enable-debug-command', 'yes'],
    async stall(redis) {
      const admin = new Redis(redis.url);
      await admin.ping();
      let awake = false;
      const sleeping = admin.call('DEBUG', 'SLEEP', '15').finally(() => {
        awake = true;
        admin.disconnect();
      });
      // Redis reads the command as soon as it arrives and sleeps at once; the broker's next command
      // is sent later than that (its own request), and the checks below see the stall or fail.
      await new Promise((r) => setTimeout(r, 100));
      return { stalled: () => !awake, over: async () => void (await sleeping) };
    },
  },
];

for (const { name, extraArgs, stall } of STALLS)
  describe(`faults: Redis stalls (${name})`, function () {
    // Real processes (started from source) on a shared machine.
    this.timeout(90_000);
    it('answers pages with 503 FLOW_STORE_UNAVAILABLE within about a second and /readyz at once, and recovers by itself after', async () => {
      const redis = await startLocalRedis(extraArgs);
      let broker: BrokerProcess | undefined;
      let stalled: Awaited<ReturnType<Stall['stall']>> | undefined;
      try {
        broker = await startBrokerProcess({ redisUrl: redis.url, drainSeconds: 0 });
        const readyz = () => fetch(`${broker!.urls.management}/readyz`);
        // Ready once a background probe has reached Redis: on a loaded machine the first may miss its deadline.
        expect(await until(async () => (await readyz()).status === 200, 10_000)).to.equal(true);
        expect((await broker.signIn()).status).to.equal(302);

        // The connection stays up but nothing answers: the case a missing command timeout hangs on.
        stalled = await stall(redis);
        const page = await timed(() => broker!.signIn());
        expect(page.value.status).to.equal(503);
        expect(await page.value.text()).to.contain('temporarily unavailable');
        // Design bound: 0.5 s per command; the margin is for a loaded CI machine, not for the code.
        expect(page.ms, 'sign-in page during the stall (ms)').to.be.lessThan(2500);
        expect(broker.logs.map((line) => line['reason'])).to.include('FLOW_STORE_UNAVAILABLE');

        // /readyz answers from the background probe, never waiting on Redis itself.
        expect(await until(async () => (await readyz()).status === 503, 5000)).to.equal(true);
        for (let i = 0; i < 5; i++) {
          const probe = await timed(() => readyz());
          expect(probe.value.status).to.equal(503);
          expect(await probe.value.text()).to.contain('not ready');
          expect(probe.ms, '/readyz during the stall (ms)').to.be.lessThan(1000);
        }
        expect(stalled.stalled(), 'Redis still stalled after the checks').to.equal(true);

        await stalled.over();
        expect(await until(async () => (await broker!.signIn()).status === 302, 10_000)).to.equal(true);
        expect(await until(async () => (await readyz()).status === 200, 5000)).to.equal(true);
      } finally {
        await stalled?.over();
        await broker?.stop();
        await redis.stop();
      }
    });
  });
