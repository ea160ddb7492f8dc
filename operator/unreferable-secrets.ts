import type { KubeObject } from '../common/kube/client.js';
import { MANAGED_BY } from './resources/common.js';
import { POOL_LABEL } from './resources/projection.js';
import type { SecretKeyUse } from './resources/secret-refs.js';

/** Whose spec names the Secrets: the words of the message. */
export type SecretReferrer = 'tenant' | 'pool';

/**
 * The Secrets a tenant's or a JsmSsoPool's spec names in its namespace that it may not: the
 * projections pooled tenants placed there (the namespace is a pool's). A projection holds another
 * tenant's credentials, perhaps of another namespace whose team never let this one read them; named
 * as an IdP's client secret, the Atlassian token, or a pool's Redis URL or CA bundle, the operator
 * would mount it in these pods or copy it into a projection, and the broker, portal or Redis client
 * send it to the issuer, site or server this spec chose (ADR 0313, ADR 0320). Told by the cached
 * metadata of the operator's own Secrets, so no value is read.
 */
export function unreferableSecrets(
  namespace: string,
  uses: readonly SecretKeyUse[],
  secretMeta: (namespace: string, name: string) => KubeObject | undefined,
): string[] {
  return [...new Set(uses.map((use) => use.secret))].filter((name) => {
    const labels = secretMeta(namespace, name)?.metadata.labels ?? {};
    return labels['app.kubernetes.io/managed-by'] === MANAGED_BY && labels[POOL_LABEL] !== undefined;
  });
}

/** The condition message for unreferableSecrets. */
export function unreferableSecretsMessage(names: string[], referrer: SecretReferrer): string {
  const which = names.map((name) => `Secret ${name}`).join(', ');
  return `${which} ${names.length > 1 ? 'are projections' : 'is a projection'} of a pooled tenant, which the operator writes: reference a Secret of this ${referrer}'s own`;
}
