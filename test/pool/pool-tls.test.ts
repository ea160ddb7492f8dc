import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../common/net.js';
import type { Pki } from '../../testkit/broker-harness.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from '../../testkit/pki.js';
import { startPoolProcess, within } from '../../testkit/pool.js';
import { type TlsPair, writeBrokerBundle, writeTlsPair } from '../../testkit/pool-bundle.js';
import { LEGACY_CLIENT, probeTls, renegotiationOutcome } from '../../testkit/tls-probe.js';

/**
 * A pool's own TLS listener (`--tenant-tls`, what the operator runs for JsmSsoPool spec.<part>.tls):
 * each tenant's spec.broker.tlsSecretRef served to the clients that name its host (SNI), the
 * default for other names, rotation without restart, and the TLS rules of every listener.
 */
describe('a pool process serving HTTPS with each tenant certificate chosen by SNI (--tenant-tls)', function () {
  this.timeout(90_000);
  let ca: TestCa;
  let dir: string;
  const pkis: Pki[] = [];
  const certs: Record<string, IssuedCertificate> = {};

  before(() => {
    ca = makeTestCa();
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-tls-'));
    certs['a'] = ca.issue({ hosts: ['broker.a.test'] });
    certs['b'] = ca.issue({ hosts: ['broker.b.test'] });
    certs['default'] = ca.issue({ hosts: ['*.pool.test'] });
    mkdirSync(join(dir, 'default'));
    writeTlsPair(join(dir, 'default'), certs['default']);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const pki of pkis) pki.cleanup();
    ca.cleanup();
  });

  /** A bundle in `poolDir` for broker tenant `name` at https://broker.<name>.test:<port>, with its TLS pair. */
  function writeBundle(poolDir: string, name: string, port: number, pair: TlsPair | undefined) {
    const url = `https://broker.${name}.test:${port}`;
    const written = writeBrokerBundle(poolDir, name, { name: `tls-${name}`, url, tls: pair });
    pkis.push(written.pki);
    return written;
  }

  /** The serial of the certificate served for `servername` (undefined: no SNI), or the handshake error. */
  const served = async (port: number, servername: string | undefined) => {
    const result = await probeTls(port, {
      ca: ca.caPem,
      servername: servername as string,
      checkServerIdentity: () => undefined,
    });
    return result.ok ? result.serial : result.code;
  };

  /** GET over HTTPS naming `host` in SNI and Host. */
  const get = (port: number, host: string, path: string) =>
    new Promise<{ status: number; body: string; hsts: unknown }>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port,
          path,
          servername: host,
          headers: { host: `${host}:${port}` },
          ca: ca.caPem,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString('utf8');
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, hsts: res.headers['strict-transport-security'] }),
          );
        },
      )
        .on('error', reject)
        .end();
    });

  async function startPool(poolDir: string, port: number, withDefault: boolean) {
    const flags = ['--pool-dir', poolDir, '--tenant-tls'];
    if (withDefault)
      flags.push('--tls-cert', join(dir, 'default', 'tls.crt'), '--tls-key', join(dir, 'default', 'tls.key'));
    const process = startPoolProcess('broker', flags, port);
    await process.urls;
    return process;
  }

  it('serves each tenant its own certificate by SNI and the default to other names, routes by Host, and reloads a rotated tenant certificate without restart', async () => {
    const poolDir = join(dir, 'with-default');
    const port = await freePort();
    const a = writeBundle(poolDir, 'a', port, certs['a']!);
    const b = writeBundle(poolDir, 'b', port, certs['b']!);
    writeBundle(poolDir, 'c', port, undefined);
    const pool = await startPool(poolDir, port, true);
    try {
      expect(await served(port, 'broker.a.test')).to.equal(certs['a']!.serial);
      expect(await served(port, 'Broker.B.test.')).to.equal(certs['b']!.serial);
      expect(await served(port, 'unknown.pool.test')).to.equal(certs['default']!.serial);
      // A tenant without a certificate of its own: the default, never a neighbour's.
      expect(await served(port, 'broker.c.test')).to.equal(certs['default']!.serial);
      expect(await served(port, undefined)).to.equal(certs['default']!.serial);

      // The request is the tenant's: its metadata, over HTTPS with HSTS.
      for (const { tenant } of [a, b]) {
        const answer = await get(port, new URL(tenant.spec.broker.url).hostname, '/saml/metadata');
        expect(answer.status).to.equal(200);
        expect(answer.body).to.contain(`entityID="${tenant.spec.broker.url}/saml/metadata"`);
        expect(answer.hsts).to.equal('max-age=31536000; includeSubDomains');
      }

      // The TLS rules hold for a tenant's certificate too: no TLS 1.0/1.1, no renegotiation.
      const legacy = await probeTls(port, { ...LEGACY_CLIENT, servername: 'broker.a.test', ca: ca.caPem });
      expect(legacy).to.include({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      expect(await renegotiationOutcome(port, 'broker.a.test', ca.caPem)).to.be.oneOf(['closed', 'error']);

      // Rotation: the tenant's Secret changes (here its bundle's files), the next handshake gets it.
      const rotated = ca.issue({ hosts: ['broker.a.test'] });
      writeTlsPair(a.tlsDir, rotated);
      const started = Date.now();
      await within(20_000, async () =>
        (await served(port, 'broker.a.test')) === rotated.serial ? true : undefined,
      );
      console.log(`      tenant certificate rotated -> served in ${Date.now() - started} ms`);
      expect(await served(port, 'broker.b.test')).to.equal(certs['b']!.serial);

      // A tenant pair that does not load (the key of another certificate): logged, its name gets the default.
      writeFileSync(join(b.tlsDir, 'tls.key'), certs['a']!.keyPem);
      // Contexts are built at the first handshake that names the tenant after its bundle changed.
      await within(20_000, async () =>
        (await served(port, 'broker.b.test')) === certs['default']!.serial ? true : undefined,
      );
      const line = await within(20_000, async () =>
        pool.logs.find((l) => l['event'] === 'pool.tenant_tls_invalid' && l['tenant'] === 'tls-b'),
      );
      expect(line).to.include({ reason: 'POOL_TENANT_TLS_INVALID' });
      expect(JSON.stringify(line)).not.to.include('PRIVATE KEY');
    } finally {
      pool.child.kill('SIGTERM');
      expect((await pool.done).code).to.equal(0);
    }
  });

  it('fails the handshake for a name no tenant certificate covers when the pool has no default certificate', async () => {
    const poolDir = join(dir, 'without-default');
    const port = await freePort();
    writeBundle(poolDir, 'a', port, certs['a']!);
    const pool = await startPool(poolDir, port, false);
    try {
      expect(await served(port, 'broker.a.test')).to.equal(certs['a']!.serial);
      for (const name of ['unknown.pool.test', undefined])
        expect(await served(port, name), String(name)).to.equal('ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE');
    } finally {
      pool.child.kill('SIGTERM');
      expect((await pool.done).code).to.equal(0);
    }
  });
});
