import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { tenantId } from '../config/load.js';
import { JsmSsoError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PartName } from '../runtime.js';
import { MIN_TLS_VERSION } from '../tls/versions.js';
import type { TenantBundle } from './source.js';

/** Tenants' TLS contexts kept in one process (as many as built parts by default, ADR 0123). */
export const MAX_CONTEXTS = 1_000;

/** Where the tenants of a pool are found by the name a TLS client asks for (TenantPool). */
export interface TenantsByServerName {
  bundleForServerName(name: string): TenantBundle | undefined;
}

/**
 * The certificate a pool's TLS listener serves for a server name (SNI): the tenant at that host
 * name's own `spec.<part>.tlsSecretRef`, from its bundle (the operator's projection), or undefined
 * for the listener's default (`--tls-cert`; without one, the handshake fails). A context is built
 * once per bundle: a rotated certificate arrives as a new bundle (the projection changed), so the
 * next handshake gets it without a restart. A pair that does not load is logged once per bundle
 * (`POOL_TENANT_TLS_INVALID`) and that name gets the default, as an unknown one does. At most
 * MAX_CONTEXTS are kept, the least recently used out first: a context costs ~30 KB of native memory
 * and ~0.3 ms to build (measured), so keeping 10,000 tenants' would hold ~300 MB to save rebuilds.
 */
export function tenantCertificates(
  tenants: TenantsByServerName,
  part: PartName,
  logger: Logger,
): (serverName: string) => SecureContext | undefined {
  // By bundle key; an entry is current while its bundle is the tenant's.
  const contexts = new LRUCache<string, { bundle: TenantBundle; context: SecureContext | undefined }>({
    max: MAX_CONTEXTS,
  });
  return (serverName) => {
    const bundle = tenants.bundleForServerName(serverName);
    const ref = bundle?.tenant.spec[part].tlsSecretRef;
    if (!bundle || !ref) return undefined;
    const known = contexts.get(bundle.key);
    if (known?.bundle === bundle) return known.context;
    let context: SecureContext | undefined;
    try {
      context = createSecureContext({
        cert: bundle.secrets.read(ref.name, 'tls.crt'),
        key: bundle.secrets.read(ref.name, 'tls.key'),
        minVersion: MIN_TLS_VERSION,
      });
    } catch (err) {
      logger.error(
        {
          event: 'pool.tenant_tls_invalid',
          reason: 'POOL_TENANT_TLS_INVALID',
          tenant: tenantId(bundle.tenant),
          // A secret's absence has its own code; OpenSSL's code says why a pair does not load. Never the PEM.
          cause: err instanceof JsmSsoError ? err.code : ((err as { code?: string }).code ?? 'unknown'),
        },
        "the tenant's TLS certificate cannot be used; its host name gets the pool's default certificate, if any",
      );
    }
    contexts.set(bundle.key, { bundle, context });
    return context;
  };
}
