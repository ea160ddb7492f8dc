/**
 * How much the portal's upload spool (portal/http/upload-spool.ts) may hold on disk at once, for the
 * operator to size the portal pod's /tmp: an emptyDir whose sizeLimit, once passed, makes the kubelet
 * evict the whole pod. Shared so that the portal's limit and the volume's size cannot drift apart.
 */

/** Files one form may send (a new request, or a comment). */
export const MAX_FILES_PER_FORM = 5;

/** Every upload slot in use, each with every file at the tenant's largest size. */
export function uploadSpoolBytes(limits: { maxConcurrentUploads: number; maxUploadBytes: number }): number {
  return limits.maxConcurrentUploads * MAX_FILES_PER_FORM * limits.maxUploadBytes;
}
