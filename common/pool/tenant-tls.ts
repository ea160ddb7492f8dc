import { createSecureContext, type SecureContext } from 'node:tls';
import { tenantId } from '../config/load.js';
import { JsmSsoError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PartName } from '../runtime.js';
import { MIN_TLS_VERSION } from '../tls/versions.js';
import type { TenantBundle } from './source.js';

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
 * (`POOL_TENANT_TLS_INVALID`) and that name gets the default, as an unknown one does.
 */
export function tenantCertificates(
  tenants: TenantsByServerName,
  part: PartName,
  logger: Logger,
): (serverName: string) => SecureContext | undefined {
  const contexts = new WeakMap<TenantBundle, SecureContext | undefined>();
  return (serverName) => {
    const bundle = tenants.bundleForServerName(serverName);
    const ref = bundle?.tenant.spec[part].tlsSecretRef;
    if (!bundle || !ref) return undefined;
    if (contexts.has(bundle)) return contexts.get(bundle);
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
    contexts.set(bundle, context);
    return context;
  };
}
