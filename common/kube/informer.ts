import { type BackoffBounds, backoffAfter } from '../backoff.js';
import type { Logger } from '../log.js';
import {
  ApiError,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KubeClient,
  type KubeList,
  type KubeObject,
  METADATA_ONLY,
  type WatchEvent,
} from './client.js';

/**
 * A list-and-watch cache of one collection, like client-go's reflector, but one that never gives
 * up: a failed list or watch restarts after an exponential backoff, a watch resumes from the last
 * resourceVersion it saw (bookmarks keep it fresh), 410 Gone (an expired resourceVersion) relists
 * after the same backoff, and a watch that stays silent past its deadline is dropped and reopened
 * (its socket probed by TCP keepalive meanwhile, KubeClient.watch). Every `resyncMs` the
 * cache is replayed as RESYNC events, which drive the controller's periodic reconcile, as client-go's
 * resync does: without a list. A list with no resourceVersion is read from etcd, every object of the
 * collection whole (a metadata-only list of Secrets is stripped after that read), and a watch
 * resumed from its resourceVersion misses no event, so relisting on a timer only loaded the API
 * server of a crowded cluster (ADR 0177).
 */
export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'RESYNC';

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  /** Collection path, e.g. /apis/apps/v1/deployments or /api/v1/namespaces/a/secrets. */
  path: string;
  labelSelector?: string;
  /** Cache metadata only (PartialObjectMetadata): for Secrets, whose data the cache never holds. */
  metadataOnly?: boolean;
  /**
   * The collection's apiVersion and kind. List items arrive without them (watch events carry
   * them), so they are stamped on every cached object: otherwise an object's cached form would
   * depend on whether it last came from a list or a watch, and every relist would look like drift.
   */
  kind?: { apiVersion: string; kind: string };
  /** Shrinks what is cached (e.g. a Secret's data replaced by its hash); managedFields are always dropped. */
  transform?: (object: KubeObject) => T;
  /**
   * `previous` is the cached object a MODIFIED event replaces: a handler reacting only to some
   * fields compares them, since the echo of the operator's own write can arrive before the write's
   * response has been remembered (and is then reported, not ignored as known).
   */
  onEvent: (type: InformerEventType, object: T, previous?: T) => void;
  logger: Logger;
  /**
   * The fields of the two lines the informer logs, a failed list or watch (warn) and an expired
   * resourceVersion relisted (info); by default `informer.failed` (reason `INFORMER_LIST_WATCH_FAILED`)
   * / `informer.expired` with the path; a failed one carries the API server's status when it answered. A pool process names them as its own reason codes (ADR 0136).
   */
  logAs?: { failed: Record<string, unknown>; expired: Record<string, unknown> };
  /** How often the cache is replayed as RESYNC events (default 10 minutes; Infinity: never). */
  resyncMs?: number;
  /**
   * Server-side watch timeout (default 300 to 600 s at random); the client drops the watch if
   * nothing arrives for 1.5x this.
   */
  watchTimeoutSeconds?: number;
  backoff?: BackoffBounds;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly options: InformerOptions<T>;
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private failures = 0;
  /**
   * Keys the watch reported deleted lately, with the deletion's resourceVersion and when it came,
   * oldest first: what a write's late response must not bring back (see `remember`).
   */
  private readonly deletedAt = new Map<string, { resourceVersion: string; at: number }>();
  /** Keys remembered while a list is in flight: newer than (or equal to) what the list returns. */
  private rememberedDuringList: Set<string> | undefined;
  private loop: Promise<void> | undefined;
  /** Events the handler threw on, by key, to be delivered again (see `report`). */
  private readonly undelivered = new Map<string, { type: InformerEventType; object: T; previous?: T }>();
  private redelivery: NodeJS.Timeout | undefined;
  private redeliveries = 0;
  /** Counts restarts of the list/watch loop after an error (for metrics and tests). */
  restarts = 0;

  constructor(options: InformerOptions<T>) {
    this.options = options;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(cacheKey(namespace, name));
  }

  /**
   * Stores what a write returned, so the next reconcile sees it before the watch event arrives
   * (without this, a busy operator re-applies objects whose events are still in flight).
   */
  remember(raw: KubeObject): void {
    const object = this.shrink(raw);
    const key = cacheKey(object.metadata.namespace, object.metadata.name ?? '');
    // The watch can deliver a later change (or the deletion) before the write's response is
    // handled: remembering the response then would put back an older state, or a deleted object,
    // until the next relist (a tenant deleted meanwhile looked alive, so its pool kept its objects).
    const newer = this.cache.get(key)?.metadata.resourceVersion ?? this.deletedAt.get(key)?.resourceVersion;
    if (isOlder(object.metadata.resourceVersion, newer)) return;
    this.cache.set(key, object);
    this.rememberedDuringList?.add(key);
  }

  /** Whether this informer's collection holds objects of `namespace`. */
  covers(namespace: string): boolean {
    return (
      !this.options.path.includes('/namespaces/') || this.options.path.includes(`/namespaces/${namespace}/`)
    );
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const resyncMs = this.options.resyncMs ?? 10 * 60_000;
    // setInterval would take Infinity for 1 ms.
    const resync = Number.isFinite(resyncMs) ? setInterval(() => this.replay(), resyncMs) : undefined;
    try {
      await this.listAndWatch();
    } finally {
      clearInterval(resync);
      clearTimeout(this.redelivery);
    }
  }

  /** Reports every cached object as RESYNC (nothing before the first list). */
  private replay(): void {
    if (!this.synced || this.stopped) return;
    for (const object of [...this.cache.values()]) this.report('RESYNC', object);
  }

  private async listAndWatch(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        await this.watchOnce();
        this.failures = 0;
      } catch (err) {
        if (this.stopped) break;
        const delay = this.backoff(++this.failures);
        if (err instanceof ApiError && err.status === 410) {
          // Our resourceVersion is older than etcd's compaction window: start over with a list,
          // after a wait like any other end of a round (client-go's reflector does too). A
          // compaction or an API server restart expires every informer's watch at once; relisting
          // at once had them all list together, and a relist whose own watch expired at once
          // (a list older than the watch cache's history) listed the collection in a loop.
          this.resourceVersion = undefined;
          this.options.logger.info(
            { ...this.logFields('expired'), relistInMs: Math.round(delay) },
            'watch expired; relisting',
          );
        } else {
          this.restarts++;
          this.options.logger.warn(
            {
              ...this.logFields('failed'),
              // The API server's answer, so a 404 (a CRD not installed) or a 403 (RBAC) reads apart from no answer.
              ...(err instanceof ApiError ? { status: err.status } : {}),
              err,
              retryInMs: Math.round(delay),
            },
            'list/watch failed; retrying',
          );
        }
        await sleep(delay, this.abort.signal);
      }
    }
  }

  /**
   * The wait before an attempt: exponential in the attempts that failed in a row (for the list and
   * watch, the rounds ended by a failure or an expiry; a watch the server ended normally, not at
   * once and empty, resets it), with jitter so that informers ended together do not come back
   * together.
   */
  private backoff(attempt: number): number {
    return (
      backoffAfter(attempt, this.options.backoff ?? { initialMs: 500, maxMs: 30_000 }) *
      (0.8 + Math.random() * 0.4)
    );
  }

  /**
   * Hands an event to the handler. One that throws must not end the list or watch under way: the
   * cache and the resourceVersion are past the event already, so the round retried would never
   * report it again (an addition the next list finds is a RESYNC, a deletion is gone from the
   * cache) and the handler would miss it for good (a pool would never serve a tenant whose
   * addition failed). The failure is logged and the event delivered again after a backoff, until
   * the handler takes it or a later event of the same object replaces it; the events after it go on.
   */
  private report(type: InformerEventType, object: T, previous?: T): void {
    const { namespace, name } = object.metadata;
    const key = cacheKey(namespace, name ?? '');
    // A resync is the state already reported; it neither replaces a change not yet delivered nor
    // needs one of its own (the next resync replays it).
    if (type !== 'RESYNC') this.undelivered.delete(key);
    try {
      this.options.onEvent(type, object, previous);
    } catch (err) {
      this.options.logger.warn(
        {
          event: 'informer.handler_failed',
          reason: 'INFORMER_HANDLER_FAILED',
          path: this.options.path,
          type,
          namespace,
          name,
          err,
        },
        'an informer event handler threw; the informer goes on',
      );
      if (type === 'RESYNC') return;
      this.undelivered.set(key, { type, object, ...(previous ? { previous } : {}) });
      this.redeliver();
    }
  }

  /** Delivers the events the handler threw on again, after a backoff that grows while it keeps throwing. */
  private redeliver(): void {
    if (this.redelivery || this.stopped) return;
    this.redelivery = setTimeout(
      () => {
        this.redelivery = undefined;
        for (const { type, object, previous } of [...this.undelivered.values()])
          this.report(type, object, previous);
        if (this.undelivered.size === 0) this.redeliveries = 0;
      },
      this.backoff(++this.redeliveries),
    );
  }

  private logFields(line: 'failed' | 'expired'): Record<string, unknown> {
    return (
      this.options.logAs?.[line] ?? {
        event: `informer.${line}`,
        path: this.options.path,
        ...(line === 'failed' ? { reason: 'INFORMER_LIST_WATCH_FAILED' } : {}),
      }
    );
  }

  private async relist(): Promise<void> {
    const { client, path, labelSelector } = this.options;
    const remembered = new Set<string>();
    this.rememberedDuringList = remembered;
    let list: KubeList<T>;
    try {
      list = await client.list<KubeObject, T>(
        path,
        { labelSelector },
        this.options.metadataOnly ? METADATA_ONLY.list : undefined,
        (raw) => this.shrink(raw),
      );
    } finally {
      this.rememberedDuringList = undefined;
    }
    // A write that landed while the list was in flight may be missing from it or older there:
    // the remembered object stands (else the relist would report it deleted and it would be
    // applied again), and the watch from the list's resourceVersion replays anything later.
    const seen = new Set<string>(remembered);
    for (const object of list.items) {
      const key = cacheKey(object.metadata.namespace, object.metadata.name ?? '');
      if (remembered.has(key)) continue;
      seen.add(key);
      const before = this.cache.get(key);
      this.cache.set(key, object);
      if (!before) this.report('ADDED', object);
      else if (before.metadata.resourceVersion !== object.metadata.resourceVersion)
        this.report('MODIFIED', object, before);
      else this.report('RESYNC', object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.report('DELETED', object);
    }
    this.resourceVersion = list.metadata.resourceVersion;
    // A list is the whole truth: deletions it confirms need no tombstone.
    this.deletedAt.clear();
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** One watch from the current resourceVersion; returns when the server ends it. */
  private async watchOnce(): Promise<void> {
    // Between 5 and 10 minutes at random, as client-go's reflector asks: informers started together
    // (a pool's replicas, an operator's after a restart) then renew their watches apart.
    const timeoutSeconds =
      this.options.watchTimeoutSeconds ?? Math.floor(MIN_WATCH_TIMEOUT_SECONDS * (1 + Math.random()));
    const watchAbort = new AbortController();
    const onStop = () => watchAbort.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    // A stop that came before this watch (just after the list it follows) ends it at once, not
    // when the server does (up to watchTimeoutSeconds later).
    if (this.stopped) watchAbort.abort();
    const opened = Date.now();
    let lastActivity = opened;
    let events = 0;
    let silent = false;
    // A watch can die without the TCP connection noticing; bookmarks and the server's own
    // timeout guarantee activity, so prolonged silence means the watch is gone.
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastActivity > timeoutSeconds * 1500) {
          silent = true;
          watchAbort.abort();
        }
      },
      Math.min(5_000, timeoutSeconds * 500),
    );
    try {
      await this.options.client.watch<T>(
        this.options.path,
        {
          labelSelector: this.options.labelSelector,
          resourceVersion: this.resourceVersion,
          timeoutSeconds: String(timeoutSeconds),
        },
        (event) => {
          lastActivity = Date.now();
          events++;
          this.handle(event);
        },
        watchAbort.signal,
        this.options.metadataOnly ? METADATA_ONLY.object : undefined,
      );
    } catch (err) {
      if (!watchAbort.signal.aborted || silent) throw silent ? new Error('watch was silent too long') : err;
    } finally {
      clearInterval(watchdog);
      this.abort.signal.removeEventListener('abort', onStop);
    }
    // A watch ended normally is the server's timeout, so the next one follows at once with the
    // backoff reset. One ended at once with no event (a proxy in front of the API server whose
    // upstream is gone, or that caps a stream's duration) is no such end: taken as one, the
    // informer opened watches as fast as they were answered, for as long as that lasted. It is a
    // failed round, as client-go's reflector counts a "very short watch".
    if (events === 0 && Date.now() - opened < SHORT_WATCH_MS && !this.stopped) {
      throw new Error('the API server ended the watch at once, with no event');
    }
  }

  /**
   * managedFields are often the largest part of an object and nothing the operator reads (drift is
   * judged on the fields themselves): dropping them keeps thousands of cached objects small.
   */
  private shrink(raw: KubeObject): T {
    const { managedFields: _dropped, ...metadata } = raw.metadata;
    const kind = this.options.kind;
    const object = kind
      ? { ...raw, apiVersion: kind.apiVersion, kind: kind.kind, metadata }
      : { ...raw, metadata };
    return this.options.transform ? this.options.transform(object) : (object as T);
  }

  /** Records a deletion, and drops the tombstones old enough that no write's response can follow. */
  private tombstone(key: string, resourceVersion: string): void {
    const now = Date.now();
    this.deletedAt.delete(key);
    this.deletedAt.set(key, { resourceVersion, at: now });
    for (const [old, { at }] of this.deletedAt) {
      if (now - at < TOMBSTONE_MS) break;
      this.deletedAt.delete(old);
    }
  }

  private handle(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; reason?: string; message?: string };
      throw new ApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error');
    }
    const raw = event.object as KubeObject;
    if (raw.metadata?.resourceVersion) this.resourceVersion = raw.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const object = this.shrink(raw);
    const key = cacheKey(object.metadata.namespace, object.metadata.name ?? '');
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      if (object.metadata.resourceVersion) this.tombstone(key, object.metadata.resourceVersion);
    } else {
      // The echo of our own write, already cached by `remember`: the writer knew this state, so
      // reporting it would only requeue the tenant for a reconcile with nothing to do.
      const previous = this.cache.get(key);
      this.cache.set(key, object);
      if (previous?.metadata.resourceVersion === object.metadata.resourceVersion) return;
      this.report(event.type, object, previous);
      return;
    }
    this.report(event.type, object);
  }
}

/**
 * How long a deletion's tombstone is kept: a write sent before the deletion is answered (or given up)
 * within the client's request timeout, so its response cannot come later than that. Lists are rare
 * now (start, 410 Gone), so the tombstones no longer wait for one to be cleared.
 */
const TOMBSTONE_MS = 2 * DEFAULT_REQUEST_TIMEOUT_MS;
/**
 * A watch ended normally sooner than this after it was opened, with no event (not even a
 * bookmark), counts as failed (client-go's reflector: a "very short watch", under 1 s).
 */
const SHORT_WATCH_MS = 1_000;
/** The shortest watch a watch asks of the server (client-go's reflector: minWatchTimeout). */
const MIN_WATCH_TIMEOUT_SECONDS = 300;

/**
 * Whether `candidate` is an older resourceVersion than `known`. Kubernetes asks clients to treat
 * resourceVersions as opaque; only when both are the decimal etcd revisions kube-apiserver issues
 * are they compared, and anything else counts as not older (the write is remembered, as before).
 */
function isOlder(candidate: string | undefined, known: string | undefined): boolean {
  if (!candidate || !known || !/^\d+$/.test(candidate) || !/^\d+$/.test(known)) return false;
  return BigInt(candidate) < BigInt(known);
}

export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
