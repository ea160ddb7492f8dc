import type { LookupFunction } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { JsmSsoError } from '../errors.js';
import {
  boundedResponse,
  DEFAULT_MAX_RESPONSE_BYTES,
  decodedBody,
  responseTooLarge,
} from './bounded-body.js';
import { trustedCas } from './ca-bundle.js';
import { GatheredBody } from './gathered-body.js';
import { hostLookup } from './host-lookup.js';
import { isLoopbackHost } from './loopback.js';
import type { AddressGate } from './outbound-addresses.js';
import { MIN_TLS_VERSION } from './versions.js';

export interface TlsFetchOptions {
  /** Extra PEM CA certificates (a tenant `caBundleSecretRef`), trusted in addition to Node's public roots. */
  extraCaPem?: string;
  /**
   * Allow plain http:// to loopback hosts (localhost, 127.0.0.0/8, ::1), as the CRD allows for
   * its URLs. Default true; false means https:// only. Non-loopback http:// is always refused.
   */
  allowLoopbackHttp?: boolean;
  /**
   * The most bytes of an answer's body a call reads, decompressed (ADR 0149); a call may set its
   * own (`OutboundInit.maxResponseBytes`). Default 1 MiB, ample for an IdP's documents and tokens.
   */
  maxResponseBytes?: number;
  /** How host names are resolved; the process's one `hostLookup` (ADR 0206) unless a test brings its own. */
  lookup?: LookupFunction;
  /** Connect only to the addresses this gate permits (--outbound-public-only, ADR 0219); default any. */
  addresses?: AddressGate;
}

/** What a part's process says about every one of its outbound calls: its flags (ADRs 0217, 0219). */
export interface OutboundRules {
  /** --outbound-https-only: not even plain http:// to loopback. */
  httpsOnly?: boolean;
  /** --outbound-public-only, with --outbound-allowed-networks. */
  addresses?: AddressGate;
}

/** The `createTlsFetch` options that carry a process's outbound rules. */
export function outboundOptions(rules: OutboundRules | undefined): TlsFetchOptions {
  return {
    allowLoopbackHttp: !rules?.httpsOnly,
    ...(rules?.addresses ? { addresses: rules.addresses } : {}),
  };
}

/** fetch's options, and how much of the answer this call may read (Infinity: a body streamed through). */
export interface OutboundInit extends RequestInit {
  maxResponseBytes?: number;
  /**
   * The caller streams the body on (a download): sent through fetch's streaming path even when it
   * follows no redirect, never read whole as a single exchange.
   */
  streamed?: boolean;
  /**
   * Called when the call fails before its request was handed to a connection: undici's
   * `onConnect`, "invoked before request is dispatched on socket", never ran (the connection refused,
   * the host name not found, the TLS handshake failed, the deadline passed while connecting). Nothing
   * of the request reached the server, and nothing will: handed over later, it is aborted at once.
   * Not called for a request that may have gone out, whatever became of it (a reused connection the
   * peer had closed: undici's "other side closed"). ADR 0397.
   */
  onUnsent?: () => void;
}

/** A `fetch` for outbound calls; `close()` drops its connections, those being made included. */
export type TlsFetch = ((input: string | URL | Request, init?: OutboundInit) => Promise<Response>) & {
  close(): Promise<void>;
};

/**
 * The one way parts call other servers (IdP discovery, JWKS, token, userinfo; broker metadata;
 * the Atlassian API): certificate and host name verification always on, TLS 1.2 or higher, and
 * plain http only to loopback. The check sits in the connector, so it holds for every connection
 * the request makes, redirects included. There is deliberately no option to turn verification off.
 */
export function createTlsFetch(options: TlsFetchOptions = {}): TlsFetch {
  const allowLoopbackHttp = options.allowLoopbackHttp ?? true;
  const defaultLimit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { addresses } = options;
  const lookup = options.lookup ?? hostLookup;
  const tlsConnect = buildConnector({
    // One context for every connection of this fetch: given only `ca`, tls.connect builds a new one
    // per connection, and with an extra bundle that parses all ~150 public roots again (5 ms of CPU).
    secureContext: createSecureContext({
      minVersion: MIN_TLS_VERSION,
      ...(options.extraCaPem === undefined ? {} : { ca: trustedCas(options.extraCaPem) }),
    }),
    rejectUnauthorized: true,
    // Plain http connections too (undici's connector hands its options to net.connect as well).
    lookup: addresses ? addresses.gated(lookup) : lookup,
  });
  const agent = new Agent({
    connect(connectOptions, callback) {
      // An address in the URL is connected to without a lookup, so the gate looks at it here.
      const refusal =
        refusalFor(connectOptions.protocol, connectOptions.hostname, allowLoopbackHttp) ??
        addresses?.refusalForHost(connectOptions.hostname);
      if (refusal) {
        callback(refusal, null);
        return;
      }
      tlsConnect(connectOptions, callback);
    },
  });
  const tlsFetch = async (input: string | URL | Request, init?: OutboundInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const refusal =
      refusalFor(url.protocol, url.hostname, allowLoopbackHttp) ?? addresses?.refusalForHost(url.hostname);
    if (refusal) throw refusal;
    const limit = init?.maxResponseBytes ?? defaultLimit;
    let dispatched = false;
    const onDispatched = () => {
      dispatched = true;
    };
    try {
      if (!(input instanceof Request) && init && !init.streamed && isSingleExchange(init))
        return await exchange(agent, url, init, limit, onDispatched);
      // Node's own fetch drives the undici Agent (same undici major, 6, as Node 22's built-in one);
      // it decompresses, and the limit counts what it hands on.
      const dispatcher = init?.onUnsent ? dispatchWatched(agent, onDispatched) : agent;
      return boundedResponse(await fetch(input, { ...init, dispatcher } as RequestInit), limit);
    } catch (err) {
      if (!dispatched) init?.onUnsent?.();
      // A refusal on a redirect hop surfaces as fetch's generic TypeError; give callers its code.
      const cause = err instanceof Error ? err.cause : undefined;
      throw cause instanceof JsmSsoError ? cause : err;
    }
  };
  // Closed when its owner stops serving: nothing waits for an answer any more. destroy, not close:
  // close waits for connection attempts under way, a stalled TLS handshake until undici's 10 s
  // connect timeout, which a stopping process (its grace period) or a pool releasing a tenant pays.
  return Object.assign(tlsFetch, { close: () => agent.destroy() }) as TlsFetch;
}

/**
 * `agent`, telling `onDispatched` when fetch's request is handed to a connection (its handler's
 * `onConnect`), for a call that must know whether anything of it was sent. The handler is otherwise
 * fetch's own, whole.
 */
function dispatchWatched(agent: Agent, onDispatched: () => void): Pick<Dispatcher, 'dispatch'> {
  return {
    dispatch: (options, handler) =>
      agent.dispatch(
        options,
        new Proxy(handler, {
          get: (target, name, receiver) =>
            name === 'onConnect'
              ? (...args: Parameters<NonNullable<Dispatcher.DispatchHandlers['onConnect']>>) => {
                  onDispatched();
                  return target.onConnect?.(...args);
                }
              : Reflect.get(target, name, receiver),
        }),
      ),
  };
}

/**
 * A call that follows no redirect and sends no body or a string or form body: every call
 * openid-client makes to an IdP (token, userinfo, JWKS, discovery all pass `redirect: 'manual'`).
 */
function isSingleExchange(init: RequestInit): boolean {
  const { body } = init;
  return (
    init.redirect === 'manual' &&
    (body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams)
  );
}

/** Statuses whose Response has no body (Fetch standard, "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * fetch's answer to a single exchange, made with undici's `dispatch` on the same Agent and read
 * whole into a standard Response. Node's WHATWG fetch spent about 0.3 ms of CPU per IdP call on
 * its own machinery (Request, header lists, a web stream pumping the body), more than the
 * exchange itself, and undici's `request` still wraps the answer in a Node stream with an async
 * resource; the bytes are gathered here as they arrive instead. The Agent's connector is the same,
 * so every TLS and plain-http rule holds; no redirect is followed, as `redirect: 'manual'` asks;
 * the body is sent as fetch would send it. At most `limit` bytes are taken, copied into one buffer as
 * they come (gathered-body.ts, ADR 0267): a larger Content-Length,
 * or the byte past the limit, aborts the connection (ADR 0149); a body the upstream encoded anyway
 * (none is asked for) is decoded into no more than `limit` bytes.
 */
function exchange(
  agent: Agent,
  url: URL,
  init: RequestInit,
  limit: number,
  onDispatched: () => void,
): Promise<Response> {
  const headers = new Headers(init.headers);
  const { body, signal } = init;
  if (body instanceof URLSearchParams && !headers.has('content-type'))
    headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
  if (typeof body === 'string' && !headers.has('content-type'))
    headers.set('content-type', 'text/plain;charset=UTF-8');
  const requestHeaders: string[] = [];
  headers.forEach((value, name) => {
    requestHeaders.push(name, value);
  });
  return new Promise<Response>((resolve, reject) => {
    signal?.throwIfAborted();
    let status = 0;
    const responseHeaders: [string, string][] = [];
    const answer = new GatheredBody(limit);
    let contentEncoding = '';
    let abort: ((reason?: Error) => void) | undefined;
    // undici hands over `abort` only once a connection is there: a signal firing while it connects
    // (a TLS handshake that never ends) ends the call at once, as fetch does, and the connection
    // attempt at onConnect (or at undici's connect timeout, or close()).
    const onAbort = () => {
      abort?.(signal!.reason);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    agent.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
        headers: requestHeaders,
        ...(body === undefined || body === null ? {} : { body: String(body) }),
      },
      {
        onConnect(abortRequest) {
          abort = abortRequest;
          onDispatched();
          if (signal?.aborted) abortRequest(signal.reason);
        },
        onHeaders(statusCode, rawHeaders) {
          // An informational answer (103 Early Hints, 100 Continue) says only "not yet", as fetch reads
          // it: its headers are not the answer's, and an upstream sending them without end would
          // have them kept without end (ADR 0267).
          if (statusCode < 200) return true;
          status = statusCode;
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const name = rawHeaders[i]!.toString('latin1');
            const value = rawHeaders[i + 1]!.toString('latin1');
            responseHeaders.push([name, value]);
            // Only these two of an answer's headers are looked at here (length checks keep it cheap).
            if (name.length === 14 && name.toLowerCase() === 'content-length' && Number(value) > limit)
              abort?.(responseTooLarge(limit, url));
            else if (name.length === 16 && name.toLowerCase() === 'content-encoding') contentEncoding = value;
          }
          return true;
        },
        onData(chunk) {
          if (answer.add(chunk)) return true;
          abort?.(responseTooLarge(limit, url));
          return false;
        },
        onComplete() {
          settle();
          if (NULL_BODY_STATUSES.has(status)) {
            resolve(new Response(null, { status, headers: responseHeaders }));
            return;
          }
          let decoded: Buffer<ArrayBuffer>;
          try {
            decoded = decodedBody(answer.bytes(), contentEncoding, url, limit);
          } catch (err) {
            reject(err);
            return;
          }
          resolve(new Response(decoded, { status, headers: responseHeaders }));
        },
        onError(err) {
          settle();
          reject(err);
        },
      },
    );
  });
}

/**
 * The call met one of this client's own bounds, which a retry would meet again and whose reason
 * callers keep (502 to the person): an answer over its read limit (ADR 0149), a host name the
 * resolver gave no answer for within the lookup deadline, a retry waiting on the same lookup (ADR 0206),
 * an address this process may not call (ADR 0219).
 */
export function outboundBoundMet(err: unknown): err is JsmSsoError {
  return err instanceof JsmSsoError && OUTBOUND_BOUNDS.has(err.code);
}

const OUTBOUND_BOUNDS = new Set([
  'UPSTREAM_RESPONSE_TOO_LARGE',
  'UPSTREAM_DNS_TIMEOUT',
  'OUTBOUND_ADDRESS_FORBIDDEN',
]);

function refusalFor(protocol: string, hostname: string, allowLoopbackHttp: boolean): JsmSsoError | undefined {
  if (protocol === 'https:') return undefined;
  if (protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(hostname)) return undefined;
  return new JsmSsoError(
    'TLS_PLAINTEXT_FORBIDDEN',
    `refusing ${protocol}//${hostname}: outbound calls use https:// (plain http:// only to loopback${
      allowLoopbackHttp ? '' : ', and not here'
    })`,
    { status: 502 },
  );
}
