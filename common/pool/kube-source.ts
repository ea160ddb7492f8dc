import { parseTenant } from '../config/load.js';
import { ConfigError, JsmSsoError } from '../errors.js';
import type { ClusterAccess } from '../kube/access.js';
import { KubeClient, type KubeObject } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../log.js';
import { HOST_CLAIMS_ANNOTATION, projectionClaimTimes } from './claims.js';
import type { GoneIncarnation, SecretReader, TenantSource, TenantSourceListener } from './source.js';

/**
 * The pool's tenants from the operator's projection Secrets (docs/placement.md): every Secret in
 * the pool's own namespace labelled `jsm-sso.io/pool=<pool>` is one tenant, its `tenant.yaml` the
 * JsmSsoTenant document and each other key `<secretName>_<key>` one Secret key the tenant
 * references. One list-and-watch (the operator's own informer, common/kube/: no client-node, ADR
 * 0136) however many tenants; it never gives up: a failed list or watch restarts after an
 * exponential backoff, and 410 Gone relists, delivering what changed meanwhile. The informer caches
 * each projection's metadata only (`slim`): its data is decoded once, on the event that brings it,
 * into the tenant's bundle, so a pool never holds a second, base64 copy of its tenants' keys.
 */
export const POOL_LABEL = 'jsm-sso.io/pool';
export const TENANT_NAMESPACE_LABEL = 'jsm-sso.io/tenant-namespace';
export const TENANT_NAME_LABEL = 'jsm-sso.io/tenant-name';
/** The tenant's metadata.uid: which incarnation of `<namespace>/<name>` the projection is (ADR 0371). */
export const TENANT_UID_LABEL = 'jsm-sso.io/tenant-uid';
export const TENANT_DOCUMENT_KEY = 'tenant.yaml';
/**
 * Set by the operator on a projection it is about to delete because its tenant is gone (deleted, or
 * replaced by another of its name), not because it moved: the pool then purges its keys (ADR 0390).
 */
export const TENANT_DELETED_ANNOTATION = 'jsm-sso.io/tenant-deleted';
/** The value the operator marks a deleted tenant's projection with; no other value marks it. */
export const TENANT_DELETED_MARK = 'true';

export interface KubeTenantSourceOptions {
  /** The API server and credentials (common/kube/access.ts: the pod's service account, a kubeconfig). */
  access: ClusterAccess;
  /** The pool's namespace (the pod's own). */
  namespace: string;
  /** The JsmSsoPool's name. */
  pool: string;
  logger: Logger;
  backoff?: { initialMs: number; maxMs: number };
  /** Server-side watch timeout (default 300 s): the watch is reopened from its resourceVersion. */
  watchTimeoutSeconds?: number;
}

/** A projection Secret as listed or watched: its data base64, as the API serves it. */
type Projection = KubeObject & { data?: Record<string, string> };

/** Names the pool in the API server's audit log, apart from the operator. */
const USER_AGENT = 'jsm-sso-pool';

/** A tenant's Secret keys, held in memory as the projection delivered them. */
export class ProjectedSecrets implements SecretReader {
  private readonly values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.values = values;
  }

  read(secretName: string, key: string): string {
    const value = this.readOptional(secretName, key);
    if (value === undefined) {
      throw new JsmSsoError(
        'SECRET_MISSING',
        `the tenant's projection holds no key ${key} of Secret ${secretName}`,
        { status: 500, where: { secretName, secretKeyName: key } },
      );
    }
    return value;
  }

  readOptional(secretName: string, key: string): string | undefined {
    // A Secret name never holds `_`, so `<secretName>_<key>` cannot be forged from another pair.
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(secretName) || !/^[-._a-zA-Z0-9]+$/.test(key)) {
      throw new JsmSsoError('SECRET_REF_INVALID', `invalid secret reference ${secretName}/${key}`);
    }
    return this.values.get(`${secretName}_${key}`);
  }
}

/** The bundle key of a projection: `<tenantNamespace>/<tenantName>` from its labels. */
export function bundleKey(secret: KubeObject): string | undefined {
  const labels = secret.metadata.labels ?? {};
  const namespace = labels[TENANT_NAMESPACE_LABEL];
  const name = labels[TENANT_NAME_LABEL];
  return namespace && name ? `${namespace}/${name}` : undefined;
}

/**
 * What the informer caches of a projection: enough to key it, route a deletion (the tenant labels),
 * give its tenant's incarnation its own store keys (the uid label), purge them once it is deleted
 * (the deletion mark),
 * tell a changed Secret from a known one on a relist (resourceVersion) and rank its claims on its
 * name and hosts (creationTimestamp, the host claims annotation).
 */
function slim(secret: KubeObject): KubeObject {
  const {
    name,
    namespace,
    resourceVersion,
    creationTimestamp,
    labels = {},
    annotations = {},
  } = secret.metadata;
  const routing: Record<string, string> = {};
  for (const label of [TENANT_NAMESPACE_LABEL, TENANT_NAME_LABEL, TENANT_UID_LABEL])
    if (labels[label] !== undefined) routing[label] = labels[label];
  const hostClaims = annotations[HOST_CLAIMS_ANNOTATION];
  const deleted = annotations[TENANT_DELETED_ANNOTATION];
  const kept = {
    ...(hostClaims === undefined ? {} : { [HOST_CLAIMS_ANNOTATION]: hostClaims }),
    ...(deleted === undefined ? {} : { [TENANT_DELETED_ANNOTATION]: deleted }),
  };
  return {
    metadata: {
      name,
      namespace,
      resourceVersion,
      creationTimestamp,
      labels: routing,
      ...(Object.keys(kept).length === 0 ? {} : { annotations: kept }),
    },
  };
}

/** Delivers one projection: a bundle, or why it cannot be used. */
function deliver(secret: Projection, listener: TenantSourceListener): void {
  const key = bundleKey(secret) ?? `${secret.metadata.namespace}/${secret.metadata.name}`;
  const values = new Map<string, string>();
  for (const [name, base64] of Object.entries(secret.data ?? {}))
    values.set(name, Buffer.from(base64, 'base64').toString('utf8'));
  const document = values.get(TENANT_DOCUMENT_KEY);
  values.delete(TENANT_DOCUMENT_KEY);
  try {
    if (!bundleKey(secret))
      throw new ConfigError([
        { path: 'metadata.labels', message: `needs ${TENANT_NAMESPACE_LABEL} and ${TENANT_NAME_LABEL}` },
      ]);
    if (document === undefined)
      throw new ConfigError([
        { path: TENANT_DOCUMENT_KEY, message: 'the projection has no tenant document' },
      ]);
    const tenant = parseTenant(document);
    // The labels route the bundle; a document naming another tenant would borrow its identity.
    const named = `${tenant.metadata?.namespace}/${tenant.metadata?.name}`;
    if (named !== key)
      throw new ConfigError([
        { path: 'metadata', message: `the tenant document names ${named}, the projection's labels ${key}` },
      ]);
    // Which incarnation of the tenant this is: its keys in the pool's store are its own (ADR 0371).
    const uid = secret.metadata.labels?.[TENANT_UID_LABEL];
    // When the projection was made and when it first named each host: the tenant's claims, the
    // same on every replica.
    listener.upsert({
      key,
      tenant,
      secrets: new ProjectedSecrets(values),
      ...projectionClaimTimes(secret.metadata),
      ...(uid ? { uid } : {}),
    });
  } catch (error) {
    if (!(error instanceof JsmSsoError)) throw error;
    listener.invalid(key, error, bundleKey(secret));
  }
}

/**
 * The incarnation a deleted projection names, when the operator marked it as its tenant's deletion
 * (ADR 0390). Seen on the DELETED event itself, which carries the object's last state; a deletion a
 * relist finds reports the cached state, which holds the mark if its change was seen.
 */
function goneIncarnation(secret: KubeObject): GoneIncarnation | undefined {
  const uid = secret.metadata.labels?.[TENANT_UID_LABEL];
  // The operator's "true" only: a value someone else wrote (a hand edit, "false" to undo it) must not
  // make every replica delete a live tenant's data.
  const marked = secret.metadata.annotations?.[TENANT_DELETED_ANNOTATION] === TENANT_DELETED_MARK;
  return marked && uid ? { uid } : undefined;
}

export class KubeTenantSource implements TenantSource {
  private readonly options: KubeTenantSourceOptions;
  private informer: Informer | undefined;
  private client: KubeClient | undefined;

  constructor(options: KubeTenantSourceOptions) {
    this.options = options;
  }

  /** Resolves once the first list has been delivered, however many failed attempts it takes. */
  async start(listener: TenantSourceListener): Promise<void> {
    const { access, namespace, pool, logger, backoff, watchTimeoutSeconds } = this.options;
    const client = new KubeClient(access, { userAgent: USER_AGENT });
    this.client = client;
    // The data of the projections the informer slimmed, until their event delivers them. Keyed
    // weakly by the slim object: one a relist finds unchanged is never delivered, and its data goes.
    const pending = new WeakMap<KubeObject, Record<string, string>>();
    const where = { namespace, pool };
    this.informer = new Informer({
      client,
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
      labelSelector: `${POOL_LABEL}=${pool}`,
      transform: (secret) => {
        const kept = slim(secret);
        const { data } = secret as Projection;
        if (data) pending.set(kept, data);
        return kept;
      },
      onEvent: (type, secret) => {
        if (type === 'ADDED' || type === 'MODIFIED') {
          const data = pending.get(secret);
          pending.delete(secret);
          deliver({ ...secret, ...(data ? { data } : {}) }, listener);
        } else if (type === 'DELETED') {
          const key = bundleKey(secret);
          if (key) listener.remove(key, goneIncarnation(secret));
        }
      },
      logger,
      logAs: {
        failed: { event: 'pool.tenant_watch_failed', reason: 'POOL_TENANT_WATCH_FAILED', ...where },
        expired: { event: 'pool.tenant_watch_expired', reason: 'POOL_TENANT_WATCH_EXPIRED', ...where },
      },
      // The watch loses no event; only a 410 Gone (or a failure past the resourceVersion) relists,
      // never every Secret's data on a timer.
      resyncMs: Number.POSITIVE_INFINITY,
      ...(backoff ? { backoff } : {}),
      ...(watchTimeoutSeconds ? { watchTimeoutSeconds } : {}),
    });
    this.informer.start();
    await this.informer.whenSynced();
  }

  /** The projections as the informer caches them (metadata only), for the tests that hold it to that. */
  cached(): readonly KubeObject[] {
    return this.informer?.list() ?? [];
  }

  async close(): Promise<void> {
    // The client's connections go with the informer's stop, not after it: stop aborts the watch and
    // the wait between attempts but not a list under way (a relist after 410 Gone), which an API
    // server that stopped answering held until its request timeout (70 s), past the pod's grace.
    const stopped = this.informer?.stop();
    this.client?.close();
    await stopped;
  }
}
