import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { expect } from 'chai';
import { SecretDirectory } from '../../common/config/secrets.js';
import {
  AddressGate,
  caBundleFor,
  createTlsFetch,
  isLoopbackHost,
  type OutboundInit,
  type TlsFetch,
  trustedCas,
} from '../../common/tls/index.js';
import { eventually } from '../../testkit/envtest.js';
import { startSilentServer } from '../../testkit/fault-proxy.js';
import { type IssuedCertificate, makeTestCa, type TestCa } from '../../testkit/pki.js';

const LOCALHOST = ['localhost', '127.0.0.1'];

/**
 * An HTTPS server with the given certificate that echoes the method and body, or redirects on
 * /redirect, or drops the connection once the request is read on /cut, or never answers on /stall
 * (`stalled()` counts the requests it holds so).
 */
async function startHttps(
  pair: IssuedCertificate,
  extra: { maxVersion?: 'TLSv1.1' } = {},
): Promise<{ url: string; connections(): number; stalled(): number; close(): Promise<void> }> {
  let connections = 0;
  let stalled = 0;
  const server: Server = createServer(
    {
      cert: pair.certPem,
      key: pair.keyPem,
      ...(extra.maxVersion
        ? { minVersion: 'TLSv1', maxVersion: extra.maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' }
        : {}),
    },
    (req, res) => {
      if (req.url === '/stall') {
        stalled++;
        return; // never answers
      }
      if (req.url === '/cut') {
        // Read whole, then the connection dropped unanswered.
        req.resume();
        req.on('end', () => req.socket.destroy());
        return;
      }
      if (req.url === '/empty') {
        res.writeHead(204, [
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ]);
        res.end();
        return;
      }
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: new URL(req.url, 'http://x').searchParams.get('to') ?? '/' });
        res.end();
        return;
      }
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () =>
        res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] })),
      );
    },
  );
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    connections: () => connections,
    stalled: () => stalled,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Both ways a call goes out: through Node's fetch, and as a single exchange on the same Agent (a
 * call with `redirect: 'manual'`, as openid-client makes every call). Every TLS rule holds for both.
 */
const BOTH_PATHS: (RequestInit | undefined)[] = [undefined, { redirect: 'manual' }];

/** A form with one field, as the portal sends a file (through fetch's streaming path). */
function formOf(value: string): FormData {
  const form = new FormData();
  form.set('field', value);
  return form;
}

/** The error code fetch failed with: a TLS error's code on the cause, or a JsmSsoError's code. */
async function failureCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.code ?? e.cause?.code ?? String(err);
  }
  throw new Error('the request succeeded');
}

describe('outbound TLS client (createTlsFetch)', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let tlsFetch: TlsFetch;
  const cleanups: (() => Promise<void>)[] = [];

  before(() => {
    ca = makeTestCa('jsm-sso test CA');
    otherCa = makeTestCa('some other CA');
    tlsFetch = createTlsFetch({ extraCaPem: ca.caPem });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  after(async () => {
    await tlsFetch.close();
    ca.cleanup();
    otherCa.cleanup();
  });

  async function serve(pair: IssuedCertificate, extra: { maxVersion?: 'TLSv1.1' } = {}) {
    const server = await startHttps(pair, extra);
    cleanups.push(() => server.close());
    return server;
  }

  it('succeeds against a server whose certificate chains to the configured extra CA', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const res = await tlsFetch(`${server.url}/`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.include({ method: 'GET' });
  });

  it('sends form bodies and headers as openid-client does (URLSearchParams, Headers)', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const res = await tlsFetch(`${server.url}/token`, {
      method: 'POST',
      headers: new Headers({ accept: 'application/json' }),
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'abc' }),
      redirect: 'manual',
    });
    expect(await res.json()).to.deep.equal({
      method: 'POST',
      body: 'grant_type=authorization_code&code=abc',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
    });
  });

  it('keeps its TLS connections alive: 20 calls one after another use at most 2, 4 at a time at most 8 for 40', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    for (let i = 0; i < 20; i++) await (await tlsFetch(`${server.url}/token`, { method: 'POST' })).json();
    // undici returns a socket to the pool a tick after its body ends, so a call made in that very
    // tick opens a second connection once; from then on the two are reused, never a new one per call.
    expect(server.connections()).to.be.within(1, 2);
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 4 }, async () => (await tlsFetch(`${server.url}/me`)).json()));
    }
    // At most one per call in flight plus the late-release case above for each: never one per call (40).
    expect(server.connections()).to.be.within(1, 8);
  });

  it("answers a redirect: 'manual' call with the redirect itself and follows nothing", async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const to = encodeURIComponent('http://10.255.255.1:8080/jwks');
    const res = await tlsFetch(`${server.url}/redirect?to=${to}`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('http://10.255.255.1:8080/jwks');
  });

  it("gives a single exchange's answer as fetch would: every header, no body for a 204", async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const res = await tlsFetch(`${server.url}/empty`, { redirect: 'manual' });
    expect(res.status).to.equal(204);
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(res.body).to.equal(null);
  });

  it("gives up on a server that does not answer when the caller's signal fires, on both paths", async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    for (const init of BOTH_PATHS) {
      const err = await tlsFetch(`${server.url}/stall`, { ...init, signal: AbortSignal.timeout(200) }).catch(
        (e: unknown) => e,
      );
      expect(err).to.have.property('name', 'TimeoutError');
    }
  });

  it("gives up on a peer that never finishes the TLS handshake when the caller's signal fires, on both paths", async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    for (const init of BOTH_PATHS) {
      const err = await tlsFetch(`https://127.0.0.1:${silent.port}/`, {
        ...init,
        signal: AbortSignal.timeout(200),
      }).catch((e: unknown) => e);
      expect(err).to.have.property('name', 'TimeoutError');
    }
  });

  it('closes at once while a TLS handshake with a peer that never answers is still under way', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const own = createTlsFetch();
    const err = await own(`https://127.0.0.1:${silent.port}/`, {
      redirect: 'error',
      signal: AbortSignal.timeout(200),
    }).catch((e: unknown) => e);
    expect(err).to.have.property('name', 'TimeoutError');
    // A process stopping (or a pool releasing a tenant) must not wait out undici's 10 s connect
    // timeout for an attempt nobody waits for any more.
    const closed = await Promise.race([
      own.close().then(() => 'closed'),
      new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting for the handshake')),
    ]);
    expect(closed).to.equal('closed');
  });

  /** Whether `call` failed saying nothing of it was sent (`onUnsent`, ADR 0397), and its error's code. */
  async function unsentOf(call: (init: OutboundInit) => Promise<unknown>) {
    let unsent = false;
    const code = await failureCode(
      call({
        onUnsent: () => {
          unsent = true;
        },
      }),
    );
    return { code, unsent };
  }

  /** A write's two bodies: a JSON string (a single exchange) and a form (fetch's path). */
  const WRITES: OutboundInit[] = [
    { method: 'POST', body: '{"body":"hello"}', redirect: 'manual' },
    { method: 'POST', body: formOf('hello') },
  ];

  it('says nothing was sent of a write refused at connect or at its TLS handshake, on both paths', async () => {
    const refused = await startHttps(ca.issue({ hosts: LOCALHOST }));
    await refused.close();
    const untrusted = await serve(otherCa.issue({ hosts: LOCALHOST }));
    for (const init of WRITES) {
      expect(await unsentOf((more) => tlsFetch(`${refused.url}/`, { ...init, ...more }))).to.deep.equal({
        code: 'ECONNREFUSED',
        unsent: true,
      });
      expect(await unsentOf((more) => tlsFetch(`${untrusted.url}/`, { ...init, ...more }))).to.deep.equal({
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        unsent: true,
      });
    }
  });

  it('says nothing was sent of a write whose TLS handshake outlasted its deadline, and not of one timed out once sent, on both paths', async () => {
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    for (const init of WRITES) {
      const timedOut = { ...init, signal: AbortSignal.timeout(200) };
      const handshaking = await unsentOf((more) =>
        tlsFetch(`https://127.0.0.1:${silent.port}/`, { ...timedOut, ...more }),
      );
      expect(handshaking.unsent, handshaking.code).to.equal(true);
      // Its deadline passes once the server holds the request, not after a fixed 200 ms: on a loaded
      // machine the handshake alone outlasts that, and the write is then truly unsent.
      const deadline = new AbortController();
      const held = server.stalled();
      const stalling = unsentOf((more) =>
        tlsFetch(`${server.url}/stall`, { ...init, signal: deadline.signal, ...more }),
      );
      await eventually(async () => server.stalled() > held, 'the write held by the server');
      deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      const stalled = await stalling;
      expect(stalled.unsent, stalled.code).to.equal(false);
    }
  });

  it('never says nothing was sent of a write whose connection is cut once it went out, on both paths', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    for (const init of WRITES) {
      const cut = await unsentOf((more) => tlsFetch(`${server.url}/cut`, { ...init, ...more }));
      expect(cut.unsent, cut.code).to.equal(false);
    }
  });

  it('refuses a server certificate from an unknown CA', async () => {
    const server = await serve(otherCa.issue({ hosts: LOCALHOST }));
    for (const init of BOTH_PATHS)
      expect(await failureCode(tlsFetch(`${server.url}/`, init))).to.equal('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses a private-CA server when no extra CA is configured (public roots only)', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const publicOnly = createTlsFetch();
    try {
      for (const init of BOTH_PATHS)
        expect(await failureCode(publicOnly(`${server.url}/`, init))).to.equal(
          'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        );
    } finally {
      await publicOnly.close();
    }
  });

  it('refuses a certificate issued for another host name', async () => {
    const server = await serve(ca.issue({ hosts: ['idp.other.example'] }));
    for (const init of BOTH_PATHS)
      expect(await failureCode(tlsFetch(`${server.url}/`, init))).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('refuses an expired certificate', async () => {
    const expired = ca.issue({
      hosts: LOCALHOST,
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const server = await serve(expired);
    for (const init of BOTH_PATHS)
      expect(await failureCode(tlsFetch(`${server.url}/`, init))).to.equal('CERT_HAS_EXPIRED');
  });

  it('refuses a certificate that is not valid yet', async () => {
    const future = ca.issue({ hosts: LOCALHOST, notBefore: new Date(Date.now() + 86_400_000), days: 3 });
    const server = await serve(future);
    for (const init of BOTH_PATHS)
      expect(await failureCode(tlsFetch(`${server.url}/`, init))).to.equal('CERT_NOT_YET_VALID');
  });

  it('refuses a server that only speaks TLS 1.1', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }), { maxVersion: 'TLSv1.1' });
    for (const init of BOTH_PATHS)
      expect(await failureCode(tlsFetch(`${server.url}/`, init))).to.match(
        /^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL)$/,
      );
  });

  it('refuses plain http:// to a non-loopback host before connecting', async () => {
    for (const init of BOTH_PATHS) {
      const err = await tlsFetch('http://idp.example.invalid/.well-known/openid-configuration', init).catch(
        (e: unknown) => e,
      );
      expect(err).to.include({ code: 'TLS_PLAINTEXT_FORBIDDEN', status: 502 });
    }
  });

  it('refuses a redirect from https:// to plain http:// on a non-loopback host', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const to = encodeURIComponent('http://10.255.255.1:8080/jwks');
    const err = await tlsFetch(`${server.url}/redirect?to=${to}`).catch((e: unknown) => e);
    expect(err).to.include({ code: 'TLS_PLAINTEXT_FORBIDDEN' });
  });

  it('allows plain http:// to loopback by default, and refuses it when allowLoopbackHttp is false', async () => {
    const plain = plainServer();
    const { port } = await plain.listening;
    cleanups.push(plain.close);
    const res = await tlsFetch(`http://127.0.0.1:${port}/`);
    expect(res.status).to.equal(200);
    const strict = createTlsFetch({ allowLoopbackHttp: false });
    try {
      for (const init of BOTH_PATHS) {
        const err = await strict(`http://127.0.0.1:${port}/`, init).catch((e: unknown) => e);
        expect(err).to.include({ code: 'TLS_PLAINTEXT_FORBIDDEN' });
      }
    } finally {
      await strict.close();
    }
  });

  it('with an address gate, connects to no address it refuses (a name, an address in the URL, a redirect), on both paths', async () => {
    const server = await serve(ca.issue({ hosts: LOCALHOST }));
    const port = new URL(server.url).port;
    const publicOnly = createTlsFetch({ extraCaPem: ca.caPem, addresses: new AddressGate() });
    const allowing = createTlsFetch({ extraCaPem: ca.caPem, addresses: new AddressGate(['127.0.0.1/32']) });
    try {
      for (const init of BOTH_PATHS) {
        for (const url of [server.url, `https://127.0.0.1:${port}/`, `https://[::1]:${port}/`]) {
          const err = await publicOnly(url, init).catch((e: unknown) => e);
          expect(err, url).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN', status: 502 });
        }
      }
      expect(server.connections(), 'connections the refused calls made').to.equal(0);
      // The allowed network is called; a redirect from it to an address outside is not followed there.
      expect((await allowing(`${server.url}/`)).status).to.equal(200);
      const to = encodeURIComponent(`https://127.0.0.2:${port}/jwks`);
      const err = await allowing(`${server.url}/redirect?to=${to}`).catch((e: unknown) => e);
      expect(err).to.include({ code: 'OUTBOUND_ADDRESS_FORBIDDEN' });
    } finally {
      await Promise.all([publicOnly.close(), allowing.close()]);
    }
  });

  it('refuses schemes other than http and https', async () => {
    const err = await tlsFetch('ftp://files.example/x').catch((e: unknown) => e);
    expect(err).to.include({ code: 'TLS_PLAINTEXT_FORBIDDEN' });
  });
});

/** Plain HTTP on loopback, as the dev stack serves its IdP. */
function plainServer() {
  const server = createHttpServer((_req, res) => res.end('ok'));
  const listening = new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  return { listening, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('extra CA bundles', () => {
  let ca: TestCa;
  let root: string;
  before(() => {
    ca = makeTestCa();
    root = mkdtempSync(join(tmpdir(), 'jsm-sso-ca-'));
    mkdirSync(join(root, 'idp-ca'));
    writeFileSync(join(root, 'idp-ca', 'ca.crt'), ca.caPem);
    mkdirSync(join(root, 'broken-ca'));
    writeFileSync(
      join(root, 'broken-ca', 'ca.crt'),
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
    );
    writeFileSync(join(root, 'broken-ca', 'empty'), 'no pem here');
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    ca.cleanup();
  });

  it("adds the bundle to Node's public roots instead of replacing them", () => {
    const cas = trustedCas(ca.caPem);
    expect(cas).to.include.members([...rootCertificates]);
    expect(cas).to.have.length(rootCertificates.length + 1);
    expect(cas.at(-1)?.trim()).to.equal(ca.caPem.trim());
  });

  it('reads a caBundleSecretRef (default key ca.crt)', () => {
    const secrets = new SecretDirectory(root);
    expect(caBundleFor(secrets, { name: 'idp-ca' })).to.equal(ca.caPem);
    expect(caBundleFor(secrets, undefined)).to.equal(undefined);
  });

  it('refuses a bundle that holds no certificate or one that does not parse', () => {
    const secrets = new SecretDirectory(root);
    expect(() => caBundleFor(secrets, { name: 'broken-ca', key: 'ca.crt' }))
      .to.throw()
      .with.property('code', 'TLS_CA_BUNDLE_INVALID');
    expect(() => caBundleFor(secrets, { name: 'broken-ca', key: 'empty' }))
      .to.throw()
      .with.property('code', 'TLS_CA_BUNDLE_INVALID');
    expect(() => createTlsFetch({ extraCaPem: 'garbage' }))
      .to.throw()
      .with.property('code', 'TLS_CA_BUNDLE_INVALID');
  });
});

describe('loopback hosts', () => {
  it('are localhost, 127.0.0.0/8 and ::1 only', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).to.equal(true);
    }
    for (const host of [
      'localhost.example.com',
      '127.0.0.1.nip.io',
      '10.0.0.1',
      '0.0.0.0',
      '::ffff:127.0.0.1x',
      'example.com',
    ]) {
      expect(isLoopbackHost(host), host).to.equal(false);
    }
  });
});
