import type { KubeObject } from '../../common/kube/client.js';
import { APPLIED_HASH_ANNOTATION, canonicalJson, type DesiredContext, PARTS, sha256 } from './common.js';
import { desiredConfigMap } from './configmap.js';
import { desiredDeployment } from './deployment.js';
import { desiredHorizontalPodAutoscaler } from './hpa.js';
import { desiredIngress } from './ingress.js';
import { desiredNetworkPolicy } from './networkpolicy.js';
import { desiredPodDisruptionBudget } from './pdb.js';
import { desiredService } from './service.js';

/**
 * Every object a tenant owns, composed from the dependent resources. Each carries the hash of its
 * own desired state in an annotation, so the reconciler can tell "we changed our mind" (hash
 * differs) from "someone changed the object" (live differs from desired).
 */
export function desiredObjects(context: DesiredContext): KubeObject[] {
  const objects: unknown[] = [desiredConfigMap(context)];
  for (const part of PARTS) {
    objects.push(
      desiredDeployment(context, part),
      desiredService(context, part),
      desiredNetworkPolicy(context, part),
      desiredPodDisruptionBudget(context, part),
      desiredHorizontalPodAutoscaler(context, part),
    );
  }
  objects.push(desiredIngress(context));
  return objects.filter((o): o is KubeObject => o !== undefined).map(withAppliedHash);
}

export function withAppliedHash(object: KubeObject): KubeObject {
  const hash = sha256(canonicalJson(object)).slice(0, 32);
  return {
    ...object,
    metadata: {
      ...object.metadata,
      annotations: { ...object.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash },
    },
  };
}
