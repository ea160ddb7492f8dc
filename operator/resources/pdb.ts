import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { type AnyContext, childName, objectMeta, type Part, selectorLabels, workloadOf } from './common.js';
import { mayRunSeveral, partScale } from './pod-settings.js';

/** With more than one replica (or an autoscaler that may add them), voluntary disruptions (node drains) keep at least one pod serving. */
export function pdbName(context: AnyContext, part: Part): string {
  return childName(workloadOf(context).owner, part);
}

export function desiredPodDisruptionBudget(
  context: AnyContext,
  part: Part,
): V1PodDisruptionBudget | undefined {
  const { owner } = workloadOf(context);
  if (!mayRunSeveral(partScale(context, part))) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(owner, pdbName(context, part), part),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(owner, part) },
      // A pod that is not ready (crash-looping on a bad Secret) serves nobody: by default a budget
      // already spent would refuse its eviction too, and a node drain would wait on it for ever.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
