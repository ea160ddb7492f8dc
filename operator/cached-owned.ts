import type { KubeObject } from '../common/kube/client.js';
import type { InternedStrings } from './interned-strings.js';
import { KINDS } from './kube/kinds.js';
import { APPLIED_HASH_ANNOTATION, canonicalJson, sha256 } from './resources/common.js';
import { isPodCreationRefused, isStalledRollout } from './status.js';

/**
 * What the operator keeps of an object it made (the managed kinds, watched by their managed-by
 * label): what it reads of it, and a digest of the rest. Read: the identity (name, namespace, uid,
 * resourceVersion), the labels (a pooled tenant's Ingress is found and judged by them), the
 * controller ownerReference (ownership, pruning), the applied-hash annotation (the desired state it
 * was last applied from, drift.ts:needsApplyCached); of a Deployment, what its part's condition says
 * (metadata.generation, spec.replicas, and of its status the observed generation, the available
 * replicas, the Available condition, a Progressing condition that says the rollout stalled and a
 * ReplicaFailure condition that says its pods were refused, with the API server's answer).
 * Drift is not judged on the cached object: it holds the SHA-256 of the object's content (everything but its status, resourceVersion and managedFields,
 * which move without anyone changing what the operator set), and `AppliedStates` says which
 * desired state that content was last found to hold (ADR 0134). Used as the managed kinds' informer transform, so a
 * write's response (`remember`) is cut the same way as a watch event and the two compare equal.
 */
export interface CachedOwned extends KubeObject {
  /** `contentDigest` of the object as the API server last reported it. */
  contentDigest: string;
}

export function cachedOwned(object: KubeObject, strings: InternedStrings): CachedOwned {
  const { name, namespace, uid, resourceVersion, generation, labels, ownerReferences } = object.metadata;
  const appliedHash = object.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  const cached: CachedOwned = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name,
      namespace: namespace === undefined ? undefined : strings.of(namespace),
      uid,
      resourceVersion,
      ...(generation !== undefined ? { generation } : {}),
      ...(labels ? { labels: strings.deep(labels) } : {}),
      ...(appliedHash !== undefined ? { annotations: { [APPLIED_HASH_ANNOTATION]: appliedHash } } : {}),
      ...(ownerReferences ? { ownerReferences: strings.deep(ownerReferences) } : {}),
    },
    contentDigest: contentDigest(object),
  };
  if (object.kind === KINDS.deployment.kind) {
    cached['spec'] = deploymentSpecRead(object['spec']);
    cached['status'] = deploymentStatusRead(object['status'], strings);
  }
  return cached;
}

interface DeploymentStatus {
  observedGeneration?: number;
  availableReplicas?: number;
  conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
}

/** spec.replicas, which a part's condition message reports ("1/2 broker pods available"). */
function deploymentSpecRead(spec: unknown): { replicas?: number } {
  const replicas = (spec as { replicas?: number } | undefined)?.replicas;
  return replicas === undefined ? {} : { replicas };
}

/** What `status.ts:deploymentCondition` reads of a Deployment's status, and nothing else. */
function deploymentStatusRead(status: unknown, strings: InternedStrings): DeploymentStatus {
  const { observedGeneration, availableReplicas, conditions } = (status ?? {}) as DeploymentStatus;
  const available = conditions?.find((c) => c.type === 'Available');
  // Progressing only as far as it tells a stalled rollout (its reason moves at every step of one).
  const stalled = conditions?.find(isStalledRollout);
  const refused = conditions?.find(isPodCreationRefused);
  const read: NonNullable<DeploymentStatus['conditions']> = strings.deep([
    ...(available ? [{ type: available.type, status: available.status }] : []),
    ...(stalled ? [{ type: stalled.type, status: stalled.status, reason: stalled.reason }] : []),
  ]);
  // The refusal's message (the API server's answer) is this Deployment's own, naming its pods:
  // held as it is, not interned.
  if (refused)
    read.push({
      ...strings.deep({ type: refused.type, status: refused.status, reason: refused.reason }),
      message: refused.message ?? '',
    });
  return {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    ...(availableReplicas !== undefined ? { availableReplicas } : {}),
    ...(read.length > 0 ? { conditions: read } : {}),
  };
}

/**
 * The annotation the Deployment controller writes on every Deployment it rolls out (at its creation
 * and at each change of its pod template). No desired Deployment sets it, so needsApply never reads
 * it; left in the digest, it made every new Deployment be read whole once more.
 */
const DEPLOYMENT_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/**
 * SHA-256 (128 bits, hex) of everything `drift.ts:needsApply` could compare: the object but for what
 * no desired object sets and the API server or a controller moves on their own: its status, its
 * resourceVersion, generation and managedFields, and a Deployment's revision annotation (the API
 * server moves a Deployment's generation when its annotations change, too). A status update or a
 * rollout's revision number leaves it as it was; any edit of a field the operator sets changes it.
 */
export function contentDigest(object: KubeObject): string {
  const { status: _status, metadata, ...rest } = object;
  const { resourceVersion: _version, generation: _generation, managedFields: _fields, ...meta } = metadata;
  if (object.kind === KINDS.deployment.kind && meta.annotations?.[DEPLOYMENT_REVISION_ANNOTATION]) {
    const { [DEPLOYMENT_REVISION_ANNOTATION]: _revision, ...annotations } = meta.annotations;
    meta.annotations = annotations;
  }
  return sha256(canonicalJson({ ...rest, metadata: meta })).slice(0, 32);
}

/**
 * Which desired state each owned object's content was last found to hold: its content digest and
 * the desired object's applied hash, recorded when the operator's apply of that desired object
 * answered with it (the API server's answer is the desired state as stored, ADR 0227), or when
 * `needsApply` found the whole object, read again, to hold it. While the cached digest and the desired hash are
 * those recorded, the verdict stands without the whole object; when either moved (someone edited
 * the object, or the operator wants something else), the object is read again and judged afresh.
 * One entry per owned object, dropped with it.
 */
export class AppliedStates {
  private readonly held = new Map<string, string>();
  /**
   * Of each owned Deployment, the generation of the latest spec the operator wrote (ADR 0360): its
   * status speaks of the operator's spec once its observedGeneration reaches it. A later generation
   * is another manager's change (an autoscaler's or a person's scale, an annotation), which the
   * Deployment controller also has to observe but which rolls out nothing the operator asked for.
   */
  private readonly ownSpecs = new Map<string, number>();

  /**
   * Records that `live` (a whole object, not a cached one) holds `desired`: as the answer to the
   * operator's own write of it (`written`), or as read.
   */
  recordHeld(live: KubeObject, desired: KubeObject, written = false): void {
    const key = objectKey(live);
    this.held.set(key, `${contentDigest(live)} ${desiredHash(desired)}`);
    const generation = live.metadata.generation;
    if (live.kind !== KINDS.deployment.kind || generation === undefined) return;
    // Read after a restart, the operator's last write is not known: the spec read is taken as its own
    // once the Deployment controller has observed it, else each generation is awaited as before.
    const observed = (live['status'] as { observedGeneration?: number } | undefined)?.observedGeneration;
    if (written || (!this.ownSpecs.has(key) && (observed ?? 0) >= generation))
      this.ownSpecs.set(key, generation);
  }

  /** The generation of an owned Deployment's latest spec written by the operator; undefined when not known. */
  ownSpecGeneration(deployment: KubeObject): number | undefined {
    return this.ownSpecs.get(objectKey(deployment));
  }

  /** Whether `cached` (a cachedOwned form) is, by its content digest, an object recorded to hold `desired`. */
  holds(cached: KubeObject, desired: KubeObject): boolean {
    const digest = (cached as Partial<CachedOwned>).contentDigest;
    return digest !== undefined && this.held.get(objectKey(cached)) === `${digest} ${desiredHash(desired)}`;
  }

  forget(object: KubeObject): void {
    this.held.delete(objectKey(object));
    this.ownSpecs.delete(objectKey(object));
  }
}

function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
}

/** The desired object's applied hash (resources/index.ts:withAppliedHash), else its own hash. */
function desiredHash(desired: KubeObject): string {
  return (
    desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION] ?? sha256(canonicalJson(desired)).slice(0, 32)
  );
}
