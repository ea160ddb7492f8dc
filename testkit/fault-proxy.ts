// A TCP proxy in front of a real server, for the network faults no real server can be asked to
// show: an answer whose body stops after its headers, a connection reset once the server has
// done the work, a peer that accepts and never says a word (a TLS handshake that never ends).
// Everything else passes through byte for byte.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

export type ProxyFault =
  /** Pass the answer's headers and its first body byte, then nothing more (the connection stays open). */
  | 'stall-body'
  /** Let the server handle the request, then reset the client's connection instead of answering. */
  | 'reset-after-answer'
  /**
   * Pass the answer's headers, then its body one byte every TRICKLE_INTERVAL_MS for as long as the
   * client reads: every byte restarts a timer that only measures silence (undici's bodyTimeout).
   */
  | 'trickle-body'
  /** Pass the answer's headers and its first body byte, then reset the client's connection. */
  | 'reset-mid-body'
  /**
   * Keep the request from the server and close the client's side for writing (a FIN, no answer):
   * the connection stays half-open, as a peer that shut down its sending side leaves it.
   */
  | 'half-close'
  /**
   * Keep the request from the server for the rule's `holdMs`, then pass it on: an upstream slow but
   * answering, each call within its deadline.
   */
  | 'hold'
  /** Keep the request from the server and never answer (the connection stays open). */
  | 'stall'
  /** Keep the request from the server and reset the client's connection (a server gone down). */
  | 'reset'
  /** Keep the request from the server and answer 503 with an HTML body, as a proxy in front of a failed server would. */
  | 'status-503'
  /**
   * Keep the request from the server and answer 429 with Retry-After and a JSON body that is no OAuth
   * error (a gateway's or an IdP's own rate limit, as Okta answers one).
   */
  | 'status-429'
  /**
   * Keep the request from the server and answer 200 with a JSON content type and a body of
   * HUGE_BODY_BYTES, made as the client reads it (a hostile or broken upstream's multi-GB answer).
   */
  | 'huge-body'
  /** Keep the request from the server and answer 200 with a gzip body that inflates to HUGE_BODY_BYTES. */
  | 'gzip-bomb';

/** How often a 'trickle-body' answer sends its next byte. */
export const TRICKLE_INTERVAL_MS = 50;

/** The size of a 'huge-body' answer, and of a 'gzip-bomb' inflated (about 64 KiB on the wire). */
export const HUGE_BODY_BYTES = 64 * 1024 * 1024;

export interface ProxyRule {
  fault: ProxyFault;
  method?: string;
  /** Only requests whose path starts with this. */
  pathPrefix?: string;
  /** Apply to this many matching requests (default 1). */
  times?: number;
  /** For 'hold': how long the request is kept. */
  holdMs?: number;
  /**
   * For 'hold', instead of `holdMs`: the request is kept until this resolves, so that a test ends the
   * hold on a condition it has awaited (a sign-in cut at its budget), not at a time that races it.
   */
  heldUntil?: Promise<void>;
}

export type HoldOutcome = 'passed on' | 'cut' | 'server closed';

export interface FaultProxy {
  url: string;
  /** Where connections go; set once the server is up. */
  target: { host: string; port: number } | undefined;
  add(rule: ProxyRule): void;
  /** Requests each rule has hit so far, in rule order. */
  hits(): number[];
  /** The body bytes of 'huge-body' and 'gzip-bomb' answers handed to the client's socket so far. */
  bodyBytesSent(): number;
  /**
   * How each 'hold' so far ended, in the order they began, once all have: 'passed on' (the hold ran
   * out with the client still there, so the server got the request), 'cut' (the client closed its
   * connection during the hold, and the server never saw the request) or 'server closed' (the server
   * closed its idle connection during the hold, which closed the client's: not the client's doing).
   */
  holdsEnded(): Promise<HoldOutcome[]>;
  clear(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.1\r\n/;

/** A proxy to `target` (settable later); rules pick the requests it mistreats. */
export async function startFaultProxy(): Promise<FaultProxy> {
  gzipBomb ??= promisify(gzip)(Buffer.alloc(HUGE_BODY_BYTES, ' '), { level: 9 });
  const bomb = await gzipBomb;
  let rules: { rule: ProxyRule; remaining: number; hits: number }[] = [];
  let bodyBytesSent = 0;
  let holds: Promise<HoldOutcome>[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const take = (method: string, path: string): ProxyRule | undefined => {
    const active = rules.find(
      ({ rule, remaining }) =>
        remaining > 0 &&
        (rule.method === undefined || rule.method === method) &&
        (rule.pathPrefix === undefined || path.startsWith(rule.pathPrefix)),
    );
    if (!active) return undefined;
    active.remaining--;
    active.hits++;
    return active.rule;
  };
  const proxy: FaultProxy = {
    url: '',
    target: undefined,
    add(rule) {
      rules.push({ rule, remaining: rule.times ?? 1, hits: 0 });
    },
    hits: () => rules.map((r) => r.hits),
    bodyBytesSent: () => bodyBytesSent,
    holdsEnded: () => Promise.all(holds),
    clear() {
      rules = [];
      bodyBytesSent = 0;
      holds = [];
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    track(client);
    const target = proxy.target;
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    // The fault of the request now on this connection (one at a time: HTTP/1.1 without pipelining).
    let current: ProxyFault | undefined;
    /** A held request's bytes, passed on together when its hold ends. */
    let held: Buffer[] = [];
    let answered: Buffer = Buffer.alloc(0);
    let stalled = false;
    let trickleMore: ((more: Buffer) => void) | undefined;
    client.on('data', (chunk: Buffer) => {
      const line = REQUEST_LINE.exec(chunk.subarray(0, 512).toString('latin1'));
      if (line) {
        const rule = take(line[1]!, line[2]!);
        current = rule?.fault;
        answered = Buffer.alloc(0);
        stalled = false;
        trickleMore = undefined;
        if (current === 'hold') {
          held = [];
          holds.push(
            new Promise((ended) => {
              let timer: NodeJS.Timeout | undefined;
              let isOver = false;
              const over = (outcome: HoldOutcome) => {
                isOver = true;
                clearTimeout(timer);
                client.off('close', cut);
                upstream.off('close', serverClosed);
                ended(outcome);
              };
              const cut = () => over('cut');
              // Heard before the client's close, which the server's closing brings on a later tick (`end`).
              const serverClosed = () => over('server closed');
              client.once('close', cut);
              upstream.once('close', serverClosed);
              const passOn = () => {
                if (isOver) return;
                over('passed on');
                current = undefined;
                if (!upstream.destroyed) for (const bytes of held) upstream.write(bytes);
              };
              if (rule!.heldUntil) void rule!.heldUntil.then(passOn);
              else timer = setTimeout(passOn, rule!.holdMs ?? 0);
            }),
          );
        }
      }
      if (current === 'hold') {
        held.push(chunk);
        return;
      }
      if (current === 'stall') return;
      if (current === 'reset') {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (current === 'half-close') {
        // The server's closing must not end the client's connection (see `end`): only its FIN goes.
        upstream
          .removeAllListeners('close')
          .on('error', () => undefined)
          .destroy();
        client.end();
        return;
      }
      if (current === 'status-503') {
        const body = '<html><body>503 Service Unavailable</body></html>';
        client.end(
          `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        upstream.destroy();
        return;
      }
      if (current === 'status-429') {
        const body =
          '{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}';
        client.end(
          `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 30\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        upstream.destroy();
        return;
      }
      if (current === 'huge-body' || current === 'gzip-bomb') {
        // The server is not needed; its closing must not end the client's connection (see `end`).
        upstream
          .removeAllListeners('close')
          .on('error', () => undefined)
          .destroy();
        const sent = (bytes: number) => (bodyBytesSent += bytes);
        if (current === 'huge-body') sendHugeBody(client, sent);
        else sendGzipBomb(client, bomb, sent);
        current = undefined;
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (current === 'reset-after-answer') {
        // The server has answered, so it did the work; the client only sees its connection reset.
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (current !== 'stall-body' && current !== 'trickle-body' && current !== 'reset-mid-body') {
        // At the client's pace: a large answer is not held here, nor cut off when the server closes.
        if (!client.write(chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
        return;
      }
      if (stalled) {
        trickleMore?.(chunk);
        return;
      }
      answered = Buffer.concat([answered, chunk]);
      const headersEnd = answered.indexOf('\r\n\r\n');
      if (headersEnd < 0 || answered.length < headersEnd + 5) return;
      client.write(answered.subarray(0, headersEnd + 5));
      stalled = true;
      if (current === 'reset-mid-body') client.resetAndDestroy();
      else if (current === 'trickle-body')
        trickleMore = trickle(client, upstream, answered.subarray(headersEnd + 5));
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    // A server that closed once its answer was sent: the client gets the rest of it first.
    upstream.on('error', end).on('close', () => (client.writableLength > 0 ? client.end() : end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fault proxy: no port');
  proxy.url = `http://127.0.0.1:${address.port}`;
  return proxy;
}

/**
 * The body the server sends after `first`, one byte every TRICKLE_INTERVAL_MS while the client is
 * there (a few KiB take minutes). The server is read a chunk at a time, as the bytes go, so a large
 * answer is not held here.
 */
function trickle(client: Socket, upstream: Socket, first: Buffer): (more: Buffer) => void {
  let rest = first;
  upstream.pause();
  const timer = setInterval(() => {
    if (client.destroyed) return clearInterval(timer);
    if (rest.length === 0) return upstream.resume();
    client.write(rest.subarray(0, 1));
    rest = rest.subarray(1);
  }, TRICKLE_INTERVAL_MS);
  client.once('close', () => clearInterval(timer));
  return (more) => {
    rest = Buffer.concat([rest, more]);
    upstream.pause();
  };
}

const JSON_200 = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n';

/**
 * HUGE_BODY_BYTES of JSON-looking bytes, written only as the client takes them (its socket
 * drained), so what was sent says what the client read, give or take the sockets' buffers.
 */
function sendHugeBody(client: Socket, sent: (bytes: number) => void): void {
  const chunk = Buffer.alloc(64 * 1024, ' ');
  let left = HUGE_BODY_BYTES;
  client.write(`${JSON_200}\r\n{"a":"`);
  const pump = () => {
    while (left > 0 && !client.destroyed) {
      left -= chunk.length;
      sent(chunk.length);
      if (!client.write(chunk)) {
        client.once('drain', pump);
        return;
      }
    }
    if (left <= 0) client.end();
  };
  pump();
}

/**
 * Compressed once per process, off the event loop, before the first proxy serves: compressing
 * 64 MiB takes about a second of CPU (more on a loaded machine), and done when the first bomb was
 * asked for it held the event loop past the caller's own 1 s timeout, so that the page or sign-in
 * ended in a timeout instead of UPSTREAM_RESPONSE_TOO_LARGE.
 */
let gzipBomb: Promise<Buffer> | undefined;

function sendGzipBomb(client: Socket, bomb: Buffer, sent: (bytes: number) => void): void {
  client.write(`${JSON_200}content-encoding: gzip\r\ncontent-length: ${bomb.length}\r\n\r\n`);
  sent(bomb.length);
  client.end(bomb);
}

/** A TCP server that accepts connections and never sends a byte: a TLS handshake to it never ends. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('silent server: no port');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
