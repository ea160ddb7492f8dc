import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
 * In a pod, loopback is the pod's own ports and its sidecars (a mesh proxy's admin port, the part's
 * management port): a pool tenant whose IdP issuer names `http://127.0.0.1:<port>` must not make the
 * pool's broker call there. The operator's Deployments run the parts with --outbound-https-only
 * (ADR 0217); local runs keep plain http to loopback for the dev IdP.
 */
describe('jsm-sso broker --outbound-https-only: a tenant URL aimed at the pod over plain http is not called', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: Pki;
  let listener: Server;
  let calls: string[];
  let sidecar: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-'));
    calls = [];
    // What a sidecar's plain-http admin port would answer: anything; each request is recorded.
    listener = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    sidecar = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise((resolve) => listener.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    pki?.cleanup();
  });

  /** Starts a pool process with `flags` serving one tenant whose IdP issuer is the sidecar; one sign-in start. */
  async function signInStart(flags: string[]) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    rmSync(dir, { recursive: true, force: true });
    pki?.cleanup();
    const written = writeBrokerBundle(dir, 'tenant', { name: 'loopback-idp', url });
    pki = written.pki;
    const file = join(dir, 'tenant', 'tenant.yaml');
    const tenant = parse(readFileSync(file, 'utf8')) as JsmSsoTenant;
    tenant.spec.identityProviders[0]!.oidc!.issuer = `${sidecar}/config_dump`;
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

  it('refuses the call (TLS_PLAINTEXT_FORBIDDEN) and the sidecar hears nothing; without the flag it is called', async () => {
    const strict = await signInStart(['--outbound-https-only']);
    expect(calls, 'requests that reached the sidecar').to.deep.equal([]);
    expect(strict.status).to.be.within(500, 599);
    expect(strict.reasons).to.include('TLS_PLAINTEXT_FORBIDDEN');
    // The same tenant in a process without the flag (a local run) reaches it: the test can tell.
    await signInStart([]);
    expect(calls.length, 'requests that reached the sidecar without the flag').to.be.greaterThan(0);
  });
});
