import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import { childName, type DesiredContext, objectMeta, type Part, selectorLabels } from './common.js';
import { mayRunSeveral, partScale } from './pod-settings.js';

/** With more than one replica (or an autoscaler that may add them), voluntary disruptions (node drains) keep at least one pod serving. */
export function pdbName(context: DesiredContext, part: Part): string {
  return childName(context.tenant, part);
}

export function desiredPodDisruptionBudget(
  context: DesiredContext,
  part: Part,
): V1PodDisruptionBudget | undefined {
  const { tenant } = context;
  if (!mayRunSeveral(partScale(context, part))) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(tenant, pdbName(context, part), part),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(tenant, part) } },
  };
}
