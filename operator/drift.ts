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
