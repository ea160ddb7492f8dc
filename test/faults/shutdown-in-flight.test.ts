import { expect } from 'chai';
import { terminationGraceSeconds } from '../../common/http/shutdown.js';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { signInAt } from '../../testkit/portal-harness.js';
import {
  type PortalFiles,
  startPortalProcess,
  waitReady,
  writePortalFiles,
} from '../../testkit/portal-process.js';

describe('faults: SIGTERM while a portal page waits for Atlassian (real process)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  let emulator: RunningJsmEmulator;
  let redis: LocalRedis;
  let files: PortalFiles;
  before(async () => {
    emulator = await startJsmEmulator({});
    redis = await startLocalRedis();
  });
  after(async () => {
    await emulator.close();
    await redis.stop();
    files?.cleanup();
  });

  it('answers the page in flight, then exits 0 within the pod’s grace period', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    files = writePortalFiles({ name: 'sigterm', portalUrl: url, siteUrl: emulator.url, redisUrl: redis.url });
    const portal = startPortalProcess(files, Number(new URL(url).port), await freePort());
    const exited = new Promise<number | null>((resolve) => portal.once('exit', (code) => resolve(code)));
    try {
      await waitReady(`${url}/saml/metadata`);
      const alice = await signInAt(url, files.brokerKey, 'alice@acme.test');
      // Atlassian takes its time with the page's search: the page is in flight when the signal comes.
      emulator.faults.set({ delayMs: 2000, pathPrefix: '/rest/api/3/search' });
      const page = alice.text('/requests?status=all');
      await eventually(async () => (emulator.faults.hits()[0] ?? 0) > 0, 'the page waiting on Atlassian');
      portal.kill('SIGTERM');
      const signalled = Date.now();
      const answered = await page;
      expect(answered.status, answered.body).to.equal(200);
      expect(answered.body).to.contain('Laptop screen flickers');
      expect(await exited).to.equal(0);
      // Within the grace period the operator gives a pod started with --drain-seconds 0.
      expect(Date.now() - signalled).to.be.below(terminationGraceSeconds(0) * 1000);
    } finally {
      emulator.faults.clear();
      if (portal.exitCode === null && portal.signalCode === null) portal.kill('SIGKILL');
    }
  });
});
