// A client that sends its request body slower than it may (a slowloris, or a phone losing its
// network in the middle of an upload) is cut at the request timeout, within a bounded time; one that
// never finishes its TLS handshake, at the headers timeout.
import { Agent, get as httpsGet } from 'node:https';
import { connect } from 'node:net';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../common/http/server.js';
import { createLogger } from '../../common/log.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import { timed } from '../../testkit/timed.js';
import { clientHello, heldHandshake } from '../../testkit/tls-probe.js';

const REQUEST_TIMEOUT_MS = 1000;

describe('faults: a client that trickles its request body', function () {
  this.timeout(30_000);
  it('is answered 408 and its connection closed soon after the request timeout, the handler seeing the request end', async () => {
    let handlerSawEnd: 'complete' | 'cut' | undefined;
    const server = await startServer({
      name: 'slow-client',
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ component: 'test', level: 'silent' }),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      handler: (req, res) => {
        req.resume();
        req.once('close', () => {
          handlerSawEnd = req.complete ? 'complete' : 'cut';
        });
        req.once('end', () => res.end('read'));
      },
    });
    try {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
      });
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const cut = await timed(async () => {
        socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
        socket.write('only the start of it');
        await closed;
      });
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
      expect(handlerSawEnd).to.equal('cut');
      // Design: the timeout plus at most one check interval (half the timeout here); the margin is
      // for a loaded machine.
      expect(cut.ms, 'the connection cut after (ms)').to.be.below(4 * REQUEST_TIMEOUT_MS);
    } finally {
      await server.close(100);
    }
  });
});

/**
 * A TLS client must finish its handshake within the headers timeout of connecting. Node's own bound
 * (handshakeTimeout, 120 s) is an idle timer that every byte restarts, and the HTTP timeouts start only
 * once the handshake is done: a client that sent nothing held its connection for two minutes, and one
 * that sent its ClientHello a byte at a time held it for as long as it kept sending.
 */
describe('faults: a TLS client that never finishes its handshake', function () {
  this.timeout(30_000);
  /** Well past the bound, well within Node's own 120 s: how long the test waits for the server to cut. */
  const GIVE_UP_MS = 10 * REQUEST_TIMEOUT_MS;
  let ca: TestCa;
  let server: RunningServer;
  const { logger, logs } = capturedLogger({ component: 'test' });

  before(async () => {
    ca = makeTestCa();
    const pair = ca.issue({ hosts: ['localhost'] });
    server = await startServer({
      name: 'slow-handshake',
      port: 0,
      host: '127.0.0.1',
      logger,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      tls: { load: () => ({ key: pair.keyPem, cert: pair.certPem }) },
      handler: (_req, res) => res.end('served'),
    });
  });
  after(async () => {
    await server?.close(100);
    ca?.cleanup();
  });

  it('cuts a connection that sends nothing, and one that sends its ClientHello a byte at a time, at the headers timeout', async () => {
    const hello = await clientHello('localhost');
    expect(hello.length, 'ClientHello bytes').to.be.above(100);
    const from = logs.length;
    const [silent, trickled] = await Promise.all([
      heldHandshake(server.port, { giveUpMs: GIVE_UP_MS }),
      // One byte every 100 ms: the whole ClientHello would take over 10 s, and each byte restarts an
      // idle timer.
      heldHandshake(server.port, { giveUpMs: GIVE_UP_MS, hello, byteEveryMs: 100 }),
    ]);
    // Design: the headers timeout (the request timeout here); the margin is for a loaded machine.
    expect(silent, 'the silent connection cut after (ms)').to.be.below(4 * REQUEST_TIMEOUT_MS);
    expect(trickled, 'the trickling connection cut after (ms)').to.be.below(4 * REQUEST_TIMEOUT_MS);
    const cut = logs.slice(from).filter((l) => l['reason'] === 'TLS_HANDSHAKE_TIMEOUT');
    expect(cut, 'one log line per connection cut').to.have.length(2);
    expect(cut[0]).to.include({ event: 'server.tls_handshake_timeout', server: 'slow-handshake' });
  });

  it('leaves a connection whose handshake was done alone past that bound, for keep-alive requests', async () => {
    const agent = new Agent({ keepAlive: true, ca: ca.caPem, maxSockets: 1 });
    const get = () =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        httpsGet(`https://localhost:${server.port}/`, { agent }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString('utf8');
          });
          res.on('end', () => resolve({ body, socket: res.socket }));
        }).on('error', reject);
      });
    try {
      const first = await get();
      // Past the handshake bound, within the keep-alive timeout.
      await new Promise((resolve) => setTimeout(resolve, 2 * REQUEST_TIMEOUT_MS));
      const second = await get();
      expect([first.body, second.body]).to.deep.equal(['served', 'served']);
      expect(second.socket, 'the same connection').to.equal(first.socket);
    } finally {
      agent.destroy();
    }
  });
});
