import type { KubeObject } from '../common/kube/client.js';
import type { InternedStrings } from './interned-strings.js';

/**
 * What the operator keeps of a JsmSsoTenant in its cache: the metadata it reads (identity, the
 * generation status reports, the finalizer and deletion that drive cleanup), the spec, and the
 * status (the previous conditions decide whether a status write is due and keep their transition
 * times). Labels and annotations are no input of a reconcile, yet `kubectl apply` stores a whole
 * copy of the object in `kubectl.kubernetes.io/last-applied-configuration`: at 10,000 tenants that
 * copy alone would double the cache. Used as the tenant informer's transform, so a write's response
 * (`remember`) is cut the same way and the two forms compare equal.
 */
const READ_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'deletionTimestamp',
  'finalizers',
] as const;

export function cachedTenant<T extends KubeObject>(object: KubeObject, strings: InternedStrings): T {
  const metadata: Record<string, unknown> = {};
  for (const field of READ_METADATA) {
    const value = (object.metadata as Record<string, unknown>)[field];
    if (value !== undefined) metadata[field] = value;
  }
  if (typeof metadata['namespace'] === 'string') metadata['namespace'] = strings.of(metadata['namespace']);
  // Tenants of a pool share most of their spec (IdP, Atlassian site, defaults) and their status
  // (reasons, messages, transition times of a batch): one copy of each string.
  const { spec, status } = object as { spec?: unknown; status?: unknown };
  return {
    ...object,
    metadata,
    ...(spec !== undefined ? { spec: strings.deep(spec) } : {}),
    ...(status !== undefined ? { status: strings.deep(status) } : {}),
  } as unknown as T;
}
