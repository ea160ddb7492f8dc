import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import type { BuildPart, PartName } from '../runtime.js';
import { registerSigningCertificateExpiry } from '../signing-certificate-metrics.js';
import type { OutboundRules } from '../tls/index.js';
import type { BuiltPartLimits } from './built-parts.js';
import type { PoolSignInShares } from './sign-in-starts.js';
import type { TenantSource } from './source.js';
import { type PoolFlowStore, TenantPool } from './tenant-pool.js';
import type { UploadSpoolBudget } from './upload-spool-budget.js';

export interface StartPoolOptions {
  part: PartName;
  /** The part's builder, the same a dedicated process uses (createBrokerApp, createPortalApp). */
  build: BuildPart;
  source: TenantSource;
  /** The pool's flow store (createPoolFlowStore, or a MemoryFlowStore); the caller closes it. */
  store: PoolFlowStore;
  registry: Registry;
  logger: Logger;
  trustedProxyHops?: number;
  /** What every tenant's outbound calls may reach (PartContext.outbound). */
  outbound?: OutboundRules;
  /** How long a replaced or removed tenant's part is kept once its requests in flight have ended (default 45 s). */
  retireAfterMs?: number;
  /** How many built tenant parts are kept, and how long unused (default DEFAULT_BUILT_PART_LIMITS). */
  builtParts?: BuiltPartLimits;
  /** A portal pool's: the upload bytes every tenant's part shares (ADR 0165). */
  uploadSpoolBudget?: UploadSpoolBudget;
  /** A portal pool's: each tenant's shares of sign-in starts and sessions (ADRs 0215, 0220). */
  signInShares?: PoolSignInShares;
}

export interface RunningPool {
  /** The one request handler for every tenant: mount it on a server (runtime.ts, a test, the bench). */
  handler: TenantPool['handler'];
  pool: TenantPool;
  /** Stops the source and closes every tenant's part (not the store). */
  close(): Promise<void>;
}

/**
 * Starts a pool in-process: its tenants from `source`, delivered before this resolves, served by
 * `handler`. What `jsm-sso broker|portal --pool-dir` runs, and what tests and the bench start:
 *
 *   const pool = await startPool({ part: 'broker', build: createBrokerApp, source, store, registry, logger });
 *   server.on('request', pool.handler);
 */
export async function startPool(options: StartPoolOptions): Promise<RunningPool> {
  const pool = new TenantPool(options);
  registerSigningCertificateExpiry(options.registry, options.part, () => pool.signingCertificates());
  await options.source.start(pool);
  options.logger.info({ event: 'pool.started', tenants: pool.size }, 'pool started');
  return {
    handler: pool.handler,
    pool,
    close: async () => {
      await options.source.close();
      await pool.close();
    },
  };
}
