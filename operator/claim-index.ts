/** A member of a ClaimIndex: its keys now and its latest value. */
interface Standing<V> {
  value: V;
  keys: readonly string[];
}

/**
 * Who stands under which claim key (host-claims.ts): a many-to-many index of members (a tenant, a
 * projection) by the keys each has now, a member standing under each of its keys with its latest
 * value. The controller keeps two, the tenants whose spec names a host name and the projections that
 * claim one, and requeues whom a change concerns from the keys `set` says changed. A key holds an
 * array, not a Map: it has one member or a few, and one entry per pooled tenant each is what this
 * costs (ADR 0235: about 0.3 KB per member with two keys, half what a Set per key took).
 */
export class ClaimIndex<V> {
  readonly #byKey = new Map<string, Standing<V>[]>();
  readonly #members = new Map<string, Standing<V>>();

  /**
   * Gives `member` these keys (none: it leaves) and `value`. Returns the keys whose members changed:
   * those it joined or left, and those it stays under when its value is not `same` as before.
   */
  set(member: string, keys: readonly string[], value: V, same: (before: V, now: V) => boolean): string[] {
    const before = this.#members.get(member);
    const kept = before?.keys ?? [];
    const moved = before !== undefined && !same(before.value, value);
    if (before && kept.length === keys.length && keys.every((key, i) => key === kept[i])) {
      // The usual reconcile or resync: the same keys, in place.
      before.value = value;
      return moved ? [...keys] : [];
    }
    if (before) for (const key of kept) this.#leave(key, before);
    if (keys.length > 0) {
      const standing = { value, keys };
      this.#members.set(member, standing);
      for (const key of keys) {
        const others = this.#byKey.get(key);
        if (others) others.push(standing);
        else this.#byKey.set(key, [standing]);
      }
    } else this.#members.delete(member);
    return [
      ...kept.filter((key) => moved || !keys.includes(key)),
      ...keys.filter((key) => !kept.includes(key)),
    ];
  }

  /** The values of the members standing under `key`. */
  under(key: string): V[] {
    return (this.#byKey.get(key) ?? []).map((standing) => standing.value);
  }

  #leave(key: string, standing: Standing<V>): void {
    const rest = (this.#byKey.get(key) ?? []).filter((other) => other !== standing);
    if (rest.length > 0) this.#byKey.set(key, rest);
    else this.#byKey.delete(key);
  }
}
