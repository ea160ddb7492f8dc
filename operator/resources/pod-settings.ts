import type {
  V1Affinity,
  V1PodSpec,
  V1ResourceRequirements,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import type { AutoscalingSpec, TenantPodSettings } from '../../common/config/tenant.generated.js';
import { type AnyContext, type Part, selectorLabels, workloadOf } from './common.js';
import { canonicalQuantities } from './quantity.js';

/**
 * A part's pod settings: the operator-wide defaults (the chart's tenantPodDefaults, passed as
 * --tenant-pod-defaults) with the tenant's spec.<part>.pod over them. A field the tenant sets
 * replaces the default; labels and annotations merge key by key, the tenant's value winning.
 */

/** Sizing used when neither the chart nor the tenant gives resources. */
export const DEFAULT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
};

export interface PartScale {
  replicas?: number;
  autoscaling?: AutoscalingSpec;
}

export function partScale(context: AnyContext, part: Part): PartScale {
  const { replicas, autoscaling } = workloadOf(context).parts[part];
  return { ...(replicas !== undefined ? { replicas } : {}), ...(autoscaling ? { autoscaling } : {}) };
}

/** Whether the part may run more than one pod, so spreading and a disruption budget matter. */
export function mayRunSeveral(scale: PartScale): boolean {
  return scale.autoscaling ? scale.autoscaling.maxReplicas >= 2 : (scale.replicas ?? 1) >= 2;
}

type StringMap = Record<string, string>;

/** Settings after merging; the maps hold no undefined values (the schema allows none). */
export interface PodSettings
  extends Omit<TenantPodSettings, 'podLabels' | 'podAnnotations' | 'nodeSelector'> {
  podLabels: StringMap;
  podAnnotations: StringMap;
  nodeSelector?: StringMap;
}

export function effectivePodSettings(context: AnyContext, part: Part): PodSettings {
  const defaults = context.settings.podDefaults ?? {};
  const own = workloadOf(context).parts[part].pod ?? {};
  return {
    ...(defaults as PodSettings),
    ...(own as PodSettings),
    podLabels: { ...defaults.podLabels, ...own.podLabels } as StringMap,
    podAnnotations: { ...defaults.podAnnotations, ...own.podAnnotations } as StringMap,
  };
}

/** Spread across nodes and zones; ScheduleAnyway, so a single-node or single-zone cluster still runs every pod. */
function defaultSpread(): V1TopologySpreadConstraint[] {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    // Counts only the pods of the current rollout, so an old ReplicaSet does not skew the new one.
    matchLabelKeys: ['pod-template-hash'],
  }));
}

/** Scheduling fields of the pod spec, with the part's own pods as the default spread selector. */
export function podPlacement(
  context: AnyContext,
  part: Part,
  settings: PodSettings,
): Pick<
  V1PodSpec,
  | 'nodeSelector'
  | 'tolerations'
  | 'affinity'
  | 'topologySpreadConstraints'
  | 'priorityClassName'
  | 'imagePullSecrets'
> {
  const spread: V1TopologySpreadConstraint[] | undefined = nonEmpty(settings.topologySpreadConstraints)
    ? (settings.topologySpreadConstraints as V1TopologySpreadConstraint[])
    : mayRunSeveral(partScale(context, part))
      ? defaultSpread()
      : undefined;
  const selector = { matchLabels: selectorLabels(workloadOf(context).owner, part) };
  return {
    ...(nonEmpty(settings.imagePullSecrets) ? { imagePullSecrets: settings.imagePullSecrets } : {}),
    ...(nonEmpty(settings.nodeSelector) ? { nodeSelector: settings.nodeSelector } : {}),
    ...(nonEmpty(settings.tolerations) ? { tolerations: settings.tolerations } : {}),
    // The CRD's affinity is core/v1 Affinity's shape; its generated maps only index as possibly undefined.
    ...(nonEmpty(settings.affinity) ? { affinity: settings.affinity as V1Affinity } : {}),
    ...(spread ? { topologySpreadConstraints: spread.map((c) => ({ labelSelector: selector, ...c })) } : {}),
    ...(settings.priorityClassName ? { priorityClassName: settings.priorityClassName } : {}),
  };
}

/** The part's requests and limits, each quantity as the API server stores it (quantity.ts). */
export function podResources(settings: PodSettings): V1ResourceRequirements {
  const resources = nonEmpty(settings.resources)
    ? (settings.resources as V1ResourceRequirements)
    : DEFAULT_RESOURCES;
  const { requests, limits, ...rest } = resources;
  return {
    ...rest,
    ...(requests ? { requests: canonicalQuantities(requests) } : {}),
    ...(limits ? { limits: canonicalQuantities(limits) } : {}),
  };
}

function nonEmpty(value: object | undefined): value is object {
  return value !== undefined && Object.keys(value).length > 0;
}
