// A download streamed through to a customer over a real connection: the customer's pace sets the
// download's (Atlassian's deadline does not run while the customer is slow, ADR 0201), so a customer
// who stops taking bytes is the one bound left, and must be held to it: the download is cut and its
// source cancelled (the Atlassian connection under it closed), or a customer who opens downloads and
// never reads them holds a connection to Atlassian for each, for ever.
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { type StreamEnd, streamThrough } from '../../portal/http/stream-through.js';
import { timed } from '../../testkit/timed.js';

const IDLE_MS = 400;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** The end of a chunked HTTP body: its last (empty) chunk. */
const LAST_CHUNK = '\r\n0\r\n\r\n';

/** The body of a chunked HTTP answer (`raw` from its first byte), decoded. */
function chunkedBody(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = raw.indexOf('\r\n\r\n') + 4;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** A body of `chunks` chunks (endless when undefined), made as it is read; says whether it was cancelled. */
function source(chunks?: number) {
  let made = 0;
  const seen = { cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (chunks !== undefined && made >= chunks) controller.close();
        else {
          made++;
          controller.enqueue(CHUNK);
        }
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, seen };
}

describe('a download streamed through to the customer', function () {
  this.timeout(30_000);
  let server: Server;
  let ended: Promise<StreamEnd> | undefined;
  let serve: () => ReadableStream<Uint8Array>;
  const clients: Socket[] = [];
  before(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      ended = streamThrough(serve(), res, { idleMs: IDLE_MS });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  beforeEach(() => {
    ended = undefined;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  /** How the download the server is handling ended. */
  const handled = async (): Promise<StreamEnd> => {
    while (!ended) await new Promise((resolve) => setImmediate(resolve));
    return ended;
  };

  /** A customer asking for the file over a raw connection, reading as `read` says. */
  const customer = () => {
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    clients.push(client);
    client.on('error', () => undefined);
    client.write('GET /file HTTP/1.1\r\nhost: portal\r\n\r\n');
    return client;
  };

  it('is cut, and its source cancelled, when the customer takes nothing for the idle bound', async () => {
    const { body, seen } = source();
    serve = () => body;
    const client = customer();
    // Reads nothing from the first byte on: the connection's buffers fill and stay full.
    client.once('data', () => client.pause());
    // No bound in ms: a download never cut runs into mocha's timeout, as does one held to the
    // product's own idle bound (60 s) rather than to the one given here.
    expect(await handled()).to.deep.equal({ outcome: 'client-stalled' });
    expect(seen.cancelled, 'the source cancelled').to.equal(true);
  });

  it('goes on as long as the customer keeps taking bytes, however long the whole takes', async () => {
    // 16 MiB, more than the connection's buffers hold, taken 256 KiB at a time with pauses: the whole
    // takes several idle bounds, no pause is one.
    const { body } = source(256);
    serve = () => body;
    const client = customer();
    const chunks: Buffer[] = [];
    let received = 0;
    let tail = '';
    let gotAll: () => void;
    const whole = new Promise<void>((resolve) => (gotAll = resolve));
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const before = received;
      received += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-LAST_CHUNK.length);
      if (tail === LAST_CHUNK) gotAll();
      if (Math.floor(received / (256 * 1024)) > Math.floor(before / (256 * 1024))) {
        client.pause();
        setTimeout(() => client.resume(), IDLE_MS / 8);
      }
    });
    const end = await timed(handled);
    expect(end.value).to.deep.equal({ outcome: 'complete' });
    // Of the test's own making (64 pauses of IDLE_MS / 8), a bound no load can break: it shows the
    // download outlasted the idle bound, which therefore counts silence, not the whole.
    expect(end.ms, 'the whole took several idle bounds (ms)').to.be.above(2 * IDLE_MS);
    // Complete means the customer has it all: the answer's last chunk is the event waited for.
    await whole;
    expect(chunkedBody(Buffer.concat(chunks)).length, 'bytes the customer got').to.equal(256 * CHUNK.length);
  });
});
