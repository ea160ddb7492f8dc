// How much of an answer the outbound client reads (ADR 0149): a hostile or broken upstream's endless
// body, a decompression bomb or an oversized Content-Length ends the call with
// UPSTREAM_RESPONSE_TOO_LARGE once the limit is reached, never after the whole body is in memory,
// and the same client's next call works. Both ways a call goes out are checked: Node's fetch, and
// the single exchange openid-client's calls take (`redirect: 'manual'`).
import { execFile } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { JsmSsoError } from '../../common/errors.js';
import { createTlsFetch, DEFAULT_MAX_RESPONSE_BYTES, type TlsFetch } from '../../common/tls/index.js';

const MiB = 1024 * 1024;
/** What an endless body may have put in flight past the limit: the two sockets' kernel buffers. */
const SOCKET_SLACK = 16 * MiB;
const HUGE = 256 * MiB;

const PATHS: { name: string; init: RequestInit; path: 'fetch' | 'exchange' }[] = [
  { name: "Node's fetch", init: {}, path: 'fetch' },
  { name: 'the single exchange', init: { redirect: 'manual' }, path: 'exchange' },
];

/**
 * A loopback server that answers `bytes` of body in chunks of one byte each (chunked transfer
 * coding: 6 bytes on the wire per byte of body), the whole answer written at once: an upstream
 * whose answer is within the limit, cut as small as HTTP allows.
 */
async function startOneByteChunks(bytes: number): Promise<{ url: string; close(): Promise<void> }> {
  const chunk = Buffer.from('1\r\n{\r\n');
  const body = Buffer.alloc(chunk.length * bytes);
  for (let at = 0; at < body.length; at += chunk.length) chunk.copy(body, at);
  const server = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
      socket.write(body);
      socket.end('0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An informational answer (103 Early Hints) of 8 KiB of headers. */
const LONG_HINT = `HTTP/1.1 103 Early Hints\r\nlink: </${'x'.repeat(8 * 1024)}>; rel=preload\r\n\r\n`;

/**
 * A loopback server that sends `hint`, repeated until `bytes` went out, before its final answer,
 * `{"ok":true}`: an upstream that keeps saying "not yet".
 */
async function startEarlyHints(
  bytes: number,
  hint = LONG_HINT,
): Promise<{ url: string; close(): Promise<void> }> {
  const one = Buffer.from(hint);
  const block = Buffer.concat(
    Array.from({ length: Math.ceil(Math.min(bytes, MiB) / one.length) }, () => one),
  );
  const server = createTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      let sent = 0;
      const pump = () => {
        while (sent < bytes && !socket.destroyed) {
          sent += block.length;
          if (!socket.write(block)) return void socket.once('drain', pump);
        }
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}',
        );
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The heap of the process that makes the call: a tenth of what it was given for the broker and portal pods (512Mi). */
const SMALL_HEAP_MIB = 48;

/** What one call in a process of SMALL_HEAP_MIB made of `url` (answer-in-small-heap.ts): bytes read, or why not. */
async function readInSmallHeap(url: string, limit: number, path: 'fetch' | 'exchange'): Promise<string> {
  const script = fileURLToPath(new URL('./answer-in-small-heap.ts', import.meta.url));
  const args = [
    `--max-old-space-size=${SMALL_HEAP_MIB}`,
    '--import',
    'tsx',
    script,
    url,
    String(limit),
    path,
  ];
  try {
    return (await promisify(execFile)(process.execPath, args, { encoding: 'utf8' })).stdout;
  } catch (err) {
    const { code, signal, stderr } = err as { code?: number; signal?: string; stderr?: string };
    return `process ended (${code ?? signal}): ${/heap limit|out of memory/i.test(stderr ?? '') ? 'out of heap' : stderr}`;
  }
}

/** A loopback server of bad answers; `sent` counts the body bytes it handed to the socket. */
async function startUpstream(): Promise<{ url: string; sent(): number; close(): Promise<void> }> {
  let sent = 0;
  const json = JSON.stringify({ ok: true });
  const endless = (res: ServerResponse, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    const chunk = Buffer.alloc(64 * 1024, ' ');
    const pump = () => {
      while (sent < HUGE && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/huge') return endless(res);
    // The stated length is believed before a byte of the body: refused unread.
    if (req.url === '/declared') return endless(res, { 'content-length': String(HUGE) });
    const encoded = (coding: string, body: Buffer) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
      sent += body.length;
      res.end(body);
    };
    if (req.url === '/bomb') return encoded('gzip', gzipSync(Buffer.alloc(64 * MiB, ' ')));
    if (req.url === '/gzip') return encoded('gzip', gzipSync(json));
    if (req.url === '/br') return encoded('br', brotliCompressSync(json));
    if (req.url === '/deflate') return encoded('deflate', deflateSync(json));
    // RFC 9110 8.4.1.2 notes servers that send "deflate" without its zlib wrapper; browsers and fetch read it.
    if (req.url === '/raw-deflate') return encoded('deflate', deflateRawSync(json));
    if (req.url === '/unknown-coding') return encoded('compress', Buffer.from(json));
    if (req.url === '/broken-gzip') return encoded('gzip', Buffer.from('not gzip at all'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(json);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The code the call, its body read whole, failed with (or 'none'). */
async function failure(call: Promise<Response>): Promise<{ code: string; status?: number }> {
  try {
    await (await call).text();
    return { code: 'none' };
  } catch (err) {
    return err instanceof JsmSsoError ? { code: err.code, status: err.status } : { code: String(err) };
  }
}

describe('outbound client: the most of an answer a call reads', function () {
  this.timeout(60_000);
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let fetch: TlsFetch;
  beforeEach(async () => {
    upstream = await startUpstream();
    fetch = createTlsFetch();
  });
  afterEach(async () => {
    await fetch.close();
    await upstream.close();
  });

  for (const { name, init, path } of PATHS) {
    describe(`through ${name}`, () => {
      it('stops reading an endless body at 1 MiB with 502 UPSTREAM_RESPONSE_TOO_LARGE, and the next call works', async () => {
        expect(await failure(fetch(`${upstream.url}/huge`, init))).to.deep.equal({
          code: 'UPSTREAM_RESPONSE_TOO_LARGE',
          status: 502,
        });
        // The client hung up at the limit: the server got no further than that and the sockets' buffers.
        expect(upstream.sent(), 'body bytes the server sent').to.be.below(
          DEFAULT_MAX_RESPONSE_BYTES + SOCKET_SLACK,
        );
        expect(await (await fetch(`${upstream.url}/ok`, init)).json()).to.deep.equal({ ok: true });
      });

      it('refuses a Content-Length over the limit before reading the body', async () => {
        expect((await failure(fetch(`${upstream.url}/declared`, init))).code).to.equal(
          'UPSTREAM_RESPONSE_TOO_LARGE',
        );
        expect(upstream.sent(), 'body bytes the server sent').to.be.below(SOCKET_SLACK);
      });

      it('counts the decompressed size: a gzip bomb (64 KiB inflating to 64 MiB) is refused at 1 MiB', async () => {
        expect((await failure(fetch(`${upstream.url}/bomb`, init))).code).to.equal(
          'UPSTREAM_RESPONSE_TOO_LARGE',
        );
      });

      it('reads a gzip, br or deflate (with its zlib wrapper or without) answer the upstream sent unasked as its JSON', async () => {
        for (const path of ['/gzip', '/br', '/deflate', '/raw-deflate'])
          expect(await (await fetch(`${upstream.url}${path}`, init)).json(), path).to.deep.equal({
            ok: true,
          });
      });

      it('holds about its limit, not an object per chunk, for an answer in one-byte chunks: 1 MiB (an IdP) and 8 MiB (Atlassian) read in a 48 MiB heap', async () => {
        for (const limit of [DEFAULT_MAX_RESPONSE_BYTES, 8 * MiB]) {
          const upstream = await startOneByteChunks(limit);
          try {
            expect(await readInSmallHeap(upstream.url, limit, path), `${limit} bytes`).to.equal(
              String(limit),
            );
          } finally {
            await upstream.close();
          }
        }
      });

      it('keeps nothing of informational answers: 128 MiB of 103 Early Hints before the answer, read in a 48 MiB heap', async () => {
        const upstream = await startEarlyHints(128 * MiB);
        try {
          expect(await readInSmallHeap(upstream.url, DEFAULT_MAX_RESPONSE_BYTES, path)).to.equal('11');
        } finally {
          await upstream.close();
        }
      });

      it("takes the final answer's headers only, none of an informational answer's before it", async () => {
        const hint =
          'HTTP/1.1 103 Early Hints\r\ncontent-encoding: gzip\r\ncache-control: max-age=60\r\n\r\n';
        const upstream = await startEarlyHints(1, hint);
        try {
          const response = await fetch(upstream.url, init);
          expect([response.status, response.headers.get('cache-control')]).to.deep.equal([200, null]);
          expect(await response.json()).to.deep.equal({ ok: true });
        } finally {
          await upstream.close();
        }
      });

      it('reads as far as a call allows: its own maxResponseBytes', async () => {
        expect(await failure(fetch(`${upstream.url}/ok`, { ...init, maxResponseBytes: 4 }))).to.deep.equal({
          code: 'UPSTREAM_RESPONSE_TOO_LARGE',
          status: 502,
        });
      });
    });
  }

  it('reads a streamed body past the default when the call sets no limit (Infinity), on fetch', async () => {
    const response = await fetch(`${upstream.url}/huge`, { maxResponseBytes: Number.POSITIVE_INFINITY });
    const reader = response.body!.getReader();
    let read = 0;
    while (read <= 2 * DEFAULT_MAX_RESPONSE_BYTES) read += (await reader.read()).value!.byteLength;
    await reader.cancel();
    expect(read).to.be.above(2 * DEFAULT_MAX_RESPONSE_BYTES);
  });

  it('refuses, on the single exchange, a content coding it does not decode or bytes that do not decode', async () => {
    for (const path of ['/unknown-coding', '/broken-gzip'])
      expect(await failure(fetch(`${upstream.url}${path}`, { redirect: 'manual' })), path).to.deep.equal({
        code: 'UPSTREAM_RESPONSE_ENCODING_INVALID',
        status: 502,
      });
  });
});
