import { GROUP_VERSION, KIND, PLURAL, POOL_KIND, POOL_PLURAL } from '../../common/config/crd-schema.js';

/**
 * The API resources the operator touches, with their REST paths. One table, so that the client,
 * the watches, RBAC (charts/jsm-sso/templates/rbac.yaml) and the tests agree on what is used.
 */
export interface ResourceKind {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

function kind(apiVersion: string, kindName: string, plural: string, namespaced = true): ResourceKind {
  return { apiVersion, kind: kindName, plural, namespaced };
}

export const KINDS = {
  tenant: kind(GROUP_VERSION, KIND, PLURAL),
  pool: kind(GROUP_VERSION, POOL_KIND, POOL_PLURAL),
  serviceAccount: kind('v1', 'ServiceAccount', 'serviceaccounts'),
  role: kind('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  roleBinding: kind('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  deployment: kind('apps/v1', 'Deployment', 'deployments'),
  job: kind('batch/v1', 'Job', 'jobs'),
  service: kind('v1', 'Service', 'services'),
  configMap: kind('v1', 'ConfigMap', 'configmaps'),
  secret: kind('v1', 'Secret', 'secrets'),
  ingress: kind('networking.k8s.io/v1', 'Ingress', 'ingresses'),
  networkPolicy: kind('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  podDisruptionBudget: kind('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  horizontalPodAutoscaler: kind('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  lease: kind('coordination.k8s.io/v1', 'Lease', 'leases'),
  event: kind('events.k8s.io/v1', 'Event', 'events'),
  crd: kind('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
  namespace: kind('v1', 'Namespace', 'namespaces', false),
} as const;

/** The kinds a tenant owns and the operator watches to undo drift. */
export const OWNED_KINDS: readonly ResourceKind[] = [
  KINDS.deployment,
  KINDS.service,
  KINDS.configMap,
  KINDS.ingress,
  KINDS.networkPolicy,
  KINDS.podDisruptionBudget,
  KINDS.horizontalPodAutoscaler,
];

/** The kinds only a pool owns: its pods' ServiceAccount and the Role that lets it read its namespace's Secrets. */
export const POOL_ONLY_KINDS: readonly ResourceKind[] = [KINDS.serviceAccount, KINDS.role, KINDS.roleBinding];

/** Every kind the operator makes for tenants and pools, watched (by the managed-by label) to undo drift. */
export const MANAGED_KINDS: readonly ResourceKind[] = [...OWNED_KINDS, ...POOL_ONLY_KINDS];

export function kindByName(kindName: string): ResourceKind | undefined {
  return Object.values(KINDS).find((k) => k.kind === kindName);
}

function prefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** `/apis/apps/v1/namespaces/ns/deployments`, or across namespaces without `namespace`. */
export function collectionPath(resource: ResourceKind, namespace?: string): string {
  const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix(resource.apiVersion)}${ns}/${resource.plural}`;
}

export function objectPath(resource: ResourceKind, namespace: string | undefined, name: string): string {
  return `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
}
