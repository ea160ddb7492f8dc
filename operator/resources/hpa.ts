import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { type AnyContext, childName, objectMeta, type Part, workloadOf } from './common.js';
import { deploymentName } from './deployment.js';
import { partScale } from './pod-settings.js';

/**
 * With spec.<part>.autoscaling, a HorizontalPodAutoscaler scales the part's Deployment on CPU. The
 * Deployment is then applied without replicas, so the autoscaler alone owns that field and drift
 * repair never reverts it.
 */
export function hpaName(context: AnyContext, part: Part): string {
  return childName(workloadOf(context).owner, part);
}

export function desiredHorizontalPodAutoscaler(
  context: AnyContext,
  part: Part,
): V2HorizontalPodAutoscaler | undefined {
  const { autoscaling } = partScale(context, part);
  if (!autoscaling) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(workloadOf(context).owner, hpaName(context, part), part),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(context, part) },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}
