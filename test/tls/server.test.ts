import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { SecretDirectory } from '../../common/config/secrets.js';
import { startManagementServer } from '../../common/http/management.js';
import { type RunningServer, startServer } from '../../common/http/server.js';
import { createLogger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import {
  chooseServerTls,
  type FileServerTls,
  fileServerTls,
  secretServerTls,
  type TlsReloadOptions,
  watchServerTls,
} from '../../common/tls/index.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from '../../testkit/pki.js';
import { LEGACY_CLIENT, probeTls, renegotiationOutcome } from '../../testkit/tls-probe.js';

const logger = createLogger({ component: 'test', level: 'silent' });
const LOCALHOST = ['localhost', '127.0.0.1'];

/** GET over HTTPS trusting only the test CA; resolves with status and headers. */
function httpsGet(url: string, ca: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(`${url}/healthz`, { ca, servername: 'localhost' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

function writePair(dir: string, pair: IssuedCertificate): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem);
  return { certFile, keyFile };
}

/** Starts watching and returns a promise of the next reload outcome. */
function watchOnce(
  source: FileServerTls,
  server: RunningServer,
  options: Partial<TlsReloadOptions> = {},
): { next: () => Promise<{ ok: boolean }>; close: () => void } {
  let waiter: ((outcome: { ok: boolean }) => void) | undefined;
  const reloader = watchServerTls(source, () => server.reloadTls(), {
    logger,
    name: server.name,
    pollMs: 600_000, // these tests prove the watch path; the poll has its own test
    ...options,
    onReload: (outcome) => waiter?.(outcome),
  });
  return {
    next: () => new Promise((resolve) => (waiter = resolve)),
    close: () => reloader.close(),
  };
}

describe('HTTPS servers (broker, portal, management)', () => {
  let ca: TestCa;
  let dir: string;
  let source: FileServerTls;
  const servers: Record<string, RunningServer> = {};

  before(async () => {
    ca = makeTestCa();
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-tls-'));
    const files = writePair(dir, ca.issue({ hosts: LOCALHOST }));
    source = fileServerTls(files.certFile, files.keyFile);
    const portal = express();
    portal.get('/healthz', (_req, res) => {
      res.send('ok');
    });
    servers['broker'] = await startServer({
      name: 'broker',
      port: 0,
      host: '127.0.0.1',
      logger,
      tls: source,
      handler: (_req, res) => res.end('ok'),
    });
    servers['portal'] = await startServer({
      name: 'portal',
      port: 0,
      host: '127.0.0.1',
      logger,
      tls: source,
      handler: portal,
    });
    servers['management'] = await startManagementServer({
      port: 0,
      host: '127.0.0.1',
      registry: createMetricsRegistry(),
      logger,
      ready: async () => {},
      tls: source,
    });
  });

  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    ca.cleanup();
  });

  for (const name of ['broker', 'portal', 'management']) {
    describe(name, () => {
      const port = () => servers[name]?.port ?? 0;

      it('refuses TLS 1.0 and TLS 1.1 handshakes with a protocol_version alert', async () => {
        for (const version of ['TLSv1', 'TLSv1.1'] as const) {
          const result = await probeTls(port(), {
            ...LEGACY_CLIENT,
            minVersion: version,
            maxVersion: version,
            ca: ca.caPem,
          });
          expect(result.ok, version).to.equal(false);
          expect(result.ok === false && result.code, version).to.equal(
            'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
          );
        }
      });

      it('accepts TLS 1.2 and TLS 1.3 handshakes', async () => {
        for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
          const result = await probeTls(port(), { minVersion: version, maxVersion: version, ca: ca.caPem });
          expect(result).to.include({ ok: true, protocol: version });
        }
      });

      it('sends Strict-Transport-Security on HTTPS responses', async () => {
        const { status, headers } = await httpsGet(servers[name]?.url ?? '', ca.caPem);
        expect(status).to.equal(200);
        expect(headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
      });
    });
  }

  it('refuses a client-initiated renegotiation', async () => {
    const outcome = await renegotiationOutcome(servers['broker']?.port ?? 0, 'localhost', ca.caPem);
    expect(outcome).to.be.oneOf(['closed', 'error']);
  });
});

describe('plain HTTP servers', () => {
  it('do not send Strict-Transport-Security (RFC 6797: HSTS only over secure transport)', async () => {
    const server = await startServer({
      name: 'plain',
      port: 0,
      host: '127.0.0.1',
      logger,
      handler: (_req, res) => res.end('ok'),
    });
    try {
      const res = await fetch(server.url);
      expect(res.status).to.equal(200);
      expect(res.headers.get('strict-transport-security')).to.equal(null);
    } finally {
      await server.close();
    }
  });
});

describe('certificate rotation without restart', () => {
  let ca: TestCa;
  let dir: string;

  beforeEach(() => {
    ca = makeTestCa();
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-rotate-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    ca.cleanup();
  });

  async function serve(source: FileServerTls): Promise<RunningServer> {
    return startServer({
      name: 'broker',
      port: 0,
      host: '127.0.0.1',
      logger,
      tls: source,
      handler: (_q, r) => r.end(),
    });
  }
  /** Serves `source`, watches it, runs `body`, and always stops both. */
  async function withWatchedServer(
    source: FileServerTls,
    body: (server: RunningServer, watcher: ReturnType<typeof watchOnce>) => Promise<void>,
    options: Partial<TlsReloadOptions> = {},
  ): Promise<void> {
    const server = await serve(source);
    const watcher = watchOnce(source, server, options);
    try {
      await body(server, watcher);
    } finally {
      watcher.close();
      await server.close();
    }
  }

  it('serves a certificate rewritten in place to new connections', async () => {
    const first = ca.issue({ hosts: LOCALHOST });
    const files = writePair(dir, first);
    const source = fileServerTls(files.certFile, files.keyFile);
    await withWatchedServer(source, async (server, watcher) => {
      expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: first.serial });
      const second = ca.issue({ hosts: LOCALHOST });
      const reloaded = watcher.next();
      writePair(dir, second);
      expect(await reloaded).to.deep.equal({ ok: true });
      expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: second.serial });
    });
  });

  it('serves a Kubernetes Secret update (the ..data symlink swap) to new connections', async () => {
    // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/, swapped atomically by rename.
    const secretDir = join(dir, 'broker-tls');
    mkdirSync(secretDir);
    const version = (name: string, pair: IssuedCertificate) => {
      mkdirSync(join(secretDir, name));
      writePair(join(secretDir, name), pair);
      symlinkSync(name, join(secretDir, '..data_tmp'));
      renameSync(join(secretDir, '..data_tmp'), join(secretDir, '..data'));
    };
    const first = ca.issue({ hosts: LOCALHOST });
    version('..2026_01_01_00_00_00.1', first);
    symlinkSync('..data/tls.crt', join(secretDir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(secretDir, 'tls.key'));
    const source = secretServerTls(new SecretDirectory(dir), 'broker-tls');
    await withWatchedServer(source, async (server, watcher) => {
      expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: first.serial });
      const second = ca.issue({ hosts: LOCALHOST });
      const reloaded = watcher.next();
      version('..2026_01_02_00_00_00.2', second);
      expect(await reloaded).to.deep.equal({ ok: true });
      expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: second.serial });
    });
  });

  it('keeps serving the previous pair while a new certificate does not match the key, then takes the full pair', async () => {
    const first = ca.issue({ hosts: LOCALHOST });
    const files = writePair(dir, first);
    const source = fileServerTls(files.certFile, files.keyFile);
    const { logger: capturing, logs } = capturedLogger({ component: 'test' });
    await withWatchedServer(
      source,
      async (server, watcher) => {
        const second = ca.issue({ hosts: LOCALHOST });
        const failed = watcher.next();
        writeFileSync(files.certFile, second.certPem); // the key is still the old one
        expect(await failed).to.deep.include({ ok: false });
        expect(logs.find((l) => l['event'] === 'tls.reload_failed')?.['reason']).to.equal(
          'TLS_RELOAD_FAILED',
        );
        expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: first.serial });
        const reloaded = watcher.next();
        writeFileSync(files.keyFile, second.keyPem);
        expect(await reloaded).to.deep.equal({ ok: true });
        expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: second.serial });
      },
      { logger: capturing },
    );
  });

  it('picks up a rotation by polling when the watch reports nothing', async () => {
    const first = ca.issue({ hosts: LOCALHOST });
    const files = writePair(dir, first);
    const source = fileServerTls(files.certFile, files.keyFile);
    // A debounce longer than the test means watch events never lead to a reload: only the poll can.
    await withWatchedServer(
      source,
      async (server, watcher) => {
        const second = ca.issue({ hosts: LOCALHOST });
        const reloaded = watcher.next();
        writePair(dir, second);
        expect(await reloaded).to.deep.equal({ ok: true });
        expect(await probeTls(server.port, { ca: ca.caPem })).to.include({ ok: true, serial: second.serial });
      },
      { pollMs: 100, debounceMs: 600_000 },
    );
  });
});

describe('choosing where a server gets its certificate', () => {
  let ca: TestCa;
  let root: string;
  let secrets: SecretDirectory;
  let secretPair: IssuedCertificate;
  let filePair: IssuedCertificate;
  let files: { certFile: string; keyFile: string };

  before(() => {
    ca = makeTestCa();
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-secrets-'));
    mkdirSync(join(root, 'portal-tls'));
    secretPair = ca.issue({ hosts: LOCALHOST });
    writePair(join(root, 'portal-tls'), secretPair);
    mkdirSync(join(root, 'files'));
    filePair = ca.issue({ hosts: LOCALHOST });
    files = writePair(join(root, 'files'), filePair);
    secrets = new SecretDirectory(root);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    ca.cleanup();
  });

  async function servedSerial(source: FileServerTls | undefined): Promise<string> {
    if (!source) throw new Error('no TLS chosen');
    const server = await startServer({
      name: 'portal',
      port: 0,
      host: '127.0.0.1',
      logger,
      tls: source,
      handler: (_q, r) => r.end(),
    });
    try {
      const result = await probeTls(server.port, { ca: ca.caPem });
      return result.ok ? result.serial : result.code;
    } finally {
      await server.close();
    }
  }

  it("serves HTTPS from the tenant's tlsSecretRef when no --tls-cert is given", async () => {
    const source = chooseServerTls({ secretRef: { name: 'portal-tls' }, secrets });
    expect(await servedSerial(source)).to.equal(secretPair.serial);
  });

  it('prefers --tls-cert/--tls-key over the Secret', async () => {
    const source = chooseServerTls({ ...files, secretRef: { name: 'portal-tls' }, secrets });
    expect(await servedSerial(source)).to.equal(filePair.serial);
  });

  it('serves plain HTTP when neither files nor a Secret are configured', () => {
    expect(chooseServerTls({ secrets })).to.equal(undefined);
  });

  it('refuses a certificate file without its key', () => {
    expect(() => chooseServerTls({ certFile: files.certFile }))
      .to.throw()
      .with.property('code', 'TLS_FILES_INCOMPLETE');
  });

  it('refuses to start when a configured file is missing', () => {
    expect(() => fileServerTls(join(root, 'nope.crt'), files.keyFile))
      .to.throw()
      .with.property('code', 'TLS_FILE_UNREADABLE');
  });
});
