import type { V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { bytesToMiB } from '../../common/upload-spool-size.js';

/**
 * What a part's pod writes to the node's disk, and what it tells the scheduler and the kubelet of it
 * (ADR 0161, 0165). The root filesystem is read-only, so a pod writes only its /tmp emptyDir and
 * its container log. The emptyDir's sizeLimit is the upload spool plus a base: past it the kubelet
 * evicts the pod. The container's ephemeral-storage request and limit are that volume plus the log:
 * the scheduler then places the pod where its disk is free, node-pressure eviction does not rank it
 * first (a pod is ranked by how far its use exceeds its request), a namespace whose ResourceQuota
 * counts ephemeral-storage admits it, and a LimitRange's default cannot put a smaller limit on it.
 */

/** /tmp of a part that spools nothing: Node and its libraries write nothing there themselves. */
export const TMP_BASE_MIB = 64;

/**
 * The container's log as the kubelet keeps it by default (containerLogMaxFiles 5 of
 * containerLogMaxSize 10Mi), with room for the file being rotated.
 */
export const LOG_MIB = 64;

export interface PodStorage {
  volume: V1Volume;
  mount: V1VolumeMount;
  /** The container's ephemeral-storage request and limit: the volume and the log. */
  ephemeralStorage: string;
}

/** /tmp for a part that spools up to `spoolBytes` of uploads (0: none), and the disk the pod uses in all. */
export function podStorage(spoolBytes: number): PodStorage {
  const tmpMiB = TMP_BASE_MIB + bytesToMiB(spoolBytes);
  return {
    volume: { name: 'tmp', emptyDir: { sizeLimit: `${tmpMiB}Mi` } },
    mount: { name: 'tmp', mountPath: '/tmp' },
    ephemeralStorage: `${tmpMiB + LOG_MIB}Mi`,
  };
}

const EPHEMERAL_STORAGE = 'ephemeral-storage';

/**
 * `resources` with the pod's ephemeral-storage as request and limit, unless they name
 * ephemeral-storage themselves (the chart's tenantPodDefaults or spec.<part>.pod.resources): then
 * theirs stands whole, since adding only the half they left out could put a request above a limit.
 */
export function withEphemeralStorage(
  resources: V1ResourceRequirements,
  ephemeralStorage: string,
): V1ResourceRequirements {
  if (
    resources.requests?.[EPHEMERAL_STORAGE] !== undefined ||
    resources.limits?.[EPHEMERAL_STORAGE] !== undefined
  )
    return resources;
  return {
    ...resources,
    requests: { ...resources.requests, [EPHEMERAL_STORAGE]: ephemeralStorage },
    limits: { ...resources.limits, [EPHEMERAL_STORAGE]: ephemeralStorage },
  };
}
