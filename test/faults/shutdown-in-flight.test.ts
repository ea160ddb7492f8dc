import { expect } from 'chai';
import { IN_FLIGHT_GRACE_SECONDS, terminationGraceSeconds } from '../../common/http/shutdown.js';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { DEFAULT_PAGE_BUDGET_MS } from '../../portal/atlassian/page-budget.js';
import { DEFAULT_WRITE_BUDGET_MS } from '../../portal/requests.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { csrfOf, signInAt } from '../../testkit/portal-harness.js';
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

  // ADR 0201: a write is the longest request (its page's reads, then the write under its key), and
  // the process waited 10 s for requests in flight. A comment against a slow site, each call well
  // within its own 10 s, got its connection closed unanswered and was not written.
  it('answers a comment whose reads and write outlast the old 10 s grace, written once, then exits 0', async () => {
    expect(IN_FLIGHT_GRACE_SECONDS * 1000, 'the grace covers a write').to.be.at.least(
      DEFAULT_PAGE_BUDGET_MS + DEFAULT_WRITE_BUDGET_MS,
    );
    const url = `http://127.0.0.1:${await freePort()}`;
    const own = writePortalFiles({
      name: 'sigterm-write',
      portalUrl: url,
      siteUrl: emulator.url,
      redisUrl: redis.url,
    });
    const portal = startPortalProcess(own, Number(new URL(url).port), await freePort());
    const exited = new Promise<number | null>((resolve) => portal.once('exit', (code) => resolve(code)));
    try {
      await waitReady(`${url}/saml/metadata`);
      const alice = await signInAt(url, own.brokerKey, 'alice@acme.test');
      const request = [...emulator.state.requests.values()].find(
        (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
      )!;
      const detail = (await alice.text(`/requests/${request.key}`)).body;
      const action = `/requests/${request.key}/comment`;
      const writeKey = new RegExp(
        `action="${action}"[^>]*>.*?name="_write" value="(jsmsso[0-9a-f]{24})"`,
        's',
      ).exec(detail)![1]!;
      // The comment's two reads take 2 s each and its write 9.5 s: 13.5 s from the signal.
      emulator.faults.set(
        { delayMs: 9500, method: 'POST', pathPrefix: `/rest/servicedeskapi/request/${request.key}/comment` },
        { delayMs: 2000, method: 'GET', pathPrefix: '/rest/' },
      );
      const posted = alice.post(action, {
        _csrf: csrfOf(detail),
        _write: writeKey,
        body: 'Said during a stop.',
      });
      await eventually(async () => (emulator.faults.hits()[1] ?? 0) > 0, 'the comment waiting on Atlassian');
      portal.kill('SIGTERM');
      const signalled = Date.now();
      const answered = await posted;
      expect(answered.status).to.equal(303);
      expect(answered.headers.get('location')).to.equal(`/requests/${request.key}?commented=1`);
      expect(request.comments.filter((c) => c.body.includes('Said during a stop.'))).to.have.length(1);
      expect(await exited).to.equal(0);
      expect(Date.now() - signalled).to.be.below(terminationGraceSeconds(0) * 1000);
    } finally {
      emulator.faults.clear();
      if (portal.exitCode === null && portal.signalCode === null) portal.kill('SIGKILL');
      own.cleanup();
    }
  });
});
