// Tenant bundles for the pool bench, in the layout of a pool's `--pool-dir`:
// DIR/<bundle>/tenant.yaml and DIR/<bundle>/secrets/<secretName>/<key> (POOL.md).
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { JsmSsoTenant } from '../common/config/load.js';
import type { KeyPairPem } from '../common/pki.js';
import { CLIENT_SECRET, oidcIdp, tenantFor } from '../testkit/broker-harness.js';

/** Where the bench's pools listen: every tenant host is sent here (an ingress in front of the pool). */
export interface PoolPorts {
  broker: number;
  portal: number;
}

/**
 * Tenant `index`'s own loopback address (127.0.0.2, 127.0.0.3, ... 127.0.1.0, ...): a host of its
 * own, as each tenant has its own name behind a real ingress. Plain http is allowed only to
 * loopback, which 127.0.0.0/8 all is.
 */
export function tenantHost(index: number): string {
  const n = index + 2;
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export const tenantName = (index: number) => `bench-${index}`;
export const brokerUrlOf = (index: number, ports: PoolPorts) => `http://${tenantHost(index)}:${ports.broker}`;
export const portalUrlOf = (index: number, ports: PoolPorts) => `http://${tenantHost(index)}:${ports.portal}`;

export interface BundleKeys {
  broker: KeyPairPem;
  portal: KeyPairPem;
}

/** Writes tenant bundles into one pool folder; each appears whole (built aside, then renamed in). */
export class PoolBundles {
  readonly dir: string;
  readonly #staging: string;
  readonly #template: JsmSsoTenant;
  readonly #ports: PoolPorts;

  constructor(root: string, ports: PoolPorts, idpIssuer: string, siteUrl: string) {
    this.dir = join(root, 'pool');
    this.#staging = join(root, 'staging');
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.#staging, { recursive: true });
    this.#ports = ports;
    // Validated once here; the pool validates each bundle again as it loads it.
    this.#template = tenantFor(brokerUrlOf(0, ports), [oidcIdp('corporate', idpIssuer)], (spec) => {
      spec.portal.url = portalUrlOf(0, ports);
      spec.atlassian.siteUrl = siteUrl;
    });
  }

  /** Tenant `index`'s document: the template at its own hosts, under its own name. */
  tenant(index: number): JsmSsoTenant {
    const tenant = structuredClone(this.#template);
    tenant.metadata = { ...tenant.metadata, name: tenantName(index) };
    tenant.spec.broker.url = brokerUrlOf(index, this.#ports);
    tenant.spec.portal.url = portalUrlOf(index, this.#ports);
    return tenant;
  }

  /** Adds tenant `index` with these signing keys; the pool sees the bundle complete or not at all. */
  add(index: number, keys: BundleKeys): void {
    const tenant = this.tenant(index);
    const aside = mkdtempSync(join(this.#staging, `${tenantName(index)}-`));
    writeFileSync(join(aside, 'tenant.yaml'), stringify(tenant));
    const secret = (name: string, values: Record<string, string>) => {
      mkdirSync(join(aside, 'secrets', name), { recursive: true });
      for (const [key, value] of Object.entries(values))
        writeFileSync(join(aside, 'secrets', name, key), value);
    };
    secret(tenant.spec.broker.signingSecretRef!.name, {
      'tls.key': keys.broker.keyPem,
      'tls.crt': keys.broker.certPem,
    });
    secret(tenant.spec.portal.samlSigningSecretRef!.name, {
      'tls.key': keys.portal.keyPem,
      'tls.crt': keys.portal.certPem,
    });
    secret('idp-client', { clientSecret: CLIENT_SECRET });
    secret(tenant.spec.atlassian.credentialsSecretRef.name, {
      email: 'portal-bot@acme.test',
      apiToken: 'dev-api-token',
    });
    renameSync(aside, join(this.dir, tenantName(index)));
  }
}
