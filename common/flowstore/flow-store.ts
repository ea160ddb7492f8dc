/**
 * Short-lived key-value state shared by the replicas of one tenant: login flows, one-time-use
 * markers (state, nonce, assertion IDs) and portal sessions. Every entry expires; nothing here is
 * meant to outlive a login or a session. Keys are namespaced per tenant by the implementation.
 */
export interface FlowStore {
  /** Stores `value` under `key` for `ttlSeconds`, replacing any previous value. */
  put(key: string, value: string, ttlSeconds: number, options?: WriteOptions): Promise<void>;
  /** Stores `value` only if `key` is absent; true when stored. The basis of replay detection. */
  putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * putIfAbsent for a claim that keeps a second writer out (one writer per write key): stored only
   * when the store can vouch that it would hold `key` had anyone stored it in the last `ttlSeconds`.
   * A Redis restarted from a snapshot, or a replica promoted in a failover, may have lost what was
   * written just before: until `ttlSeconds` have passed since it took over, a claim is refused with
   * FlowStoreClaimsUncertainError rather than granted on a memory that may have forgotten another.
   */
  claim(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Stores `value` under the first of `keys` that is absent or, when every one is taken, under
   * `keys[whenAllTaken]` in place of its value: one atomic step, one round trip. The index written.
   * Redis Cluster runs it on one node, so the keys must share a hash tag (`...{group}...`).
   */
  putInFirstFree(
    keys: readonly string[],
    value: string,
    ttlSeconds: number,
    whenAllTaken: number,
    options?: WriteOptions,
  ): Promise<number>;
  get(key: string): Promise<string | undefined>;
  /** Reads and deletes atomically, so a flow step can be consumed by one request only. */
  take(key: string): Promise<string | undefined>;
  /**
   * Reads an existing key and replaces its value with `marker` for `ttlSeconds`, atomically: one
   * request consumes the value, and the marker left behind tells a replay from an unknown key in
   * the same round trip. An absent key stays absent (undefined, nothing written).
   */
  takeLeaving(key: string, marker: string, ttlSeconds: number): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /**
   * Deletes each of `keys` that still holds `value`, atomically and in one round trip: a key
   * another writer has taken since is left alone. One group of keys, as for putInFirstFree.
   */
  deleteHolding(keys: readonly string[], value: string): Promise<void>;
  /**
   * Resolves when the backing service answers on every connection the store's commands go on;
   * rejects with FlowStoreUnavailableError otherwise (readiness: ADR 0302).
   */
  ping(): Promise<void>;
  /**
   * The longest one connection attempt may take (Redis: connecting within connectTimeout, then the
   * ready check within the command deadline); a command issued meanwhile waits for it. None for memory.
   */
  readonly connectionAttemptMs?: number;
  /**
   * Whether an entry written evictable was dropped to make room (WriteOptions, ADR 0357) that would
   * still be live now: a session looked for and not found may then be one of them rather than ended
   * or expired (ADR 0363). Only a memory store evicts; absent, nothing was.
   */
  evictedEntriesLive?(): boolean;
  close(): Promise<void>;
}

/** How a store that counts its entries may treat a write (ADR 0357). */
export interface WriteOptions {
  /**
   * The entry may be dropped before its TTL, the oldest first, to make room for a new one when a
   * memory store holds its cap: only what a completed, authenticated sign-in wrote and can lose (a
   * session's record and its logout indexes), never a one-time marker, a flow, or an ended IdP
   * session's record. Redis ignores it: its room is its maxmemory, not a count of entries.
   */
  evictable?: boolean;
}

import { JsmSsoError } from '../errors.js';

export class FlowStoreUnavailableError extends JsmSsoError {
  constructor(cause: unknown) {
    super('FLOW_STORE_UNAVAILABLE', 'the shared state store cannot be reached', { status: 503, cause });
    this.name = 'FlowStoreUnavailableError';
  }
}

/**
 * The store may have lost claims made just before it took over (restarted from a snapshot, a replica
 * promoted): it grants none until those would have expired (503, retry after `retryAfterSeconds`).
 */
export class FlowStoreClaimsUncertainError extends JsmSsoError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(
      'FLOW_STORE_CLAIMS_UNCERTAIN',
      'the shared state store took over recently and may have lost claims made just before',
      { status: 503, params: { seconds: retryAfterSeconds } },
    );
    this.name = 'FlowStoreClaimsUncertainError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A one-time marker (a replay marker, a flow or state taken) that no replica acknowledged within the
 * deadline: a failover now would promote a replica without it, and the marker would be undone (ADR
 * 0261). The request it guards is refused (503); trying again works once a replica keeps up.
 */
export class FlowStoreNotReplicatedError extends JsmSsoError {
  constructor() {
    super(
      'FLOW_STORE_NOT_REPLICATED',
      'no replica of the shared state store acknowledged a one-time marker in time',
      { status: 503 },
    );
    this.name = 'FlowStoreNotReplicatedError';
  }
}

/**
 * A pool's tenant has used its own share of the pool's flow store (ADR 0197: entries in a pool's
 * memory; ADR 0215: sign-ins started within one flow lifetime): its new sign-ins wait (503), other
 * tenants' are served. `share` says which share, for the log line.
 */
export class FlowStoreTenantFullError extends JsmSsoError {
  constructor(share: string) {
    super('FLOW_STORE_TENANT_FULL', `this tenant has used its share of the pool's flow store: ${share}`, {
      status: 503,
    });
    this.name = 'FlowStoreTenantFullError';
  }
}

export function assertTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new RangeError(`ttl must be a positive integer, got ${ttlSeconds}`);
}

export function jsonValue<T>(raw: string | undefined): T | undefined {
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

/** putInFirstFree's arguments, checked alike by every store before anything is written. */
export function assertFirstFreeArguments(
  keys: readonly string[],
  ttlSeconds: number,
  whenAllTaken: number,
): void {
  assertTtl(ttlSeconds);
  if (!Number.isInteger(whenAllTaken) || whenAllTaken < 0 || whenAllTaken >= keys.length)
    throw new RangeError(`whenAllTaken must index one of the ${keys.length} keys, got ${whenAllTaken}`);
}

/**
 * The name a tenant's keys are kept under: its id (`<namespace>/<name>`), and where it is known (a
 * pool's bundle, a dedicated part's tenant document) the incarnation's identity: its metadata.uid, a
 * label value checked where it enters (config/tenant-uid.ts: no `:`, `@`, `{` or `}`). A tenant deleted
 * and re-created under its name is another tenant, with another IdP and Atlassian site; its
 * predecessor's sessions, flows, replay markers and counters are none of its own (ADRs 0371, 0379).
 */
export function tenantKeyspace(tenant: string, uid?: string): string {
  return uid ? `${tenant}@${uid}` : tenant;
}
