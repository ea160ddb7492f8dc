import { registerSigningCertificateExpiry } from '../signing-certificate-metrics.js';
import type { TenantSource } from './source.js';
import { TenantPool, type TenantPoolOptions } from './tenant-pool.js';

/** A TenantPool's options, and where its tenants come from. */
export interface StartPoolOptions extends TenantPoolOptions {
  source: TenantSource;
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
