import type { RequestListener } from 'node:http';
import type { Registry } from 'prom-client';
import {
  type OptionSpec,
  optionalCount,
  optionalPort,
  optionalSeconds,
  type ParsedOptions,
  parseCommand,
  requireString,
  UsageError,
} from './args.js';
import { type JsmSsoTenant, loadTenantFile, tenantId } from './config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from './config/secrets.js';
import { JsmSsoError } from './errors.js';
import { type FlowStore, MemoryFlowStore, RedisFlowStore } from './flowstore/index.js';
import { HealthMonitor } from './http/health.js';
import { startManagementServer } from './http/management.js';
import { exitOnSignals, type RunningServer, startServer } from './http/server.js';
import { DEFAULT_DRAIN_SECONDS, IN_FLIGHT_GRACE_SECONDS } from './http/shutdown.js';
import { createLogger, type Logger } from './log.js';
import { createMetricsRegistry } from './metrics.js';
import type { SecretReader } from './pool/source.js';
import { registerSigningCertificateExpiry } from './signing-certificate-metrics.js';
import {
  chooseServerTls,
  type FileServerTls,
  isLoopbackHost,
  redisOptionsFor,
  watchServerTls,
} from './tls/index.js';

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
}

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
    description: 'JsmSsoTenant YAML (the document you would kubectl apply).',
  },
  'secrets-dir': {
    type: 'string',
    value: 'DIR',
    description: `Secrets as DIR/<secretName>/<key> (default ${POD_SECRETS_DIR}).`,
  },
  port: { type: 'string', value: 'N', description: 'Public port (default 8080; 0 picks a free one).' },
  host: { type: 'string', value: 'ADDR', description: 'Address to listen on (default 0.0.0.0).' },
  'trusted-proxy-hops': {
    type: 'string',
    value: 'N',
    description: 'Reverse proxies (e.g. an Ingress) whose X-Forwarded-For gives the client IP (default 0).',
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

export function createFlowStore(tenant: JsmSsoTenant, secrets: SecretReader, logger?: Logger): FlowStore {
  const connection = redisOptionsFor(tenant, secrets);
  if (!connection) return new MemoryFlowStore();
  const { address } = connection;
  if (!address.tls && !address.nodes.every((node) => isLoopbackHost(node.host))) {
    // Allowed for meshes that encrypt pod traffic themselves, but worth a line at every start.
    logger?.warn(
      { event: 'redis.plaintext', reason: 'REDIS_PLAINTEXT', mode: address.mode },
      'Redis is reached without TLS; use rediss://, sentinels:// or clusters:// unless the network encrypts it',
    );
  }
  return RedisFlowStore.open(address, tenantId(tenant), connection.tls);
}

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

/** Parses the part's flags, loads the tenant, starts the servers and waits for SIGTERM. */
export async function runPart(
  name: 'broker' | 'portal',
  summary: string,
  argv: string[],
  build: (context: PartContext) => Promise<PartInstance>,
): Promise<void> {
  const values = parseCommand({ name, summary, options: PART_OPTIONS }, argv);
  if (!values) return;
  const tenant = loadTenantFile(requireString(values, 'config'));
  const secrets = new SecretDirectory(
    typeof values['secrets-dir'] === 'string' ? values['secrets-dir'] : POD_SECRETS_DIR,
  );
  const id = tenantId(tenant);
  const logger = createLogger({ component: name, tenant: id });
  const registry = createMetricsRegistry();
  // Every flag is checked before anything is built, so a typo is a usage error (exit 2).
  const port = optionalPort(values, 'port', 8080);
  const managementPort = optionalPort(values, 'management-port', 9090);
  const trustedProxyHops = optionalCount(values, 'trusted-proxy-hops');
  const host = typeof values['host'] === 'string' ? values['host'] : '0.0.0.0';
  const drainSeconds = optionalSeconds(
    { 'drain-seconds': values['drain-seconds'] ?? process.env['JSM_SSO_DRAIN_SECONDS'] },
    'drain-seconds',
    DEFAULT_DRAIN_SECONDS,
  );
  const tls = serverTlsFor(values, '', { secretRef: tenant.spec[name].tlsSecretRef, secrets });
  const managementTls = serverTlsFor(values, 'management-');
  const store = createFlowStore(tenant, secrets, logger);
  const part = await build({ tenant, tenantId: id, secrets, logger, registry, store, trustedProxyHops });
  registerSigningCertificateExpiry(registry, { tenant, tenantId: id, part: name, secrets });
  const reloaders: { close(): void }[] = [];
  const watchTls = (server: RunningServer, source: FileServerTls | undefined) => {
    if (source)
      reloaders.push(watchServerTls(source, () => server.reloadTls(), { logger, name: server.name }));
    return server;
  };
  const health = new HealthMonitor({
    check: async () => {
      await store.ping();
      await part.ready?.();
    },
    onChange: (ready, reason) =>
      logger[ready ? 'info' : 'warn']({ event: 'process.readiness', ready, reason }, 'readiness changed'),
  });
  await health.start();
  let draining = false;
  const publicServer = watchTls(
    await startServer({
      name,
      handler: part.handler,
      port,
      host,
      logger,
      ...(tls ? { tls } : {}),
    }),
    tls,
  );
  const managementServer = watchTls(
    await startManagementServer({
      port: managementPort,
      host,
      registry,
      logger,
      // Never waits on a dependency: the answer comes from the background probe.
      ready: async () => {
        if (draining) throw new Error('shutting down');
        health.assertReady();
      },
      ...(managementTls ? { tls: managementTls } : {}),
    }),
    managementTls,
  );
  exitOnSignals(async () => {
    // Unready at once, but serving on until the load balancers have had time to notice.
    draining = true;
    publicServer.drain();
    logger.info({ event: 'process.draining', drainSeconds }, 'draining');
    await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
    for (const reloader of reloaders) reloader.close();
    await publicServer.close(IN_FLIGHT_GRACE_SECONDS * 1000);
    await part.close?.();
    health.stop();
    await managementServer.close(1000);
    await store.close();
  }, logger);
}
