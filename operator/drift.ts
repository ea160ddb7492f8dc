import type { KubeObject } from '../common/kube/client.js';
import { LIST_SEMANTICS } from './kube/list-semantics.js';
import { APPLIED_HASH_ANNOTATION } from './resources/common.js';

/**
 * Whether applying `desired` would change `live`. The live object has server defaults and other
 * managers' fields, so equality is too strict; instead every field we set must be present with
 * our value (atomic lists compared item by item, same length; lists merged by key or as a set by
 * their items, `contains`),
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
  return !contains(live, desired, desired.kind);
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
 * True when every value in `subset` appears, equal, at the same place in `value`. `path` names where
 * `subset` stands (the kind, then its fields, `[]` for a list's item: `Deployment.spec.template.spec.containers`),
 * for the merge server-side apply uses there (kube/list-semantics.ts, from the API server's OpenAPI): a list
 * merged by keys (containers, env, volumes, a container's or a Service's ports) or as a set holds other
 * managers' items, which the operator's apply neither removes nor owns, so they are no drift, and an item is
 * found by its keys (a key left out by its default, a port's `TCP`), not its place. Every other list, and a map
 * or struct the OpenAPI calls atomic (a Service's selector, a label selector), is replaced whole by the apply:
 * it must match item by item, and what another manager added inside it (`whole`: a key of the selector, an
 * `endPort` on a NetworkPolicy rule's port) is drift the apply undoes. An empty string matches a missing value
 * unless its object is one of STRING_MAPS.
 */
export function contains(value: unknown, subset: unknown, path = '', whole = false): boolean {
  if (subset === null || typeof subset !== 'object')
    return value === subset || String(value) === String(subset);
  const merge = LIST_SEMANTICS[path];
  if (Array.isArray(subset)) {
    if (!Array.isArray(value)) return false;
    const item = `${path}[]`;
    if (merge && 'list' in merge && merge.list === 'map')
      return subset.every((want) => contains(itemByKeys(value, merge.keys, want), want, item, whole));
    if (merge && 'list' in merge)
      return subset.every((want) => value.some((v) => contains(v, want, item, whole)));
    return value.length === subset.length && subset.every((want, i) => contains(value[i], want, item, true));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const wanted = subset as Record<string, unknown>;
  const replaced = whole || (merge !== undefined && 'atomic' in merge);
  if (replaced && Object.keys(record).some((k) => wanted[k] === undefined)) return false;
  const field = path.slice(path.lastIndexOf('.') + 1);
  const dropsEmpty = !STRING_MAPS.has(field);
  return Object.entries(wanted).every(
    ([k, v]) =>
      v === undefined ||
      (v === '' && dropsEmpty && record[k] === undefined) ||
      contains(record[k], v, `${path}.${k}`, replaced),
  );
}

/** The item of `list` whose `keys` are those of `item`, a key left out taking its default. */
function itemByKeys(list: unknown[], keys: Readonly<Record<string, unknown>>, item: unknown): unknown {
  const keyOf = (v: Record<string, unknown>, key: string) => v[key] ?? keys[key];
  const want = item as Record<string, unknown>;
  return list.find(
    (v) =>
      v !== null &&
      typeof v === 'object' &&
      Object.keys(keys).every((key) => keyOf(v as Record<string, unknown>, key) === keyOf(want, key)),
  );
}
