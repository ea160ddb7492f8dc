import type { V1Job } from '@kubernetes/client-node';
import { purgeDocumentYaml } from '../../common/config/purge-document.js';
import { POD_SECRETS_DIR } from '../../common/config/secrets.js';
import { TENANT_UID_LABEL } from '../../common/pool/kube-source.js';
import {
  CONFIG_DIR,
  CONFIG_FILE,
  childName,
  type DesiredContext,
  labels,
  selectorLabels,
  tenantNamespace,
} from './common.js';
import { TENANT_KEY } from './configmap.js';
import {
  presentKeys,
  RESTRICTED_CONTAINER_SECURITY,
  restrictedPodSecurity,
  secretVolumes,
} from './deployment.js';
import type { NetworkPolicy } from './networkpolicy.js';
import { podStorage } from './pod-storage.js';
import { redisKeys } from './secret-refs.js';

/**
 * The Job that deletes a deleted dedicated tenant's keys from its spec.redis (spec.redis.purgeOnDeletion,
 * ADR 0427): `jsm-sso purge` in the parts' image, with the document the parts read and the Redis
 * Secret keys they mount, hardened as they are.
 *
 * Nothing here is owned by the tenant: a foreground deletion has the garbage collector delete the
 * tenant's objects (its ConfigMap among them) while the finalizer still holds, and would take the Job
 * and what it reads with them. So the document travels in the pod's own annotation, projected as the
 * file the parts read (downward API), and the Job's NetworkPolicy is owned by the Job: deleting the
 * Job (the operator, once it has its answer, or ttlSecondsAfterFinished) takes its pod and policy.
 */
export const PURGE_COMPONENT = 'redis-purge';
/**
 * The pod's annotation holding the tenant's purge document, projected to CONFIG_FILE. The previous
 * release's Jobs carried the whole tenant under `jsm-sso.io/tenant-document`; a Job is judged by its
 * labels and status alone (redis-purge.ts:judgeJob), so one of those found at a deletion runs on.
 */
export const PURGE_DOCUMENT_ANNOTATION = 'jsm-sso.io/purge-document';
/** A pod running this long is stopped and the Job failed (DeadlineExceeded): a purge takes seconds. */
export const PURGE_ACTIVE_DEADLINE_SECONDS = 300;
/** Pods tried before the Job is failed (BackoffLimitExceeded): a Redis down stays down for a retry or two. */
export const PURGE_BACKOFF_LIMIT = 2;
/** A finished Job the operator could not delete goes on its own after this. */
export const PURGE_TTL_SECONDS_AFTER_FINISHED = 3600;

export function purgeJobName(context: Pick<DesiredContext, 'tenant'>): string {
  return childName(context.tenant, PURGE_COMPONENT);
}

export function desiredPurgeJob(context: DesiredContext): V1Job {
  const { tenant, settings, secrets } = context;
  const storage = podStorage(0);
  const secret = secretVolumes(presentKeys(redisKeys(tenant.spec.redis), secrets));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: purgeJobName(context),
      namespace: tenantNamespace(tenant),
      // The uid tells this incarnation's Job from one an earlier tenant of the name left.
      labels: { ...labels(tenant, PURGE_COMPONENT), [TENANT_UID_LABEL]: tenant.metadata?.uid ?? '' },
    },
    spec: {
      backoffLimit: PURGE_BACKOFF_LIMIT,
      activeDeadlineSeconds: PURGE_ACTIVE_DEADLINE_SECONDS,
      ttlSecondsAfterFinished: PURGE_TTL_SECONDS_AFTER_FINISHED,
      template: {
        metadata: {
          labels: labels(tenant, PURGE_COMPONENT),
          annotations: {
            [PURGE_DOCUMENT_ANNOTATION]: purgeDocumentYaml(tenant),
          },
        },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurity(settings),
          containers: [
            {
              name: PURGE_COMPONENT,
              image: settings.image,
              ...(settings.imagePullPolicy ? { imagePullPolicy: settings.imagePullPolicy } : {}),
              args: ['purge', '--config', CONFIG_FILE, '--secrets-dir', POD_SECRETS_DIR],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: RESTRICTED_CONTAINER_SECURITY,
              volumeMounts: [
                storage.mount,
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                ...secret.mounts,
              ],
            },
          ],
          volumes: [
            storage.volume,
            {
              name: 'config',
              downwardAPI: {
                items: [
                  {
                    path: TENANT_KEY,
                    fieldRef: { fieldPath: `metadata.annotations['${PURGE_DOCUMENT_ANNOTATION}']` },
                  },
                ],
              },
            },
            ...secret.volumes,
          ],
        },
      },
    },
  };
}

/**
 * Nothing comes in to the purge pod; what goes out is as free as the broker's pods' (the operator
 * writes no egress rules, ADR 0200), so it reaches the tenant's Redis wherever they do. Owned by the
 * Job, which `job` is as created (its uid).
 */
export function desiredPurgeNetworkPolicy(
  job: V1Job,
  context: Pick<DesiredContext, 'tenant'>,
): NetworkPolicy {
  const { tenant } = context;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: purgeJobName(context),
      namespace: tenantNamespace(tenant),
      labels: labels(tenant, PURGE_COMPONENT),
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          name: job.metadata!.name!,
          uid: job.metadata!.uid!,
          controller: true,
        },
      ],
    },
    spec: {
      podSelector: { matchLabels: selectorLabels(tenant, PURGE_COMPONENT) },
      policyTypes: ['Ingress'],
      ingress: [],
    },
  };
}
