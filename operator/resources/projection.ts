import type { V1Ingress, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import type { KubeObject } from '../../common/kube/client.js';
import { HOST_CLAIMS_ANNOTATION, type HostClaims, hostClaimsText } from '../../common/pool/claims.js';
import { TENANT_UID_LABEL } from '../../common/pool/kube-source.js';
import {
  APPLIED_HASH_ANNOTATION,
  canonicalJson,
  MANAGED_BY,
  ownerReference,
  PART_OF,
  PARTS,
  type Part,
  type SecretFacts,
  sha256,
  tenantName,
  tenantNamespace,
} from './common.js';
import { TENANT_KEY, tenantDocument } from './configmap.js';
import { presentKeys } from './deployment.js';
import { tenantIngress } from './ingress.js';
import { poolContext } from './pool.js';
import { type SecretKeyUse, secretKeysFor, signingSecretName } from './secret-refs.js';

/**
 * What a pooled tenant puts in its pool's namespace (the format of docs/placement.md and
 * /work/coord/POOL.md): one Secret holding the tenant document and only the Secret keys its spec
 * references (its signing keys included), and its Ingress to the pool's Services. ownerReferences
 * cannot point across namespaces, so these carry the tenant's identity in labels (the uid decides
 * ownership) and a non-controller ownerReference to the pool, whose deletion takes them along.
 */
export const POOL_LABEL = 'jsm-sso.io/pool';
export const TENANT_NAMESPACE_LABEL = 'jsm-sso.io/tenant-namespace';
export const TENANT_NAME_LABEL = 'jsm-sso.io/tenant-name';
// The pool reads the uid back to give each incarnation of a tenant its own store keys (ADR 0371).
export { TENANT_UID_LABEL } from '../../common/pool/kube-source.js';
/** On a pooled tenant until its objects in the pool's namespace are gone. */
export const POOL_FINALIZER = 'jsm-sso.io/pool-placement';

/** Every name the operator gives stays within a DNS label (63), as `childName`'s do. */
const MAX_NAME = 63;
/**
 * Hex digits of SHA-256 of `<namespace>/<name>` that end a placed name: 64 bits, so that no team can
 * search out a tenant name of its own that takes the name another team's tenant will need (ADR 0231).
 */
const NAME_HASH_DIGITS = 16;

/**
 * The name of what tenant `<namespace>/<name>` places in its pool's namespace: `jsmsso-<namespace>-<name>`,
 * cut to fit, then 16 hex digits of SHA-256 of `<namespace>/<name>`. The readable part alone is
 * ambiguous (`team/x-acme` and `team-x/acme` read alike: both names may hold `-`); the hash is of the
 * exact pair (`/` is in neither), so two tenants never share a name (ADR 0231).
 */
export function placedNameOf(namespace: string, name: string): string {
  const hash = sha256(`${namespace}/${name}`).slice(0, NAME_HASH_DIGITS);
  const readable = `jsmsso-${namespace}-${name}`.slice(0, MAX_NAME - NAME_HASH_DIGITS - 1).replace(/-+$/, '');
  return `${readable}-${hash}`;
}

/** The name of the tenant's projection and Ingress in its pool's namespace (placedNameOf). */
export function placedName(tenant: JsmSsoTenant): string {
  return placedNameOf(tenantNamespace(tenant), tenantName(tenant));
}

/** Where a placed projection's name is looked up: the operator's Secret cache (metadata). */
export interface SecretMetaCache {
  secretMeta(namespace: string, name: string): KubeObject | undefined;
}

/**
 * `jsmsso-<namespace>-<name>`: what the operator named placed objects before ADR 0231, one name for
 * tenants of different namespaces. Never given to a new object; see heldPlacedName.
 */
export function legacyPlacedName(tenant: JsmSsoTenant): string {
  return `jsmsso-${tenantNamespace(tenant)}-${tenantName(tenant)}`;
}

/**
 * The name the tenant's object of one kind has in its pool's namespace, `cached` looking names up
 * there: its legacy name while the object of that name is this tenant's (placed before ADR 0231, and
 * kept under that name: an upgrade re-creates nothing a running pool reads, and a projection's
 * creationTimestamp, its claim on its name (ADR 0193) and the time its host claims are seeded with
 * (ADR 0230), stays), else placedName.
 */
export function heldPlacedName(
  tenant: JsmSsoTenant,
  cached: (name: string) => KubeObject | undefined,
): string {
  const legacy = legacyPlacedName(tenant);
  const held = cached(legacy);
  return held && placedFor(held, tenant.metadata!.uid ?? '') ? legacy : placedName(tenant);
}

/** heldPlacedName of the tenant's projection in `namespace`, from the Secret cache. */
export function heldProjectionName(cache: SecretMetaCache, tenant: JsmSsoTenant, namespace: string): string {
  return heldPlacedName(tenant, (name) => cache.secretMeta(namespace, name));
}

/**
 * A projection a former tenant of this namespace and name (another uid) left under the legacy name,
 * for the pool to collect (pool-reconciler.ts): the tenant waits for it, as for one left under its own
 * name. Placed beside it, the pool process would hold two projections of one tenant, and the
 * collected one's deletion would take the tenant out of the pool.
 */
export function legacyLeftover(
  cache: SecretMetaCache,
  tenant: JsmSsoTenant,
  namespace: string,
): KubeObject | undefined {
  const left = cache.secretMeta(namespace, legacyPlacedName(tenant));
  if (!left || placedFor(left, tenant.metadata!.uid ?? '')) return undefined;
  const labels = left.metadata.labels ?? {};
  const forThisName =
    labels['app.kubernetes.io/managed-by'] === MANAGED_BY &&
    labels[TENANT_NAMESPACE_LABEL] === tenantNamespace(tenant) &&
    labels[TENANT_NAME_LABEL] === tenantName(tenant);
  return forThisName ? left : undefined;
}

/**
 * The Secrets of the pool's namespace whose change concerns the tenant's projection: the one it holds,
 * and the legacy-named one while there is one (a leftover it waits for).
 */
export function projectionNames(cache: SecretMetaCache, tenant: JsmSsoTenant, namespace: string): string[] {
  const held = heldProjectionName(cache, tenant, namespace);
  const legacy = legacyPlacedName(tenant);
  return held !== legacy && cache.secretMeta(namespace, legacy) ? [held, legacy] : [held];
}

/** `<secretName>_<key>`: a Secret name never holds `_`, so the first one splits. */
export function projectedKey(use: Pick<SecretKeyUse, 'secret' | 'key'>): string {
  return `${use.secret}_${use.key}`;
}

/**
 * The keys copied: every key both parts read, optional ones (next.crt/next.key) when present, and a
 * part's listener certificate (spec.<part>.tlsSecretRef) only when the pool's part serves TLS
 * (JsmSsoPool spec.<part>.tls): a key the pool would not use stays in the tenant's namespace.
 */
export function projectedUses(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool,
  secrets: Record<string, SecretFacts>,
): SecretKeyUse[] {
  const uses = PARTS.flatMap((part) => secretKeysFor(tenant, part, { listenerTls: servesTls(pool, part) }));
  // The broker trusts the portal's next certificate during a rotation of the portal's key (ADR 0285);
  // a dedicated broker reads it from the ConfigMap, a pool's from here. Its key comes with the portal's
  // own keys (secretKeysFor), for the portal alone (ADR 0298).
  const portalNext = { secret: signingSecretName(tenant, 'portal'), key: 'next.crt', optional: true };
  return presentKeys([...uses, portalNext], secrets);
}

/** Whether the pool's part terminates TLS itself, serving its tenants' own certificates. */
export function servesTls(pool: JsmSsoPool, part: Part): boolean {
  return pool.spec[part]?.tls !== undefined;
}

/** Labels and owner of an object the tenant places in its pool's namespace. */
function placedMeta(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  component: string,
  name: string,
): V1ObjectMeta {
  return {
    name,
    namespace: pool.metadata.namespace!,
    labels: {
      'app.kubernetes.io/name': 'jsm-sso-pool',
      'app.kubernetes.io/instance': pool.metadata.name!,
      'app.kubernetes.io/component': component,
      'app.kubernetes.io/part-of': PART_OF,
      'app.kubernetes.io/managed-by': MANAGED_BY,
      [POOL_LABEL]: pool.metadata.name!,
      [TENANT_NAMESPACE_LABEL]: tenantNamespace(tenant),
      [TENANT_NAME_LABEL]: tenantName(tenant),
      [TENANT_UID_LABEL]: tenant.metadata!.uid ?? '',
    },
    // Not the controller: the tenant is, by the uid label. The pool's deletion collects it.
    ownerReferences: [{ ...ownerReference(pool), controller: false, blockOwnerDeletion: false }],
  };
}

/** `tenant.yaml` of the projection, as a Secret holds it. */
export function tenantDocumentBase64(tenant: JsmSsoTenant): string {
  return Buffer.from(tenantDocument(tenant)).toString('base64');
}

/**
 * What a projection is made of: the facts of the tenant's Secrets, and the hash of its tenant
 * document (remembered per generation by the caller: making the YAML was a tenth of a resync's CPU).
 */
export interface ProjectionSources {
  secrets: Record<string, SecretFacts>;
  /** tenantDocumentBase64(tenant). */
  document: () => string;
  /** SHA-256 of document(). */
  documentHash: () => string;
}

/**
 * The hash of each data key of the projection, computed from the source Secrets' facts (the
 * projected values are the source's bytes, so their hashes are the source's): whether the live
 * projection is current is known without reading any value.
 */
export function projectionKeyHashes(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool,
  { secrets, documentHash }: ProjectionSources,
): Record<string, string> {
  const hashes: Record<string, string> = { [TENANT_KEY]: documentHash() };
  for (const use of projectedUses(tenant, pool, secrets)) {
    hashes[projectedKey(use)] = secrets[use.secret]?.keyHashes[use.key] ?? '';
  }
  return hashes;
}

/** The projection's metadata (named `name`: heldPlacedName), with the hash of its labels, owner and data keys' hashes. */
export function projectionMeta(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  sources: ProjectionSources,
  name: string,
): V1ObjectMeta {
  const metadata = placedMeta(tenant, pool, 'tenant', name);
  const hash = sha256(canonicalJson({ metadata, data: projectionKeyHashes(tenant, pool, sources) })).slice(
    0,
    32,
  );
  return { ...metadata, annotations: { [APPLIED_HASH_ANNOTATION]: hash } };
}

/**
 * The projection Secret itself. `values` holds the base64 value of every projected key, read from
 * the tenant's Secrets just before the write and never kept. `hostClaims`: when the tenant first
 * named each host (operator/host-claims.ts:hostClaimsToWrite), which the pool ranks hosts by.
 */
export function desiredProjection(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  sources: ProjectionSources,
  values: (use: SecretKeyUse) => string,
  hostClaims: HostClaims,
  name: string,
): V1Secret {
  const data: Record<string, string> = { [TENANT_KEY]: sources.document() };
  for (const use of projectedUses(tenant, pool, sources.secrets)) data[projectedKey(use)] = values(use);
  const metadata = projectionMeta(tenant, pool, sources, name);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...metadata,
      annotations: { ...metadata.annotations, [HOST_CLAIMS_ANNOTATION]: hostClaimsText(hostClaims) },
    },
    type: 'Opaque',
    data,
  };
}

/** The tenant's Ingress in the pool's namespace, named `name` (heldPlacedName), to the pool's Services (with spec.ingress). */
export function desiredPooledIngress(
  tenant: JsmSsoTenant,
  pool: JsmSsoPool & KubeObject,
  settings: Parameters<typeof poolContext>[1],
  name: string,
  routed: readonly Part[],
): V1Ingress | undefined {
  return tenantIngress(
    tenant,
    placedMeta(tenant, pool, 'ingress', name),
    poolContext(pool, settings, {}),
    routed,
  );
}

/** Whether the operator placed `object` for the tenant with this uid (never another's, never a stranger's). */
export function placedFor(object: KubeObject, tenantUid: string): boolean {
  const labels = object.metadata.labels ?? {};
  return labels['app.kubernetes.io/managed-by'] === MANAGED_BY && labels[TENANT_UID_LABEL] === tenantUid;
}
