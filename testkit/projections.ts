// Projection Secrets as the operator writes them for a JsmSsoPool (docs/placement.md), made by hand
// for the tests and the bench that run a pool process's kube source without an operator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { JsmSsoError } from '../common/errors.js';
import { kubeconfigAccess } from '../common/kube/access.js';
import type { KubeObject } from '../common/kube/client.js';
import { createLogger } from '../common/log.js';
import {
  KubeTenantSource,
  POOL_LABEL,
  TENANT_DOCUMENT_KEY,
  TENANT_NAME_LABEL,
  TENANT_NAMESPACE_LABEL,
} from '../common/pool/kube-source.js';
import type { GoneIncarnation, TenantBundle, TenantSourceListener } from '../common/pool/source.js';
import { placedNameOf } from '../operator/resources/projection.js';
import { oidcIdp, type Pki, tenantFor } from './broker-harness.js';
import { tenantAt } from './pool.js';

/** The namespace the projected tenants live in (their projections are in the pool's). */
export const TENANTS_NAMESPACE = 'tenants';

export interface TlsPair {
  certPem: string;
  keyPem: string;
}

/** The projection's name for tenant `name`, as the operator names it. */
export const projectionName = (name: string) => placedNameOf(TENANTS_NAMESPACE, name);

/**
 * Pool `pool`'s projection of broker tenant `name` at `url` in namespace `namespace`: its tenant
 * document and the keys of `pki` it references, and a listener certificate when `tls` is given.
 */
export function brokerProjection(options: {
  namespace: string;
  pool: string;
  name: string;
  url: string;
  pki: Pki;
  tls?: TlsPair;
}): KubeObject {
  const { namespace, pool, name, url, pki, tls } = options;
  const tenant = tenantAt(tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:9')]), 'broker', name, url);
  tenant.metadata = { name, namespace: TENANTS_NAMESPACE };
  if (tls) tenant.spec.broker.tlsSecretRef = { name: 'broker-tls' };
  const file = (secret: string, key: string) => readFileSync(join(pki.dir, secret, key)).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: projectionName(name),
      namespace,
      labels: { [POOL_LABEL]: pool, [TENANT_NAMESPACE_LABEL]: TENANTS_NAMESPACE, [TENANT_NAME_LABEL]: name },
    },
    data: {
      [TENANT_DOCUMENT_KEY]: Buffer.from(stringify(tenant)).toString('base64'),
      'broker-signing_tls.key': file('broker-signing', 'tls.key'),
      'broker-signing_tls.crt': file('broker-signing', 'tls.crt'),
      'portal-saml_tls.crt': file('portal-saml', 'tls.crt'),
      'idp-client_clientSecret': file('idp-client', 'clientSecret'),
      ...(tls ? listenerKeys(tls) : {}),
    },
  };
}

/** A tenant's listener certificate as the projection holds it (`<secretName>_<key>`). */
export const listenerKeys = (pair: TlsPair) => ({
  'broker-tls_tls.crt': Buffer.from(pair.certPem).toString('base64'),
  'broker-tls_tls.key': Buffer.from(pair.keyPem).toString('base64'),
});

/** What a tenant source delivered: the bundles it holds now, the keys it removed, the invalid ones. */
export class TenantRecorder implements TenantSourceListener {
  readonly bundles = new Map<string, TenantBundle>();
  readonly removed: string[] = [];
  /** The removals that said their incarnation was deleted, by key: its uid. */
  readonly gone = new Map<string, string>();
  readonly invalids = new Map<string, JsmSsoError>();
  upsert(bundle: TenantBundle): void {
    this.bundles.set(bundle.key, bundle);
  }
  remove(key: string, gone?: GoneIncarnation): void {
    this.bundles.delete(key);
    this.removed.push(key);
    if (gone) this.gone.set(key, gone.uid);
  }
  invalid(key: string, error: JsmSsoError): void {
    this.invalids.set(key, error);
  }
}

/**
 * A pool process's source on the projections of JsmSsoPool `namespace/pool` (API server of
 * `kubeconfigPath`), delivering to `listener`; started, its first list delivered.
 */
export async function startPoolSource(
  kubeconfigPath: string,
  namespace: string,
  pool: string,
  listener: TenantSourceListener,
): Promise<KubeTenantSource> {
  const source = new KubeTenantSource({
    access: await kubeconfigAccess(kubeconfigPath),
    namespace,
    pool,
    backoff: { initialMs: 100, maxMs: 500 },
    logger: createLogger({ component: 'pool', level: 'silent' }),
  });
  await source.start(listener);
  return source;
}
