import type { V1ConfigMap } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { GROUP_VERSION, KIND } from '../../common/config/crd-schema.js';
import type { JsmSsoTenant } from '../../common/config/load.js';
import {
  childName,
  type DesiredContext,
  objectMeta,
  type Part,
  tenantName,
  tenantNamespace,
} from './common.js';
import { signingSecretName } from './secret-refs.js';

/**
 * The tenant's non-secret configuration: the tenant document both parts load with `--config`, and
 * the public signing certificates each side verifies the other with (never a private key).
 */
export const TENANT_KEY = 'tenant.yaml';

export function configMapName(tenant: JsmSsoTenant): string {
  return childName(tenant, 'config');
}

/** ConfigMap key holding the part's public certificate (`next` for a pending rollover). */
export function certificateKey(part: Part, next = false): string {
  return `${part}-signing${next ? '-next' : ''}.crt`;
}

/**
 * The tenant as the parts load it: the applied document without status or server metadata; with
 * `uid`, its metadata.uid too, so that a dedicated part keys its Redis by the tenant's incarnation
 * (ADR 0379). A projection's document goes without: its label carries the uid (ADR 0371), and a
 * changed document would rebuild every pooled tenant's part at the operator's upgrade.
 */
export function tenantDocument(tenant: JsmSsoTenant, { uid }: { uid?: string | undefined } = {}): string {
  const document = {
    apiVersion: tenant.apiVersion ?? GROUP_VERSION,
    kind: tenant.kind ?? KIND,
    metadata: { name: tenantName(tenant), namespace: tenantNamespace(tenant), ...(uid ? { uid } : {}) },
    spec: tenant.spec,
  };
  return stringify(document, { sortMapEntries: true });
}

export function desiredConfigMap(context: DesiredContext): V1ConfigMap {
  const { tenant, secrets } = context;
  const data: Record<string, string> = {
    [TENANT_KEY]: tenantDocument(tenant, { uid: tenant.metadata?.uid }),
  };
  for (const part of ['broker', 'portal'] as const) {
    const certificates = secrets[signingSecretName(tenant, part)]?.certificates ?? {};
    if (certificates['tls.crt']) data[certificateKey(part)] = certificates['tls.crt'];
    if (certificates['next.crt']) data[certificateKey(part, true)] = certificates['next.crt'];
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(tenant, configMapName(tenant), 'config'),
    data,
  };
}
