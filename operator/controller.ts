import type { Registry } from 'prom-client';
import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { cacheKey, Informer, type InformerEventType } from '../common/kube/informer.js';
import type { Logger } from '../common/log.js';
import { createSelfSignedCertificate, type KeyPairPem } from '../common/pki.js';
import type { HopSignatureAlgorithm } from '../common/saml/index.js';
import { AppliedStates, cachedOwned } from './cached-owned.js';
import { cachedTenant } from './cached-tenant.js';
import { ClaimIndex } from './claim-index.js';
import { failureReasonOf } from './errors.js';
import { EventRecorder } from './events.js';
import { projectionClaimKeys, sameHostClaims } from './host-claims.js';
import { InternedStrings } from './interned-strings.js';
import { collectionPath, KINDS, MANAGED_KINDS, type ResourceKind } from './kube/kinds.js';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.js';
import { poolCondition } from './placement.js';
import { type PoolCache, type PoolReconcilerDeps, reconcilePool } from './pool-reconciler.js';
import { WorkQueue } from './queue.js';
import { type ObjectCache, type ReconcilerDeps, reconcileTenant } from './reconciler.js';
import type { RedisPurgeTimings } from './redis-purge.js';
import type { SecretFacts } from './resources/common.js';
import { MANAGED_BY, type OperatorSettings } from './resources/common.js';
import {
  POOL_LABEL,
  TENANT_NAME_LABEL,
  TENANT_NAMESPACE_LABEL,
  TENANT_UID_LABEL,
} from './resources/projection.js';
import { SecretReader, secretMetadata } from './secret-facts.js';
import { TenantVerdicts } from './tenant-verdicts.js';

/**
 * Wires watches to the queue and the queue to reconcile workers. Tenants, pools, the objects they
 * own (labelled managed-by=jsm-sso-operator) and Secrets are cached by informers; every event
 * becomes the key of the tenant (`<namespace>/<name>`) or pool (`pool:<namespace>/<name>`)
 * concerned, never an object.
 */
export const POOL_KEY_PREFIX = 'pool:';
export interface ControllerOptions {
  client: KubeClient;
  settings: OperatorSettings;
  logger: Logger;
  registry: Registry;
  /** Watch only these namespaces; all when undefined. */
  namespaces?: string[];
  workers?: number;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  /** Name reported in Events (the pod name). */
  instance: string;
  /** What Secret values are hashed under (loadHashKey): one key for every replica (ADR 0315). */
  hashKey: Buffer;
  queue?: WorkQueue;
  generateKeyPair?: (commonName: string, algorithm: HopSignatureAlgorithm) => Promise<KeyPairPem>;
  /** How often repeated Events' series counts are written (default 30 s). */
  eventSeriesFlushMs?: number;
  /** How long a deleted tenant's cleanup may be forbidden before its finalizer is released (default 5 min). */
  cleanupForbiddenGraceMs?: number;
  /** A deleted tenant's Redis purge timings (REDIS_PURGE_TIMINGS unless told). */
  redisPurge?: RedisPurgeTimings;
}

export class Controller implements ObjectCache, PoolCache {
  readonly queue: WorkQueue;
  readonly metrics: OperatorMetrics;
  private readonly options: ControllerOptions;
  private readonly tenants: Informer<JsmSsoTenant & KubeObject>[] = [];
  private readonly pools: Informer<JsmSsoPool & KubeObject>[] = [];
  /** Tenant uid -> the projections and Ingresses placed for it in pools' namespaces. */
  private readonly placedIndex = new Map<string, Map<string, KubeObject>>();
  /** Pool `<namespace>/<name>` -> the projections and Ingresses placed in it. */
  private readonly poolIndex = new Map<string, Map<string, KubeObject>>();
  /** Pool `<namespace>/<name>` -> keys of the tenants whose spec places them there. */
  private readonly placements = new Map<string, Set<string>>();
  private readonly tenantPlacement = new Map<string, string>();
  /** The tenants whose spec names each claim key (host-claims.ts:hostClaimKeys), by tenant key. */
  private readonly hostClaims = new ClaimIndex<string>();
  /**
   * The projections that claim each key (host-claims.ts:projectionClaimKeys), by id: every projection
   * the pools serve, whatever its tenant.
   */
  private readonly projectionClaims = new ClaimIndex<KubeObject>();
  private readonly poolDeps: PoolReconcilerDeps;
  private readonly secrets: Informer[] = [];
  /** Every namespace's labels (only): a pool may take tenants by namespace selector (pool-tenancy.ts). */
  private readonly namespaces: Informer;
  private readonly secretReader: SecretReader;
  private readonly owned = new Map<string, Informer[]>();
  private readonly ownerIndex = new Map<string, Map<string, KubeObject>>();
  /** Which desired state each owned object's content holds, so an unchanged one is not read whole. */
  private readonly appliedStates = new AppliedStates();
  private readonly secretReaders = new Map<string, Set<string>>();
  private readonly tenantSecrets = new Map<string, string[]>();
  /** One copy of the strings many cached objects and index entries repeat (interned-strings.ts). */
  private readonly strings = new InternedStrings();
  private readonly deps: ReconcilerDeps;
  /** Validation verdicts per tenant generation (public for tests: they must follow the tenants). */
  readonly verdicts: TenantVerdicts;
  private readonly events: EventRecorder;
  private workers: Promise<void>[] = [];
  private started = false;
  private stopping = false;
  private inFlight = 0;
  /** Tenant key -> the generation whose ignored fields were last logged. */
  private readonly ignoredFieldsReported = new Map<string, number>();

  constructor(options: ControllerOptions) {
    this.options = options;
    this.verdicts = new TenantVerdicts(options.hashKey);
    this.queue = options.queue ?? new WorkQueue();
    this.metrics = createOperatorMetrics(options.registry, {
      queueDepth: () => this.queue.depth,
      conditions: () => this.tenants.flatMap((i) => i.list()).flatMap((t) => t.status?.conditions ?? []),
    });
    const previousOnWrite = options.client.onWrite;
    options.client.onWrite = (method, path) => {
      this.metrics.apiWrites.inc();
      previousOnWrite?.(method, path);
    };
    options.client.onThrottled = () => this.metrics.apiThrottled.inc();
    this.events = new EventRecorder({
      client: options.client,
      instance: options.instance,
      logger: options.logger,
      ...(options.eventSeriesFlushMs ? { seriesFlushMs: options.eventSeriesFlushMs } : {}),
    });
    this.deps = {
      client: options.client,
      settings: options.settings,
      cache: this,
      events: this.events,
      logger: options.logger,
      generateKeyPair:
        options.generateKeyPair ??
        ((commonName, algorithm) => createSelfSignedCertificate({ commonName, algorithm })),
      verdicts: this.verdicts,
      indexSecrets: (tenantKey, secretKeys) => this.indexSecrets(tenantKey, secretKeys),
      indexPlacement: (tenantKey, poolKey) => this.indexPlacement(tenantKey, poolKey),
      indexHostClaims: (tenantKey, claimKeys) => this.indexHostClaims(tenantKey, claimKeys),
      reportIgnoredFields: (tenantKey, generation, fields) =>
        this.reportIgnoredFields(tenantKey, generation, fields),
      ...(options.cleanupForbiddenGraceMs !== undefined
        ? { cleanupForbiddenGraceMs: options.cleanupForbiddenGraceMs }
        : {}),
      ...(options.redisPurge ? { redisPurge: options.redisPurge } : {}),
    };
    this.poolDeps = {
      client: options.client,
      settings: options.settings,
      cache: this,
      events: this.events,
      logger: options.logger,
      indexSecrets: (poolKey, secretKeys) => this.indexSecrets(poolKey, secretKeys),
    };
    this.secretReader = new SecretReader(
      options.client,
      (namespace, name) => lookup(this.secrets, namespace, name),
      options.hashKey,
    );
    const scopes: (string | undefined)[] = options.namespaces?.length ? options.namespaces : [undefined];
    const common = {
      client: options.client,
      logger: options.logger,
      resyncMs: options.resyncMs,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
    };
    // Cluster-scoped whatever the watched namespaces: a Namespace cannot be watched by a Role.
    this.namespaces = new Informer({
      ...common,
      path: collectionPath(KINDS.namespace),
      kind: KINDS.namespace,
      metadataOnly: true,
      transform: namespaceLabelsOnly,
      onEvent: (type, namespace, previous) => this.onNamespace(type, namespace, previous),
    });
    for (const ns of scopes) {
      this.tenants.push(
        new Informer<JsmSsoTenant & KubeObject>({
          ...common,
          path: collectionPath(KINDS.tenant, ns),
          kind: KINDS.tenant,
          transform: (tenant) => cachedTenant(tenant, this.strings),
          onEvent: (type, tenant, previous) => this.onTenant(type, tenant, previous),
        }),
      );
      this.pools.push(
        new Informer<JsmSsoPool & KubeObject>({
          ...common,
          path: collectionPath(KINDS.pool, ns),
          kind: KINDS.pool,
          onEvent: (type, pool, previous) => this.onPool(type, pool, previous),
        }),
      );
      this.secrets.push(
        new Informer({
          ...common,
          path: collectionPath(KINDS.secret, ns),
          kind: KINDS.secret,
          // Metadata only: the data of the few Secrets tenants reference is read on demand.
          metadataOnly: true,
          transform: (secret) => secretMetadata(secret, this.strings),
          // A resync of an unchanged Secret needs no reconcile: its readers' own resync covers it.
          onEvent: (type, secret) => {
            this.indexPlaced(type, secret);
            if (type !== 'RESYNC') this.onSecret(type, secret);
          },
        }),
      );
      for (const kind of MANAGED_KINDS) {
        const informer = new Informer<KubeObject>({
          ...common,
          path: collectionPath(kind, ns),
          kind,
          labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}`,
          // What is read of an object the operator made, and a digest of the rest (ADR 0134).
          transform: (object) => cachedOwned(object, this.strings),
          onEvent: (type, object) => this.onOwned(type, object),
        });
        this.owned.set(kind.kind, [...(this.owned.get(kind.kind) ?? []), informer]);
      }
    }
  }

  private allInformers(): Informer<KubeObject>[] {
    return [
      ...this.tenants,
      ...this.pools,
      ...this.secrets,
      this.namespaces,
      ...[...this.owned.values()].flat(),
    ] as Informer<KubeObject>[];
  }

  /** True once every cache has listed (the operator's /readyz). */
  get synced(): boolean {
    return this.allInformers().every((i) => i.hasSynced);
  }

  /** Number of reconciles running now. */
  get busy(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const informer of this.allInformers()) informer.start();
    await Promise.all(this.allInformers().map((i) => i.whenSynced()));
    this.options.logger.info({ event: 'operator.synced' }, 'caches synced; reconciling');
    const workers = this.options.workers ?? 4;
    this.workers = Array.from({ length: workers }, () => this.work());
  }

  /** Stops taking keys, lets running reconciles finish, and stops the watches. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutdown();
    await Promise.all(this.workers);
    await this.events.flush();
    await Promise.all(this.allInformers().map((i) => i.stop()));
  }

  // ObjectCache, from the informers.
  tenant(namespace: string, name: string): JsmSsoTenant | undefined {
    return lookup(this.tenants, namespace, name);
  }

  secretFacts(namespace: string, name: string): Promise<SecretFacts | undefined> {
    return this.secretReader.read(namespace, name);
  }

  rememberSecret(secret: KubeObject, writer: string): SecretFacts {
    this.rememberSecretMeta(secret);
    const facts = this.secretReader.remember(secret);
    // Its watch echo is ignored as already known, so the readers it would have requeued are requeued
    // here: another tenant naming a signing Secret just generated is judged on it now, not at its
    // resync (ADR 0332). Not the tenant whose reconcile wrote it.
    this.requeueReaders(secret, writer);
    return facts;
  }

  projectionDigest(namespace: string, name: string): Promise<string | undefined> {
    return this.secretReader.readDigest(namespace, name);
  }

  rememberProjection(secret: KubeObject): void {
    this.rememberSecretMeta(secret);
    this.secretReader.rememberDigest(secret);
    // Its watch echo is ignored as already known, so the readers it would have requeued are requeued
    // here: a tenant or pool that names this Secret is refused (ADR 0313) and its Deployments, which
    // mount the name, removed (ADR 0330) now, not at its next resync. Not the tenant it is for, whose
    // reconcile wrote it.
    const labels = secret.metadata.labels ?? {};
    const own = cacheKey(labels[TENANT_NAMESPACE_LABEL], labels[TENANT_NAME_LABEL] ?? '');
    this.requeueReaders(secret, own);
  }

  private rememberSecretMeta(secret: KubeObject): void {
    const informer = this.secrets.find((i) => i.covers(secret.metadata.namespace ?? ''));
    informer?.remember(secret);
    const cached = informer?.get(secret.metadata.namespace, secret.metadata.name ?? '');
    if (cached) this.indexPlaced('ADDED', cached);
  }

  pool(namespace: string, name: string): (JsmSsoPool & KubeObject) | undefined {
    return lookup(this.pools, namespace, name);
  }

  secretMeta(namespace: string, name: string): KubeObject | undefined {
    return lookup(this.secrets, namespace, name);
  }

  placedBy(uid: string): KubeObject[] {
    return [...(this.placedIndex.get(uid)?.values() ?? [])];
  }

  hostClaimants(key: string): readonly string[] {
    return this.hostClaims.under(key);
  }

  projectionsClaiming(key: string): readonly KubeObject[] {
    return this.projectionClaims.under(key);
  }

  placedIn(poolKey: string): KubeObject[] {
    return [...(this.poolIndex.get(poolKey)?.values() ?? [])];
  }

  tenantUid(namespace: string, name: string): string | undefined {
    return this.tenant(namespace, name)?.metadata?.uid;
  }

  watches(namespace: string): boolean {
    return this.tenants.some((i) => i.covers(namespace));
  }

  /** Secrets whose facts (never their values) are held: only those tenants reference. */
  get secretsRead(): number {
    return this.secretReader.size;
  }

  get(kind: ResourceKind, namespace: string, name: string): KubeObject | undefined {
    return lookup(this.owned.get(kind.kind) ?? [], namespace, name);
  }

  remember(kind: ResourceKind, object: KubeObject): void {
    const namespace = object.metadata.namespace ?? '';
    const informers: Informer<KubeObject>[] =
      kind === KINDS.tenant
        ? (this.tenants as unknown as Informer<KubeObject>[])
        : kind === KINDS.pool
          ? (this.pools as unknown as Informer<KubeObject>[])
          : (this.owned.get(kind.kind) ?? []);
    const informer = informers.find((i) => i.covers(namespace));
    informer?.remember(object);
    // The watch echo of this write is ignored as already known, so the owner index learns of the
    // object here; otherwise an object created by this apply could never be pruned later. It
    // indexes the cached form: the write's response is the whole object.
    if (kind === KINDS.tenant || kind === KINDS.pool) return;
    const cached = informer?.get(namespace, object.metadata.name ?? '');
    if (cached) {
      this.indexOwned('ADDED', cached);
      this.indexPlaced('ADDED', cached);
    }
  }

  ownedBy(uid: string): KubeObject[] {
    return [...(this.ownerIndex.get(uid)?.values() ?? [])];
  }

  holds(cached: KubeObject, desired: KubeObject): boolean {
    return this.appliedStates.holds(cached, desired);
  }

  recordHeld(live: KubeObject, desired: KubeObject, written = false): void {
    this.appliedStates.recordHeld(live, desired, written);
  }

  ownSpecGeneration(deployment: KubeObject): number | undefined {
    return this.appliedStates.ownSpecGeneration(deployment);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inFlight++;
      const end = this.metrics.reconcileDuration.startTimer();
      try {
        const outcome: {
          applied: string[];
          deleted: string[];
          left: string[];
          generated?: string[];
          statusWritten: boolean;
          requeueAfterMs?: number;
        } = key.startsWith(POOL_KEY_PREFIX)
          ? await this.reconcilePoolKey(key.slice(POOL_KEY_PREFIX.length))
          : await reconcileTenant(this.deps, key);
        this.queue.forget(key);
        if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ result: 'success' });
        if (outcome.left.length > 0) {
          this.options.logger.warn(
            {
              event: 'operator.write_skipped',
              tenant: key,
              reason: 'OwnershipChanged',
              objects: [...new Set(outcome.left)],
            },
            'left untouched: changed hands between the read and the write, which the API server refused',
          );
        }
        if (
          outcome.applied.length + outcome.deleted.length + (outcome.generated?.length ?? 0) > 0 ||
          outcome.statusWritten
        ) {
          this.options.logger.info({ event: 'operator.reconciled', tenant: key, ...outcome }, 'reconciled');
        }
      } catch (err) {
        const reason = failureReasonOf(err);
        this.metrics.reconcileTotal.inc({ result: 'error' });
        this.metrics.reconcileErrors.inc({ reason });
        if (!this.stopping) {
          const retryInMs = this.queue.addRateLimited(key);
          this.options.logger.warn(
            { event: 'operator.reconcile_failed', tenant: key, reason, err, retryInMs },
            'reconcile failed',
          );
        }
      } finally {
        end();
        this.inFlight--;
        this.queue.done(key);
      }
    }
  }

  private onTenant(type: InformerEventType, tenant: KubeObject, previous: KubeObject | undefined): void {
    const key = cacheKey(tenant.metadata.namespace, tenant.metadata.name ?? '');
    if (type === 'DELETED') {
      this.verdicts.forget(tenant.metadata.uid ?? '');
      this.indexSecrets(key, []);
      this.ignoredFieldsReported.delete(key);
      // Its pool removes what it may have left (a finalizer removed by hand).
      const pool = this.tenantPlacement.get(key);
      this.indexPlacement(key, undefined);
      this.indexHostClaims(key, []);
      if (pool) this.queue.add(`${POOL_KEY_PREFIX}${pool}`);
      return;
    }
    if (type === 'MODIFIED' && previous && !newsToReconcile(previous, tenant)) return;
    if (type === 'RESYNC') this.queue.addBackground(key);
    else this.queue.add(key);
  }

  /**
   * A pool's own reconcile; when what its tenants read of it changed, they are requeued (the
   * watch echo of our own write is not reported, or reported with this change: see onPool).
   */
  private async reconcilePoolKey(poolKey: string) {
    const [namespace, name] = poolKey.split('/') as [string, string];
    const before = this.pool(namespace, name);
    const outcome = await reconcilePool(this.poolDeps, poolKey);
    if (outcome.statusWritten && newsToTenants(before, this.pool(namespace, name)))
      for (const tenant of this.placements.get(poolKey) ?? []) this.queue.add(tenant);
    return outcome;
  }

  namespaceLabels(namespace: string): Record<string, string> | undefined {
    return this.namespaces.get(undefined, namespace)?.metadata.labels;
  }

  /**
   * A namespace's labels changed (or it arrived): whether a pool takes its tenants may have changed,
   * so its pooled tenants are reconciled again (taken out of a pool whose selector no longer
   * matches it, placed in one that now does).
   */
  private onNamespace(
    type: InformerEventType,
    namespace: KubeObject,
    previous: KubeObject | undefined,
  ): void {
    if (type === 'RESYNC' || type === 'DELETED') return;
    if (type === 'MODIFIED' && sameLabels(previous?.metadata.labels, namespace.metadata.labels)) return;
    const prefix = `${namespace.metadata.name}/`;
    for (const tenant of this.tenantPlacement.keys()) if (tenant.startsWith(prefix)) this.queue.add(tenant);
  }

  private onPool(
    type: InformerEventType,
    pool: JsmSsoPool & KubeObject,
    previous: (JsmSsoPool & KubeObject) | undefined,
  ): void {
    const key = cacheKey(pool.metadata.namespace, pool.metadata.name ?? '');
    if (type === 'DELETED') this.indexSecrets(`${POOL_KEY_PREFIX}${key}`, []);
    else if (type === 'RESYNC') this.queue.addBackground(`${POOL_KEY_PREFIX}${key}`);
    else this.queue.add(`${POOL_KEY_PREFIX}${key}`);
    // A resync reaches the tenants through their own; a change they read or a deletion is news.
    if (type === 'RESYNC' || (type === 'MODIFIED' && !newsToTenants(previous, pool))) return;
    for (const tenant of this.placements.get(key) ?? []) this.queue.add(tenant);
  }

  private indexPlacement(tenantKey: string, poolKey: string | undefined): void {
    const before = this.tenantPlacement.get(tenantKey);
    if (before === poolKey) return;
    if (before) {
      const tenants = this.placements.get(before);
      tenants?.delete(tenantKey);
      if (tenants?.size === 0) this.placements.delete(before);
    }
    if (poolKey) {
      this.tenantPlacement.set(tenantKey, poolKey);
      this.placements.set(poolKey, (this.placements.get(poolKey) ?? new Set()).add(tenantKey));
    } else {
      this.tenantPlacement.delete(tenantKey);
    }
  }

  /**
   * Keeps which tenants' specs name which host name of a pool (host-claims.ts:hostClaimKeys): whom a
   * change of the claims there concerns. The claims are the projections' (indexProjectionClaims); a
   * tenant naming a host name or leaving it is news to the others there only while its projection
   * predates host claims (host-claims.ts:othersClaims counts such a one at its tenant's spec host).
   */
  private indexHostClaims(tenantKey: string, claimKeys: string[]): void {
    const changed = this.hostClaims.set(tenantKey, this.interned(claimKeys), tenantKey, () => true);
    this.requeueClaimants(changed, tenantKey);
  }

  /**
   * Keeps which projection claims which host name of its pool, as the pool's pods read it
   * (ADR 0235): of every projection placed there, a former tenant's left for the pool's reconcile to
   * collect too, since the pool serves it until then. A claim made, moved or given up (the projection
   * written, rewritten at another host or port, removed) may change who is served there, or whose certificate:
   * the tenants whose spec names it are requeued to say so in their status. A few, whatever the pool's
   * size.
   */
  private indexProjectionClaims(
    id: string,
    projection: KubeObject,
    claimKeys: string[],
    tenantKey: string,
  ): void {
    const changed = this.projectionClaims.set(id, this.interned(claimKeys), projection, sameHostClaims);
    this.requeueClaimants(changed, tenantKey);
  }

  /** One copy of each claim key, which both claim indexes and every tenant and projection at a host share. */
  private interned(claimKeys: string[]): string[] {
    return claimKeys.map((key) => this.strings.of(key));
  }

  private requeueClaimants(claimKeys: string[], except: string): void {
    for (const key of claimKeys)
      for (const tenant of this.hostClaims.under(key)) if (tenant !== except) this.queue.add(tenant);
  }

  /**
   * Keeps the indexes of what tenants placed in pools' namespaces (projections, Ingresses), found
   * by their labels since no ownerReference can reach across namespaces. Returns the tenant and
   * pool concerned.
   */
  private indexPlaced(
    type: InformerEventType,
    object: KubeObject,
  ): { tenant: string; pool: string } | undefined {
    const labels = object.metadata.labels ?? {};
    const uid = labels[TENANT_UID_LABEL];
    const pool = labels[POOL_LABEL];
    if (!uid || !pool || labels['app.kubernetes.io/managed-by'] !== MANAGED_BY) return undefined;
    const id = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
    const poolKey = cacheKey(object.metadata.namespace, pool);
    const countedBefore = this.poolIndex.get(poolKey)?.has(id) ?? false;
    for (const [index, key] of [
      [this.placedIndex, uid],
      [this.poolIndex, poolKey],
    ] as const) {
      const entries = index.get(key) ?? new Map<string, KubeObject>();
      if (type === 'DELETED') entries.delete(id);
      else entries.set(id, object);
      if (entries.size === 0) index.delete(key);
      else index.set(key, entries);
    }
    // Placed or removed (by a watch event or our own write): the pool's tenant count changed.
    if (countedBefore !== (type !== 'DELETED')) this.queue.add(`${POOL_KEY_PREFIX}${poolKey}`);
    const tenant = cacheKey(labels[TENANT_NAMESPACE_LABEL], labels[TENANT_NAME_LABEL] ?? '');
    if (object.kind === KINDS.secret.kind)
      this.indexProjectionClaims(id, object, type === 'DELETED' ? [] : projectionClaimKeys(object), tenant);
    return { tenant, pool: poolKey };
  }

  /** Logs and counts ignored unknown fields once per tenant generation, not on every reconcile. */
  private reportIgnoredFields(tenantKey: string, generation: number, fields: string[]): void {
    if (this.ignoredFieldsReported.get(tenantKey) === generation) return;
    this.ignoredFieldsReported.set(tenantKey, generation);
    this.metrics.unknownFieldsIgnored.inc();
    this.options.logger.warn(
      {
        event: 'operator.unknown_fields_ignored',
        reason: 'UnknownFieldsIgnored',
        tenant: tenantKey,
        generation,
        fields,
      },
      'ignored tenant fields this operator version does not know (CRD newer than the operator)',
    );
  }

  private onOwned(type: InformerEventType, object: KubeObject): void {
    if (type === 'DELETED') this.appliedStates.forget(object);
    const owner = this.indexOwned(type, object);
    const placed = this.indexPlaced(type, object);
    // A resync of an unchanged object needs no reconcile: the owner's own resync covers it.
    if (type === 'RESYNC') return;
    if (owner) {
      const key = cacheKey(object.metadata.namespace, owner.name);
      this.queue.add(owner.kind === KINDS.pool.kind ? `${POOL_KEY_PREFIX}${key}` : key);
    }
    if (placed) this.queue.add(placed.tenant);
  }

  /** Keeps the owner (tenant or pool) -> owned objects index that pruning reads; returns the owner. */
  private indexOwned(
    type: InformerEventType,
    object: KubeObject,
  ): { uid: string; name: string; kind: string } | undefined {
    const owner = object.metadata.ownerReferences?.find(
      (r) => r.controller && (r.kind === KINDS.tenant.kind || r.kind === KINDS.pool.kind),
    );
    if (!owner) return undefined;
    const id = `${object.kind}/${object.metadata.name}`;
    const index = this.ownerIndex.get(owner.uid) ?? new Map<string, KubeObject>();
    if (type === 'DELETED') index.delete(id);
    else index.set(id, object);
    if (index.size === 0) this.ownerIndex.delete(owner.uid);
    else this.ownerIndex.set(owner.uid, index);
    return owner;
  }

  private onSecret(type: InformerEventType, secret: KubeObject): void {
    if (type === 'DELETED')
      this.secretReader.forget(cacheKey(secret.metadata.namespace, secret.metadata.name ?? ''));
    this.requeueReaders(secret);
  }

  /** Requeues every tenant and pool that names `secret` (the Secret index), but `except`. */
  private requeueReaders(secret: KubeObject, except?: string): void {
    const key = cacheKey(secret.metadata.namespace, secret.metadata.name ?? '');
    for (const reader of this.secretReaders.get(key) ?? []) if (reader !== except) this.queue.add(reader);
  }

  private indexSecrets(tenantKey: string, keys: string[]): void {
    const before = this.tenantSecrets.get(tenantKey) ?? [];
    if (before.length === keys.length && keys.every((key, i) => key === before[i])) return;
    // Tenants share their Secrets' names: one copy of each key, not one per tenant.
    const secretKeys = keys.map((key) => this.strings.of(key));
    for (const old of before) {
      const readers = this.secretReaders.get(old);
      readers?.delete(tenantKey);
      // Read by no tenant any more: its facts go, so memory follows the references.
      if (readers?.size === 0 && !secretKeys.includes(old)) {
        this.secretReaders.delete(old);
        this.secretReader.forget(old);
      }
    }
    for (const secretKey of secretKeys) {
      const readers = this.secretReaders.get(secretKey) ?? new Set<string>();
      readers.add(tenantKey);
      this.secretReaders.set(secretKey, readers);
    }
    if (secretKeys.length > 0) this.tenantSecrets.set(tenantKey, secretKeys);
    else this.tenantSecrets.delete(tenantKey);
  }
}

/**
 * Whether a pool's change concerns its tenants: its spec (their Ingresses point at its Services),
 * its identity, or its readiness (their PoolReady). Its tenantCount moves with every placement and
 * concerns none of them: requeueing the whole pool for it made placing N tenants cost N^2
 * reconciles.
 */
function newsToTenants(
  before: (JsmSsoPool & KubeObject) | undefined,
  after: (JsmSsoPool & KubeObject) | undefined,
): boolean {
  const view = (pool: (JsmSsoPool & KubeObject) | undefined) =>
    pool && JSON.stringify([pool.metadata.uid, pool.metadata.generation, poolCondition(pool)]);
  return view(before) !== view(after);
}

/**
 * Whether a tenant's change is one its reconcile acts on: its spec (the generation), its identity,
 * its finalizers or its deletion. Labels and annotations are no input of a reconcile. A change of
 * the status alone is, nearly always, the echo of the operator's own status write arriving before
 * the write's response was remembered; reconciling it again found nothing to do, and at 10,000
 * tenants doubled the reconciles of a convergence. controller-runtime's GenerationChangedPredicate
 * makes the same cut; the periodic resync still reconciles every tenant, so a status someone else
 * overwrote is put right there.
 */
function newsToReconcile(before: KubeObject, after: KubeObject): boolean {
  const view = ({ metadata }: KubeObject) =>
    JSON.stringify([metadata.uid, metadata.generation, metadata.finalizers, metadata.deletionTimestamp]);
  return view(before) !== view(after);
}

/** What is kept of a Namespace: its name and labels. */
function namespaceLabelsOnly(namespace: KubeObject): KubeObject {
  const { name, resourceVersion, labels } = namespace.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: name ?? '',
      ...(resourceVersion ? { resourceVersion } : {}),
      ...(labels ? { labels } : {}),
    },
  };
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  return JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b ?? {}).sort());
}

function lookup<T extends KubeObject>(
  informers: Informer<T>[],
  namespace: string,
  name: string,
): T | undefined {
  for (const informer of informers) {
    const found = informer.get(namespace, name);
    if (found) return found;
  }
  return undefined;
}
