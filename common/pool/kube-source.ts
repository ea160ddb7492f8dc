import {
  ADD,
  CoreV1Api,
  DELETE,
  ERROR,
  type KubeConfig,
  ListWatch,
  UPDATE,
  type V1Secret,
  Watch,
} from '@kubernetes/client-node';
import { parseTenant } from '../config/load.js';
import { ConfigError, JsmSsoError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SecretReader, TenantSource, TenantSourceListener } from './source.js';

/**
 * The pool's tenants from the operator's projection Secrets (docs/placement.md): every Secret in
 * the pool's own namespace labelled `jsm-sso.io/pool=<pool>` is one tenant, its `tenant.yaml` the
 * JsmSsoTenant document and each other key `<secretName>_<key>` one Secret key the tenant
 * references. One list-and-watch (client-node's informer) however many tenants; it never gives up:
 * a failed watch restarts after an exponential backoff, and 410 Gone relists. The informer caches
 * each projection's metadata only (`slim`): its data is decoded once, on the event that brings it,
 * into the tenant's bundle, so a pool never holds a second, base64 copy of its tenants' keys.
 */
export const POOL_LABEL = 'jsm-sso.io/pool';
export const TENANT_NAMESPACE_LABEL = 'jsm-sso.io/tenant-namespace';
export const TENANT_NAME_LABEL = 'jsm-sso.io/tenant-name';
export const TENANT_DOCUMENT_KEY = 'tenant.yaml';

export interface KubeTenantSourceOptions {
  kubeConfig: KubeConfig;
  /** The pool's namespace (the pod's own). */
  namespace: string;
  /** The JsmSsoPool's name. */
  pool: string;
  logger?: Logger;
  backoff?: { initialMs: number; maxMs: number };
}

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
export function bundleKey(secret: V1Secret): string | undefined {
  const labels = secret.metadata?.labels ?? {};
  const namespace = labels[TENANT_NAMESPACE_LABEL];
  const name = labels[TENANT_NAME_LABEL];
  return namespace && name ? `${namespace}/${name}` : undefined;
}

/**
 * What the informer caches of a projection: enough to key it, route a deletion (the tenant labels)
 * and tell a changed Secret from a known one on a relist (resourceVersion).
 */
function slim(secret: V1Secret): V1Secret {
  const { name, namespace, resourceVersion, labels = {} } = secret.metadata ?? {};
  const routing: Record<string, string> = {};
  for (const label of [TENANT_NAMESPACE_LABEL, TENANT_NAME_LABEL])
    if (labels[label] !== undefined) routing[label] = labels[label];
  return { metadata: { name, namespace, resourceVersion, labels: routing } };
}

/**
 * The data of the Secrets that reached the informer slimmed, until their event delivers them. Keyed
 * weakly by the slim object: one a relist finds unchanged is never delivered, nor cached, and its
 * data goes with it.
 */
type PendingData = WeakMap<V1Secret, Record<string, string>>;

/** Slims what the list and the watch hand the informer, keeping the data aside in `pending`. */
class SlimWatch extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly pending: PendingData,
  ) {
    super(kubeConfig);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: V1Secret, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, object, watchObj) =>
        // ERROR carries a Status (its code says 410), BOOKMARK only a resourceVersion.
        callback(phase, phase === 'ERROR' ? object : withAside(object, this.pending), watchObj),
      done,
    );
  }
}

function withAside(secret: V1Secret, pending: PendingData): V1Secret {
  const kept = slim(secret);
  if (secret.data) pending.set(kept, secret.data);
  return kept;
}

/** Delivers one projection: a bundle, or why it cannot be used. */
export function deliver(secret: V1Secret, listener: TenantSourceListener): void {
  const key = bundleKey(secret) ?? `${secret.metadata?.namespace}/${secret.metadata?.name}`;
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
    listener.upsert({ key, tenant, secrets: new ProjectedSecrets(values) });
  } catch (error) {
    if (!(error instanceof JsmSsoError)) throw error;
    listener.invalid(key, error);
  }
}

export class KubeTenantSource implements TenantSource {
  private readonly options: KubeTenantSourceOptions;
  private informer: ListWatch<V1Secret> | undefined;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: KubeTenantSourceOptions) {
    this.options = options;
  }

  /** Resolves once the first list has been delivered, however many failed attempts it takes. */
  async start(listener: TenantSourceListener): Promise<void> {
    const { kubeConfig, namespace, pool } = this.options;
    const api = kubeConfig.makeApiClient(CoreV1Api);
    const labelSelector = `${POOL_LABEL}=${pool}`;
    // client-node's informer (what makeInformer builds), kept as a ListWatch for its resourceVersion.
    const pending: PendingData = new WeakMap();
    const informer = new ListWatch<V1Secret>(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
      new SlimWatch(kubeConfig, pending),
      async () => {
        const list = await api.listNamespacedSecret({ namespace, labelSelector });
        return { ...list, items: list.items.map((secret) => withAside(secret, pending)) };
      },
      false,
      labelSelector,
    );
    this.informer = informer;
    const deliverPending = (secret: V1Secret) => {
      const data = pending.get(secret);
      pending.delete(secret);
      deliver({ ...secret, data }, listener);
    };
    informer.on(ADD, deliverPending);
    informer.on(UPDATE, deliverPending);
    informer.on(DELETE, (secret) => {
      const key = bundleKey(secret);
      if (key) listener.remove(key);
    });
    const listed = new Promise<void>((resolve) => {
      this.listed = resolve;
    });
    informer.on(ERROR, (error) => this.restartLater(error));
    await this.attempt();
    return listed;
  }

  private listed: () => void = () => {};

  /** The projections as the informer caches them (metadata only), for the tests that hold it to that. */
  cached(): readonly V1Secret[] {
    return this.informer?.list() ?? [];
  }

  /**
   * One start of the informer. client-node reports a failed list as an ERROR event (which
   * schedules the next attempt) and resolves anyway; a resourceVersion says the list arrived, and
   * its ADD events were delivered before.
   */
  private async attempt(): Promise<void> {
    const informer = this.informer!;
    await informer.start();
    if (informer.latestResourceVersion()) {
      this.failures = 0;
      this.listed();
    }
  }

  private restartLater(error: unknown): void {
    if (this.closed || !this.informer) return;
    this.failures++;
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** (this.failures - 1)) * (0.8 + Math.random() * 0.4);
    this.options.logger?.warn(
      {
        event: 'pool.tenant_watch_failed',
        reason: 'POOL_TENANT_WATCH_FAILED',
        namespace: this.options.namespace,
        pool: this.options.pool,
        err: error,
        retryInMs: Math.round(delay),
      },
      'watching the pool tenants failed; retrying',
    );
    this.retry = setTimeout(() => {
      if (!this.closed) this.attempt().catch((err: unknown) => this.restartLater(err));
    }, delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.informer?.stop();
  }
}
