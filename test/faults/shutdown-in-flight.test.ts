import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  PORTAL_PAGE_BUDGET_MS,
  PORTAL_WRITE_BUDGET_MS,
  REQUEST_RECEIVE_MS,
} from '../../common/http/request-time.js';
import { IN_FLIGHT_GRACE_SECONDS, terminationGraceSeconds } from '../../common/http/shutdown.js';
import { freePort } from '../../common/net.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../../dev/jsm-emulator/emulator.js';
import { eventually } from '../../testkit/envtest.js';
import { type LocalRedis, startLocalRedis } from '../../testkit/local-redis.js';
import { csrfOf, signInAt, writeKeyOf } from '../../testkit/portal-harness.js';
import { startPortalProcess, waitReady, writePortalFiles } from '../../testkit/portal-process.js';

describe('faults: SIGTERM while a portal page waits for Atlassian (real process)', function () {
  // Real processes (started from source) on a shared machine.
  this.timeout(90_000);
  let emulator: RunningJsmEmulator;
  let redis: LocalRedis;
  before(async () => {
    emulator = await startJsmEmulator({});
    redis = await startLocalRedis();
  });
  after(async () => {
    await emulator.close();
    await redis.stop();
  });

  /** A portal process of tenant `name`'s own (`env` added to its environment), then Alice signed in to it. */
  const startPortal = async (name: string, env: Record<string, string> = {}) => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const files = writePortalFiles({ name, portalUrl: url, siteUrl: emulator.url, redisUrl: redis.url });
    const portal = startPortalProcess(files, Number(new URL(url).port), await freePort(), env);
    const exited = new Promise<number | null>((resolve) => portal.once('exit', (code) => resolve(code)));
    return {
      url,
      portal,
      exited,
      signIn: async () => {
        await waitReady(`${url}/saml/metadata`);
        return signInAt(url, files.brokerKey, 'alice@acme.test');
      },
      stop() {
        if (portal.exitCode === null && portal.signalCode === null) portal.kill('SIGKILL');
        files.cleanup();
      },
    };
  };
  /** Alice's request that the tests comment on and attach to. */
  const printerRequest = () =>
    [...emulator.state.requests.values()].find(
      (r) => r.fieldValues['summary'] === 'Printer on 3rd floor jams every morning',
    )!;

  it('answers the page in flight, then exits 0 within the pod’s grace period', async () => {
    const { portal, exited, signIn, stop } = await startPortal('sigterm');
    try {
      const alice = await signIn();
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
      stop();
    }
  });

  // ADR 0201: a write is the longest request (its page's reads, then the write under its key), and
  // the process waited 10 s for requests in flight. A comment against a slow site, each call well
  // within its own 10 s, got its connection closed unanswered and was not written.
  it('answers a comment whose reads and write outlast the old 10 s grace, written once, then exits 0', async () => {
    expect(IN_FLIGHT_GRACE_SECONDS * 1000, 'the grace covers a write').to.be.at.least(
      PORTAL_PAGE_BUDGET_MS + PORTAL_WRITE_BUDGET_MS,
    );
    const { portal, exited, signIn, stop } = await startPortal('sigterm-write');
    try {
      const alice = await signIn();
      const request = printerRequest();
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
      stop();
    }
  });

  // ADR 0365: an upload form's body arrives at the customer's pace, for up to the server's request
  // timeout (60 s), and its page's Atlassian work and write come after it (ADR 0362). The grace
  // covered only those (45 s): a form accepted before the signal whose last bytes came later than
  // that had its connection cut, no answer, the file not attached. The real timings, no knob: the
  // last bytes come 3 s after a write's time (page budget + write budget) from the signal.
  it('answers an upload whose form is still arriving after a write’s time, attached once, then exits 0', async function () {
    this.timeout(150_000);
    const writeTimeMs = PORTAL_PAGE_BUDGET_MS + PORTAL_WRITE_BUDGET_MS;
    expect(IN_FLIGHT_GRACE_SECONDS * 1000, 'the grace covers an upload').to.be.at.least(
      REQUEST_RECEIVE_MS + writeTimeMs,
    );
    /** The process's TMPDIR, where it spools the form's file as it arrives. */
    const spoolRoot = mkdtempSync(join(tmpdir(), 'jsm-sso-sigterm-upload-'));
    const { url, portal, exited, signIn, stop } = await startPortal('sigterm-upload', { TMPDIR: spoolRoot });
    const { hostname, port, host } = new URL(url);
    let socket: Socket | undefined;
    try {
      const alice = await signIn();
      const request = printerRequest();
      const action = `/requests/${request.key}/attachment`;
      const detail = (await alice.text(`/requests/${request.key}`)).body;
      const boundary = 'jsmssoboundary';
      const field = (name: string, value: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const body = Buffer.from(
        field('_csrf', csrfOf(detail)) +
          field('_write', writeKeyOf(detail, action)!) +
          `--${boundary}\r\nContent-Disposition: form-data; name="attachment"; filename="late.txt"\r\n` +
          `Content-Type: text/plain\r\n\r\n${'sent on a slow line '.repeat(4096)}\r\n--${boundary}--\r\n`,
      );
      const last = 64;
      const connection = connect(Number(port), hostname);
      socket = connection;
      let answer = '';
      connection.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
      });
      const closed = new Promise((resolve) => connection.once('close', resolve));
      connection.on('error', () => undefined);
      await new Promise((resolve) => connection.once('connect', resolve));
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      connection.write(
        `POST ${action} HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${url}\r\nCookie: ${cookie}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      const headSent = Date.now();
      connection.write(body.subarray(0, body.length - last));
      const spooled = () =>
        readdirSync(spoolRoot, { recursive: true, withFileTypes: true }).some((f) => f.isFile());
      await eventually(async () => spooled(), 'the form’s file being spooled');
      portal.kill('SIGTERM');
      const signalled = Date.now();
      // The last bytes still within the request timeout (60 s from the head, checked every 2 s),
      // else the server itself would refuse the form: the test's own premise, not the fault.
      expect(
        signalled - headSent + writeTimeMs + 3000,
        'the form’s last bytes (ms after its head)',
      ).to.be.below(REQUEST_RECEIVE_MS - 2000);
      // The fault itself is time: the customer's pace, past what a write needs after the signal.
      await new Promise((resolve) => setTimeout(resolve, writeTimeMs + 3000));
      connection.write(body.subarray(body.length - last));
      await closed;
      expect(answer.split('\r\n')[0], 'the answer’s status line').to.equal('HTTP/1.1 303 See Other');
      expect(answer).to.match(new RegExp(`\r\nLocation: /requests/${request.key}\\?uploaded=1\r\n`, 'i'));
      expect(request.attachments.filter((a) => a.filename === 'late.txt')).to.have.length(1);
      expect(await exited).to.equal(0);
      expect(Date.now() - signalled).to.be.below(terminationGraceSeconds(0) * 1000);
    } finally {
      socket?.destroy();
      stop();
      rmSync(spoolRoot, { recursive: true, force: true });
    }
  });
});
