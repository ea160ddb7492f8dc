/**
 * How much the portal's upload spool (portal/http/upload-spool.ts) may hold on disk at once, for the
 * operator to size the portal pod's /tmp: an emptyDir whose sizeLimit, once passed, makes the kubelet
 * evict the whole pod. Shared so that the portal's limits and the volume's size cannot drift apart.
 */

const MiB = 2 ** 20;

/** Files one form may send (a new request, or a comment). */
export const MAX_FILES_PER_FORM = 5;

/**
 * Folders the spool may hold per upload slot (ADR 0250): the one a form being read or sent on fills,
 * and one of a form that ended, whose removal has not finished (it follows the answer, and waits for a
 * file thread on a loaded machine). A form is refused once either kind reaches the slots' number.
 */
export const SPOOL_FOLDERS_PER_SLOT = 2;

/** Every folder the spool may hold (SPOOL_FOLDERS_PER_SLOT a slot), each with every file at the tenant's largest size. */
export function uploadSpoolBytes(limits: { maxConcurrentUploads: number; maxUploadBytes: number }): number {
  return SPOOL_FOLDERS_PER_SLOT * limits.maxConcurrentUploads * formSpoolBytes(limits);
}

/** The most one form's files put on disk: every file at the tenant's largest size. */
export function formSpoolBytes(limits: { maxUploadBytes: number }): number {
  return MAX_FILES_PER_FORM * limits.maxUploadBytes;
}

/** The largest spec.portal.limits.maxUploadBytes a tenant may set (crds/jsmssotenant.yaml). */
export const LARGEST_UPLOAD_BYTES = 100 * MiB;

/**
 * The least a pool's upload spool may hold (spec.portal.uploadSpool.maxMiB, ADR 0165): one form of
 * any tenant at the largest limits, so that no tenant's form is too large for its pool ever to take.
 */
export const POOL_UPLOAD_SPOOL_MIN_MIB = formSpoolBytes({ maxUploadBytes: LARGEST_UPLOAD_BYTES }) / MiB;

/** A pool's upload spool when its JsmSsoPool does not say (the CRD's default). */
export const POOL_UPLOAD_SPOOL_DEFAULT_MIB = 1024;

/** The most a pool's upload spool may be set to hold (1 TiB): beyond any node's disk. */
export const POOL_UPLOAD_SPOOL_MAX_MIB = 1024 * 1024;

export function mibToBytes(mib: number): number {
  return mib * MiB;
}

/** Whole MiB that hold `bytes`. */
export function bytesToMiB(bytes: number): number {
  return Math.ceil(bytes / MiB);
}
