import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import type { Registry } from 'prom-client';
import {
  type OptionSpec,
  optionalPort,
  type ParsedOptions,
  parseCommand,
  requireString,
  UsageError,
} from '../cli/args.js';
import { type JsmSsoTenant, loadTenantFile, tenantId } from './config/load.js';
import { POD_SECRETS_DIR, SecretDirectory } from './config/secrets.js';
import { type FlowStore, MemoryFlowStore, RedisFlowStore } from './flowstore/index.js';
import { startManagementServer } from './http/management.js';
import { exitOnSignals, type RunningServer, type ServerTls, startServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { createMetricsRegistry } from './metrics.js';

/**
 * What the broker and the portal share when run as a process: the tenant loaded and validated at
 * the edge, secrets, logger, metrics, the flow store, a public and a management server, and a
 * graceful stop on SIGTERM.
 */
export interface PartContext {
  tenant: JsmSsoTenant;
  tenantId: string;
  secrets: SecretDirectory;
  logger: Logger;
  registry: Registry;
  store: FlowStore;
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
  'management-port': {
    type: 'string',
    value: 'N',
    description: 'Port for /metrics, /healthz, /readyz (default 9090).',
  },
  'tls-cert': {
    type: 'string',
    value: 'FILE',
    description: 'PEM certificate chain: serve HTTPS (reloaded on change).',
  },
  'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key for --tls-cert.' },
};

export function createFlowStore(tenant: JsmSsoTenant, secrets: SecretDirectory): FlowStore {
  const redis = tenant.spec.redis;
  if (!redis) return new MemoryFlowStore();
  const url = secrets.read(redis.urlSecretRef.name, redis.urlSecretRef.key).trim();
  return RedisFlowStore.connect(url, tenantId(tenant));
}

function tlsFromFlags(values: ParsedOptions): ServerTls | undefined {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (cert === undefined && key === undefined) return undefined;
  if (typeof cert !== 'string' || typeof key !== 'string')
    throw new UsageError('--tls-cert and --tls-key go together');
  return { load: () => ({ cert: readFileSync(cert), key: readFileSync(key) }) };
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
  const store = createFlowStore(tenant, secrets);
  const host = typeof values['host'] === 'string' ? values['host'] : '0.0.0.0';
  const tls = tlsFromFlags(values);
  const part = await build({ tenant, tenantId: id, secrets, logger, registry, store });
  const servers: RunningServer[] = [];
  servers.push(
    await startServer({
      name,
      handler: part.handler,
      port: optionalPort(values, 'port', 8080),
      host,
      logger,
      ...(tls ? { tls } : {}),
    }),
  );
  servers.push(
    await startManagementServer({
      port: optionalPort(values, 'management-port', 9090),
      host,
      registry,
      logger,
      ready: async () => {
        await store.ping();
        await part.ready?.();
      },
    }),
  );
  exitOnSignals(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await part.close?.();
    await store.close();
  }, logger);
}
