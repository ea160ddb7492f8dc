import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { freePort } from '../../common/net.js';
import { type Pki, portalSp } from '../../testkit/broker-harness.js';
import { startPoolProcess } from '../../testkit/pool.js';
import { writeBrokerBundle } from '../../testkit/pool-bundle.js';

/**
 * A pool tenant's URLs are its own team's to write, and the pool's pods are not theirs: a tenant's
 * IdP issuer aimed inside the pod or the cluster must not make the pool's broker call there. The
 * operator's pool pods run with --outbound-https-only (ADR 0217: loopback over plain http, a
 * sidecar's admin port) and --outbound-public-only (ADR 0219: any address that is not public, a
 * Service or pod of the cluster, the cloud metadata address, over https too: the tenant may bring
 * the CA that signed the internal service's certificate). Local runs keep both open.
 */
describe("a pool tenant's URLs aimed inside the pod or the cluster are not called (--outbound-https-only, --outbound-public-only)", function () {
  this.timeout(120_000);
  let dir: string;
  let pki: Pki | undefined;
  const listeners: Server[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-'));
  });
  after(async () => {
    for (const listener of listeners) await new Promise((resolve) => listener.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  /** A listener on loopback standing for the sidecar or internal service; it records what reaches it. */
  async function listen(server: Server): Promise<number> {
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  /** Starts a pool process with `flags` serving one tenant whose IdP issuer is `issuer`; one sign-in start. */
  async function signInStart(issuer: string, flags: string[]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    rmSync(dir, { recursive: true, force: true });
    pki?.cleanup();
    const written = writeBrokerBundle(dir, 'tenant', { name: 'inside-idp', url });
    pki = written.pki;
    const file = join(dir, 'tenant', 'tenant.yaml');
    const tenant = parse(readFileSync(file, 'utf8')) as JsmSsoTenant;
    tenant.spec.identityProviders[0]!.oidc!.issuer = issuer;
    writeFileSync(file, stringify(tenant));
    const { child, logs, done, urls } = startPoolProcess('broker', ['--pool-dir', dir, ...flags], port);
    try {
      await urls;
      const authorize = await portalSp(url, pki).getAuthorizeUrlAsync('relay', undefined, {});
      const res = await fetch(authorize, { redirect: 'manual' });
      await res.text();
      return { status: res.status, reasons: logs.map((l) => l['reason']).filter(Boolean) };
    } finally {
      child.kill('SIGTERM');
      await done;
    }
  }

  it('refuses plain http to loopback with --outbound-https-only (TLS_PLAINTEXT_FORBIDDEN), the sidecar hearing nothing; without it, it is called', async () => {
    const calls: string[] = [];
    // What a sidecar's plain-http admin port would answer: anything; each request is recorded.
    const sidecar = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    const issuer = `http://127.0.0.1:${await listen(sidecar)}/config_dump`;
    const strict = await signInStart(issuer, ['--outbound-https-only']);
    expect(calls, 'requests that reached the sidecar').to.deep.equal([]);
    expect(strict.status).to.be.within(500, 599);
    expect(strict.reasons).to.include('TLS_PLAINTEXT_FORBIDDEN');
    // The same tenant in a process without the flag (a local run) reaches it: the test can tell.
    await signInStart(issuer, []);
    expect(calls.length, 'requests that reached the sidecar without the flag').to.be.greaterThan(0);
  });

  it('connects to no address that is not public with --outbound-public-only (OUTBOUND_ADDRESS_FORBIDDEN), but to an allowed network', async () => {
    let connections = 0;
    // An internal service over https: only whether a connection reaches it matters here.
    const internal = createNetServer((socket) => {
      connections++;
      socket.destroy();
    });
    const port = await listen(internal);
    for (const issuer of [`https://localhost:${port}/realms/x`, `https://127.0.0.1:${port}/realms/x`]) {
      const strict = await signInStart(issuer, ['--outbound-https-only', '--outbound-public-only']);
      expect(connections, `connections that reached ${issuer}`).to.equal(0);
      expect(strict.status, issuer).to.be.within(500, 599);
      expect(strict.reasons, issuer).to.include('OUTBOUND_ADDRESS_FORBIDDEN');
    }
    // A pool that allows the network calls it; so does a process without the flag (a local run).
    const issuer = `https://localhost:${port}/realms/x`;
    await signInStart(issuer, [
      '--outbound-public-only',
      '--outbound-allowed-networks',
      '127.0.0.0/8,::1/128',
    ]);
    expect(connections, 'connections with the network allowed').to.be.greaterThan(0);
    const allowed = connections;
    await signInStart(issuer, []);
    expect(connections, 'connections without the flag').to.be.greaterThan(allowed);
  });

  it('refuses --outbound-allowed-networks without --outbound-public-only, and an entry that is no network (exit 2)', async () => {
    for (const flags of [
      ['--outbound-allowed-networks', '10.0.0.0/8'],
      ['--outbound-public-only', '--outbound-allowed-networks', '10.0.0.0/8,fd00:::1/64'],
    ]) {
      const { done } = startPoolProcess('broker', ['--pool-dir', dir, ...flags], await freePort());
      const { code, stderr } = await done;
      expect(code, flags.join(' ')).to.equal(2);
      expect(stderr, flags.join(' ')).to.include('--outbound-');
    }
  });
});
