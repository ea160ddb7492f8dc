// A client that sends its request body slower than it may (a slowloris, or a phone losing its
// network in the middle of an upload) is cut at the request timeout; one that never finishes its TLS
// handshake, at the headers timeout. No bound in ms measured by the test: each client holds its
// connection until the server hangs up, so a cut at all is the server's own (the 408, the
// TLS_HANDSHAKE_TIMEOUT line say which), and a server without one runs into mocha's timeout.
import type { Server } from 'node:http';
import { Agent, get as httpsGet } from 'node:https';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../common/http/server.js';
import { createLogger } from '../../common/log.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { makeTestCa, type TestCa } from '../../testkit/pki.js';
import { clientHello, heldHandshake } from '../../testkit/tls-probe.js';

const REQUEST_TIMEOUT_MS = 1000;
/** Each describe's; shorter than the servers' defaults (60 s, 20 s headers), so one ignoring its option fails. */
const MOCHA_TIMEOUT_MS = 30_000;

describe('faults: a client that trickles its request body', function () {
  this.timeout(MOCHA_TIMEOUT_MS);
  it('is answered 408 and its connection closed by the server, the handler seeing the request end', async () => {
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
      socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      socket.write('only the start of it');
      // The client never ends it: the server hangs up, or mocha's timeout ends the test.
      await closed;
      // Node answers 408 only when a request or its headers outlive their timeout.
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
      expect(handlerSawEnd).to.equal('cut');
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
  this.timeout(MOCHA_TIMEOUT_MS);
  /** Past mocha's timeout: the clients never give up before the server or mocha ends the test. */
  const HOLD_MS = 2 * MOCHA_TIMEOUT_MS;
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
    const sentinel = failWhenOpenPast(server.server, 2 * REQUEST_TIMEOUT_MS);
    try {
      await Promise.race([
        Promise.all([
          heldHandshake(server.port, { giveUpMs: HOLD_MS }),
          // One byte every 100 ms: the whole ClientHello would take over 10 s, and each byte restarts an
          // idle timer.
          heldHandshake(server.port, { giveUpMs: HOLD_MS, hello, byteEveryMs: 100 }),
        ]),
        sentinel.outlived,
      ]);
    } finally {
      sentinel.stop();
    }
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

/**
 * Rejects when a connection to `server` is still open as a timer of `ms`, started when the server
 * accepted it, fires. An order, not a measure of elapsed time: the server's own handshake bound starts
 * in the same 'connection' event, and timers started together fire in the order of their lengths
 * however late a loaded machine runs them, so a bound shorter than `ms` has always cut first.
 */
function failWhenOpenPast(server: Server, ms: number): { outlived: Promise<never>; stop(): void } {
  const timers = new Set<NodeJS.Timeout>();
  let fail: (err: Error) => void = () => undefined;
  const outlived = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  const watch = (socket: Socket) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!socket.destroyed) fail(new Error(`a connection still open ${ms} ms after it was accepted`));
    }, ms);
    timers.add(timer);
    socket.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };
  server.on('connection', watch);
  return {
    outlived,
    stop() {
      server.off('connection', watch);
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
