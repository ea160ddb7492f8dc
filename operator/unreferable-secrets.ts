import type { JsmSsoTenant } from '../common/config/load.js';
import type { KubeObject } from '../common/kube/client.js';
import { MANAGED_BY } from './resources/common.js';
import { POOL_LABEL } from './resources/projection.js';
import { allSecretKeys } from './resources/secret-refs.js';

/**
 * The Secrets of a tenant's namespace its spec may not name: the projections pooled tenants placed
 * there (the namespace is a pool's). A projection holds another tenant's credentials, perhaps of
 * another namespace whose team never let this one read them; named as an IdP's client secret or the
 * Atlassian token, the operator would mount it in this tenant's pods or copy it into its projection,
 * and the broker or portal send it to the issuer or site this tenant chose (ADR 0313). Told by the
 * cached metadata of the operator's own Secrets, so no value is read.
 */
export function unreferableSecrets(
  tenant: JsmSsoTenant,
  secretMeta: (namespace: string, name: string) => KubeObject | undefined,
): string[] {
  const namespace = tenant.metadata!.namespace!;
  return [...new Set(allSecretKeys(tenant).map((use) => use.secret))].filter((name) => {
    const labels = secretMeta(namespace, name)?.metadata.labels ?? {};
    return labels['app.kubernetes.io/managed-by'] === MANAGED_BY && labels[POOL_LABEL] !== undefined;
  });
}

/** ConfigValid's words for unreferableSecrets. */
export function unreferableSecretsMessage(names: string[]): string {
  const which = names.map((name) => `Secret ${name}`).join(', ');
  return `${which} ${names.length > 1 ? 'are projections' : 'is a projection'} of a pooled tenant, which the operator writes: reference a Secret of this tenant's own`;
}
