import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { domainToASCII } from 'node:url';
import { expect } from 'chai';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { freePort } from '../../common/net.js';
import { type Pki, portalAuthnRequestUrl } from '../../testkit/broker-harness.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from '../../testkit/pki.js';
import { startPoolProcess, within } from '../../testkit/pool.js';
import { writeBrokerBundle, writeTlsPair } from '../../testkit/pool-bundle.js';
import { clientHello, heldHandshake } from '../../testkit/tls-probe.js';

/**
 * Red-team pass on a pool's front door (ADR 0155): requests that try to reach one tenant through
 * another's address, sent as raw bytes to a real `jsm-sso broker --pool-dir` process of three tenants,
 * plain and with each tenant's certificate chosen by SNI.
 */
describe("a pool's front door: Host, request target, SNI and forwarded headers (ADR 0155)", function () {
  this.timeout(90_000);
  let dir: string;
  const pkis: Pki[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-front-door-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const pki of pkis) pki.cleanup();
  });

  /** A broker tenant `name` at `url` in `poolDir`, with its TLS pair when given; its keys (portal's too). */
  function writeBundle(poolDir: string, name: string, url: string, pair?: IssuedCertificate) {
    const written = writeBrokerBundle(poolDir, name, { name, url, tls: pair });
    pkis.push(written.pki);
    return written;
  }

  interface Answer {
    status: number;
    head: string;
    body: string;
  }

  /** Sends `head` (a request line and header lines, no blank line) as bytes; the answer once closed. */
  const sendRaw = (port: number, head: string, tls?: { servername?: string; ca: string }) =>
    new Promise<Answer>((resolve, reject) => {
      const bytes = `${head}\r\nConnection: close\r\n\r\n`;
      const socket = tls
        ? tlsConnect({ host: '127.0.0.1', port, checkServerIdentity: () => undefined, ...tls }, () =>
            socket.write(bytes),
          )
        : connect(port, '127.0.0.1', () => socket.write(bytes));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      socket.on('error', reject);
      socket.on('close', () => {
        const [headPart = '', body = ''] = text.split('\r\n\r\n', 2);
        resolve({ status: Number(headPart.split(' ')[1]), head: headPart, body });
      });
    });

  const entityOf = (tenant: JsmSsoTenant) => `entityID="${tenant.spec.broker.url}/saml/metadata"`;

  describe('over plain HTTP (behind an ingress)', () => {
    let port: number;
    let pool: ReturnType<typeof startPoolProcess>;
    let tenants: JsmSsoTenant[];
    const host = (i: number) => new URL(tenants[i]!.spec.broker.url).host;

    before(async () => {
      port = await freePort();
      const poolDir = join(dir, 'plain');
      tenants = ['a', 'b', 'c'].map(
        (n) => writeBundle(poolDir, `door-${n}`, `http://broker-${n}.localhost:${port}`).tenant,
      );
      pool = startPoolProcess('broker', ['--pool-dir', poolDir], port);
      await pool.urls;
    });
    after(async () => {
      pool.child.kill('SIGTERM');
      expect((await pool.done).code).to.equal(0);
    });

    const get = (target: string, ...headers: string[]) =>
      sendRaw(port, [`GET ${target} HTTP/1.1`, ...headers].join('\r\n'));
    const refusals = (reason: string) =>
      pool.logs.filter((l) => l['event'] === 'pool.refusal' && l['reason'] === reason);

    it("serves an absolute-form target naming the Host's tenant as that tenant, and refuses one naming another (400 POOL_HOST_INVALID)", async () => {
      const own = await get(`http://${host(0)}/saml/metadata`, `Host: ${host(0)}`);
      expect(own.status).to.equal(200);
      expect(own.body).to.contain(entityOf(tenants[0]!));

      for (const target of [
        `http://${host(1)}/saml/metadata`,
        `https://${host(1)}/saml/metadata`,
        `http://${host(0)}@${host(1)}/saml/metadata`,
        `http://${host(1)}`,
      ]) {
        const answer = await get(target, `Host: ${host(0)}`);
        expect(answer.status, target).to.equal(400);
        expect(answer.body).to.contain('POOL_HOST_INVALID');
        expect(answer.body).not.to.contain('EntityDescriptor');
      }
      // Log lines travel through the child's stdout pipe, which may lag its answers.
      await within(10_000, async () =>
        refusals('POOL_HOST_INVALID').find((l) => l['why'] === 'target_host_differs'),
      );
    });

    it('refuses two Host lines (400), whichever comes first, and a Host that is not host[:port]', async () => {
      for (const pair of [
        [host(0), host(1)],
        [host(1), host(0)],
        [host(0), host(0)],
      ]) {
        const answer = await get('/saml/metadata', `Host: ${pair[0]}`, `Host: ${pair[1]}`);
        expect(answer.status, pair.join(' + ')).to.equal(400);
        expect(answer.body).to.contain('POOL_HOST_INVALID');
      }
      for (const bad of [
        `${host(1)}@${host(0)}`,
        `user:pw@${host(0)}`,
        `broker-a .localhost:${port}`,
        `broker-a.localhost:${port}/x`,
        `broker%2da.localhost:${port}`,
        `bröker-a.localhost:${port}`,
        `${host(0)}:${port}`,
        // Zero-padded past five digits: not a port.
        `broker-a.localhost:${String(port).padStart(6, '0')}`,
      ]) {
        const answer = await get('/saml/metadata', `Host: ${bad}`);
        expect(answer.status, bad).to.equal(400);
        expect(answer.body).to.contain('POOL_HOST_INVALID');
      }
      for (const why of ['duplicate_host', 'malformed_host'])
        await within(10_000, async () => refusals('POOL_HOST_INVALID').find((l) => l['why'] === why));
    });

    it('routes case, a trailing dot and surrounding spaces to the same tenant; other ports, IP literals and unknown names get 404 POOL_TENANT_UNKNOWN naming no tenant', async () => {
      for (const same of [
        `BROKER-A.LOCALHOST:${port}`,
        `broker-a.localhost.:${port}`,
        `  broker-a.localhost:${port}  `,
      ]) {
        const answer = await get('/saml/metadata', `Host: ${same}`);
        expect(answer.status, same).to.equal(200);
        expect(answer.body).to.contain(entityOf(tenants[0]!));
      }
      const unknown = [
        'broker-a.localhost',
        'broker-a.localhost:443',
        'broker-a.localhost:80',
        'broker-a.localhost:0',
        'broker-a.localhost:99999',
        `[::1]:${port}`,
        `127.0.0.1:${port}`,
        // The punycode of a Unicode name (the Unicode form itself is not a Host: 400 above).
        `${domainToASCII('bröker-a.localhost')}:${port}`,
        `${'a'.repeat(8000)}.localhost`,
      ];
      for (const other of unknown) {
        const answer = await get('/saml/metadata', `Host: ${other}`);
        expect(answer.status, other.slice(0, 40)).to.equal(404);
        expect(answer.body).to.equal('no tenant is served at this address (POOL_TENANT_UNKNOWN)\n');
      }
      // HTTP/1.0 may omit Host: no tenant, not a guess.
      const noHost = await sendRaw(port, 'GET /saml/metadata HTTP/1.0');
      expect(noHost.status).to.equal(404);
      expect(noHost.body).to.contain('POOL_TENANT_UNKNOWN');
    });

    it('never picks a tenant by X-Forwarded-Host, Forwarded or X-Forwarded-Proto', async () => {
      const answer = await get(
        '/saml/metadata',
        `Host: ${host(0)}`,
        `X-Forwarded-Host: ${host(1)}`,
        `Forwarded: host=${host(1)};proto=https`,
        'X-Forwarded-Proto: https',
      );
      expect(answer.status).to.equal(200);
      expect(answer.body).to.contain(entityOf(tenants[0]!));
      expect(answer.body).not.to.contain(host(1));
      expect(answer.body).not.to.contain(`https://${host(0)}`);
      const unknown = await get(
        '/saml/metadata',
        'Host: portal.other.example',
        `X-Forwarded-Host: ${host(1)}`,
      );
      expect(unknown.status).to.equal(404);
    });
  });

  describe('over TLS with certificates chosen by SNI', () => {
    let ca: TestCa;
    let port: number;
    let pool: ReturnType<typeof startPoolProcess>;
    const certs: Record<string, IssuedCertificate> = {};
    let tenants: JsmSsoTenant[];
    let pkisOf: Pki[];
    const name = (n: string) => `broker.${n}.test`;

    before(async () => {
      ca = makeTestCa();
      port = await freePort();
      const poolDir = join(dir, 'tls');
      certs['a'] = ca.issue({ hosts: [name('a')] });
      certs['b'] = ca.issue({ hosts: [name('b')] });
      certs['default'] = ca.issue({ hosts: ['*.pool.test'] });
      mkdirSync(join(dir, 'default'));
      writeTlsPair(join(dir, 'default'), certs['default']);
      const written = ['a', 'b', 'c'].map((n) =>
        writeBundle(poolDir, `door-tls-${n}`, `https://${name(n)}:${port}`, certs[n]),
      );
      tenants = written.map((w) => w.tenant);
      pkisOf = written.map((w) => w.pki);
      pool = startPoolProcess(
        'broker',
        [
          '--pool-dir',
          poolDir,
          '--tenant-tls',
          '--tls-cert',
          join(dir, 'default', 'tls.crt'),
          '--tls-key',
          join(dir, 'default', 'tls.key'),
        ],
        port,
      );
      await pool.urls;
    });
    after(async () => {
      pool.child.kill('SIGTERM');
      expect((await pool.done).code).to.equal(0);
      ca.cleanup();
    });

    const get = (servername: string | undefined, hostName: string) =>
      sendRaw(port, `GET /saml/metadata HTTP/1.1\r\nHost: ${hostName}:${port}`, {
        ca: ca.caPem,
        ...(servername ? { servername } : {}),
      });

    it("answers 421 POOL_MISDIRECTED to a connection opened for tenant A's name asking for tenant B (domain fronting)", async () => {
      for (const [sni, hostName] of [
        [name('a'), name('b')],
        [name('b'), name('a')],
        // C has no certificate of its own (it gets the default), but its name is still C's.
        [name('c'), name('a')],
        [name('a'), name('c')],
      ] as const) {
        const answer = await get(sni, hostName);
        expect(answer.status, `${sni} -> ${hostName}`).to.equal(421);
        expect(answer.body).to.contain('POOL_MISDIRECTED');
        expect(answer.body).not.to.contain('EntityDescriptor');
      }
      await within(10_000, async () =>
        pool.logs.find((l) => l['reason'] === 'POOL_MISDIRECTED' && l['tenant'] === 'door-tls-b'),
      );
      // The name's own tenant, in any case, is served.
      const own = await get('BROKER.A.TEST.', name('a'));
      expect(own.status).to.equal(200);
      expect(own.body).to.contain(entityOf(tenants[0]!));
    });

    it('routes by Host a connection without SNI or naming no tenant (an ingress re-encrypting), under the default certificate only', async () => {
      for (const sni of [undefined, 'jsm-sso-pool.jsm-pools.svc', 'unknown.pool.test']) {
        const answer = await get(sni, name('b'));
        expect(answer.status, String(sni)).to.equal(200);
        expect(answer.body).to.contain(entityOf(tenants[1]!));
      }
      // The certificate such a client sees is the pool's own: it names no tenant.
      const seen = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port, ca: ca.caPem, servername: 'unknown.pool.test' },
          () => {
            resolve(new X509Certificate(socket.getPeerCertificate(true).raw).subjectAltName ?? '');
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      expect(seen).to.equal('DNS:*.pool.test');
    });

    it('refuses tenant B on a keep-alive connection opened for tenant A (421), and the connection still serves A', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const viaA = (hostName: string) =>
        new Promise<{ status: number; body: string; reused: boolean }>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path: '/saml/metadata',
              servername: name('a'),
              headers: { host: `${hostName}:${port}` },
              ca: ca.caPem,
              agent,
            },
            (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => {
                body += chunk.toString('utf8');
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
            },
          );
          req.on('error', reject).end();
        });
      try {
        expect((await viaA(name('a'))).status).to.equal(200);
        const crossed = await viaA(name('b'));
        expect(crossed).to.include({ status: 421, reused: true });
        expect(crossed.body).to.contain('POOL_MISDIRECTED');
        const again = await viaA(name('a'));
        expect(again).to.include({ status: 200, reused: true });
        expect(again.body).to.contain(entityOf(tenants[0]!));
      } finally {
        agent.destroy();
      }
    });

    it("closes a TLS connection whose handshake is not done 20 s after it connected (nothing sent, or tenant A's ClientHello a byte a second), and logs TLS_HANDSHAKE_TIMEOUT", async () => {
      // A slowloris below HTTP: no Host to route by yet, so it would hold a socket of every tenant's
      // listener. Node's own bound is an idle timer of 120 s that each byte restarts.
      const hello = await clientHello(name('a'));
      const giveUpMs = 45_000;
      const [silent, trickled] = await Promise.all([
        heldHandshake(port, { giveUpMs }),
        heldHandshake(port, { giveUpMs, hello, byteEveryMs: 1000 }),
      ]);
      // Design: the headers timeout, 20 s; the margin is for a loaded machine.
      for (const [what, ms] of [
        ['silent', silent],
        ['trickling', trickled],
      ] as const) {
        expect(ms, `the ${what} connection closed after (ms)`).to.be.within(19_000, 30_000);
      }
      await within(10_000, async () =>
        pool.logs.filter((l) => l['reason'] === 'TLS_HANDSHAKE_TIMEOUT').length >= 2 ? true : undefined,
      );
    });

    it("sets the flow cookie host-only (__Host-, Secure, Path=/, no Domain), so a sibling tenant's host never receives it", async () => {
      const sso = new URL(portalAuthnRequestUrl(tenants[0]!.spec.broker.url, pkisOf[0]!));
      const answer = await sendRaw(port, `GET ${sso.pathname}${sso.search} HTTP/1.1\r\nHost: ${sso.host}`, {
        ca: ca.caPem,
        servername: name('a'),
      });
      // Set before the IdP is asked (here unreachable: 502), so the flow can be refused at the callback.
      const cookies = answer.head.split('\r\n').filter((line) => /^set-cookie:/i.test(line));
      expect(cookies).to.have.length(1);
      // The tenant's URL has a port of its own: the name carries it (ADR 0369).
      expect(cookies[0]).to.match(
        new RegExp(
          `^set-cookie: __Host-jsm_sso_flow-${port}=[\\w-]+; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=\\d+$`,
          'i',
        ),
      );
      expect(cookies[0]).not.to.match(/domain=/i);
    });
  });
});
