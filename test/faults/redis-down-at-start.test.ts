import { expect } from 'chai';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { eventually } from '../../testkit/envtest.js';
import { freePort, type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';

describe('faults: Redis down when the broker starts (real process)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  it('starts, says why it is not ready (FLOW_STORE_UNAVAILABLE) and keeps saying it, answers 503, and is ready once Redis comes', async () => {
    const port = await freePort();
    let broker: BrokerProcess | undefined;
    let redis: LocalRedis | undefined;
    try {
      broker = await startBrokerProcess({ redisUrl: `redis://127.0.0.1:${port}`, drainSeconds: 0 });
      const b = broker;
      const readiness = () => b.logs.filter((l) => l['event'] === 'process.readiness');
      const readyz = () => fetch(`${b.urls.management}/readyz`);
      expect((await readyz()).status).to.equal(503);
      expect((await b.signIn()).status).to.equal(503);
      // Said at start, with the stable reason, and again while it lasts (a log tail started later sees it).
      // Again means after 10 failed probes, each 1 s apart plus up to its 0.5 s deadline: 10-15 s
      // after the first line when the machine keeps time, so the bound leaves room for a loaded one
      // (13.6 s measured at load 16 against a bound of 20 s, counted from a little after the first).
      await eventually(async () => readiness().length >= 2, 'two not-ready lines', 45_000);
      for (const line of readiness()) {
        expect(line['ready']).to.equal(false);
        expect(line['cause'], JSON.stringify(line)).to.equal('FLOW_STORE_UNAVAILABLE');
      }
      expect(b.child.exitCode, 'the process keeps running').to.equal(null);

      redis = await startLocalRedis([], port);
      await eventually(async () => (await readyz()).status === 200, 'ready once Redis answers', 20_000);
      expect(readiness().at(-1)?.['ready']).to.equal(true);
      // Sign-ins go through. On a loaded machine the first commands to a Redis that has just started
      // may still miss their 500 ms deadline: such a refusal must be this one, and a retry succeeds.
      const refusalsFrom = b.logs.length;
      await eventually(async () => (await b.signIn()).status === 302, 'a sign-in goes through', 20_000);
      const otherRefusals = b.logs
        .slice(refusalsFrom)
        .filter((l) => l['event'] === 'broker.refusal' && l['reason'] !== 'FLOW_STORE_UNAVAILABLE');
      expect(otherRefusals).to.deep.equal([]);
    } finally {
      await broker?.stop();
      await redis?.stop();
    }
  });
});
