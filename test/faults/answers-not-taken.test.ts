// A client that asks for answers and takes none of them: it stops reading, or pipelines requests and
// reads none of their answers. Node bounds how long a request takes to arrive and how long a
// connection sits idle between requests, not how long an answer waits for its client (ADR 0394).
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { createPoolFlowStore } from '../../common/flowstore/open.js';
import type { RunningServer } from '../../common/http/server.js';
import type { Logger } from '../../common/log.js';
import { createMetricsRegistry } from '../../common/metrics.js';
import { capturedLogger } from '../../testkit/captured-logs.js';
import { eventually } from '../../testkit/envtest.js';
import { startLoopbackServer } from '../../testkit/loopback-server.js';
import { signInAt } from '../../testkit/portal-harness.js';
import { type PortalTenant, startPortalPool } from '../../testkit/portal-pool-tenants.js';

const ANSWER_IDLE_MS = 500;
/** Far more than the loopback's socket buffers take: most answers wait in the process. */
const PIPELINED = 128;
const ANSWER = 'x'.repeat(100_000);

function connections(server: RunningServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
}

function rawClient(server: Pick<RunningServer, 'port'>): Socket {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  return socket;
}

describe('faults: a client that takes none of the answers it asked for (ADR 0394)', function () {
  this.timeout(30_000);
  let logger: Logger;
  let logs: Array<Record<string, unknown>>;
  let server: RunningServer | undefined;
  /** Answers whose handler has run and which Node has not closed yet (a pool counts them as under way). */
  let unclosed = 0;
  let release: (() => void) | undefined;

  beforeEach(async () => {
    ({ logger, logs } = capturedLogger({ component: 'test' }));
    unclosed = 0;
    server = await startLoopbackServer(
      (req, res) => {
        unclosed++;
        res.once('close', () => unclosed--);
        if (req.url === '/held') {
          release = () => res.end('worked long');
          return;
        }
        res.setHeader('content-type', 'text/plain');
        res.end(ANSWER);
      },
      { logger, answerIdleMs: ANSWER_IDLE_MS, keepAliveTimeoutMs: 60_000 },
    );
  });
  afterEach(async () => {
    await server?.close(100);
  });

  it('cuts a connection that pipelined requests and reads none of their answers, every answer closed', async () => {
    const socket = rawClient(server!);
    socket.pause();
    socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n'.repeat(PIPELINED));
    await eventually(async () => unclosed > 0, 'answers waiting for the client');
    // Before: the connection and every answer behind the first were held as long as the client
    // stayed, past the request and keep-alive timeouts.
    await eventually(
      async () => unclosed === 0 && (await connections(server!)) === 0,
      'the connection cut and its answers closed',
    );
    expect(logs.filter((l) => l['reason'] === 'ANSWER_NOT_TAKEN').map((l) => l['event'])).to.deep.equal([
      'server.answer_not_taken',
    ]);
    socket.destroy();
  });

  it('waits for a handler at work past the bound, no byte moving, and delivers its answer', async () => {
    const socket = rawClient(server!);
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    const timedOut = new Promise((resolve) => server!.server.once('timeout', resolve));
    socket.write('GET /held HTTP/1.1\r\nHost: a.test\r\n\r\n');
    await timedOut;
    release!();
    await eventually(async () => answer.endsWith('worked long'), 'the answer of the held request');
    expect(answer).to.match(/^HTTP\/1\.1 200 /);
    expect(await connections(server!), 'the connection kept').to.equal(1);
    expect(logs.filter((l) => l['reason'] === 'ANSWER_NOT_TAKEN')).to.deep.equal([]);
    socket.destroy();
  });

  it('closes a keep-alive connection idle between requests without calling it an answer not taken', async () => {
    await server!.close(100);
    server = await startLoopbackServer((_req, res) => res.end('short'), {
      logger,
      answerIdleMs: 60_000,
      keepAliveTimeoutMs: ANSWER_IDLE_MS,
    });
    const socket = rawClient(server);
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
    await closed;
    expect(answer).to.match(/^HTTP\/1\.1 200 [\s\S]*short$/);
    expect(logs.filter((l) => l['reason'] === 'ANSWER_NOT_TAKEN')).to.deep.equal([]);
  });
});

// Node closes the answer being sent when its connection closes, not those pipelined behind it: a pool
// counts a tenant's requests under way until their answers close (ADR 0223), so each such answer held
// one of the tenant's places for as long as the process ran.
describe('faults: a client that pipelines requests to a pool tenant and hangs up (ADR 0394)', function () {
  this.timeout(60_000);
  const run = randomUUID().slice(0, 8);
  const { logger } = capturedLogger({ component: 'portal' });
  const store = createPoolFlowStore(undefined);

  it("leaves the tenant every place for requests under way: two of A's pages at once are both served", async () => {
    const pool = await startPortalPool(1, run, {
      store,
      registry: createMetricsRegistry(),
      logger,
      maxInFlightPerTenant: 2,
    });
    // The front door as the parts run it (common/runtime.ts), routing by Host to the same pool.
    const server = await startLoopbackServer(pool.running.handler, { logger });
    try {
      const [a] = pool.tenants as [PortalTenant];
      const alice = await signInAt(a.url, a.brokerKey, 'alice@acme.test');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const page = `GET /requests?status=all HTTP/1.1\r\nHost: ${new URL(a.url).host}\r\nCookie: ${cookie}\r\n\r\n`;
      pool.emulator.faults.set({ pathPrefix: '/rest/api/3/search/jql', delayMs: 3_000, times: 4 });
      const socket = rawClient(server);
      socket.write(page.repeat(2));
      await eventually(async () => pool.emulator.faults.hits()[0] === 2, 'both pipelined pages at the site');
      socket.destroy();
      // The hang-up reaches the server on its own connection: pages sent before it is handled would
      // race it (503 on a loaded machine), and the test would time that, not the places' release.
      await eventually(async () => (await connections(server)) === 0, 'the hang-up seen by the server');
      const pages = [alice.fetch('/requests?status=all'), alice.fetch('/requests?status=all')];
      // Before: the second page pipelined held its place after the hang-up, so the second of these
      // was answered 503 POOL_TENANT_BUSY at once and never reached the site.
      await eventually(async () => pool.emulator.faults.hits()[0] === 4, "both of alice's pages at the site");
      expect((await Promise.all(pages)).map((p) => p.status)).to.deep.equal([200, 200]);
    } finally {
      await server.close(100);
      await pool.close();
      await store.close();
    }
  });
});
