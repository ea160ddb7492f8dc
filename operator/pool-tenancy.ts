import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import type { KubeObject } from '../common/kube/client.js';
import type { OperatorReason } from './errors.js';
import { tenantNamespace } from './resources/common.js';
import type { ConditionInput } from './status.js';

/**
 * The pool's side of a placement (ADR 0213). A tenant names its pool, but the operator, which may
 * write in every namespace it watches, acts on that name: without the pool's consent anyone who may
 * edit a JsmSsoTenant in one namespace had the operator copy keys and make an Ingress in the pool's,
 * claim hosts there before the pool's own tenants, and run its configuration in the pool's pods (a
 * confused deputy). The pool says which namespaces it takes, in Gateway API's words
 * (allowedRoutes.namespaces: from Same, All or Selector); the operator checks it before it writes
 * anything for the tenant.
 */
export const NAMESPACE_NOT_ALLOWED_REASON: OperatorReason = 'NamespaceNotAllowed';

type NamespacePolicy = JsmSsoPool['spec']['tenants']['namespaces'];
type LabelSelector = NonNullable<NamespacePolicy['selector']>;
type Labels = Record<string, string | undefined>;

/** The CRD's default: a pool takes the tenants of its own namespace only (Gateway API's default too). */
const DEFAULT_POLICY: NamespacePolicy = { from: 'Same' };

/**
 * PoolReady for a tenant its pool does not take, or undefined when the pool takes it.
 * `namespaceLabels` are the labels of the tenant's namespace, undefined when the operator has not
 * seen the namespace (yet): a selector then takes nothing, and the namespace's arrival requeues
 * the tenant. A pool object without a policy (a client that skipped the API server's defaulting)
 * gets the CRD's default, never a wider one.
 */
export function tenancyRefusal(
  pool: JsmSsoPool & KubeObject,
  tenant: JsmSsoTenant,
  namespaceLabels: Labels | undefined,
): ConditionInput | undefined {
  const policy = pool.spec.tenants?.namespaces ?? DEFAULT_POLICY;
  const namespace = tenantNamespace(tenant);
  const poolNamespace = pool.metadata.namespace ?? '';
  if (policy.from === 'All') return undefined;
  if (policy.from === 'Same' && namespace === poolNamespace) return undefined;
  // As Gateway API's Selector: by labels alone, the pool's own namespace included only if it matches.
  if (policy.from === 'Selector' && namespaceLabels && selects(policy.selector ?? {}, namespaceLabels))
    return undefined;
  const takes =
    policy.from === 'Selector'
      ? `takes tenants of the namespaces its spec.tenants.namespaces.selector matches, and namespace ${namespace} ${namespaceLabels ? 'does not match it' : 'is not known to the operator yet'}`
      : `takes tenants of its own namespace only (spec.tenants.namespaces.from ${policy.from}), not of namespace ${namespace}`;
  return {
    status: 'False',
    reason: NAMESPACE_NOT_ALLOWED_REASON,
    message: `JsmSsoPool ${poolNamespace}/${pool.metadata.name} ${takes}; nothing of this tenant is placed there. The pool's owner may allow the namespace (spec.tenants.namespaces), or place this tenant in a pool that takes it`,
  };
}

type Operator = NonNullable<LabelSelector['matchExpressions']>[number]['operator'];

/** Whether a label's value (undefined: the label is absent) meets an expression, as Kubernetes reads it. */
const MEETS: Record<Operator, (value: string | undefined, values: string[]) => boolean> = {
  In: (value, values) => value !== undefined && values.includes(value),
  NotIn: (value, values) => value === undefined || !values.includes(value),
  Exists: (value) => value !== undefined,
  DoesNotExist: (value) => value === undefined,
};

/** Kubernetes label selector semantics: every matchLabels pair and every expression; `{}` selects all. */
export function selects(selector: LabelSelector, labels: Labels): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) =>
      MEETS[operator](labels[key], values),
    )
  );
}
