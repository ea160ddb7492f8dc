import { isNotFound, type KubeClient } from '../common/kube/client.js';
import { TENANT_DELETED_ANNOTATION, TENANT_DELETED_MARK } from '../common/pool/kube-source.js';
import type { Versioned } from './guarded-write.js';

/**
 * Marks the projection `over` (at `path`) as its tenant's deletion, just before the projection is
 * deleted: the pool's DELETED event carries the mark, and the pool purges the incarnation's keys from
 * its Redis (ADR 0390). A projection removed because its tenant moved (another pool, its own pods) or
 * stopped being taken is not marked: the tenant may go on using those keys in a Redis this pool shares.
 * A merge patch under `over`'s resourceVersion: a projection changed since is a 409, judged again by
 * the delete's guard; one gone since (404) needs no mark, and its delete finds it gone. The state the
 * delete is preconditioned on: the marked projection's.
 */
export async function markTenantDeleted(
  client: KubeClient,
  path: string,
  over: Versioned,
): Promise<Versioned> {
  try {
    return await client.request<Versioned>('PATCH', path, {
      body: {
        metadata: {
          resourceVersion: over.metadata?.resourceVersion,
          annotations: { [TENANT_DELETED_ANNOTATION]: TENANT_DELETED_MARK },
        },
      },
      contentType: 'application/merge-patch+json',
    });
  } catch (error) {
    if (isNotFound(error)) return over;
    throw error;
  }
}
