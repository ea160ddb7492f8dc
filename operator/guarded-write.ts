import { isConflict, type KubeClient, type KubeObject } from '../common/kube/client.js';

/**
 * Writes the API server refuses once the object is no longer the one the operator judged. A
 * reconcile reads (its cache, or a GET), decides the object is its own (ownership.ts, the uid
 * label of a placed object) and then writes by name; between the two, someone may delete the
 * object and make another of that name, or change its ownerReference or labels. Judging again
 * just before the write only narrows that window: the guard is the API server's own check, a
 * precondition on the state that was judged (ADR 0166):
 * - an apply or a replace carries the judged `metadata.resourceVersion`, which moves with any
 *   change to the object (its owner, its labels) and is never that of another object;
 * - an apply into a name judged free carries `NAME_FREE`, so it creates and never merges into an
 *   object made meanwhile;
 * - a delete carries DeleteOptions preconditions `{uid, resourceVersion}`.
 * A refused write (409 Conflict) is judged afresh on the object read again: written over when it
 * is still (or again) this owner's, left untouched when it is not.
 */

/**
 * A resourceVersion no object has (etcd's first write is revision 2): an apply carrying it creates
 * the object when the name is free and is refused with 409 when anything holds the name. A create
 * with apply's field ownership (fields later dropped from the desired state are removed), as
 * java-operator-sdk creates dependents; kube-apiserver honours it for every kind since 1.23
 * (kubernetes/kubernetes#106745), below the chart's floor of 1.28.
 */
export const NAME_FREE = '1';

/** How often a write is judged afresh after a 409 before the conflict is returned (a retry with backoff). */
const ATTEMPTS = 3;

/** What a precondition is made of: the object's uid and resourceVersion, as read. */
export interface Versioned {
  metadata?: { uid?: string; resourceVersion?: string };
}

/** What to do with the object a refused write meets once read again. */
export type Verdict = 'write' | 'done' | 'foreign';

export type Guarded<T> =
  | { written: T }
  /** Nothing left to write: the object is gone, or already as wanted. */
  | { done: true }
  /** The name is held by an object this owner does not (or no longer) own: left untouched. */
  | { foreign: KubeObject };

/**
 * Runs `write` over `judged` (undefined: the name was judged free); when the API server refuses it
 * with 409 because the object changed, reads it again (`read`: the whole object unless said
 * otherwise) and asks `judge`: write over the new state, stop (`done`), or leave it to its owner
 * (`foreign`). `judge` sees undefined for a name now free.
 */
export async function guardedWrite<T, J extends Versioned>(
  client: KubeClient,
  path: string,
  judged: J | undefined,
  write: (over: J | KubeObject | undefined) => Promise<T>,
  judge: (live: KubeObject | undefined) => Verdict,
  read: (path: string) => Promise<KubeObject | undefined> = (p) => client.get<KubeObject>(p),
): Promise<Guarded<T>> {
  let over: J | KubeObject | undefined = judged;
  for (let attempt = 1; ; attempt++) {
    try {
      return { written: await write(over) };
    } catch (error) {
      if (!isConflict(error) || attempt === ATTEMPTS) throw error;
    }
    over = await read(path);
    const verdict = judge(over);
    if (verdict === 'foreign') return { foreign: over! };
    if (verdict === 'done') return { done: true };
  }
}

/** `object` to be written over `over` as judged (its resourceVersion), or, applied, into a free name only. */
export function preconditioned<T extends { metadata?: object }>(object: T, over: Versioned | undefined): T {
  return {
    ...object,
    metadata: { ...object.metadata, resourceVersion: over?.metadata?.resourceVersion ?? NAME_FREE },
  };
}

/** Deletes `over` only while it is that object in that version (404 is no failure: it is gone). */
export function deleteJudged(client: KubeClient, path: string, over: Versioned): Promise<void> {
  const { uid, resourceVersion } = over.metadata ?? {};
  return client.delete(path, {}, { uid, resourceVersion });
}

/** The judge of the tenant or pool itself: the same object (by uid) is written again, another left. */
export function sameObject(owner: Versioned): (live: KubeObject | undefined) => Verdict {
  return (live) => (!live ? 'done' : live.metadata.uid === owner.metadata?.uid ? 'write' : 'foreign');
}

/** A tenant or pool found replaced by another object of its name, in words for the log line. */
export function replacedOwner(live: KubeObject, read: Versioned): string {
  return `${describeObject(live)}, another object than the one reconciled (uid ${read.metadata?.uid})`;
}

/** An object's identity for a log line or a message: kind, namespace/name and uid. */
export function describeObject(object: KubeObject): string {
  const { namespace, name, uid } = object.metadata;
  return `${object.kind ?? 'object'} ${namespace ? `${namespace}/` : ''}${name} (uid ${uid})`;
}
