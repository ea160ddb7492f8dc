import type { KubeObject } from '../common/kube/client.js';
import { APPLIED_HASH_ANNOTATION } from './resources/common.js';

/**
 * Whether applying `desired` would change `live`. The live object has server defaults and other
 * managers' fields, so equality is too strict; instead every field we set must be present with
 * our value (lists compared item by item, same length), and the applied-hash annotation must
 * match (it changes when we stop setting a field, which a subset check cannot see).
 */
export function needsApply(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return true;
  const want = desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  if (live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== want) return true;
  return !contains(live, desired);
}

/**
 * `needsApply` as far as the cache can tell it of an object the owner controls (cached-owned.ts
 * keeps its identity, its applied hash and a digest of its content, not the content): false when
 * its content is the one recorded to hold `desired`; true when it was applied from another desired
 * state (needsApply's first check, on the same annotation); undefined when only the whole object
 * can tell (edited since, or not judged since the operator started): the caller reads it.
 */
export function needsApplyCached(
  desired: KubeObject,
  cached: KubeObject,
  holds: (cached: KubeObject, desired: KubeObject) => boolean,
): boolean | undefined {
  if (holds(cached, desired)) return false;
  const want = desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  if (cached.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== want) return true;
  return undefined;
}

/** True when every value in `subset` appears, equal, at the same place in `value`. */
export function contains(value: unknown, subset: unknown): boolean {
  if (subset === null || typeof subset !== 'object')
    return value === subset || String(value) === String(subset);
  if (Array.isArray(subset)) {
    return (
      Array.isArray(value) &&
      value.length === subset.length &&
      subset.every((item, i) => contains(value[i], item))
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Object.entries(subset as Record<string, unknown>).every(
    ([k, v]) => v === undefined || contains(record[k], v),
  );
}
