import type { V1PodSecurityContext } from '@kubernetes/client-node';

/**
 * Who chooses the user, group and fsGroup the broker and portal pods run as (--pod-ids, ADR 0334).
 * `fixed` names 10001 for all three, as vanilla Kubernetes needs nothing else. `platform` names none,
 * for a platform that assigns them from the namespace's range and refuses any other: OpenShift's
 * restricted-v2 SCC (MustRunAsRange). The image runs under any UID with GID 0 (ADR 0328), its Secret
 * and ConfigMap files are mode 0644 (no defaultMode) and its /tmp an emptyDir (0777), so both work.
 */
export const POD_IDS = ['fixed', 'platform'] as const;
export type PodIds = (typeof POD_IDS)[number];

export const FIXED_ID = 10001;

export function isPodIds(value: string): value is PodIds {
  return (POD_IDS as readonly string[]).includes(value);
}

/** The IDs a pod's securityContext names: all three fixed, or none for the platform to assign. */
export function podIdentity(
  ids: PodIds | undefined,
): Pick<V1PodSecurityContext, 'runAsUser' | 'runAsGroup' | 'fsGroup'> {
  return ids === 'platform' ? {} : { runAsUser: FIXED_ID, runAsGroup: FIXED_ID, fsGroup: FIXED_ID };
}
