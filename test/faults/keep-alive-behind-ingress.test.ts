// An ingress controller or cloud load balancer keeps its idle connections to a part open for its own
// limit (ingress-nginx upstream-keepalive-timeout 60 s, AWS ALB 60 s) and sends the next request on
// one without asking. A part that closes first races that request: sent as the part's FIN is on the
// wire, it is reset and the ingress answers 502 (nginx does not retry a POST). The part must be the
// later one to close; and the idle connections it keeps that long must stay bounded in number.
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../common/http/server.js';
import { brokerCommand } from '../../testkit/broker-process.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { jsmSso, listening } from '../../testkit/part-process.js';

/** The ingress's idle limit, scaled down: past the 5 s (+1 s Node adds) the parts used to keep. */
const INGRESS_IDLE_MS = 7_000;
const REQUEST = 'GET / HTTP/1.1\r\nHost: part.example\r\n\r\n';

/** A keep-alive client as an ingress is one: one TCP connection, reused without regard to hints. */
class UpstreamConnection {
  readonly socket: Socket;
  private received = '';
  private waiting: (() => void) | undefined;
  /** Set when the part closed the connection (its FIN arrived). */
  closedByPart = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.waiting?.();
    });
    this.socket.on('end', () => {
      this.closedByPart = true;
      this.waiting?.();
    });
  }

  /** Sends one request and resolves with the answer's status line, or undefined if the part closed. */
  async request(): Promise<string | undefined> {
    const from = this.received.length;
    const answered = () => this.received.slice(from).endsWith('\r\n\r\nok');
    this.socket.write(REQUEST);
    while (!answered() && !this.closedByPart) await new Promise<void>((resolve) => (this.waiting = resolve));
    return answered() ? this.received.slice(from).split('\r\n')[0] : undefined;
  }

  close(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}

async function partServer(
  options: Partial<Parameters<typeof startServer>[0]> = {},
): Promise<{ server: RunningServer; logs: Record<string, unknown>[] }> {
  const { logger, logs } = capturedLogger({ component: 'test' });
  const server = await startServer({
    name: 'behind-ingress',
    port: 0,
    host: '127.0.0.1',
    logger,
    handler: (_req, res) => res.end('ok'),
    ...options,
  });
  return { server, logs };
}

describe('faults: a part behind an ingress that keeps idle connections for 60 s', function () {
  this.timeout(30_000);

  it('keeps an idle connection open for as long as the ingress may reuse it, past the headers timeout too', async () => {
    // The headers timeout (1 s here) is shorter than the idle time: Node counts it from a request's
    // first byte, not from the end of the one before (Node 12 did, and reset ALB connections).
    const { server } = await partServer({
      keepAliveTimeoutMs: INGRESS_IDLE_MS + 5_000,
      requestTimeoutMs: 1_000,
    });
    const upstream = new UpstreamConnection(server.port);
    try {
      expect(await upstream.request()).to.equal('HTTP/1.1 200 OK');
      await new Promise((resolve) => setTimeout(resolve, INGRESS_IDLE_MS));
      expect(upstream.closedByPart, 'the part closed the idle connection before the ingress would').to.equal(
        false,
      );
      expect(await upstream.request(), 'the request the ingress sends at its idle limit').to.equal(
        'HTTP/1.1 200 OK',
      );
    } finally {
      await upstream.close();
      await server.close(100);
    }
  });

  it('keeps by default longer than ingress-nginx and AWS ALB (60 s), and says so in Keep-Alive', async () => {
    const { server } = await partServer();
    const upstream = new UpstreamConnection(server.port);
    try {
      expect(server.server.keepAliveTimeout).to.be.above(60_000);
      upstream.socket.write(REQUEST);
      const head = await new Promise<string>((resolve) =>
        upstream.socket.once('data', (d) => resolve(String(d))),
      );
      expect(head).to.match(/^Keep-Alive: timeout=65\r$/m);
    } finally {
      await upstream.close();
      await server.close(100);
    }
  });

  it('does not count a connection closing after its answer (Connection: close) as idle', async () => {
    const { server, logs } = await partServer({ idleConnectionsMax: 1 });
    const kept = new UpstreamConnection(server.port);
    try {
      expect(await kept.request()).to.equal('HTTP/1.1 200 OK');
      const closing = await fetch(server.url, { headers: { connection: 'close' } });
      expect(await closing.text()).to.equal('ok');
      expect(kept.closedByPart, 'the idle keep-alive connection closed for it').to.equal(false);
      expect(await kept.request()).to.equal('HTTP/1.1 200 OK');
      expect(logs.filter((l) => l['reason'] === 'IDLE_CONNECTIONS_CAPPED')).to.deep.equal([]);
    } finally {
      await kept.close();
      await server.close(100);
    }
  });

  it('closes the longest-idle connections first once more than the bound are idle, and logs it once', async () => {
    const { server, logs } = await partServer({ idleConnectionsMax: 3 });
    const upstreams = Array.from({ length: 5 }, () => new UpstreamConnection(server.port));
    try {
      for (const upstream of upstreams) expect(await upstream.request()).to.equal('HTTP/1.1 200 OK');
      // The two oldest were closed as the fourth and fifth went idle; wait for their FIN to arrive.
      await Promise.all(
        upstreams.slice(0, 2).map((u) => u.closedByPart || new Promise((r) => u.socket.once('end', r))),
      );
      expect(upstreams.map((u) => u.closedByPart)).to.deep.equal([true, true, false, false, false]);
      for (const upstream of upstreams.slice(2)) expect(await upstream.request()).to.equal('HTTP/1.1 200 OK');
      const capped = logs.filter((l) => l['reason'] === 'IDLE_CONNECTIONS_CAPPED');
      expect(capped, 'one line while the bound is being hit').to.have.length(1);
      expect(capped[0]).to.include({
        event: 'server.idle_connections_capped',
        server: 'behind-ingress',
        max: 3,
      });
    } finally {
      await Promise.all(upstreams.map((u) => u.close()));
      await server.close(100);
    }
  });

  it('keeps an idle connection as long as --keep-alive-seconds says (spec.keepAliveTimeoutSeconds), in a real broker process', async function () {
    this.timeout(60_000);
    // 8 s: past the 5 s the parts once kept, far below the 65 s default, so the close tells which.
    const keepAliveSeconds = 8;
    const command = await brokerCommand({ drainSeconds: 0 });
    const child = jsmSso([...command.args, '--keep-alive-seconds', String(keepAliveSeconds)]);
    try {
      const { broker } = await listening(child, ['broker', 'management']);
      const socket = connect(Number(new URL(broker!).port), '127.0.0.1');
      socket.on('error', () => undefined);
      let received = '';
      const answered = new Promise<number>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          if (received.includes('\r\n\r\n')) resolve(performance.now());
        }),
      );
      const closed = new Promise<number>((resolve) => socket.once('end', () => resolve(performance.now())));
      // HEAD of the metadata: answered as GET without content (ADR 0202), so the answer ends at its header.
      socket.write('HEAD /saml/metadata HTTP/1.1\r\nHost: broker.example\r\n\r\n');
      const answeredAt = await answered;
      expect(received.split('\r\n')[0]).to.equal('HTTP/1.1 200 OK');
      expect(received.toLowerCase()).to.include(`keep-alive: timeout=${keepAliveSeconds}\r\n`);
      const idleMs = (await closed) - answeredAt;
      expect(idleMs, 'kept for the configured time').to.be.at.least(keepAliveSeconds * 1000);
      expect(idleMs, 'not for the default 65 s').to.be.below(30_000);
      socket.destroy();
    } finally {
      child.kill('SIGKILL');
      await command.cleanup();
    }
  });
});
