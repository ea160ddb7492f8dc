/**
 * How server-side apply merges a list or a map of an object (Kubernetes' `x-kubernetes-list-type`,
 * `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`), as operator/kube/list-semantics.ts lists
 * them by path. A list it does not name is atomic: replaced whole by an apply.
 * - `list: 'map'`: merged item by item, an item found by its `keys`; each key with the value the API
 *   server fills in when it is left out (a port's protocol, `TCP`), else null.
 * - `list: 'set'`: merged value by value.
 * - `atomic: 'map'`: a map or struct replaced whole.
 */
export type Merge =
  | { list: 'map'; keys: Readonly<Record<string, string | number | null>> }
  | { list: 'set' }
  | { atomic: 'map' };
