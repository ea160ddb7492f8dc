import {
  createServer as createHttpServer,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { constants } from 'node:os';
import type { SecureContext, SecureContextOptions, TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { HSTS_HEADER_VALUE, MIN_TLS_VERSION } from '../tls/versions.js';
import { boundAnswersNotTaken } from './answers-not-taken.js';
import { trackAnswersOwed } from './answers-owed.js';
import { continueWhenBodyRead } from './continue-when-read.js';
import { boundIdleConnections } from './idle-connections.js';
import { portUnavailable } from './port-unavailable.js';
import { ANSWER_IDLE_MS, REQUEST_RECEIVE_MS } from './request-time.js';

/** TLS settings every server shares: TLS 1.2 or higher, Node's modern default ciphers. */
export { MIN_TLS_VERSION };

export interface ServerTls {
  /**
   * Returns the current key and certificate; called again when `reload()` is invoked. Empty when
   * every certificate comes from `sni`: a handshake `sni` does not answer then fails.
   */
  load: () => Pick<SecureContextOptions, 'key' | 'cert' | 'ca'>;
  /**
   * The certificate for a TLS server name (SNI), or undefined for the one `load` gives. A pool
   * serves each tenant's own this way (common/pool/tenant-tls.ts).
   */
  sni?: (serverName: string) => SecureContext | undefined;
}

export interface StartServerOptions {
  name: string;
  handler: RequestListener;
  port: number;
  host: string;
  logger: Logger;
  tls?: ServerTls;
  /** The longest a client may take to send a whole request, headers and body (default 60 s; tests shorten it). */
  requestTimeoutMs?: number;
  /** How long a client may take no byte of the answers it asked for (default 60 s; tests shorten it). */
  answerIdleMs?: number;
  /** How long a keep-alive connection may sit idle (default 65 s; tests shorten it). */
  keepAliveTimeoutMs?: number;
  /** The most keep-alive connections idle at once; past it the longest-idle is closed (default 4,096). */
  idleConnectionsMax?: number;
  /** The flag that sets `port` (`--port`, `--management-port`), named if the port cannot be opened. */
  portFlag?: string;
}

/**
 * Opens the port. One it cannot open (held, not allowed, not this host's address) is one fatal line
 * naming the port and its flag, `PORT_UNAVAILABLE`, and a PortUnavailableError the command line
 * turns into exit 3 (ADR 0205): before, Node's stack trace on stderr said only EADDRINUSE.
 */
async function listenOn(server: Server, options: StartServerOptions): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const { name, host, port, portFlag } = options;
    const refused = portUnavailable(
      { server: name, host, port, ...(portFlag ? { flag: portFlag } : {}) },
      err,
    );
    if (!refused) throw err;
    options.logger.fatal(
      {
        event: 'server.listen_failed',
        reason: refused.code,
        server: name,
        host,
        port,
        error: refused.systemCode,
        ...(portFlag ? { flag: portFlag } : {}),
      },
      refused.message,
    );
    throw refused;
  }
}

const HEADERS_TIMEOUT_MS = 20_000;
/**
 * Longer than the idle timeout of the ingresses and load balancers in front (ingress-nginx's
 * upstream-keepalive-timeout and AWS ALB's, both 60 s), so they, not the part, close an idle
 * connection: a request an ingress sends as the part's FIN is on its way is reset, and answered 502
 * (ADR 0202). Node counts the headers timeout from a request's first byte, so it may stay shorter.
 * A load balancer set to keep longer (AWS ALB up to 4,000 s, GCLB 600 s) needs it set longer still:
 * `--keep-alive-seconds`, from the tenant's or the pool's spec.keepAliveTimeoutSeconds (ADR 0205),
 * within these bounds, which the CRDs repeat.
 */
export const KEEP_ALIVE_SECONDS = { default: 65, min: 5, max: 4_200 } as const;
const KEEP_ALIVE_TIMEOUT_MS = KEEP_ALIVE_SECONDS.default * 1000;
/** Far above an ingress's pool of idle upstream connections (ingress-nginx: 320 per worker). */
const IDLE_CONNECTIONS_MAX = 4_096;
/** One log line a minute at most while the idle bound is being hit. */
const IDLE_CAPPED_LOG_EVERY_MS = 60_000;
/** One log line a minute at most while connections are cut for answers not taken. */
const NOT_TAKEN_LOG_EVERY_MS = 60_000;
/**
 * How often Node looks for requests past those timeouts. Its default, 30 s, let a client that
 * trickles its body hold a connection (and an upload slot) for up to 90 s instead of 60.
 */
const TIMEOUT_CHECK_MS = 2_000;

export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /**
   * Keeps serving but tells every client to close its connection after the answer it is waiting
   * for (`Connection: close`), so keep-alive clients reconnect elsewhere while the load balancer
   * forgets this endpoint.
   */
  drain(): void;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes idle sockets. */
  close(graceMs?: number): Promise<void>;
  /**
   * Re-reads the TLS key and certificate for new connections (no-op without TLS). Throws when they
   * are unusable (e.g. a key that does not match the certificate); the previous pair stays in use.
   */
  reloadTls(): void;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { tls } = options;
  let stopping = false;
  // Only once close() has begun: closing an idle connection while still serving would race a
  // request its client is sending on it (drainable).
  const drain = drainable(options.handler, () => {
    if (stopping) server.closeIdleConnections();
  });
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_RECEIVE_MS;
  const checking = { connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, requestTimeout / 2) };
  const server: Server = tls
    ? createHttpsServer(
        {
          ...tls.load(),
          minVersion: MIN_TLS_VERSION,
          ...(tls.sni ? { SNICallback: sniCallback(tls.sni) } : {}),
          ...checking,
        },
        withHsts(drain.handler),
      )
    : createHttpServer(checking, drain.handler);
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout);
  server.requestTimeout = requestTimeout;
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  continueWhenBodyRead(server);
  const idleConnectionsMax = options.idleConnectionsMax ?? IDLE_CONNECTIONS_MAX;
  let idleCappedLoggedAt = -Infinity;
  boundIdleConnections(server, idleConnectionsMax, () => {
    if (performance.now() - idleCappedLoggedAt < IDLE_CAPPED_LOG_EVERY_MS) return;
    idleCappedLoggedAt = performance.now();
    options.logger.warn(
      {
        event: 'server.idle_connections_capped',
        reason: 'IDLE_CONNECTIONS_CAPPED',
        server: options.name,
        max: idleConnectionsMax,
      },
      'too many idle keep-alive connections; the longest-idle closed',
    );
  });
  let notTakenLoggedAt = -Infinity;
  boundAnswersNotTaken(server, options.answerIdleMs ?? ANSWER_IDLE_MS, trackAnswersOwed(server), () => {
    if (performance.now() - notTakenLoggedAt < NOT_TAKEN_LOG_EVERY_MS) return;
    notTakenLoggedAt = performance.now();
    options.logger.warn(
      { event: 'server.answer_not_taken', reason: 'ANSWER_NOT_TAKEN', server: options.name },
      'a client took none of its answers in time; its connection closed',
    );
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  if (tls) {
    boundHandshakes(server, server.headersTimeout, () =>
      options.logger.warn(
        { event: 'server.tls_handshake_timeout', reason: 'TLS_HANDSHAKE_TIMEOUT', server: options.name },
        'TLS handshake not done in time; connection closed',
      ),
    );
    // Renegotiation is a DoS vector and never needed by our clients.
    server.on('secureConnection', (socket) => socket.disableRenegotiation?.());
  }
  await listenOn(server, options);
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  options.logger.info({ event: 'server.listening', server: options.name, url }, 'listening');
  return {
    name: options.name,
    url,
    port,
    server,
    drain: drain.start,
    reloadTls() {
      if (tls && 'setSecureContext' in server) {
        (server as unknown as { setSecureContext(o: SecureContextOptions): void }).setSecureContext({
          ...tls.load(),
          minVersion: MIN_TLS_VERSION,
        });
      }
    },
    async close(graceMs = 10_000) {
      stopping = true;
      drain.start();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/**
 * Closes a TLS connection whose handshake is not done `boundMs` after it was accepted: a TLS client
 * has as long for its handshake as any client has for its headers, whose timeout starts only once
 * the handshake is done. Node's own bound (handshakeTimeout, 120 s) is an idle timer that each byte
 * restarts, so a client sending its ClientHello a byte at a time held a connection for as long as it
 * kept sending (a slowloris below HTTP). The TCP connection is found again by its peer address and
 * port, which no other open connection to this listener shares.
 */
function boundHandshakes(server: Server, boundMs: number, onCut: () => void): void {
  const pending = new Map<string, NodeJS.Timeout>();
  const peerOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on('connection', (socket: Socket) => {
    const peer = peerOf(socket);
    const timer = setTimeout(() => {
      pending.delete(peer);
      onCut();
      socket.destroy();
    }, boundMs);
    timer.unref();
    pending.set(peer, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      if (pending.get(peer) === timer) pending.delete(peer);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = peerOf(socket);
    clearTimeout(pending.get(peer));
    pending.delete(peer);
  });
}

/** Node's SNICallback around a synchronous choice; undefined falls back to the server's own context. */
function sniCallback(
  choose: (serverName: string) => SecureContext | undefined,
): (serverName: string, done: (err: Error | null, context?: SecureContext) => void) => void {
  return (serverName, done) => {
    try {
      done(null, choose(serverName));
    } catch (err) {
      done(err as Error);
    }
  };
}

/**
 * Once draining, every answer (those being prepared included) carries `Connection: close`. Idle
 * keep-alive sockets are left alone until the final close: closing one now would race a request the
 * client is sending on it and reset that request. An answer whose head was already sent (a download
 * at the customer's pace) can no longer say so: when it ends, `closeIdle` is called, so that a final
 * close waiting for it ends then rather than at its keep-alive timeout (ADR 0368).
 */
function drainable(
  handler: RequestListener,
  closeIdle: () => void,
): { handler: RequestListener; start: () => void } {
  let draining = false;
  const pending = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    else res.once('close', closeIdle);
  };
  return {
    handler(req, res) {
      if (draining) closeAfter(res);
      else {
        pending.add(res);
        res.once('close', () => pending.delete(res));
      }
      handler(req, res);
    },
    start() {
      draining = true;
      for (const res of pending) closeAfter(res);
      pending.clear();
    },
  };
}

/**
 * Every HTTPS response tells browsers to use HTTPS only for a year, subdomains included. Set before
 * the handler runs, so no route can forget it; plain-HTTP servers never send it (RFC 6797 §7.2).
 */
function withHsts(handler: RequestListener): RequestListener {
  return (req, res) => {
    res.setHeader('Strict-Transport-Security', HSTS_HEADER_VALUE);
    handler(req, res);
  };
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
let exitWhileStarting: ((signal: NodeJS.Signals) => void) | undefined;

/**
 * Until `exitOnSignals` is in place, SIGTERM or SIGINT exits at once (128 + the signal's number, as
 * the default action would report): nothing is served yet, so there is nothing to drain. Without a
 * handler the default action would do the same, except as a container's PID 1, where the kernel
 * ignores a signal the process does not handle: a part still starting (a pool waiting for its API
 * server, however many attempts it takes) would sit out the kubelet's grace period until SIGKILL.
 */
export function exitOnSignalsWhileStarting(logger: Logger): void {
  if (exitWhileStarting) return;
  exitWhileStarting = (signal) => {
    logger.info({ event: 'process.stopped_while_starting', signal }, 'stopped before serving');
    process.exit(128 + constants.signals[signal]);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, exitWhileStarting);
}

/**
 * On SIGTERM or SIGINT: run `stop` once (it drains the servers), then exit 0. A second signal
 * exits at once with 1, for a person pressing Ctrl-C twice. Replaces `exitOnSignalsWhileStarting`.
 */
export function exitOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ event: 'process.stopping', signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ event: 'process.stop_failed', err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // Removed only once the stop is listening: a signal with no listener left is no longer watched, and
  // one received but not yet handed to a listener (the handover runs in the turn that read the start's
  // last answer) was dropped with it, the process serving on.
  if (exitWhileStarting) {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, exitWhileStarting);
    exitWhileStarting = undefined;
  }
}
