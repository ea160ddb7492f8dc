// A DNS server that drops one tenant's IdP name, under the real system resolver (getaddrinfo on
// libuv's threadpool) of a process in a mount namespace of its own (ADR 0206). Tenant A's sign-ins
// ask that name twelve times at once; tenant B's attachment download (its site named in /etc/hosts),
// a file read and the lookups of other names must go on meanwhile, and A's calls end at the lookup
// deadline with UPSTREAM_DNS_TIMEOUT. Before, each of A's calls queued a lookup of its own, libuv
// ran two at a time for the resolver's whole timeout, and every other lookup of the process waited
// behind them: B's download did not start within its 5 s.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { packageRoot } from '../../common/paths.js';
import { HOST_LOOKUP_DEADLINE_MS } from '../../common/tls/index.js';
import { pageReason } from '../../testkit/broker-harness.js';
import { startBrokerProcess } from '../../testkit/broker-process.js';
import { freePort } from '../../testkit/local-redis.js';
import { type NameServer, nodeWithResolver, startNameServer } from '../../testkit/name-server.js';
import { exited, jsmSso, listening, onLogLine } from '../../testkit/part-process.js';
import { within } from '../../testkit/pool.js';
import { Browser, signedBrokerResponse, startLogin } from '../../testkit/portal-harness.js';
import { portalArgs, writePortalFiles } from '../../testkit/portal-process.js';

/**
 * A timer may fire up to a millisecond before `performance.now()` says its time has passed: libuv
 * counts it from the loop's cached time, taken before the call that set it (seen: 7999 ms for 8000).
 */
const TIMER_SLACK_MS = 2;

const HANGING = 'idp.tenant-a.test';
const HANGING_REDIS = 'redis.tenant-c.test';
const ATTACHMENT_BYTES = 4 * 1024 * 1024;
/** What the resolver waits for a swallowed query: longer than the whole test, so A's lookup holds its thread throughout. */
const RESOLVER_TIMEOUT_SECONDS = 30;

/** Collects the child's JSON lines into `lines`; resolves at its `done` line. */
function untilDone(child: ChildProcess, lines: Record<string, unknown>[]): Promise<void> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(JSON.parse(line));
      if (lines.at(-1)!['event'] === 'done') resolve();
    });
    child.once('exit', (code) => reject(new Error(`the child exited with ${code}: ${stderr}`)));
  });
}

/** Each query for `name` (per search domain and type) came once: its callers shared one lookup. */
function expectAskedOncePerQuery(nameServer: NameServer, name: string) {
  const asked = nameServer.queries.filter((q) => q.name.startsWith(name)).map((q) => `${q.name} ${q.type}`);
  expect(asked).to.not.be.empty;
  expect(asked).to.have.length(new Set(asked).size);
}

/** A testkit child script run under `resolvConf` to its `done` line, then ended: its JSON lines. */
async function childOutput(resolvConf: string, script: string, args: string[]) {
  const child = nodeWithResolver(resolvConf, ['--import=tsx', join(packageRoot(), script), ...args]);
  const out: Record<string, unknown>[] = [];
  try {
    await untilDone(child, out);
  } finally {
    child.kill('SIGKILL');
  }
  return out;
}

/**
 * A search-domain name (a Service's short name) and an /etc/hosts name resolved. Resolved at all is
 * "not behind the names that never answer": those hold their threads for the resolver's timeout,
 * past the lookup deadline, so a name queued behind them ends UPSTREAM_DNS_TIMEOUT with no address
 * (no bound in ms on how long the answer took).
 */
function expectOthersResolved(out: Record<string, unknown>[]) {
  const resolved = Object.fromEntries(
    out.filter((l) => l['event'] === 'resolved').map((l) => [l['name'], l]),
  );
  expect(resolved['redis']).to.deep.include({ addresses: ['127.0.0.1'] });
  expect(resolved['localhost']!['addresses']).to.include('127.0.0.1');
}

describe('a DNS lookup that never answers (a real resolver in a mount namespace)', function () {
  this.timeout(60_000);
  let nameServer: NameServer;
  let site: Server;
  let dir: string;
  let child: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];

  /**
   * A call to `name` answered (UPSTREAM_DNS_TIMEOUT, the caller's check) at the lookup deadline by
   * one lookup, not retried: not before the deadline, and each of the name's queries came once. The
   * reason is the deadline's own: the resolver's timeout (30 s, far past it) would have ended the
   * lookup with an error of its own. No upper bound in milliseconds, which a loaded machine overran.
   */
  function expectCutAtDeadline(tookMs: number, name: string) {
    expect(tookMs).to.be.at.least(HOST_LOOKUP_DEADLINE_MS - TIMER_SLACK_MS);
    expectAskedOncePerQuery(nameServer, name);
  }

  before(async () => {
    // The namespace needs root (`unshare -m`), as CI has it.
    execFileSync('unshare', ['-m', 'true']);
    nameServer = await startNameServer({
      answers: { 'redis.tenant-b.svc.cluster.test': '127.0.0.1' },
      search: ['tenant-b.svc.cluster.test', 'svc.cluster.test'],
      timeoutSeconds: RESOLVER_TIMEOUT_SECONDS,
    });
    const attachment = Buffer.alloc(ATTACHMENT_BYTES, 7);
    site = createServer((_req, res) => res.end(attachment));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-dns-'));
    writeFileSync(join(dir, 'file'), attachment);
  });
  after(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => site?.close(() => resolve()));
    await nameServer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ends A's calls at the lookup deadline with UPSTREAM_DNS_TIMEOUT while B's download, a file read and other names go on", async () => {
    const siteUrl = `http://localhost:${(site.address() as AddressInfo).port}/attachment`;
    child = nodeWithResolver(nameServer.resolvConf, [
      '--import=tsx',
      join(packageRoot(), 'testkit/outbound-calls-child.ts'),
      HANGING,
      siteUrl,
      join(dir, 'file'),
      '12',
      'redis,localhost',
    ]);
    const done = untilDone(child, lines);
    // "go" once A's name is being resolved: B's calls come after A's lookups, never before them.
    await nameServer.asked(HANGING);
    child.stdin!.write('go\n');
    await done;

    // B's download (within its own 5 s deadline) and the file read are done; that they went on
    // while A's lookup held its thread, not after it, is the last check's: A's name was asked once
    // more after them and still shared that lookup.
    const [download] = lines.filter((l) => l['event'] === 'download');
    expect(download).to.include({ outcome: '200', bytes: ATTACHMENT_BYTES });
    const [file] = lines.filter((l) => l['event'] === 'file');
    expect(file).to.include({ bytes: ATTACHMENT_BYTES });

    // The system resolver's rules hold: /etc/hosts, and resolv.conf's search domains under ndots:5
    // (a Kubernetes Service's short name).
    const resolved = Object.fromEntries(
      lines.filter((l) => l['event'] === 'resolved').map((l) => [l['name'], l['addresses']]),
    );
    expect(resolved['redis']).to.deep.equal(['127.0.0.1']);
    expect(resolved['localhost']).to.include('127.0.0.1');

    const hanging = lines.filter((l) => l['event'] === 'hanging');
    expect(hanging).to.have.length(12);
    const again = lines.filter((l) => l['event'] === 'again');
    expect(again).to.have.length(1);
    for (const call of [...hanging, ...again]) {
      expect(call['outcome']).to.equal('UPSTREAM_DNS_TIMEOUT');
      expect(call['ms']).to.be.at.least(HOST_LOOKUP_DEADLINE_MS - TIMER_SLACK_MS);
    }
    // Cut at the deadline (its reason), not at the resolver's own timeout, and all thirteen calls
    // shared one lookup: each query for A's name (per search domain and type) came once
    // (attempts:1), where two lookups at a time asked each twice, and a call after the lookup ended
    // (B's work waiting behind it) would have asked again.
    expectAskedOncePerQuery(nameServer, HANGING);
  });

  it('resolves other names at once while the flow store reconnects to a Redis whose name never answers', async () => {
    // Before (ADR 0212), each of ioredis's connection attempts (every 0.2-2 s) started a lookup of
    // its own: by the fourth, two held both of libuv's lookup threads and the others waited 8 s.
    const out = await childOutput(nameServer.resolvConf, 'testkit/redis-reconnects-child.ts', [
      `redis://${HANGING_REDIS}:6379`,
      '4',
      'redis,localhost',
    ]);
    expect(out[0]).to.include({ event: 'attempts', begun: 4 });
    expectOthersResolved(out);
    // The four attempts shared one lookup: each query for the Redis name came once.
    expectAskedOncePerQuery(nameServer, HANGING_REDIS);
  });

  it('resolves other names at once while two names that never answer are asked again and again', async () => {
    // Before (ADR 0212), each hanging name held one of libuv's two lookup threads at every retry,
    // and every other name waited its 8 s deadline. A resolver that gives up after 10 s, past the
    // deadline, so that the names are known slow when they are asked again.
    const giving = await startNameServer({
      answers: { 'redis.tenant-b.svc.cluster.test': '127.0.0.1' },
      search: ['tenant-b.svc.cluster.test'],
      timeoutSeconds: 10,
    });
    let out: Record<string, unknown>[];
    try {
      out = await childOutput(giving.resolvConf, 'testkit/slow-names-child.ts', [
        'idp.tenant-d.test.,idp.tenant-e.test.',
        'redis,localhost',
      ]);
    } finally {
      await giving.close();
    }
    const firsts = out.filter((l) => l['event'] === 'first');
    expect(firsts.map((l) => l['error'])).to.deep.equal(['UPSTREAM_DNS_TIMEOUT', 'UPSTREAM_DNS_TIMEOUT']);
    expectOthersResolved(out);
  });

  it("answers a sign-in at a broker whose IdP's name never resolves 502 UPSTREAM_DNS_TIMEOUT within the deadline, logged", async () => {
    const broker = await startBrokerProcess({
      drainSeconds: 0,
      idpIssuer: 'https://idp.broker-tenant.test',
      resolvConf: nameServer.resolvConf,
    });
    try {
      const started = performance.now();
      const response = await broker.signIn();
      const tookMs = performance.now() - started;
      expect([response.status, pageReason(await response.text())]).to.deep.equal([
        502,
        'UPSTREAM_DNS_TIMEOUT',
      ]);
      expectCutAtDeadline(tookMs, 'idp.broker-tenant.test');
      // The log line comes over the child's stdout, which may reach us after the answer did.
      const logged = await within(5_000, async () => {
        const lines = broker.logs.filter((l) => l['reason'] === 'UPSTREAM_DNS_TIMEOUT');
        return lines.length > 0 ? lines : undefined;
      });
      expect(logged).to.have.length(1);
      expect(JSON.stringify(logged[0])).to.include('idp.broker-tenant.test');
    } finally {
      await broker.stop();
    }
  });

  it("answers a sign-in at a portal whose Atlassian site's name never resolves 502 UPSTREAM_DNS_TIMEOUT within the deadline, not retried", async () => {
    const port = await freePort();
    const portalUrl = `http://127.0.0.1:${port}`;
    const files = writePortalFiles({ name: 'acme', portalUrl, siteUrl: 'https://site.portal-tenant.test' });
    const portal = jsmSso(portalArgs(files, port, 0), {}, undefined, undefined, nameServer.resolvConf);
    const done = exited(portal);
    const logs: Record<string, unknown>[] = [];
    onLogLine(portal, (line) => logs.push(line));
    try {
      await listening(portal, ['portal', 'management']);
      const browser = new Browser(portalUrl);
      const { requestId } = await startLogin(browser);
      const started = performance.now();
      // The portal looks the customer up at Atlassian as she arrives: the site's name is asked.
      const response = await browser.post(
        '/saml/acs',
        {
          SAMLResponse: signedBrokerResponse(portalUrl, files.brokerKey, {
            email: 'alice@acme.test',
            inResponseTo: requestId,
          }),
        },
        { origin: 'null' },
      );
      const tookMs = performance.now() - started;
      expect(response.status).to.equal(502);
      expectCutAtDeadline(tookMs, 'site.portal-tenant.test');
      // The log line comes over the child's stdout, which may reach us after the answer did (seen once).
      const reasons = await within(5_000, async () => {
        const seen = logs.map((l) => l['reason']).filter((r) => r !== undefined);
        return seen.includes('UPSTREAM_DNS_TIMEOUT') ? seen : undefined;
      });
      expect(reasons).to.include('UPSTREAM_DNS_TIMEOUT');
      expect(reasons).to.not.include.members(['ATLASSIAN_TIMEOUT', 'ATLASSIAN_UNREACHABLE']);
    } finally {
      portal.kill('SIGKILL');
      await done;
      files.cleanup();
    }
  });
});
