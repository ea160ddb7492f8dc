// A streamed body's deadline (releasedWithBody) measures the peer's silence, not the sum of every
// short wait over a long body. Against a real HTTP server through Node's fetch: each wait below
// is at least PAUSE_MS (a timer never fires early), so how long they add up to is known, and only
// a single wait of a whole deadline (ten pauses) could make the outcome differ.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { BYTES_RENEWING_DEADLINE, exchangeSignal, releasedWithBody } from '../../common/exchange-signal.js';

const DEADLINE_MS = 1000;
const PAUSE_MS = DEADLINE_MS / 10;

describe('a streamed body’s deadline', function () {
  this.timeout(30_000);
  let server: Server;
  let url: string;
  before(async () => {
    // GET /<chunks>/<bytes>: `chunks` writes of `bytes` bytes, PAUSE_MS apart.
    server = createServer((req, res) => {
      const [chunks, bytes] = req.url!.split('/').slice(1).map(Number) as [number, number];
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ === chunks) {
          clearInterval(timer);
          res.end();
        } else res.write(Buffer.alloc(bytes, 'x'));
      }, PAUSE_MS);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The body of GET /<chunks>/<bytes> read as fast as it comes: the bytes read, and the error that cut it. */
  const download = async (chunks: number, bytes: number) => {
    const exchange = exchangeSignal([], DEADLINE_MS);
    let read = 0;
    try {
      const response = releasedWithBody(
        await fetch(`${url}/${chunks}/${bytes}`, { signal: exchange.signal }),
        exchange,
      );
      const reader = response.body!.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        read += chunk.value.length;
      return { read, error: undefined };
    } catch (err) {
      return { read, error: (err as Error).name };
    }
  };

  it('is read whole when its waits add up to twice the deadline, each bringing a renewing share of the body', async () => {
    // 20 waits of at least PAUSE_MS: 2 s of waiting at a 1 s deadline.
    const chunks = 20;
    expect(await download(chunks, BYTES_RENEWING_DEADLINE)).to.deep.equal({
      read: chunks * BYTES_RENEWING_DEADLINE,
      error: undefined,
    });
  });

  it('is cut with a TimeoutError when the body trickles, never a renewing share within the deadline', async () => {
    // A byte per pause: 100 s to send it all, the deadline's ten pauses to cut it.
    const cut = await download(1000, 1);
    expect(cut.error).to.equal('TimeoutError');
    expect(cut.read).to.be.below(1000);
  });
});
