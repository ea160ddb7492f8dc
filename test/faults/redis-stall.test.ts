import { expect } from 'chai';
import { Redis } from 'ioredis';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';

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
    // No bound in ms: each answer must come while Redis is still stalled (`stalled()`, checked after
    // them all), so one that waited for Redis fails with the DEBUG SLEEP stall (Redis wakes, answers,
    // and is no longer stalled) and runs into mocha's timeout with SIGSTOP (Redis never wakes).
    it('answers pages with 503 FLOW_STORE_UNAVAILABLE and /readyz with 503 while Redis stays stalled, and recovers by itself after', async () => {
      const redis = await startLocalRedis(extraArgs);
      let broker: BrokerProcess | undefined;
      let stalled: Awaited<ReturnType<Stall['stall']>> | undefined;
      try {
        broker = await startBrokerProcess({ redisUrl: redis.url, drainSeconds: 0 });
        const readyz = () => fetch(`${broker!.urls.management}/readyz`);
        // Ready once a background probe has reached Redis: on a loaded machine the first may miss its deadline.
        await eventually(async () => (await readyz()).status === 200, 'the broker ready');
        expect((await broker.signIn()).status).to.equal(302);

        // The connection stays up but nothing answers: the case a missing command timeout hangs on.
        stalled = await stall(redis);
        const page = await broker.signIn();
        expect(page.status).to.equal(503);
        expect(await page.text()).to.contain('temporarily unavailable');
        expect(broker.logs.map((line) => line['reason'])).to.include('FLOW_STORE_UNAVAILABLE');

        // /readyz answers from the background probe, never waiting on Redis itself.
        await eventually(async () => (await readyz()).status === 503, '/readyz saying the stall');
        for (let i = 0; i < 5; i++) {
          const probe = await readyz();
          expect(probe.status).to.equal(503);
          expect(await probe.text()).to.contain('not ready');
        }
        expect(stalled.stalled(), 'Redis still stalled after the checks').to.equal(true);

        await stalled.over();
        await eventually(async () => (await broker!.signIn()).status === 302, 'sign-in after the stall');
        await eventually(async () => (await readyz()).status === 200, 'the broker ready after the stall');
      } finally {
        await stalled?.over();
        await broker?.stop();
        await redis.stop();
      }
    });
  });
