import type { IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { exchangeSignal } from '../exchange-signal.js';
import type { ClusterAccess } from './access.js';

/**
 * A small Kubernetes REST client over node:https, configured from a ClusterAccess (access.ts; TLS,
 * bearer tokens, or client-node's KubeConfig for exec plugins). client-node 1.x's generated API does not make server-side apply
 * easy (the patch content type needs a middleware) and its informer stops on most errors, so the
 * operator speaks REST directly: every write goes through `request`, which counts it.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  /** The API server's own message (without the request line), for conditions users read. */
  readonly serverMessage: string;
  /** The Status's `details.causes`, by type (`NamespaceTerminating`, `FieldValueInvalid`...). */
  readonly causes: readonly StatusCause[];
  /** A 429's Retry-After, when the answer had one: how long the API server asked the client to wait. */
  readonly retryAfterMs: number | undefined;
  constructor(
    status: number,
    reason: string,
    message: string,
    serverMessage = message,
    causes: StatusCause[] = [],
    retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.serverMessage = serverMessage;
    this.causes = causes;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface StatusCause {
  type: string;
  message: string;
}

export interface RequestArgs {
  body?: unknown;
  /** Accept header (default application/json), e.g. to ask for PartialObjectMetadata. */
  accept?: string;
  contentType?: string;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export interface ApplyOptions {
  fieldManager: string;
  dryRun?: boolean;
  force?: boolean;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Names the operator in the API server's audit log (how the README's write counts are measured). */
export const USER_AGENT = 'jsm-sso-operator';

/**
 * Asks the API server for metadata only (PartialObjectMetadata, as client-go's metadata informers
 * do): a Secret's list or watch then carries no data, so the cache size does not grow with the
 * size of Secrets the operator never reads.
 */
export const METADATA_ONLY = {
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
  object: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
} as const;
const AUTH_REFRESH_MS = 60_000;
/**
 * How long a request (a watch excepted) may take, from the wait for a socket to the last byte. The
 * API server ends every such request within its --request-timeout (60 s by default), so past 70 s
 * the answer is not coming: the connection went dead without a reset (a control-plane node lost,
 * a load balancer dropping its flows). Without a bound the call waited for ever, holding its
 * worker and one of the REQUEST_SOCKETS; 32 of them and the client made no call at all.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 70_000;
/**
 * How long a watch's connection may be idle before TCP keepalive probes it (Node then probes every
 * second, 10 times). A watch has no deadline and an idle one carries nothing for minutes, so a
 * connection gone without a reset (a control-plane node lost, a load balancer dropping its flows)
 * was found only by the informer's silence bound, 450 s; Node's https agent enables no keepalive
 * on its sockets. Found dead in about 40 s now, as client-go finds it by HTTP/2 pings (30 s idle,
 * 15 s to answer) (ADR 0251).
 */
const WATCH_KEEPALIVE_IDLE_MS = 30_000;
/** Requests in flight at once per client (watches excepted: they have their own agent). */
const REQUEST_SOCKETS = 32;
/**
 * How often a request answered 429 Too Many Requests is sent again, each after the answer's
 * Retry-After (client-go's maxRetries). API Priority and Fairness answers 429 to a request it did
 * not execute, so sending it again is safe for a write too.
 */
const THROTTLED_RETRIES = 10;
/** The wait after a Retry-After that is no number nor date, and the most any Retry-After is waited. */
const THROTTLED_WAIT_MS = { default: 1_000, max: 60_000 } as const;

export class KubeClient {
  readonly server: string;
  private readonly kubeConfig: ClusterAccess;
  /**
   * `request`: at most REQUEST_SOCKETS requests at once, the rest wait for a free socket.
   * `watch`: each watch holds its socket for as long as it runs, one per watched collection (13
   * kinds per watched namespace for the operator). On the request agent the 33rd watch, and every
   * request after it, waited for a socket no watch gives back: an operator watching three
   * namespaces made no call at all. So watches get an agent of their own, without a cap.
   */
  private agents: { request: Agent; watch: Agent } | undefined;
  private authHeaders: Record<string, string> = {};
  private authAt = 0;
  /** API write calls made (POST/PUT/PATCH/DELETE), for metrics and tests. */
  writes = 0;
  /** Called for every 429 Too Many Requests waited out before the request is sent again (metrics). */
  onThrottled?: (method: string, path: string) => void;
  /** Called for every write with its method and path (tests count these). */
  onWrite?: (method: string, path: string) => void;
  /** Called before every write is sent; a throw refuses it (the operator's leader fencing). */
  writeGuard?: (method: string, path: string) => void;

  private readonly userAgent: string;
  private readonly requestTimeoutMs: number;
  private readonly lifetime: AbortSignal | undefined;

  /**
   * `signal`: once aborted, every exchange in flight (watches included) fails at once and every new
   * one is refused, with the signal's reason. The operator's stop aborts it, so that a reconcile
   * waiting on a silent API server cannot hold the process past its grace period.
   */
  constructor(
    kubeConfig: ClusterAccess,
    options: { userAgent?: string; requestTimeoutMs?: number; signal?: AbortSignal } = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.kubeConfig = kubeConfig;
    this.userAgent = options.userAgent ?? USER_AGENT;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.lifetime = options.signal;
    this.server = cluster.server.replace(/\/+$/, '');
  }

  private async options(): Promise<{
    agents: { request: Agent; watch: Agent };
    headers: Record<string, string>;
  }> {
    if (!this.agents || Date.now() - this.authAt > AUTH_REFRESH_MS) {
      const opts: RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      if (opts.auth) headers['Authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      this.authHeaders = headers;
      this.authAt = Date.now();
      if (!this.agents) {
        const tls = {
          ...(opts.ca ? { ca: opts.ca } : {}),
          ...(opts.cert ? { cert: opts.cert } : {}),
          ...(opts.key ? { key: opts.key } : {}),
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          ...(opts.servername ? { servername: opts.servername } : {}),
        };
        this.agents = {
          request: new Agent({ keepAlive: true, maxSockets: REQUEST_SOCKETS, ...tls }),
          watch: new Agent({ keepAlive: true, ...tls }),
        };
      }
    }
    return { agents: this.agents, headers: this.authHeaders };
  }

  private url(path: string, query?: Record<string, string | undefined>): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  /**
   * Opens a request and resolves with the response once headers arrive (status not checked).
   * `args.signal` is the exchange's whole signal: the caller links in the client's lifetime.
   */
  private async open(
    method: string,
    path: string,
    args: RequestArgs,
    stream = false,
  ): Promise<IncomingMessage> {
    this.lifetime?.throwIfAborted();
    const { agents, headers } = await this.options();
    const body = args.body === undefined ? undefined : JSON.stringify(args.body);
    const url = this.url(path, args.query);
    if (WRITE_METHODS.has(method)) {
      this.writeGuard?.(method, path);
      this.writes++;
      this.onWrite?.(method, path);
    }
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        agent: stream ? agents.watch : agents.request,
        headers: {
          ...headers,
          Accept: args.accept ?? 'application/json',
          'User-Agent': this.userAgent,
          // Content-Length always: node sends a DELETE's body without it (nor chunked encoding), so
          // the API server read no body, ignored DeleteOptions' preconditions and deleted anyway,
          // and took the unread bytes for the next request on the connection (400).
          ...(body !== undefined
            ? {
                'Content-Type': args.contentType ?? 'application/json',
                'Content-Length': String(Buffer.byteLength(body)),
              }
            : {}),
        },
        ...(args.signal ? { signal: args.signal } : {}),
      });
      if (stream) req.once('socket', (socket) => socket.setKeepAlive(true, WATCH_KEEPALIVE_IDLE_MS));
      req.on('response', resolve);
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * `open`, sent again after each 429 Too Many Requests (API Priority and Fairness throttling this
   * client, or a watch cache still initializing after a restart, KEP-4568) once its Retry-After has
   * passed, as client-go does: answering the caller with the 429 made a throttled operator fail its
   * reconciles (StatusWriteFailed, ApplyFailed, Warning Events) and its informers log failures, each
   * retried on its own backoff, sooner than the API server asked (ADR 0208). The last 429 is returned when the retries are spent; the wait ends
   * early, with the signal's reason, once `args.signal` aborts. A 429 without Retry-After is a
   * refusal, not throttling (an eviction a PodDisruptionBudget forbids): returned at once.
   */
  private async openAdmitted(
    method: string,
    path: string,
    args: RequestArgs & { signal: AbortSignal },
    stream = false,
  ): Promise<IncomingMessage> {
    for (let retry = 0; ; retry++) {
      const res = await this.open(method, path, args, stream);
      const retryAfter = res.headers['retry-after'];
      if (res.statusCode !== 429 || retryAfter === undefined || retry === THROTTLED_RETRIES) return res;
      this.onThrottled?.(method, path);
      res.resume();
      await delay(retryAfterMs(retryAfter), undefined, { signal: args.signal }).catch(() => undefined);
      args.signal.throwIfAborted();
    }
  }

  /**
   * One exchange, bounded by the client's request timeout, by `args.signal` and by the client's
   * lifetime, whichever ends first.
   */
  async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    const exchange = exchangeSignal([args.signal, this.lifetime], this.requestTimeoutMs);
    try {
      const res = await this.openAdmitted(method, path, { ...args, signal: exchange.signal });
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
      throw apiErrorFrom(status, text, `${method} ${path}`, res.headers['retry-after']);
    } finally {
      exchange.release();
    }
  }

  /** The object, or undefined when it does not exist. */
  async get<T = KubeObject>(path: string, args: Pick<RequestArgs, 'signal'> = {}): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path, args);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * The object's metadata only (PartialObjectMetadata), or undefined when it does not exist: for a
   * judgement of who holds a name (labels, ownerReferences, uid, resourceVersion), which must not
   * fetch a Secret's values. Stamped with `as`'s apiVersion and kind, which the answer replaces
   * with PartialObjectMetadata's own.
   */
  async getMetadata(
    path: string,
    as: { apiVersion?: string; kind?: string },
  ): Promise<KubeObject | undefined> {
    try {
      const { metadata } = await this.request<KubeObject>('GET', path, { accept: METADATA_ONLY.object });
      return { apiVersion: as.apiVersion, kind: as.kind, metadata };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Every item of a collection, following `continue` tokens. `each` maps the items of a page as it
   * arrives: a cache that keeps a small part of each object (an informer) then holds one page of
   * whole objects at a time, not the whole collection (Secrets' metadata can carry kubectl's
   * last-applied copy of their data, up to 256 KiB each). Only when a continue token has expired is
   * the collection read whole, in one answer (below).
   */
  async list<T = KubeObject, R = T>(
    path: string,
    query: Record<string, string | undefined> = {},
    accept?: string,
    each?: (item: T) => R,
  ): Promise<KubeList<R>> {
    let items: R[] = [];
    let cont: string | undefined;
    let limit: string | undefined = '500';
    for (;;) {
      let page: KubeList<T>;
      try {
        page = await this.request<KubeList<T>>('GET', path, {
          query: { ...query, limit, continue: cont },
          ...(accept ? { accept } : {}),
        });
      } catch (err) {
        // Pages after the first are read at the first's revision; a list that took longer than
        // etcd's compaction interval (5 min by default) finds it compacted: 410 Expired. Paging from
        // the start again meets the same, for ever, so the collection is read whole in one request
        // instead, as client-go's pager does (FullListIfExpired; ADR 0241).
        if (!(cont && err instanceof ApiError && err.status === 410)) throw err;
        items = [];
        cont = undefined;
        limit = undefined;
        continue;
      }
      // A PartialObjectMetadataList with no items says `items: null`.
      for (const item of page.items ?? []) items.push(each ? each(item) : (item as unknown as R));
      cont = page.metadata.continue || undefined;
      if (!cont) return { metadata: { resourceVersion: page.metadata.resourceVersion }, items };
    }
  }

  /** Server-side apply of `object` at `path` (the object's own URL, or its /status). */
  apply<T = KubeObject>(path: string, object: unknown, options: ApplyOptions): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: {
        fieldManager: options.fieldManager,
        force: options.force === false ? undefined : 'true',
        dryRun: options.dryRun ? 'All' : undefined,
      },
    });
  }

  create<T = KubeObject>(
    collection: string,
    object: unknown,
    query: Record<string, string> = {},
    args: Pick<RequestArgs, 'signal'> = {},
  ): Promise<T> {
    return this.request<T>('POST', collection, { ...args, body: object, query });
  }

  /**
   * Deletes the object at `path`; with `preconditions`, only while it has that uid and
   * resourceVersion (the API server answers 409 otherwise). A 404 is no failure: it is gone.
   */
  async delete(
    path: string,
    query: Record<string, string> = {},
    preconditions?: { uid?: string; resourceVersion?: string },
  ): Promise<void> {
    const body = preconditions && { apiVersion: 'v1', kind: 'DeleteOptions', preconditions };
    try {
      await this.request('DELETE', path, { query, ...(body ? { body } : {}) });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return;
      throw err;
    }
  }

  /**
   * Streams watch events until the server ends the watch, the signal aborts or the connection
   * fails. Resolves on a clean end; rejects on HTTP errors (410 Gone included) and broken streams.
   */
  async watch<T = KubeObject>(
    path: string,
    query: Record<string, string | undefined>,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
    accept?: string,
  ): Promise<void> {
    // No deadline: a watch runs as long as the server keeps it (the informer detects silence).
    const exchange = exchangeSignal([signal, this.lifetime]);
    try {
      const res = await this.openAdmitted(
        'GET',
        path,
        {
          query: { ...query, watch: '1', allowWatchBookmarks: 'true' },
          signal: exchange.signal,
          ...(accept ? { accept } : {}),
        },
        true,
      );
      const status = res.statusCode ?? 0;
      if (status !== 200) throw apiErrorFrom(status, await readAll(res), `watch ${path}`);
      let buffered = '';
      res.setEncoding('utf8');
      for await (const chunk of res) {
        buffered += chunk as string;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
          newline = buffered.indexOf('\n');
        }
      }
    } finally {
      exchange.release();
    }
  }

  close(): void {
    this.agents?.request.destroy();
    this.agents?.watch.destroy();
  }
}

/** RFC 9110 §10.2.3 Retry-After: delay-seconds (what kube-apiserver sends) or an HTTP-date. */
function retryAfterMs(header: string): number {
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isNaN(ms) ? THROTTLED_WAIT_MS.default : Math.min(THROTTLED_WAIT_MS.max, Math.max(0, ms));
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function apiErrorFrom(status: number, text: string, what: string, retryAfter?: string): ApiError {
  let reason = 'Unknown';
  let message = text.slice(0, 500);
  let causes: StatusCause[] = [];
  try {
    const parsed = JSON.parse(text) as {
      reason?: string;
      message?: string;
      // A StatusCause's type is its JSON `reason` (metav1.StatusCause: `Type CauseType json:"reason"`).
      details?: { causes?: { reason?: unknown; message?: unknown }[] };
    };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
    causes = (parsed.details?.causes ?? []).flatMap((c) =>
      typeof c.reason === 'string'
        ? [{ type: c.reason, message: typeof c.message === 'string' ? c.message : '' }]
        : [],
    );
  } catch {
    // not a Status object (e.g. a proxy's HTML page); keep the raw text
  }
  const waitMs = retryAfter === undefined ? undefined : retryAfterMs(retryAfter);
  return new ApiError(status, reason, `${what}: ${status} ${reason}: ${message}`, message, causes, waitMs);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403;
}

/**
 * Whether a create was refused because its namespace is being deleted (NamespaceLifecycle
 * admission: 403 with the cause `NamespaceTerminating`), here or as the cause of an error that wraps
 * it; the cause's message (`namespace acme is being terminated`) when it was. Such a namespace never
 * comes back and all it holds is about to be deleted, so a controller does not retry the create
 * (client-go's controllers return without an error on `HasStatusCause(err, NamespaceTerminatingCause)`).
 */
export function namespaceTerminating(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (!(e instanceof ApiError && e.status === 403)) continue;
    const cause = e.causes.find((c) => c.type === 'NamespaceTerminating');
    if (cause) return cause.message || e.serverMessage;
  }
  return undefined;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409;
}
