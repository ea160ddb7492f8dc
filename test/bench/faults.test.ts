// `npm run bench` runs its stages in one process, and the ones after `faults` (pool, pool-kube) start
// `jsm-sso` pools that inherit its environment and take $REDIS_URL for their flow store. The faults
// stage starts a Redis of its own when none is named and stops it at its end: a REDIS_URL it left
// behind named a stopped server, and the pool stage's sign-ins were refused 503 FLOW_STORE_UNAVAILABLE
// (ADR 0359).
import { expect } from 'chai';

describe('bench faults stage', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['REDIS_URL', 'JSM_SSO_BENCH_FAULTS_JOURNEYS']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('leaves no REDIS_URL behind when it started the Redis it stopped, so later stages run their pools on memory', async () => {
    delete process.env['REDIS_URL'];
    process.env['JSM_SSO_BENCH_FAULTS_JOURNEYS'] = '1';
    const { benchFaults } = await import('../../bench/faults.js');
    // Its harness reads REDIS_URL: the journey runs only if the stage set it for its own Redis.
    await benchFaults();
    expect(process.env['REDIS_URL']).to.equal(undefined);
  });
});
