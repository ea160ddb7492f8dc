import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import type { Registry } from 'prom-client';
import {
  type OptionSpec,
  optionalCount,
  optionalPort,
  optionalSeconds,
  optionalWholeNumber,
  type ParsedOptions,
  parseCommand,
  requireString,
  UsageError,
} from './args.js';
import { type JsmSsoTenant, loadTenantFile, tenantId } from './config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from './config/secrets.js';
import { JsmSsoError } from './errors.js';
import { type FlowStore, MemoryFlowStore } from './flowstore/index.js';
import { createFlowStore, createPoolFlowStore } from './flowstore/open.js';
import { HealthMonitor } from './http/health.js';
import { startManagementServer } from './http/management.js';
import { exitOnSignals, KEEP_ALIVE_SECONDS, type ServerTls, startServer } from './http/server.js';
import { DEFAULT_DRAIN_SECONDS, IN_FLIGHT_GRACE_SECONDS } from './http/shutdown.js';
import { createLogger, type Logger } from './log.js';
import { registerMemoryStoreEvictions } from './memory-store-evictions.js';
import { createMetricsRegistry } from './metrics.js';
import { type BuiltPartLimits, DEFAULT_BUILT_PART_LIMITS } from './pool/built-parts.js';
import { DirectoryTenantSource } from './pool/directory-source.js';
import { registerPoolMemoryStoreMetrics } from './pool/memory-store-metrics.js';
import { POOL_REDIS_OPTIONS, poolRedisFrom } from './pool/redis-flags.js';
import {
  POOL_SESSIONS_PER_TENANT,
  POOL_SIGN_IN_STARTS_PER_TENANT,
  type PoolSignInShares,
} from './pool/sign-in-starts.js';
import type { SecretReader, TenantSource } from './pool/source.js';
import { startPool } from './pool/start.js';
import { tenantCertificates } from './pool/tenant-tls.js';
import {
  registerUploadSpoolMetrics,
  type TenantSpoolShare,
  UploadSpoolBudget,
} from './pool/upload-spool-budget.js';
import {
  readSigningCertificateExpiry,
  registerSigningCertificateExpiry,
} from './signing-certificate-metrics.js';
import {
  AddressGate,
  chooseServerTls,
  type FileServerTls,
  type OutboundRules,
  watchServerTls,
} from './tls/index.js';
import {
  mibToBytes,
  POOL_UPLOAD_SPOOL_DEFAULT_MIB,
  POOL_UPLOAD_SPOOL_MAX_MIB,
  POOL_UPLOAD_SPOOL_MIN_MIB,
} from './upload-spool-size.js';

/**
 * What the broker and the portal share when run as a process: the tenant loaded and validated at
 * the edge, secrets, logger, metrics, the flow store, a public and a management server, and a
 * graceful stop on SIGTERM.
 */
export interface PartContext {
  tenant: JsmSsoTenant;
  tenantId: string;
  secrets: SecretReader;
  logger: Logger;
  registry: Registry;
  store: FlowStore;
  /** Reverse proxies in front of the part whose X-Forwarded-For is believed (0: none). */
  trustedProxyHops?: number;
  /**
   * What outbound calls may reach: https:// only, not even plain http:// to loopback
   * (--outbound-https-only: the operator's pods, where loopback is the pod's own ports and sidecars,
   * ADR 0217); publicly reachable addresses only, but the allowed networks (--outbound-public-only,
   * --outbound-allowed-networks: a pool's pods, ADR 0219).
   */
  outbound?: OutboundRules;
  /** Served by a pool process: most metric series are the pool's, not the tenant's (common/metrics.ts). */
  pooled?: boolean;
  /** A pool's portal: this tenant's share of the bytes of uploads all its tenants may spool at once (ADR 0165, 0211). */
  uploadSpoolShare?: TenantSpoolShare;
  /**
   * A pool's portal: each tenant's shares of the pool's store, sign-ins started per flow lifetime and
   * sessions held (--sign-in-starts-per-tenant, --sessions-per-tenant; ADRs 0215, 0220).
   */
  signInShares?: PoolSignInShares;
}

export type PartName = 'broker' | 'portal';
export type BuildPart = (context: PartContext) => Promise<PartInstance>;

export interface PartInstance {
  handler: RequestListener;
  /** Extra readiness checks beyond the flow store. */
  ready?: () => Promise<void>;
  close?: () => Promise<void>;
}

export const PART_OPTIONS: Record<string, OptionSpec> = {
  config: {
    type: 'string',
    value: 'FILE',
    description:
      'JsmSsoTenant YAML (the document you would kubectl apply). Exactly one of --config, --pool-dir, --pool.',
  },
  'secrets-dir': {
    type: 'string',
    value: 'DIR',
    description: `With --config: secrets as DIR/<secretName>/<key> (default ${POD_SECRETS_DIR}).`,
  },
  'pool-dir': {
    type: 'string',
    value: 'DIR',
    description:
      'Serve every tenant in DIR as a pool, routed by Host: DIR/<bundle>/tenant.yaml and DIR/<bundle>/secrets/<secretName>/<key>, watched (tenants added, changed or removed take effect without restart).',
  },
  pool: {
    type: 'string',
    value: 'NAME',
    description:
      'Serve the tenants the operator placed in JsmSsoPool NAME (its projection Secrets, watched), routed by Host.',
  },
  'pool-namespace': {
    type: 'string',
    value: 'NS',
    description: "With --pool: the pool's namespace (default: the pod's own).",
  },
  ...POOL_REDIS_OPTIONS,
  'tenant-idle-seconds': {
    type: 'string',
    value: 'S',
    description: `Pool only: a tenant's built part unused this long is released and built again on its next request; flows in progress live in the flow store and survive (default ${DEFAULT_BUILT_PART_LIMITS.idleMs / 1000}).`,
  },
  'max-built-tenants': {
    type: 'string',
    value: 'N',
    description: `Pool only: at most N tenants' parts are kept built; beyond, the least recently used without a request in flight is released (default ${DEFAULT_BUILT_PART_LIMITS.max}).`,
  },
  'upload-spool-mib': {
    type: 'string',
    value: 'MIB',
    description: `Portal pool only: the most MiB of uploads all the tenants together may have spooled to the temporary folder at once; a form that does not fit is refused with 503 and Retry-After (PORTAL_POOL_UPLOADS_BUSY), after each tenant's own spec.portal.limits and its share, a quarter (PORTAL_POOL_SHARE_UPLOADS_BUSY) (default ${POOL_UPLOAD_SPOOL_DEFAULT_MIB}, at least ${POOL_UPLOAD_SPOOL_MIN_MIB}: one form at the largest limits).`,
  },
  'sign-in-starts-per-tenant': {
    type: 'string',
    value: 'N',
    description: `Portal pool only: the sign-ins each tenant may start within one flow lifetime, counted over the pool's replicas in its Redis; past it the tenant's /login answers 503 and Retry-After (FLOW_STORE_TENANT_FULL), the others' do not (default ${POOL_SIGN_IN_STARTS_PER_TENANT.default}, ${POOL_SIGN_IN_STARTS_PER_TENANT.min} to ${POOL_SIGN_IN_STARTS_PER_TENANT.max}).`,
  },
  'sessions-per-tenant': {
    type: 'string',
    value: 'N',
    description: `Portal pool on Redis only: the sessions each tenant may hold at once in the pool's Redis, each counted until its absolute end; while a tenant holds them, its /login answers 503 and Retry-After (FLOW_STORE_TENANT_FULL) and its signed-in customers go on (default ${POOL_SESSIONS_PER_TENANT.default}, ${POOL_SESSIONS_PER_TENANT.min} to ${POOL_SESSIONS_PER_TENANT.max}).`,
  },
  port: { type: 'string', value: 'N', description: 'Public port (default 8080; 0 picks a free one).' },
  host: { type: 'string', value: 'ADDR', description: 'Address to listen on (default 0.0.0.0).' },
  'trusted-proxy-hops': {
    type: 'string',
    value: 'N',
    description: 'Reverse proxies (e.g. an Ingress) whose X-Forwarded-For gives the client IP (default 0).',
  },
  'keep-alive-seconds': {
    type: 'string',
    value: 'S',
    description: `How long an idle keep-alive connection to the public port is kept open: longer than the idle timeout of the load balancer in front, so it closes them, never the part (default ${KEEP_ALIVE_SECONDS.default}; ${KEEP_ALIVE_SECONDS.min} to ${KEEP_ALIVE_SECONDS.max}).`,
  },
  'drain-seconds': {
    type: 'string',
    value: 'S',
    description:
      'On SIGTERM, /readyz answers 503 at once and the public port keeps serving this long (telling clients to close their connections) before it stops accepting, so load balancers can forget the pod first. Default: $JSM_SSO_DRAIN_SECONDS, else 5.',
  },
  'management-port': {
    type: 'string',
    value: 'N',
    description: 'Port for /metrics, /healthz, /readyz (default 9090).',
  },
  'tls-cert': {
    type: 'string',
    value: 'FILE',
    description:
      "PEM certificate chain: serve HTTPS (reloaded on change). Default: the tenant's spec.<part>.tlsSecretRef, if set.",
  },
  'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key for --tls-cert.' },
  'outbound-https-only': {
    type: 'boolean',
    description:
      "Call IdPs, Atlassian and the other part over https:// only: refuse the plain http:// to loopback (localhost, 127.0.0.0/8, ::1) that local runs use, where in a pod a tenant's URL would reach the pod's own ports and its sidecars (TLS_PLAINTEXT_FORBIDDEN). The operator's Deployments set it.",
  },
  'outbound-public-only': {
    type: 'boolean',
    description:
      "Connect out only to publicly reachable addresses: refuse a tenant's URL whose host is, or resolves to, a private, loopback, link-local, carrier-grade NAT or other special-purpose address (a cluster's pods and Services, the cloud metadata address), checked at each connection (OUTBOUND_ADDRESS_FORBIDDEN). The operator sets it for a pool's pods.",
  },
  'outbound-allowed-networks': {
    type: 'string',
    value: 'CIDR,...',
    description:
      "With --outbound-public-only: networks that may be called all the same (comma-separated, e.g. 10.20.0.0/16,fd00:1::/64), where an IdP or Atlassian proxy is reached at a private address. A pool's spec.egress.allowedNetworks.",
  },
  'tenant-tls': {
    type: 'boolean',
    description:
      "Pool only: serve HTTPS with each tenant's own certificate (spec.<part>.tlsSecretRef), chosen by the TLS server name (SNI) and reloaded when the tenant changes; --tls-cert/--tls-key then serve the other names, and without them such handshakes fail.",
  },
  'management-tls-cert': {
    type: 'string',
    value: 'FILE',
    description: 'PEM certificate chain: serve the management port over HTTPS (reloaded on change).',
  },
  'management-tls-key': {
    type: 'string',
    value: 'FILE',
    description: 'PEM private key for --management-tls-cert.',
  },
};

/** TLS for one server from its two flags, else (public port only) from the tenant's Secret. */
function serverTlsFor(
  values: ParsedOptions,
  prefix: '' | 'management-',
  fallback?: { secretRef: { name: string } | undefined; secrets: SecretDirectory },
): FileServerTls | undefined {
  const flag = (name: string) => {
    const value = values[`${prefix}${name}`];
    return typeof value === 'string' ? value : undefined;
  };
  try {
    return chooseServerTls({
      certFile: flag('tls-cert'),
      keyFile: flag('tls-key'),
      ...(fallback ?? {}),
      flags: { cert: `--${prefix}tls-cert`, key: `--${prefix}tls-key` },
    });
  } catch (err) {
    if (err instanceof JsmSsoError && err.code === 'TLS_FILES_INCOMPLETE') throw new UsageError(err.message);
    throw err;
  }
}

/**
 * What the process serves on its public port, whether one tenant or a pool: the handler, the
 * readiness check besides the flow store, and what to close after the servers have stopped.
 */
interface Served {
  logger: Logger;
  handler: RequestListener;
  store: FlowStore;
  ready: () => Promise<void>;
  close: () => Promise<void>;
  /** The public port's certificate files (watched for rotation). */
  tls: FileServerTls | undefined;
  /** A pool's tenants' own certificates, by TLS server name (--tenant-tls). */
  sni?: ServerTls['sni'];
}

/** Everything a part's process is given besides its tenants, checked before anything is built. */
interface ProcessSettings {
  port: number;
  managementPort: number;
  host: string;
  trustedProxyHops: number;
  outbound: OutboundRules;
  drainSeconds: number;
  keepAliveSeconds: number;
  managementTls: FileServerTls | undefined;
}

function processSettings(values: ParsedOptions): ProcessSettings {
  return {
    port: optionalPort(values, 'port', 8080),
    managementPort: optionalPort(values, 'management-port', 9090),
    trustedProxyHops: optionalCount(values, 'trusted-proxy-hops'),
    outbound: outboundRules(values),
    host: typeof values['host'] === 'string' ? values['host'] : '0.0.0.0',
    drainSeconds: optionalSeconds(
      { 'drain-seconds': values['drain-seconds'] ?? process.env['JSM_SSO_DRAIN_SECONDS'] },
      'drain-seconds',
      DEFAULT_DRAIN_SECONDS,
    ),
    keepAliveSeconds: optionalWholeNumber(
      values,
      'keep-alive-seconds',
      KEEP_ALIVE_SECONDS.default,
      KEEP_ALIVE_SECONDS,
    ),
    managementTls: serverTlsFor(values, 'management-'),
  };
}

/** --outbound-https-only, --outbound-public-only and its allowed networks (ADRs 0217, 0219). */
function outboundRules(values: ParsedOptions): OutboundRules {
  const networks = values['outbound-allowed-networks'];
  const publicOnly = values['outbound-public-only'] === true;
  if (networks !== undefined && !publicOnly)
    throw new UsageError('--outbound-allowed-networks goes with --outbound-public-only');
  const httpsOnly = values['outbound-https-only'] === true;
  if (!publicOnly) return { httpsOnly };
  try {
    const allowed = typeof networks === 'string' ? networks.split(',').filter((n) => n.trim()) : [];
    return { httpsOnly, addresses: new AddressGate(allowed) };
  } catch (err) {
    if (err instanceof JsmSsoError) throw new UsageError(`--outbound-allowed-networks: ${err.message}`);
    throw err;
  }
}

const PLACEMENT_FLAGS = ['config', 'pool-dir', 'pool'] as const;
type Placement = (typeof PLACEMENT_FLAGS)[number];
/** The flags each placement refuses: they belong to another (a mix-up is refused, never ignored). */
const NOT_WITH: Record<Placement, readonly string[]> = {
  config: [
    'redis-url-file',
    'redis-ca-file',
    'redis-client-cert-file',
    'redis-client-key-file',
    'pool-namespace',
    'tenant-tls',
    'tenant-idle-seconds',
    'max-built-tenants',
    'upload-spool-mib',
    'sign-in-starts-per-tenant',
    'sessions-per-tenant',
  ],
  'pool-dir': ['secrets-dir', 'pool-namespace'],
  pool: ['secrets-dir'],
};

/** Exactly one of --config, --pool-dir and --pool. */
function placementOf(values: ParsedOptions): Placement {
  const given = PLACEMENT_FLAGS.filter((flag) => values[flag] !== undefined);
  if (given.length !== 1)
    throw new UsageError(`exactly one of ${PLACEMENT_FLAGS.map((f) => `--${f}`).join(', ')} is required`);
  const placement = given[0]!;
  const misplaced = NOT_WITH[placement].filter((flag) => values[flag] !== undefined);
  if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} does not go with --${placement}`);
  requireString(values, placement);
  return placement;
}

/** Parses the part's flags, loads its tenant (or its pool of tenants), serves until SIGTERM. */
export async function runPart(
  name: PartName,
  summary: string,
  argv: string[],
  build: BuildPart,
): Promise<void> {
  const values = parseCommand({ name, summary, options: PART_OPTIONS }, argv);
  if (!values) return;
  const placement = placementOf(values);
  // Every flag is checked before anything is built, so a typo is a usage error (exit 2).
  const settings = processSettings(values);
  const registry = createMetricsRegistry();
  if (placement === 'config') {
    // A dedicated part is built from its files alone, so a bad tenant file or a missing key stops
    // it before any port opens; only then does it answer probes.
    const served = await serveOneTenant(name, values, build, registry, settings);
    await serveUntilStopped(name, served, settings, await startPartManagement(name, registry, settings));
    return;
  }
  // A pool may wait for its API server's first list of tenants as long as that server is silent:
  // alive on the management port meanwhile (ADR 0200).
  // Its own flags first, as every flag is checked before anything starts: a usage error (exit 2)
  // with no port opened.
  const poolFlags = poolFlagsFrom(name, values);
  const management = await startPartManagement(name, registry, settings);
  const served = await servePool(name, placement, values, build, registry, settings, poolFlags);
  await serveUntilStopped(name, served, settings, management);
}

/** The management server of a part: a pool's opens before the part serves (ADR 0200). */
interface PartManagement {
  /** From now on /readyz answers with `check` (which throws the reason when not ready). */
  answerReadiness(check: () => void): void;
  close(): Promise<void>;
}

/**
 * The management port opens first: while the process waits on what it is to serve (a pool's first
 * list of tenants, for as long as its API server does not answer) /healthz says it is alive and
 * /readyz that it is starting. A port opened only once serving failed the kubelet's liveness probe
 * for that whole wait, and the kubelet restarted the pod into a crash loop (ADR 0200).
 */
async function startPartManagement(
  name: PartName,
  registry: Registry,
  settings: ProcessSettings,
): Promise<PartManagement> {
  const logger = createLogger({ component: name });
  const { managementTls } = settings;
  let check: () => void = () => {
    throw new Error('starting');
  };
  const server = await startManagementServer({
    port: settings.managementPort,
    host: settings.host,
    registry,
    logger,
    // Never waits on a dependency: the answer comes from the background probe.
    ready: async () => check(),
    ...(managementTls ? { tls: managementTls } : {}),
  });
  const reloader = managementTls
    ? watchServerTls(managementTls, () => server.reloadTls(), { logger, name: server.name })
    : undefined;
  return {
    answerReadiness: (next) => {
      check = next;
    },
    close: async () => {
      reloader?.close();
      await server.close(1000);
    },
  };
}

/** A dedicated part: one tenant from --config, its secrets from --secrets-dir, its own flow store. */
async function serveOneTenant(
  name: PartName,
  values: ParsedOptions,
  build: BuildPart,
  registry: Registry,
  settings: ProcessSettings,
): Promise<Served> {
  const tenant = loadTenantFile(requireString(values, 'config'));
  const secrets = new SecretDirectory(
    typeof values['secrets-dir'] === 'string' ? values['secrets-dir'] : POD_SECRETS_DIR,
  );
  const id = tenantId(tenant);
  const logger = createLogger({ component: name, tenant: id });
  const tls = serverTlsFor(values, '', { secretRef: tenant.spec[name].tlsSecretRef, secrets });
  const store = createFlowStore(tenant, secrets, logger);
  if (store instanceof MemoryFlowStore) registerMemoryStoreEvictions(registry, store, () => id);
  const part = await build({
    tenant,
    tenantId: id,
    secrets,
    logger,
    registry,
    store,
    trustedProxyHops: settings.trustedProxyHops,
    outbound: settings.outbound,
  });
  registerSigningCertificateExpiry(registry, name, () => [
    { tenantId: id, expiry: readSigningCertificateExpiry(name, tenant, secrets) },
  ]);
  return {
    logger,
    handler: part.handler,
    store,
    tls,
    ready: async () => part.ready?.(),
    close: async () => part.close?.(),
  };
}

/** A pool: every tenant of --pool-dir or --pool, routed by Host, on one flow-store connection. */
async function servePool(
  name: PartName,
  placement: 'pool-dir' | 'pool',
  values: ParsedOptions,
  build: BuildPart,
  registry: Registry,
  settings: ProcessSettings,
  { builtParts, uploadSpoolBudget, signInShares }: PoolFlags,
): Promise<Served> {
  if (uploadSpoolBudget) registerUploadSpoolMetrics(registry, uploadSpoolBudget);
  const logger = createLogger({ component: name });
  const tls = serverTlsFor(values, '');
  const store = createPoolFlowStore(poolRedisFrom(values), logger);
  if (store instanceof MemoryFlowStore) {
    registerPoolMemoryStoreMetrics(registry, store);
    registerMemoryStoreEvictions(registry, store, (owner) => owner);
  }
  const pool = await startPool({
    part: name,
    build,
    source:
      placement === 'pool-dir'
        ? new DirectoryTenantSource(requireString(values, 'pool-dir'), { logger })
        : await kubeTenantSource(values, logger),
    store,
    registry,
    logger,
    trustedProxyHops: settings.trustedProxyHops,
    outbound: settings.outbound,
    builtParts,
    ...(uploadSpoolBudget ? { uploadSpoolBudget } : {}),
    ...(signInShares ? { signInShares } : {}),
  });
  return {
    logger,
    handler: pool.handler,
    store,
    tls,
    ...(values['tenant-tls'] === true ? { sni: tenantCertificates(pool.pool, name, logger) } : {}),
    ready: async () => {},
    close: () => pool.close(),
  };
}

/** The flags only a pool takes, checked. */
interface PoolFlags {
  builtParts: BuiltPartLimits;
  uploadSpoolBudget: UploadSpoolBudget | undefined;
  signInShares: PoolSignInShares | undefined;
}

function poolFlagsFrom(name: PartName, values: ParsedOptions): PoolFlags {
  return {
    builtParts: builtPartLimitsFrom(values),
    uploadSpoolBudget: uploadSpoolBudgetFrom(name, values),
    signInShares: signInSharesFrom(name, values),
  };
}

/**
 * A pool portal's --sign-in-starts-per-tenant and --sessions-per-tenant (else the defaults); the
 * broker refuses them: sign-ins start at the portal's /login, where both are counted.
 */
function signInSharesFrom(name: PartName, values: ParsedOptions): PoolSignInShares | undefined {
  const shares = {
    'sign-in-starts-per-tenant': POOL_SIGN_IN_STARTS_PER_TENANT,
    'sessions-per-tenant': POOL_SESSIONS_PER_TENANT,
  };
  if (name !== 'portal') {
    const given = Object.keys(shares).find((flag) => values[flag] !== undefined);
    if (given) throw new UsageError(`--${given} is the portal's: sign-ins start at its /login`);
    return undefined;
  }
  const [starts, sessions] = Object.entries(shares).map(([flag, { default: fallback, min, max }]) =>
    optionalWholeNumber(values, flag, fallback, { min, max }),
  ) as [number, number];
  return { startsPerTenant: starts, sessionsPerTenant: sessions };
}

/** --tenant-idle-seconds (up to a day) and --max-built-tenants, else the defaults (ADR 0123). */
function builtPartLimitsFrom(values: ParsedOptions): BuiltPartLimits {
  const { idleMs, max } = DEFAULT_BUILT_PART_LIMITS;
  return {
    idleMs: optionalWholeNumber(values, 'tenant-idle-seconds', idleMs / 1000, { min: 1, max: 86_400 }) * 1000,
    max: optionalWholeNumber(values, 'max-built-tenants', max, { min: 1, max: 1_000_000 }),
  };
}

/** A pool portal's --upload-spool-mib (else the default); the broker spools nothing and refuses it. */
function uploadSpoolBudgetFrom(name: PartName, values: ParsedOptions): UploadSpoolBudget | undefined {
  if (name !== 'portal') {
    if (values['upload-spool-mib'] !== undefined)
      throw new UsageError("--upload-spool-mib is the portal's: the broker spools no uploads");
    return undefined;
  }
  const mib = optionalWholeNumber(values, 'upload-spool-mib', POOL_UPLOAD_SPOOL_DEFAULT_MIB, {
    min: POOL_UPLOAD_SPOOL_MIN_MIB,
    max: POOL_UPLOAD_SPOOL_MAX_MIB,
  });
  return new UploadSpoolBudget(mibToBytes(mib));
}

/**
 * The operator's projection Secrets of pool --pool in --pool-namespace (default: the pod's own), read
 * with $KUBECONFIG, ~/.kube/config, else the pod's ServiceAccount (common/kube/access.ts, without
 * client-node: ADR 0136). Loaded only here, so a dedicated part never loads the Kubernetes client.
 */
async function kubeTenantSource(values: ParsedOptions, logger: Logger): Promise<TenantSource> {
  const [{ defaultClusterAccess }, { KubeTenantSource }] = await Promise.all([
    import('./kube/access.js'),
    import('./pool/kube-source.js'),
  ]);
  return new KubeTenantSource({
    access: await defaultClusterAccess(),
    namespace: poolNamespace(values),
    pool: requireString(values, 'pool'),
    logger,
  });
}

function poolNamespace(values: ParsedOptions): string {
  if (typeof values['pool-namespace'] === 'string') return values['pool-namespace'];
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    throw new UsageError('--pool-namespace is required outside a pod (no service-account namespace file)');
  }
}

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * A part's readiness: its flow store answers and its own checks pass, probed in the background. The
 * first probe, at start, may also wait out the flow store's connection attempt (1.5 s with the
 * default deadlines), as the store's own commands do: a slow but healthy Redis handshake (TLS on a
 * loaded node) is not reported not-ready, and logged so, for the moment after every start.
 */
export function partReadiness(store: FlowStore, ready: () => Promise<void>, logger: Logger): HealthMonitor {
  // The probe's deadline may pass before the store's own (a refused Redis is retried after 0.5 s):
  // a probe given up while the store had not answered is the store being unavailable.
  let waitingForStore = false;
  const causeOf = (failure: unknown): { cause?: string } => {
    const code = (failure as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return { cause: code };
    return waitingForStore ? { cause: 'FLOW_STORE_UNAVAILABLE' } : {};
  };
  // The stable code goes to the log as `cause`: a field named code is redacted.
  return new HealthMonitor({
    check: async () => {
      waitingForStore = true;
      await store.ping();
      waitingForStore = false;
      await ready();
    },
    startAllowanceMs: store.connectionAttemptMs ?? 0,
    onChange: (isReady, reason, failure) =>
      logger[isReady ? 'info' : 'warn'](
        { event: 'process.readiness', ready: isReady, reason, ...causeOf(failure) },
        isReady ? 'ready' : 'not ready',
      ),
    onStillNotReady: (reason, failure) =>
      logger.warn(
        { event: 'process.readiness', ready: false, reason, ...causeOf(failure) },
        'still not ready',
      ),
  });
}

/** The public server, readiness on the management port, and the graceful stop on SIGTERM. */
async function serveUntilStopped(
  name: PartName,
  served: Served,
  settings: ProcessSettings,
  management: PartManagement,
): Promise<void> {
  const { logger, store, tls, sni } = served;
  const { drainSeconds } = settings;
  const health = partReadiness(store, served.ready, logger);
  await health.start();
  let draining = false;
  const publicServer = await startServer({
    name,
    handler: served.handler,
    port: settings.port,
    host: settings.host,
    logger,
    portFlag: '--port',
    keepAliveTimeoutMs: settings.keepAliveSeconds * 1000,
    ...(tls || sni ? { tls: { load: tls?.load ?? (() => ({})), ...(sni ? { sni } : {}) } } : {}),
  });
  const reloader = tls
    ? watchServerTls(tls, () => publicServer.reloadTls(), { logger, name: publicServer.name })
    : undefined;
  management.answerReadiness(() => {
    if (draining) throw new Error('shutting down');
    health.assertReady();
  });
  exitOnSignals(async () => {
    // Unready at once, but serving on until the load balancers have had time to notice.
    draining = true;
    publicServer.drain();
    logger.info({ event: 'process.draining', drainSeconds }, 'draining');
    await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
    reloader?.close();
    await publicServer.close(IN_FLIGHT_GRACE_SECONDS * 1000);
    await served.close();
    health.stop();
    await management.close();
    await store.close();
  }, logger);
}
