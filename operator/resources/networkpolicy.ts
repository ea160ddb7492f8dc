import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import {
  type AnyContext,
  childName,
  MANAGEMENT_PORT,
  objectMeta,
  type Part,
  PUBLIC_PORT,
  selectorLabels,
  workloadOf,
} from './common.js';

/**
 * Default-deny ingress for a part's pods, except the public port from the ingress controller's
 * namespace and the management port from the metrics namespace (both operator flags).
 */
export function networkPolicyName(context: AnyContext, part: Part): string {
  return childName(workloadOf(context).owner, part);
}

/** The wire shape (client-node's model renames `from` to `_from`, which the REST API does not know). */
export interface NetworkPolicy {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: V1ObjectMeta;
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: string[];
    ingress: {
      from: { namespaceSelector: V1LabelSelector }[];
      ports: { port: number; protocol: string }[];
    }[];
  };
}

export function desiredNetworkPolicy(context: AnyContext, part: Part): NetworkPolicy {
  const { owner, settings } = workloadOf(context);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(owner, networkPolicyName(context, part), part),
    spec: {
      podSelector: { matchLabels: selectorLabels(owner, part) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: namespaceSelector(settings.ingressNamespaceLabels) }],
          ports: [{ port: PUBLIC_PORT, protocol: 'TCP' }],
        },
        {
          from: [{ namespaceSelector: namespaceSelector(settings.metricsNamespaceLabels) }],
          ports: [{ port: MANAGEMENT_PORT, protocol: 'TCP' }],
        },
      ],
    },
  };
}

/**
 * A selector in the form the API server stores: it drops an empty `matchLabels`, so emitting one
 * would make the drift check see a difference on every resync. No labels selects every namespace.
 */
export function namespaceSelector(labels: Record<string, string>): V1LabelSelector {
  return Object.keys(labels).length > 0 ? { matchLabels: labels } : {};
}
