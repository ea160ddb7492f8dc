import { Agent, type IncomingHttpHeaders, request } from 'node:http';
import { expect } from 'chai';
import { type BrokerProcess, startBrokerProcess } from '../../testkit/broker-process.js';
import { eventually } from '../../testkit/envtest.js';
import { startLocalRedis } from '../../testkit/local-redis.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

/** One GET over a keep-alive agent, as a load balancer's pooled connections would send it. */
function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

describe('faults: SIGTERM under load (real broker process)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  it('turns /readyz 503 at once, serves through the drain with Connection: close, loses no request and exits 0', async () => {
    const redis = await startLocalRedis();
    // The balancer below stops sending once twenty answers told it Connection: close; the rest of the
    // drain is margin for requests still in flight on a loaded machine (with 1.5 s, a busy CI box was
    // still sending when the drain ended, and the test blamed the broker for the refused connections).
    const drainSeconds = 3;
    let broker: BrokerProcess | undefined;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      broker = await startBrokerProcess({ redisUrl: redis.url, drainSeconds });
      const b = broker;
      const readyz = () => get(`${b.urls.management}/readyz`, new Agent());
      // Ready once a background probe has reached Redis: on a loaded machine the first may miss its deadline.
      await eventually(async () => (await readyz()).status === 200, 'the broker ready', 10_000);
      const answers: Answer[] = [];
      const failures: string[] = [];
      const send = async () => {
        try {
          answers.push(await get(`${b.urls.broker}${await b.signInPath()}`, agent));
        } catch (err) {
          failures.push((err as NodeJS.ErrnoException).code ?? String(err));
        }
      };
      // Steady load on pooled keep-alive connections until the "load balancer" notices the 503.
      let balancerForgot = false;
      const workers = Array.from({ length: 4 }, async () => {
        while (!balancerForgot) await send();
      });
      // The load is steady: answers have come on the pooled connections before the signal.
      await eventually(async () => answers.length >= 8, 'answers before the signal', 20_000);
      const signalled = Date.now();
      b.child.kill('SIGTERM');
      // A burst 5 ms after the signal, as in the report that found connections reset (the 5 ms is the
      // report's scenario, not a wait for anything).
      await new Promise((r) => setTimeout(r, 5));
      const burst = Array.from({ length: 20 }, () => send());
      const firstProbe = await readyz();
      expect(firstProbe.status, 'readyz right after SIGTERM').to.equal(503);
      const answeredAtProbe = answers.length;
      // The balancer takes its time to stop sending: counted in what it sends meanwhile (answers after
      // its probe saw 503, twenty told Connection: close), not in ms, which a loaded machine stretches
      // past the drain or spends before the broker has even handled the signal. A failure ends the
      // wait too: the assertions below then say what it was.
      await eventually(
        async () =>
          failures.length > 0 ||
          (answers.length > answeredAtProbe &&
            answers.filter((a) => a.headers.connection === 'close').length >= 20),
        'answers told Connection: close after readyz said 503',
        20_000,
      );
      balancerForgot = true;
      expect((await readyz()).status).to.equal(503);
      await Promise.all([...workers, ...burst]);
      const { code, stderr } = await b.done;
      const exitedAfterMs = Date.now() - signalled;
      // Answers (all 302, below) came after readyz said 503: it turned 503 while the drain still served.
      expect(answers.length).to.be.greaterThan(answeredAtProbe);

      expect(failures, 'requests reset or refused').to.deep.equal([]);
      expect(answers.length).to.be.greaterThan(20);
      expect(answers.map((a) => a.status).filter((s) => s !== 302)).to.deep.equal([]);
      // Keep-alive clients were told to go elsewhere once the drain began.
      expect(answers.filter((a) => a.headers.connection === 'close').length).to.be.at.least(20);
      expect(code, stderr).to.equal(0);
      expect(exitedAfterMs).to.be.at.least(drainSeconds * 1000);
    } finally {
      agent.destroy();
      await broker?.stop();
      await redis.stop();
    }
  });
});
