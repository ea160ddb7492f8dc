// A broker or portal tenant's bundle in a pool folder, as `jsm-sso broker|portal --pool-dir` reads
// it: what the pool-process tests write for each tenant they serve.

import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { JsmSsoTenant } from '../common/config/load.js';
import { createPki, oidcIdp, type Pki, tenantFor } from './broker-harness.js';
import type { KeyPair } from './keys.js';
import { tenantAt } from './pool.js';
import { type PortalTenantOptions, writePortalTenant } from './portal-process.js';

export interface TlsPair {
  certPem: string;
  keyPem: string;
}

export interface BrokerBundle {
  tenant: JsmSsoTenant;
  /** Its keys, copied into the bundle: the caller cleans it up, and signs with it as the tenant's portal. */
  pki: Pki;
  /** The folder of its TLS pair (spec.broker.tlsSecretRef), written when `tls` was given. */
  tlsDir: string;
}

/** Writes `tls.crt` and `tls.key` of `pair` into `folder`, as a kubernetes.io/tls Secret is mounted. */
export function writeTlsPair(folder: string, pair: TlsPair): void {
  writeFileSync(join(folder, 'tls.crt'), pair.certPem);
  writeFileSync(join(folder, 'tls.key'), pair.keyPem);
}

/**
 * Writes `<poolDir>/<bundle>/tenant.yaml` (broker tenant `name` at `url`, with one OIDC IdP nobody
 * reaches) and `secrets/` (the keys of a new Pki), and with `tls` its pair in `secrets/broker-tls`,
 * named by spec.broker.tlsSecretRef.
 */
export function writeBrokerBundle(
  poolDir: string,
  bundle: string,
  options: { name: string; url: string; tls?: TlsPair | undefined },
): BrokerBundle {
  const pki = createPki();
  const tenant = tenantAt(
    tenantFor(options.url, [oidcIdp('corporate', 'http://127.0.0.1:9')]),
    'broker',
    options.name,
    options.url,
  );
  const folder = join(poolDir, bundle);
  const tlsDir = join(folder, 'secrets', 'broker-tls');
  mkdirSync(folder, { recursive: true });
  cpSync(pki.dir, join(folder, 'secrets'), { recursive: true });
  if (options.tls) {
    tenant.spec.broker.tlsSecretRef = { name: 'broker-tls' };
    mkdirSync(tlsDir);
    writeTlsPair(tlsDir, options.tls);
  }
  writeFileSync(join(folder, 'tenant.yaml'), stringify(tenant));
  return { tenant, pki, tlsDir };
}

/**
 * Writes `<poolDir>/<bundle>/tenant.yaml` (portal tenant `options.name` at `options.portalUrl`) and
 * its `secrets/`; returns the broker's signing key, to sign its customers in with (signInAt).
 */
export function writePortalBundle(poolDir: string, bundle: string, options: PortalTenantOptions): KeyPair {
  const folder = join(poolDir, bundle);
  mkdirSync(folder, { recursive: true });
  return writePortalTenant(join(folder, 'tenant.yaml'), join(folder, 'secrets'), options);
}
