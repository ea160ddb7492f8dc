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
import { Browser, signedBrokerResponse, startLogin } from '../../testkit/portal-harness.js';
import { portalArgs, writePortalFiles } from '../../testkit/portal-process.js';

const HANGING = 'idp.tenant-a.test';
const ATTACHMENT_BYTES = 4 * 1024 * 1024;
/** What the resolver waits for a swallowed query: longer than the whole test, so A's lookup holds its thread throughout. */
const RESOLVER_TIMEOUT_SECONDS = 30;

describe('a DNS lookup that never answers (a real resolver in a mount namespace)', function () {
  this.timeout(60_000);
  let nameServer: NameServer;
  let site: Server;
  let dir: string;
  let child: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];

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
    const started = performance.now();
    child = nodeWithResolver(nameServer.resolvConf, [
      '--import=tsx',
      join(packageRoot(), 'testkit/outbound-calls-child.ts'),
      HANGING,
      siteUrl,
      join(dir, 'file'),
      '12',
      'redis,localhost',
    ]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<void>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        lines.push(JSON.parse(line));
        if (lines.at(-1)!['event'] === 'done') resolve();
      });
      child!.once('exit', (code) => reject(new Error(`the child exited with ${code}: ${stderr}`)));
    });
    // "go" once A's name is being resolved: B's calls come after A's lookups, never before them.
    await nameServer.asked(HANGING);
    child.stdin!.write('go\n');
    await done;
    const elapsedMs = performance.now() - started;

    const [download] = lines.filter((l) => l['event'] === 'download');
    expect(download).to.include({ outcome: '200', bytes: ATTACHMENT_BYTES });
    expect(download!['ms']).to.be.below(2_000);
    const [file] = lines.filter((l) => l['event'] === 'file');
    expect(file).to.include({ bytes: ATTACHMENT_BYTES });
    expect(file!['ms']).to.be.below(1_000);

    // The system resolver's rules hold: /etc/hosts, and resolv.conf's search domains under ndots:5
    // (a Kubernetes Service's short name).
    const resolved = Object.fromEntries(
      lines.filter((l) => l['event'] === 'resolved').map((l) => [l['name'], l['addresses']]),
    );
    expect(resolved['redis']).to.deep.equal(['127.0.0.1']);
    expect(resolved['localhost']).to.include('127.0.0.1');

    const hanging = lines.filter((l) => l['event'] === 'hanging');
    expect(hanging).to.have.length(12);
    for (const call of hanging) {
      expect(call['outcome']).to.equal('UPSTREAM_DNS_TIMEOUT');
      expect(call['ms']).to.be.within(HOST_LOOKUP_DEADLINE_MS, HOST_LOOKUP_DEADLINE_MS + 2_000);
    }
    // All twelve shared one lookup: each query for A's name (per search domain and type) came once
    // (attempts:1), where two lookups at a time asked each twice.
    expect(elapsedMs).to.be.below(RESOLVER_TIMEOUT_SECONDS * 1000);
    const askedForA = nameServer.queries
      .filter((q) => q.name.startsWith(HANGING))
      .map((q) => `${q.name} ${q.type}`);
    expect(askedForA).to.not.be.empty;
    expect(askedForA).to.have.length(new Set(askedForA).size);
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
      expect(tookMs).to.be.within(HOST_LOOKUP_DEADLINE_MS, HOST_LOOKUP_DEADLINE_MS + 2_000);
      const logged = broker.logs.filter((l) => l['reason'] === 'UPSTREAM_DNS_TIMEOUT');
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
      expect(tookMs).to.be.within(HOST_LOOKUP_DEADLINE_MS, HOST_LOOKUP_DEADLINE_MS + 2_000);
      const reasons = logs.map((l) => l['reason']).filter((r) => r !== undefined);
      expect(reasons).to.include('UPSTREAM_DNS_TIMEOUT');
      expect(reasons).to.not.include.members(['ATLASSIAN_TIMEOUT', 'ATLASSIAN_UNREACHABLE']);
    } finally {
      portal.kill('SIGKILL');
      await done;
      files.cleanup();
    }
  });
});
