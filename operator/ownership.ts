import type { KubeObject } from '../common/kube/client.js';
import { KINDS } from './kube/kinds.js';

/**
 * Who controls a live object. The operator force-applies only over objects whose controller
 * ownerReference is the tenant itself (uid compared, not the name: a tenant deleted with
 * `--cascade=orphan` and created again is another tenant). An object of the same name that anyone
 * else made is left untouched, so a name clash can never hand another team's object to the
 * garbage collector or rewrite its fields.
 */
export type Ownership = { ours: true } | { ours: false; owner: string };

export function ownershipOf(live: KubeObject, tenantUid: string, ownerKind = KINDS.tenant.kind): Ownership {
  const controller = live.metadata.ownerReferences?.find((r) => r.controller);
  if (controller && controller.uid === tenantUid && controller.kind === ownerKind) return { ours: true };
  return { ours: false, owner: describeOwner(live) };
}

/** The owner in words for a condition message: its controller, else who wrote its fields. */
export function describeOwner(live: KubeObject): string {
  const controller = live.metadata.ownerReferences?.find((r) => r.controller);
  if (controller) return `controlled by ${controller.kind} ${controller.name} (uid ${controller.uid})`;
  const managers = [...new Set((live.metadata.managedFields ?? []).map((f) => f.manager).filter(Boolean))];
  return managers.length > 0
    ? `not owned by this tenant; written by field manager${managers.length > 1 ? 's' : ''} ${managers.join(', ')}`
    : 'not owned by this tenant';
}
