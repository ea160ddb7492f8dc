// A pool process stopped (SIGTERM) while its tenant source relists (after a 410 Gone) from an API
// server that does not answer waited for that list's 70 s request timeout: past the pod's grace
// period (drain + 45 s + 5 s), so the kubelet's SIGKILL ended it (ADR 0229). The fake API server is
// for the one fault a real one cannot be made to show: answering the watch, then silence on a list.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import { eventually } from '../../testkit/envtest.js';
import { FakeApiServer } from '../../testkit/fake-apiserver.js';
import { startPoolProcess } from '../../testkit/pool.js';

describe('pool: stopped while its tenant list hangs', function () {
  this.timeout(120_000);

  it("exits at once, not after the list's request timeout", async () => {
    const fake = await FakeApiServer.start();
    const kubeconfig = fake.kubeconfigFile();
    const port = await freePort();
    const { child, logs, done, urls } = startPoolProcess(
      'broker',
      ['--pool', 'shared', '--pool-namespace', 'pools'],
      port,
      { KUBECONFIG: kubeconfig },
    );
    try {
      await urls;
      await eventually(async () => fake.requests.some((r) => r.watch), 'the pool watching its projections');
      // The API server compacts past the pool's resourceVersion (its watch gets 410 Gone) and then
      // does not answer the list that follows.
      const lists = () => fake.requests.filter((r) => r.method === 'GET' && !r.watch).length;
      const before = lists();
      fake.inject({ match: (r) => r.method === 'GET' && !r.watch, action: { kind: 'silent' } });
      fake.put(
        '/api/v1/namespaces/pools/secrets',
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'unrelated', namespace: 'pools' },
        } as never,
        true,
      );
      fake.compactAndCloseWatches();
      await eventually(async () => lists() > before, 'the pool relisting');
      const started = Date.now();
      child.kill('SIGTERM');
      const { code } = await done;
      const seconds = (Date.now() - started) / 1000;
      const events = logs.map((l) => l['event']).filter((e) => String(e).startsWith('process.'));
      expect(code, `exit code; process events: ${events.join(', ')}`).to.equal(0);
      // Nothing was in flight: the stop is the drain and the closes, seconds at most (70 s before).
      expect(seconds, 'seconds from SIGTERM to exit').to.be.below(15);
    } finally {
      child.kill('SIGKILL');
      await fake.close();
      rmSync(dirname(kubeconfig), { recursive: true, force: true });
    }
  });
});
