import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { hostLookup } from '../tls/host-lookup.js';
import { closeOwnConnections, connectionFor, masterConnectionAt } from './cluster-connections.js';
import { everyHeardShardAnswers } from './cluster-readiness.js';
import { clusterRedirection } from './cluster-redirection.js';
import { masterWithoutReplica } from './cluster-shards.js';
import { answeredWithin } from './command-deadline.js';
import {
  assertFirstFreeArguments,
  assertTtl,
  type FlowStore,
  FlowStoreClaimsUncertainError,
  FlowStoreNotReplicatedError,
  FlowStoreUnavailableError,
  tenantKeyspace,
} from './flow-store.js';
import { countKeysStartingWith, unlinkKeysStartingWith } from './keyspace-purge.js';
import { markersConnectionAnswers } from './markers-connection-health.js';
import type { RedisAddress } from './redis-address.js';
import { clusterDnsLookup, SharedLookupConnector } from './redis-lookup.js';
import { flowStoreErrorOf, redisErrorKind } from './redis-refusals.js';
import { redisTimeMs } from './redis-time.js';
import { SilenceCheckedSentinelConnector } from './silent-connection.js';

/**
 * Flow store on Redis, shared by all replicas of a tenant (or of a pool: its tenants are views over
 * one connection). Every key gets a TTL and the tenant's prefix. Every command has a deadline, so
 * callers answer 503 within about a second instead of hanging: commands are never queued while
 * Redis is disconnected (no offline queue); they wait READY_WAIT_MS between connection attempts, an
 * attempt under way to its own end (it succeeds, fails, or hits its deadlines: see #ready), and
 * COMMAND_TIMEOUT_MS when Redis is connected but answers nothing (a stalled or SIGSTOPped server), a
 * deadline of the store's own that a stall of this process does not trip (answeredWithin; ioredis's
 * commandTimeout is not set). A connection silent for
 * SOCKET_TIMEOUT_MS with commands pending is dropped and made again (half-open TCP), unless it
 * answered while this process was held past it (silent-connection.ts, ADR 0259). ioredis
 * reconnects by itself and the store recovers when Redis returns.
 */
const READY_WAIT_MS = 500;
const COMMAND_TIMEOUT_MS = 500;
const SOCKET_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
/**
 * The longest one connection attempt may take under its own options: connecting (TCP and TLS)
 * within connectTimeout, then the ready check (a command) within the command deadline.
 */
function attemptDeadlineMs(redis: Redis | Cluster): number {
  return (connectionOptions(redis).connectTimeout ?? CONNECT_TIMEOUT_MS) + commandTimeoutMs(redis);
}
/** A connection's options (a cluster's: those of its node connections). */
function connectionOptions(redis: Redis | Cluster): RedisOptions {
  return redis instanceof Cluster ? (redis.options.redisOptions ?? {}) : redis.options;
}

/** Each connection's command deadline, where it is not COMMAND_TIMEOUT_MS (RedisFlowStore.connect's commandTimeout). */
const commandDeadlines = new WeakMap<Redis | Cluster, number>();

/** How long a command on this connection is waited for before it fails. */
function commandTimeoutMs(redis: Redis | Cluster): number {
  return commandDeadlines.get(redis) ?? COMMAND_TIMEOUT_MS;
}
/**
 * Connections to a Redis whose replica a failover may promote (Sentinel, each Cluster shard, a
 * standalone URL with waitForReplica), each with the connection its one-time markers go on: a marker
 * is answered only once a replica holds it too (WAIT, ADRs 0261 and 0272). Replication is
 * asynchronous, so a marker only the old master held is gone on the new one, and what it guarded can
 * be used again. WAIT blocks the connection it is sent on for as long as it waits (up to
 * REPLICA_ACK_TIMEOUT_MS while a replica lags), so markers have a connection of their own: the
 * commands of pages (a session read, every tenant's of a pool) do not queue behind them (ADR 0291).
 */
const markerConnections = new WeakMap<Redis | Cluster, Redis | Cluster>();

/**
 * `redis`, given a connection of its own for its one-time markers, which wait for a replica up to
 * `ackTimeoutMs` (REPLICA_ACK_TIMEOUT_MS when not given).
 */
function withMarkerConnection<C extends Redis | Cluster>(redis: C, ackTimeoutMs?: number): C {
  const markers = redis instanceof Cluster ? redis.duplicate() : (redis as Redis).duplicate();
  stateOf(markers);
  if (ackTimeoutMs !== undefined) replicaAckBudgets.set(markers, ackTimeoutMs);
  markerConnections.set(redis, markers);
  return redis;
}
/**
 * How long a one-time marker waits for a replica's acknowledgement: a healthy replica's takes about
 * a millisecond, and this ends well within the command deadline (WAIT holds the connection meanwhile).
 */
const REPLICA_ACK_TIMEOUT_MS = 200;

/** Each markers' connection's budget for a replica's acknowledgement, where its caller set one (RedisFlowStoreOptions). */
const replicaAckBudgets = new WeakMap<Redis | Cluster, number>();

/** How long a marker on `markers` waits for a replica's acknowledgement. */
function replicaAckTimeoutMs(markers: Redis | Cluster): number {
  return replicaAckBudgets.get(markers) ?? REPLICA_ACK_TIMEOUT_MS;
}

/**
 * How long a marker's pipeline on `markers` is waited for: the command deadline, which holds the
 * default WAIT budget, lengthened by as much as a caller's budget exceeds it (a WAIT Redis is still
 * in must not read as a Redis that does not answer).
 */
function markerDeadlineMs(markers: Redis | Cluster): number {
  return commandTimeoutMs(markers) + replicaAckTimeoutMs(markers) - REPLICA_ACK_TIMEOUT_MS;
}

/**
 * The longest budget a caller may set: a marker's deadline (markerDeadlineMs) then ends before the
 * socket timeout, which drops a connection silent with a command pending, so a WAIT Redis is still in
 * does not drop the markers' connection (on a Cluster, the whole markers' client is then not ready).
 */
const MAX_REPLICA_ACK_TIMEOUT_MS = SOCKET_TIMEOUT_MS - COMMAND_TIMEOUT_MS + REPLICA_ACK_TIMEOUT_MS;

/** What the caller of RedisFlowStore.open may set; production sets nothing. */
export interface RedisFlowStoreOptions {
  /**
   * How long a one-time marker waits for a replica's acknowledgement (default REPLICA_ACK_TIMEOUT_MS,
   * 200 ms), on a connection whose markers wait for one. Tests whose markers a healthy replica must
   * acknowledge give one no load reaches: a loaded machine that runs the replica later than 200 ms
   * would refuse their marker FLOW_STORE_NOT_REPLICATED, as it rightly would in production. At most
   * MAX_REPLICA_ACK_TIMEOUT_MS.
   */
  replicaAckTimeoutMs?: number;
}

/** A one-time marker's command: its name, its key, the rest. */
type MarkerCommand = [name: string, key: string, ...args: (string | number)[]];
/** A pipeline's answers, each an error or a result. */
type PipelineAnswers = [error: Error | null, result: unknown][];
/** A marker's answers and, on a Cluster, the node that gave them: the master the marker is on. */
interface MarkerAnswers {
  answers: PipelineAnswers;
  node?: Redis | undefined;
}

/**
 * `command` and WAIT for one replica, as one pipeline on `redis`, after `before` (ASKING), whose
 * answers are left out. A Cluster node that redirects the command (ASK, MOVED) wrote nothing, and
 * its WAIT counts nothing the marker did: the command's answer is given as soon as it comes, without
 * the WAIT's, which that node may spend its whole budget on (it has no replica, or one lagging). The
 * redirection is followed meanwhile, so a marker waits for one WAIT in all (ADR 0356).
 */
function withReplicaAck(
  redis: Redis | Cluster,
  ackTimeoutMs: number,
  command: MarkerCommand,
  ...before: string[][]
): Promise<PipelineAnswers> {
  return new Promise<PipelineAnswers>((resolve, reject) => {
    // ioredis calls a pipelined command's callback when its own answer comes.
    const redirected = (err: Error | null) => {
      if (clusterRedirection(err)) resolve([[err, null]]);
    };
    // A pipeline without MULTI answers one [error, answer] per command (ioredis types exec() as
    // possibly null for a transaction a WATCH aborted; there is none here). A command the closed
    // connection left unanswered is never settled (no resend): the command deadline answers 503.
    // Once resolved early, the WAIT's answer, when it comes, changes nothing.
    redis
      .pipeline([...before, [...command, redirected], ['wait', 1, ackTimeoutMs]])
      .exec()
      .then((answers) => resolve((answers as PipelineAnswers).slice(before.length)), reject);
  });
}

/** A pool's own connection: its tenants' views add `<tenant>:`. */
const POOL_KEY_PREFIX = 'jsm-sso:';
const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * A write refused with READONLY reached a primary that a failover made a replica, on a connection
 * the failover left open: a managed Redis moves its primary endpoint's name, and nothing tells this
 * connection. It reconnects (through the name, or the Sentinel) and finds the new primary; the
 * refused command fails with FLOW_STORE_UNAVAILABLE (503), the next one goes through. 1: reconnect
 * without resending (the command has failed already; no offline queue).
 */
const reconnectOnError = (err: Error): 1 | false => redisErrorKind(err) === 'READONLY' && 1;

/** The deadlines every connection gets: data nodes, sentinels and cluster nodes alike. */
const DEADLINES = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  socketTimeout: SOCKET_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
  reconnectOnError,
  // Every caller of this connection stops waiting within the command deadline, before the socket
  // timeout ends a silent connection: a command ioredis resent on the next one would act for a
  // caller already told it failed (a GETDEL taking the flow state the person then retries with).
  autoResendUnfulfilledCommands: false,
} satisfies RedisOptions;

/** Why a connection's last attempt failed (e.g. a certificate error), shared by every view over it. */
interface ConnectionState {
  lastError: Error | undefined;
}
const connectionStates = new WeakMap<Redis | Cluster, ConnectionState>();

function stateOf(redis: Redis | Cluster): ConnectionState {
  let state = connectionStates.get(redis);
  if (!state) {
    const created: ConnectionState = { lastError: undefined };
    // Connection errors are reported through ping()/readiness; ioredis would otherwise print them.
    redis.on('error', (err: Error) => {
      created.lastError = err;
    });
    redis.on('ready', () => {
      created.lastError = undefined;
    });
    connectionStates.set(redis, created);
    state = created;
  }
  return state;
}

/**
 * putInFirstFree as one script, so a claim is one round trip and atomic (ADR 0157): one MGET finds
 * the first absent key, one SET writes it (or the fallback). ARGV: value, ttl, 0-based fallback.
 * Returns the 0-based index written.
 */
const PUT_IN_FIRST_FREE_LUA = `
local values = redis.call('MGET', unpack(KEYS))
local index = tonumber(ARGV[3]) + 1
for i = 1, #KEYS do
  if not values[i] then
    index = i
    break
  end
end
redis.call('SET', KEYS[index], ARGV[1], 'EX', ARGV[2])
return index - 1
`;

/** deleteHolding as one script: one MGET, one DEL of the keys still holding ARGV[1] (ADR 0157). */
const DELETE_HOLDING_LUA = `
local values = redis.call('MGET', unpack(KEYS))
local holding = {}
for i = 1, #KEYS do
  if values[i] == ARGV[1] then
    holding[#holding + 1] = KEYS[i]
  end
end
if #holding > 0 then
  redis.call('DEL', unpack(holding))
end
return #holding
`;

/**
 * claim as one script. KEYS[1] the claim; KEYS[2] its witness: which server the claims were last
 * granted on (run_id, which a restart changes, and master_replid, which a promotion changes) and the
 * time from which that server holds every claim of the last `ttl` seconds. ARGV: value, ttl, the
 * witness's own ttl. A server the witness does not name (restarted from a snapshot or an append-only
 * file, a replica promoted) may have lost claims made before it took over: one that started as a
 * primary holds all of them `ttl` seconds after it started; a promoted one does not tell when it was
 * promoted, so `ttl` seconds from now. No witness: no claim for as long as a witness lives, or
 * nothing kept at all (sessions lost too), so nothing to vouch for (ADR 0187 names the limit).
 * ARGV[4] is the last moment (Redis's clock, ms) its sender still waits for the answer: a claim run
 * later (Redis stalled with it in its buffer, or a command resent on reconnect) would be held by
 * nobody and keep the form out for its whole lifetime, so it is not granted.
 * Returns 1 stored, 0 taken, 2 too late (nothing written), or -(seconds) until claims can be vouched for.
 */
const CLAIM_LUA = `
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[4]) then
  return 2
end
local server = redis.call('INFO', 'server')
local replication = redis.call('INFO', 'replication')
local id = string.match(server, 'run_id:(%w+)') .. ':' .. string.match(replication, 'master_replid:(%w+)')
local now = tonumber(clock[1])
local ttl = tonumber(ARGV[2])
local witness = redis.call('GET', KEYS[2])
local holdsAllFrom
if not witness then
  holdsAllFrom = now
elseif string.sub(witness, 1, #id + 1) == id .. ' ' then
  holdsAllFrom = tonumber(string.sub(witness, #id + 2))
elseif string.match(replication, 'second_repl_offset:(-?%d+)') == '-1' then
  holdsAllFrom = now - tonumber(string.match(server, 'uptime_in_seconds:(%d+)')) + ttl
else
  holdsAllFrom = now + ttl
end
redis.call('SET', KEYS[2], id .. ' ' .. holdsAllFrom, 'EX', ARGV[3])
if now < holdsAllFrom then
  return now - holdsAllFrom
end
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl, 'NX') then
  return 1
end
return 0
`;

/** How long a witness of claims outlives the last claim: a quiet tenant's next write is not held up. */
const CLAIM_WITNESS_SECONDS = 30 * 24 * 3600;

/** The scripts ioredis defines on a connection (EVALSHA, EVAL when the server has not cached it). */
interface FlowStoreScripts {
  jsmSsoPutInFirstFree(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>;
  jsmSsoDeleteHolding(keyCount: number, ...keysThenArgs: string[]): Promise<number>;
  jsmSsoClaim(keyCount: number, ...keysThenArgs: Array<string | number>): Promise<number>;
}

/** Defines the scripts once per connection: a pool's views share one. */
function withScripts(redis: Redis | Cluster): FlowStoreScripts {
  if (!('jsmSsoPutInFirstFree' in redis)) {
    redis.defineCommand('jsmSsoPutInFirstFree', { lua: PUT_IN_FIRST_FREE_LUA });
    redis.defineCommand('jsmSsoDeleteHolding', { lua: DELETE_HOLDING_LUA });
    redis.defineCommand('jsmSsoClaim', { lua: CLAIM_LUA });
  }
  return redis as unknown as FlowStoreScripts;
}

/**
 * Every key of a tenant starts with this, on a dedicated part's connection and in a pool's view alike;
 * a tenant with a uid has its incarnation's own (tenantKeyspace, ADRs 0371, 0379).
 */
export function tenantKeyPrefix(tenant: string, uid?: string): string {
  return `jsm-sso:${tenantKeyspace(tenant, uid)}:`;
}

export class RedisFlowStore implements FlowStore {
  readonly #redis: Redis | Cluster;
  /** Prepended to every key (ioredis's own keyPrefix is per connection; a pool shares one). */
  readonly keyPrefix: string;
  /** A view over a pool's connection does not end it on close(). */
  readonly #ownsConnection: boolean;

  constructor(redis: Redis | Cluster, keyPrefix: string, ownsConnection = true) {
    this.#redis = redis;
    // Its errors are kept for readiness from the start, not printed by ioredis.
    stateOf(redis);
    this.keyPrefix = keyPrefix;
    this.#ownsConnection = ownsConnection;
  }

  /** `options.commandTimeout` sets the store's command deadline (ioredis is not given it). */
  static connect(url: string, tenant: string, options: RedisOptions = {}): RedisFlowStore {
    const { commandTimeout, ...rest } = options;
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      ...DEADLINES,
      retryStrategy,
      lazyConnect: false,
      Connector: SharedLookupConnector,
      ...rest,
    });
    if (commandTimeout !== undefined) commandDeadlines.set(redis, commandTimeout);
    return new RedisFlowStore(redis, tenantKeyPrefix(tenant));
  }

  /**
   * Connects to a standalone, Sentinel-managed or Cluster Redis. `tls` (required when the address
   * says TLS) applies to every connection: data nodes, and sentinels too. `keyspace`: the dedicated
   * part's tenant (its id, or tenantKeyspace of its id and uid); undefined opens a pool's connection,
   * whose tenants each get a view(). `options` are for tests (production passes none): the budget of
   * a marker's wait for a replica.
   */
  static open(
    address: RedisAddress,
    keyspace: string | undefined,
    tls?: ConnectionOptions,
    { replicaAckTimeoutMs }: RedisFlowStoreOptions = {},
  ): RedisFlowStore {
    if (address.tls && !tls) throw new Error('a TLS Redis address needs TLS options');
    // WAIT takes 0 as "for ever": a marker would hold its connection while no replica answers.
    if (
      replicaAckTimeoutMs !== undefined &&
      !(
        Number.isInteger(replicaAckTimeoutMs) &&
        replicaAckTimeoutMs > 0 &&
        replicaAckTimeoutMs <= MAX_REPLICA_ACK_TIMEOUT_MS
      )
    )
      throw new Error(
        `replicaAckTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_REPLICA_ACK_TIMEOUT_MS}, not ${replicaAckTimeoutMs}`,
      );
    const prefix = keyspace === undefined ? POOL_KEY_PREFIX : tenantKeyPrefix(keyspace);
    const auth = {
      ...(address.username === undefined ? {} : { username: address.username }),
      ...(address.password === undefined ? {} : { password: address.password }),
    };
    // Every connection resolves through the process's one lookup (ADR 0212): standalone and cluster
    // nodes by their connector, a cluster's startup nodes by dnsLookup, and under TLS a Sentinel's
    // connections by their TLS options. ioredis offers no such hook for plaintext Sentinel.
    const tlsOption = address.tls && tls ? { tls: { ...tls, lookup: hostLookup } } : {};
    if (address.mode === 'cluster') {
      const options: ClusterOptions = {
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: COMMAND_TIMEOUT_MS,
        dnsLookup: clusterDnsLookup,
        redisOptions: { ...auth, ...tlsOption, ...DEADLINES, Connector: SharedLookupConnector },
      };
      // Each shard's replica may be promoted: a marker waits for one of its master's (ADR 0272).
      return new RedisFlowStore(
        withMarkerConnection(new Cluster(address.nodes, options), replicaAckTimeoutMs),
        prefix,
      );
    }
    const [first] = address.nodes;
    const where: RedisOptions =
      address.mode === 'sentinel'
        ? {
            sentinels: address.nodes,
            ...(address.name === undefined ? {} : { name: address.name }),
            ...(address.tls && tls
              ? { enableTLSForSentinelMode: true, sentinelTLS: { ...tls, lookup: hostLookup } }
              : {}),
            sentinelRetryStrategy: retryStrategy,
            // Asking a stalled sentinel for the master must not hold up a reconnect either.
            sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
            Connector: SilenceCheckedSentinelConnector,
          }
        : { host: first?.host ?? '127.0.0.1', port: first?.port ?? 6379, Connector: SharedLookupConnector };
    const redis = new Redis({
      enableOfflineQueue: false,
      ...DEADLINES,
      retryStrategy,
      ...where,
      ...auth,
      ...tlsOption,
      ...(address.db === undefined ? {} : { db: address.db }),
    });
    // A failover may promote a replica: Sentinel's, or one behind a managed endpoint (opt-in, ADR 0272).
    const replicated = address.mode === 'sentinel' || address.waitForReplica;
    return new RedisFlowStore(replicated ? withMarkerConnection(redis, replicaAckTimeoutMs) : redis, prefix);
  }

  /**
   * One tenant's store over this (a pool's) connection: `jsm-sso:<tenant>@<uid>:...` (with no uid,
   * `jsm-sso:<tenant>:...`: the keys a dedicated part of that tenant writes from a document without
   * one), and closing it leaves the connection up.
   */
  view(tenant: string, uid?: string): RedisFlowStore {
    return new RedisFlowStore(this.#redis, tenantKeyPrefix(tenant, uid), false);
  }

  /**
   * Deletes every key of the incarnation `uid` of tenant `tenant`, which is gone for good (ADR 0390):
   * the keys view(tenant, uid) writes, and no other (a uid names one incarnation for ever, so no later
   * tenant writes under them). Without `uid`, the keys of a document without one (`jsm-sso purge`, ADR
   * 0418), which no incarnation's keys start with. The number of keys deleted.
   */
  async purge(tenant: string, uid?: string): Promise<number> {
    return this.#overKeysOf(tenant, uid, unlinkKeysStartingWith);
  }

  /** The number of keys purge(tenant, uid) would delete now (`jsm-sso purge --dry-run`). */
  async countKeys(tenant: string, uid?: string): Promise<number> {
    return this.#overKeysOf(tenant, uid, countKeysStartingWith);
  }

  async #overKeysOf(
    tenant: string,
    uid: string | undefined,
    over: (redis: Redis | Cluster, prefix: string) => Promise<number>,
  ): Promise<number> {
    try {
      await this.#ready(this.#redis);
      return await over(this.#redis, tenantKeyPrefix(tenant, uid));
    } catch (err) {
      throw flowStoreErrorOf(err);
    }
  }

  /** The connection, for counters that live beside the flows (the portal's rate limits, under keyPrefix). */
  get client(): Redis | Cluster {
    return this.#redis;
  }

  /** The connection one-time markers go on: a replicated connection's own for them, else `client`. */
  get markerClient(): Redis | Cluster {
    return markerConnections.get(this.#redis) ?? this.#redis;
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    await this.#call(() => this.client.set(this.keyPrefix + key, value, 'EX', ttlSeconds));
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    return (
      (await this.#once(
        ['set', this.keyPrefix + key, value, 'EX', ttlSeconds, 'NX'],
        (answer) => answer === 'OK',
      )) === 'OK'
    );
  }

  /**
   * The witness shares the claim's hash tag (`...{group}...`), so Redis Cluster runs the script on
   * the claim's node; claims of one group share one witness.
   */
  async claim(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    const scripts = withScripts(this.client);
    // Redis's own rule: from the first `{` to the next `}`, when something is between them.
    const open = key.indexOf('{');
    const close = open < 0 ? -1 : key.indexOf('}', open + 1);
    const tag = close > open + 1 ? key.slice(open, close + 1) : '';
    // Redis's own clock bounds when the claim may still be granted: no skew with this process's.
    const answerWaitedUntilMs =
      redisTimeMs(await this.#call(() => this.client.time())) + commandTimeoutMs(this.client);
    const answer = await this.#call(() =>
      scripts.jsmSsoClaim(
        2,
        this.keyPrefix + key,
        `${this.keyPrefix}claims-server${tag}`,
        value,
        ttlSeconds,
        CLAIM_WITNESS_SECONDS,
        answerWaitedUntilMs,
      ),
    );
    if (answer < 0) throw new FlowStoreClaimsUncertainError(-answer);
    // Run after this process stopped waiting (it may not have): nothing written, as for a timeout.
    if (answer === 2)
      throw new FlowStoreUnavailableError(new Error('claim reached Redis after its deadline'));
    return answer === 1;
  }

  async putInFirstFree(
    keys: readonly string[],
    value: string,
    ttlSeconds: number,
    whenAllTaken: number,
  ): Promise<number> {
    assertFirstFreeArguments(keys, ttlSeconds, whenAllTaken);
    const scripts = withScripts(this.client);
    return await this.#call(() =>
      scripts.jsmSsoPutInFirstFree(
        keys.length,
        ...keys.map((key) => this.keyPrefix + key),
        value,
        ttlSeconds,
        whenAllTaken,
      ),
    );
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#call(() => this.client.get(this.keyPrefix + key))) ?? undefined;
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.#once(['getdel', this.keyPrefix + key], (answer) => answer !== null)) ?? undefined;
  }

  async takeLeaving(key: string, marker: string, ttlSeconds: number): Promise<string | undefined> {
    assertTtl(ttlSeconds);
    // SET ... XX GET (Redis 6.2, as GETDEL): only an existing key is replaced; its old value comes back.
    return (
      (await this.#once(
        ['set', this.keyPrefix + key, marker, 'EX', ttlSeconds, 'XX', 'GET'],
        (answer) => answer !== null,
      )) ?? undefined
    );
  }

  async delete(key: string): Promise<void> {
    await this.#call(() => this.client.del(this.keyPrefix + key));
  }

  async deleteHolding(keys: readonly string[], value: string): Promise<void> {
    const scripts = withScripts(this.client);
    await this.#call(() =>
      scripts.jsmSsoDeleteHolding(keys.length, ...keys.map((key) => this.keyPrefix + key), value),
    );
  }

  /**
   * The connection answers, and the one-time markers' own, where they have one, can take a marker
   * (ADR 0302): with only theirs down every sign-in step is refused 503 while pages go on, and
   * readiness must say so. Theirs is judged by its state while busy, by a PING while idle
   * (markers-connection-health.ts, ADR 0310). On Redis Cluster this process's connections to each
   * master the cluster hears are judged: down or dropped, not slow (cluster-readiness.ts, ADRs 0310, 0321, 0325).
   */
  async ping(): Promise<void> {
    const redis = this.client;
    const deadlineMs = commandTimeoutMs(redis);
    if (redis instanceof Cluster) {
      const markers = this.markerClient;
      await this.#call(() =>
        everyHeardShardAnswers(
          redis,
          markers instanceof Cluster && markers !== redis ? markers : undefined,
          deadlineMs,
        ),
      );
      return;
    }
    const markers = this.markerClient;
    await Promise.all([
      this.#call(() => redis.ping()),
      markers === redis
        ? undefined
        : markersConnectionAnswers(markers as Redis, deadlineMs).catch((err: unknown) => {
            throw new FlowStoreUnavailableError(err);
          }),
    ]);
  }

  get connectionAttemptMs(): number {
    return attemptDeadlineMs(this.client);
  }

  /** How long one command is waited for (others on this connection, the portal's rate limits, keep to it too). */
  get commandDeadlineMs(): number {
    return commandTimeoutMs(this.client);
  }

  async close(): Promise<void> {
    if (!this.#ownsConnection) return;
    this.client.disconnect();
    const markers = markerConnections.get(this.client);
    markers?.disconnect();
    if (markers instanceof Cluster) closeOwnConnections(markers);
  }

  /**
   * Waits for the connection before a command. An attempt under way (TCP, TLS, AUTH and the ready
   * check) is waited for until it succeeds or fails, at most its own deadlines: a slow but healthy
   * handshake (a loaded node at pod start, the new master's TLS handshake after a failover) must not
   * cost a customer's sign-in, while a refused or untrusted Redis still fails as soon as the attempt
   * does. Between attempts (Redis lost, the next try not yet started) it waits READY_WAIT_MS only.
   */
  async #ready(redis: Redis | Cluster): Promise<void> {
    // A READONLY answer ends the connection to make a new one (reconnectOnError): until its close
    // is seen the status still says ready, but the stream takes no command. The reconnect is
    // already asked for, so a command waits for it (its delay and one attempt) like one sent while
    // an attempt is under way, instead of failing at once: "the next command goes through".
    const reconnecting = redis.status === 'ready' && redis instanceof Redis && !redis.stream.writable;
    if (redis.status === 'ready' && !reconnecting) return;
    if (redis.status === 'end') throw new Error('connection closed');
    const attempting = redis.status === 'connecting' || redis.status === 'connect';
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('close', fail);
        redis.off('end', fail);
        if (err) reject(err);
        else resolve();
      };
      const fail = () => {
        const cause = stateOf(redis).lastError;
        settle(new Error(`not connected (${redis.status})`, cause ? { cause } : undefined));
      };
      const onReady = () => settle();
      const waitMs = reconnecting
        ? retryStrategy(1) + attemptDeadlineMs(redis)
        : attempting
          ? attemptDeadlineMs(redis)
          : READY_WAIT_MS;
      const timer = setTimeout(fail, waitMs);
      redis.once('ready', onReady);
      if (attempting) redis.once('close', fail).once('end', fail);
      else if (reconnecting) redis.once('end', fail);
    });
  }

  /**
   * A one-time marker's command (stored if absent, taken) followed, on a replicated connection, by
   * WAIT for one replica, both sent at once: one round trip (ADR 0261). `wrote` says whether the
   * answer means the command changed something; one that did, unacknowledged by any replica, is
   * refused (FLOW_STORE_NOT_REPLICATED), since a failover now would undo it. The two go as one
   * pipeline, which Redis Cluster sends to the node owning the command's key: a WAIT alone has no
   * key and would go to any master, counting the replicas of another shard (ADR 0272).
   */
  async #once(command: MarkerCommand, wrote: (answer: string | null) => boolean): Promise<string | null> {
    const markers = this.markerClient;
    if (markers === this.client)
      return await this.#call(() => this.client.call(...command) as Promise<string | null>);
    const {
      answers: [[failed, answer] = [], [, acknowledged] = []],
      node,
    } = await this.#call(
      async (): Promise<MarkerAnswers> => {
        if (!(markers instanceof Cluster))
          return { answers: await withReplicaAck(markers, replicaAckTimeoutMs(markers), command) };
        // Read as the pipeline is sent, which is when ioredis picks the node by the same map.
        const node = connectionFor(markers, command[1]);
        const answers = await withReplicaAck(markers, replicaAckTimeoutMs(markers), command);
        return await this.#followed(markers, { answers, node }, command);
      },
      markers,
      markerDeadlineMs(markers),
    );
    if (failed) throw flowStoreErrorOf(failed);
    const stored = answer as string | null;
    // WAIT answers how many replicas hold the write; a refused WAIT (an error) counts none.
    if (
      wrote(stored) &&
      !(typeof acknowledged === 'number' && acknowledged >= 1) &&
      !(await this.#masterWithoutReplica(markers, node))
    )
      throw new FlowStoreNotReplicatedError();
    return stored;
  }

  /**
   * A marker's pipeline a Cluster node redirected (ioredis follows a redirection for a lone command,
   * not for a pipeline whose WAIT that node answered itself), sent again, once, to the node named:
   * ASK while its slot migrates (a reshard, ADR 0291), MOVED once it has moved or after a failover.
   * The first node did not run it, so this is no second run. A node the markers' client has not met (a
   * master added for the reshard owns no slot yet) is connected to by the store (masterConnectionAt,
   * ADR 0396). Redirected again:
   * the redirection stands (503). Answers with the node that answered last.
   */
  async #followed(redis: Cluster, sent: MarkerAnswers, command: MarkerCommand): Promise<MarkerAnswers> {
    const redirection = clusterRedirection(sent.answers[0]?.[0]);
    if (!redirection) return sent;
    if (!redirection.ask) redis.refreshSlotsCache();
    const node = masterConnectionAt(redis, redirection.node);
    if (!node) return sent;
    const ackTimeoutMs = replicaAckTimeoutMs(redis);
    const asking = redirection.ask ? [['asking']] : [];
    return { answers: await withReplicaAck(node, ackTimeoutMs, command, ...asking), node };
  }

  /**
   * Whether the Cluster master `node` (on the markers' client `markers`), which holds a marker no
   * replica acknowledged, has no replica: no failover can promote one that lacks the marker, so there
   * is nothing to wait for, and a Cluster of masters alone (`--cluster-replicas 0`) is served as before
   * ADR 0272 rather than refused at every sign-in. That master decides, asked on its own connection
   * (its `CLUSTER NODES` and `ROLE`, cluster-shards.ts, ADR 0353): another node's list comes from
   * gossip and may not list a replica yet, and ioredis's slot map leaves out replicas not yet seen in
   * sync. Asked only when a WAIT found no replica: one more round trip on that path. Not on a Cluster,
   * or the node unknown: false.
   */
  async #masterWithoutReplica(markers: Redis | Cluster, node: Redis | undefined): Promise<boolean> {
    if (!node) return false;
    const answers = await this.#call(() => node.pipeline().cluster('NODES').role().exec(), markers);
    const [[nodesError, clusterNodes] = [], [roleError, role] = []] = answers ?? [];
    if (nodesError || roleError) throw flowStoreErrorOf(nodesError ?? roleError);
    return masterWithoutReplica(String(clusterNodes), role);
  }

  /** `command` on `redis` (this store's connection, or its markers'), within `deadlineMs` (its command deadline). */
  async #call<T>(
    command: () => Promise<T>,
    redis: Redis | Cluster = this.client,
    deadlineMs = commandTimeoutMs(redis),
  ): Promise<T> {
    try {
      await this.#ready(redis);
      return await answeredWithin(command(), deadlineMs);
    } catch (err) {
      throw flowStoreErrorOf(err);
    }
  }
}
