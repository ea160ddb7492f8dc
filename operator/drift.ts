import type { KubeObject } from '../common/kube/client.js';
import { APPLIED_HASH_ANNOTATION } from './resources/common.js';

/**
 * Whether applying `desired` would change `live`. The live object has server defaults and other
 * managers' fields, so equality is too strict; instead every field we set must be present with
 * our value (atomic lists compared item by item, same length; map-type lists by keys, `contains`),
 * and the applied-hash annotation must match (it changes when we stop setting a field, which a
 * subset check cannot see). What the API server stores otherwise than written (a non-canonical
 * quantity, a value it drops) still differs here: the answer to an apply is recorded as holding
 * `desired` whatever it says (apply.ts:rememberApplied), so such a difference costs one apply, not
 * one per resync.
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

/**
 * Lists that server-side apply merges item by item, by these keys (`+listType=map` in the Kubernetes
 * API): another field manager's items in them (`kubectl set env` adds one to `env`, `kubectl patch` a
 * port to a Service) are that manager's, which the operator's apply neither removes nor owns, so they
 * are no drift, and an item is found by its keys, not its place. A list is named by its field, or by
 * `<parent>.<field>` where the field name means an atomic list elsewhere: a Service's `spec.ports`
 * (keyed by port and protocol, which the operator's ports always name; ADR 0370), not a NetworkPolicy
 * rule's `ports`. Other lists are atomic: the operator's apply replaces them whole, so they must match
 * item by item.
 */
const MERGE_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  'spec.ports': ['port', 'protocol'],
};

function mergeKeysOf(field: string | undefined, parent: string | undefined): readonly string[] | undefined {
  if (field === undefined) return undefined;
  return MERGE_KEYS[`${parent}.${field}`] ?? MERGE_KEYS[field];
}

/**
 * Maps of strings, which the API server keeps as written, an empty value included (a label `a: ""`,
 * a ConfigMap key holding nothing). Elsewhere an empty string is a struct field it drops (Go's
 * omitempty: a toleration's `value: ""`).
 */
const STRING_MAPS = new Set([
  'data',
  'binaryData',
  'stringData',
  'labels',
  'annotations',
  'matchLabels',
  'nodeSelector',
  'selector',
]);

/**
 * True when every value in `subset` appears, equal, at the same place in `value` (an item of a
 * map-type list under the same keys). `field` is the name `subset` stands under, `parent` the name
 * its object stands under (none for a list's item): an empty string matches a missing value unless
 * its object is one of STRING_MAPS.
 */
export function contains(value: unknown, subset: unknown, field?: string, parent?: string): boolean {
  if (subset === null || typeof subset !== 'object')
    return value === subset || String(value) === String(subset);
  if (Array.isArray(subset)) {
    if (!Array.isArray(value)) return false;
    const keys = mergeKeysOf(field, parent);
    if (keys) return subset.every((item) => contains(itemByKeys(value, keys, item), item));
    return value.length === subset.length && subset.every((item, i) => contains(value[i], item));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const dropsEmpty = field === undefined || !STRING_MAPS.has(field);
  return Object.entries(subset as Record<string, unknown>).every(
    ([k, v]) =>
      v === undefined ||
      (v === '' && dropsEmpty && record[k] === undefined) ||
      contains(record[k], v, k, field),
  );
}

/** The item of `list` whose `keys` are those of `item`. */
function itemByKeys(list: unknown[], keys: readonly string[], item: unknown): unknown {
  const want = item as Record<string, unknown> | null;
  return list.find(
    (v) =>
      v !== null &&
      typeof v === 'object' &&
      keys.every((key) => (v as Record<string, unknown>)[key] === want?.[key]),
  );
}
