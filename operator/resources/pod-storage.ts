import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { bytesToMiB } from '../../common/upload-spool-size.js';
import { canonicalQuantity } from './quantity.js';

/**
 * What a part's pod writes to the node's disk (ADR 0161, 0165). The root filesystem is read-only, so
 * a pod writes only its /tmp emptyDir and its container log. The emptyDir's sizeLimit is the upload
 * spool plus a base: past it the kubelet evicts the pod. No ephemeral-storage request or limit is set
 * by default: a node whose kubelet runs without local storage capacity isolation (rootless and
 * nested clusters, this project's CI node) reports no ephemeral-storage, and the scheduler then
 * places no pod that requests any ("Insufficient ephemeral-storage"; ADR 0165, amended). A platform
 * that wants the scheduler to count the disk names it in the pod's resources.
 */

/** /tmp of a part that spools nothing: Node and its libraries write nothing there themselves. */
export const TMP_BASE_MIB = 64;

export interface PodStorage {
  volume: V1Volume;
  mount: V1VolumeMount;
}

/** /tmp for a part that spools up to `spoolBytes` of uploads (0: none). */
export function podStorage(spoolBytes: number): PodStorage {
  const tmpMiB = TMP_BASE_MIB + bytesToMiB(spoolBytes);
  return {
    // As the API server stores it (1024Mi is 1Gi), or drift would see it changed on every resync.
    volume: { name: 'tmp', emptyDir: { sizeLimit: canonicalQuantity(`${tmpMiB}Mi`) } },
    mount: { name: 'tmp', mountPath: '/tmp' },
  };
}
