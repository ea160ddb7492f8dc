import type {
  V1Deployment,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { POD_SECRETS_DIR } from '../../common/config/secrets.js';
import { KEEP_ALIVE_SECONDS } from '../../common/http/server.js';
import { DEFAULT_DRAIN_SECONDS, terminationGraceSeconds } from '../../common/http/shutdown.js';
import { uploadSpoolBytes } from '../../common/upload-spool-size.js';
import {
  type AnyContext,
  CONFIG_DIR,
  CONFIG_FILE,
  CONFIG_HASH_ANNOTATION,
  canonicalJson,
  childName,
  type DesiredContext,
  labels,
  MANAGEMENT_PORT,
  type OperatorSettings,
  objectMeta,
  type Part,
  PUBLIC_PORT,
  type SecretFacts,
  selectorLabels,
  sha256,
  workloadOf,
} from './common.js';
import { certificateKey, configMapName, desiredConfigMap, TENANT_KEY } from './configmap.js';
import { podIdentity } from './pod-ids.js';
import { effectivePodSettings, partScale, podPlacement, podResources } from './pod-settings.js';
import { podStorage } from './pod-storage.js';
import { type SecretKeyUse, secretKeysFor, signingSecretName } from './secret-refs.js';

/**
 * A part's Deployment. The pod reads only what its part needs (see secret-refs.ts), runs as a
 * non-root user on a read-only root filesystem without capabilities or a service account token,
 * and carries a hash of everything it reads so that a changed Secret or ConfigMap rolls it.
 */
export function deploymentName(context: AnyContext, part: Part): string {
  return childName(workloadOf(context).owner, part);
}

const OTHER: Record<Part, Part> = { broker: 'portal', portal: 'broker' };

/** The Secret keys actually mounted: optional keys only when the Secret has them. */
export function mountedSecretKeys(context: DesiredContext, part: Part): SecretKeyUse[] {
  return presentKeys(secretKeysFor(context.tenant, part), context.secrets);
}

/** The uses whose key exists, or must exist (optional keys drop out when absent). */
export function presentKeys(uses: SecretKeyUse[], secrets: Record<string, SecretFacts>): SecretKeyUse[] {
  return uses.filter((use) => !use.optional || secrets[use.secret]?.keyHashes[use.key] !== undefined);
}

/** One volume per Secret with only the keys used, at `<secrets dir>/<secret>/<key>`. */
export function secretVolumes(
  uses: SecretKeyUse[],
  first = 0,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const bySecret = new Map<string, string[]>();
  for (const use of uses) bySecret.set(use.secret, [...(bySecret.get(use.secret) ?? []), use.key]);
  [...bySecret.entries()].forEach(([secret, keys], i) => {
    const name = `secret-${first + i}`;
    volumes.push({ name, secret: { secretName: secret, items: keys.map((key) => ({ key, path: key })) } });
    mounts.push({ name, mountPath: `${POD_SECRETS_DIR}/${secret}`, readOnly: true });
  });
  return { volumes, mounts };
}

/** Hash of each mounted Secret key's value hash, for the pod template annotation. */
export function secretEntries(uses: SecretKeyUse[], secrets: Record<string, SecretFacts>): string[][] {
  return uses.map((u) => [u.secret, u.key, secrets[u.secret]?.keyHashes[u.key] ?? '']);
}

/** ConfigMap keys the part reads: the tenant document and the other side's public certificates. */
function configMapItems(context: DesiredContext, part: Part): { key: string; path: string }[] {
  const data = desiredConfigMap(context).data ?? {};
  const other = OTHER[part];
  const items = [{ key: TENANT_KEY, path: TENANT_KEY }];
  for (const [next, file] of [
    [false, 'tls.crt'],
    [true, 'next.crt'],
  ] as const) {
    const key = certificateKey(other, next);
    if (data[key] !== undefined) items.push({ key, path: file });
  }
  return items;
}

/** Hash of every byte the pod reads from Secrets and the ConfigMap. */
export function configHash(context: DesiredContext, part: Part): string {
  const data = desiredConfigMap(context).data ?? {};
  const configEntries = Object.fromEntries(
    configMapItems(context, part).map(({ key }) => [key, data[key] ?? '']),
  );
  return sha256(
    canonicalJson({
      configEntries,
      secretEntries: secretEntries(mountedSecretKeys(context, part), context.secrets),
    }),
  );
}

function volumes(context: DesiredContext, part: Part): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const cmName = configMapName(context.tenant);
  const items = configMapItems(context, part);
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: cmName, items: items.filter((i) => i.key === TENANT_KEY) } },
  ];
  const mounts: V1VolumeMount[] = [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }];
  // The other side's public certificate appears where SecretDirectory looks for it
  // (<secrets-dir>/<its signing Secret>/tls.crt), but comes from the ConfigMap: no private key.
  const otherSigning = signingSecretName(context.tenant, OTHER[part]);
  const certItems = items.filter((i) => i.key !== TENANT_KEY);
  if (certItems.length > 0 && otherSigning !== signingSecretName(context.tenant, part)) {
    volumes.push({ name: 'peer-certificate', configMap: { name: cmName, items: certItems } });
    mounts.push({
      name: 'peer-certificate',
      mountPath: `${POD_SECRETS_DIR}/${otherSigning}`,
      readOnly: true,
    });
  }
  const secret = secretVolumes(mountedSecretKeys(context, part));
  return { volumes: [...volumes, ...secret.volumes], mounts: [...mounts, ...secret.mounts] };
}

/** The listener flags every part's process takes, dedicated or pooled. */
export function serverArgs(): string[] {
  return [
    '--port',
    String(PUBLIC_PORT),
    '--management-port',
    String(MANAGEMENT_PORT),
    // Serving on after SIGTERM while Services and Ingresses forget the pod (common/http/shutdown.ts).
    '--drain-seconds',
    String(DEFAULT_DRAIN_SECONDS),
    // In a pod, loopback is the pod's own ports and its sidecars: no tenant URL may aim there (ADR 0217).
    '--outbound-https-only',
  ];
}

/**
 * spec.keepAliveTimeoutSeconds (a tenant's or a pool's) as the process's flag. The default is the
 * process's own, so it is left out: a Deployment made before the field existed does not roll.
 */
export function keepAliveArgs(seconds: number | undefined): string[] {
  return seconds === undefined || seconds === KEEP_ALIVE_SECONDS.default
    ? []
    : ['--keep-alive-seconds', String(seconds)];
}

function args(context: DesiredContext, part: Part): string[] {
  const base = [
    part,
    '--config',
    CONFIG_FILE,
    '--secrets-dir',
    POD_SECRETS_DIR,
    ...serverArgs(),
    ...keepAliveArgs(context.tenant.spec.keepAliveTimeoutSeconds),
  ];
  // Behind the tenant's Ingress the socket peer is the ingress controller; its X-Forwarded-For names
  // the customer (audit log, activity view).
  if (context.tenant.spec.ingress) base.push('--trusted-proxy-hops', '1');
  const tls =
    part === 'broker' ? context.tenant.spec.broker.tlsSecretRef : context.tenant.spec.portal.tlsSecretRef;
  if (tls) {
    base.push(
      '--tls-cert',
      `${POD_SECRETS_DIR}/${tls.name}/tls.crt`,
      '--tls-key',
      `${POD_SECRETS_DIR}/${tls.name}/tls.key`,
    );
  }
  return base;
}

export const NODE_OPTIONS = '--max-semi-space-size=2';

export function desiredDeployment(context: DesiredContext, part: Part): V1Deployment {
  const { volumes: podVolumes, mounts } = volumes(context, part);
  return partDeployment(context, part, {
    args: args(context, part),
    volumes: podVolumes,
    mounts,
    // The portal spools uploads to /tmp (spec.portal.limits): with the defaults up to 4 x 5 x 10 MiB.
    spoolBytes: part === 'portal' ? uploadSpoolBytes(context.tenant.spec.portal.limits) : 0,
    configHash: configHash(context, part),
  });
}

/** What a part's pod reads and runs, which differs between a dedicated tenant and a pool. */
export interface PartPod {
  args: string[];
  /** Besides /tmp, which every pod has (pod-storage.ts). */
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  /** The most bytes of uploads the part spools to /tmp at once (0: none); /tmp and the pod's disk are sized by it. */
  spoolBytes: number;
  /** Hash of everything the pod reads at start; a change rolls the pods. */
  configHash: string;
  /** A pool's pods call the API server with this ServiceAccount; a tenant's pods get no token. */
  serviceAccountName?: string;
}

/** The pod-level half of the Pod Security Standard "restricted" every pod the operator makes runs under. */
export function restrictedPodSecurity(settings: OperatorSettings): V1PodSecurityContext {
  return { runAsNonRoot: true, ...podIdentity(settings.podIds), seccompProfile: { type: 'RuntimeDefault' } };
}

/** The container-level half: no privilege, no capability, a read-only root filesystem. */
export const RESTRICTED_CONTAINER_SECURITY: V1SecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** A part's Deployment around what its pod reads and runs; the hardening is the same for every owner. */
export function partDeployment(context: AnyContext, part: Part, partPod: PartPod): V1Deployment {
  const { owner, settings } = workloadOf(context);
  const { replicas, autoscaling } = partScale(context, part);
  const pod = effectivePodSettings(context, part);
  const storage = podStorage(partPod.spoolBytes);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'management' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(owner, deploymentName(context, part), part),
    spec: {
      // Under an autoscaler the field is left out of the apply: the autoscaler owns it.
      ...(autoscaling ? {} : { replicas: replicas ?? 1 }),
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(owner, part) },
      template: {
        metadata: {
          labels: { ...pod.podLabels, ...labels(owner, part) },
          annotations: { ...pod.podAnnotations, [CONFIG_HASH_ANNOTATION]: partPod.configHash },
        },
        spec: {
          ...(partPod.serviceAccountName
            ? { serviceAccountName: partPod.serviceAccountName, automountServiceAccountToken: true }
            : { automountServiceAccountToken: false }),
          enableServiceLinks: false,
          // The drain, requests in flight and the stop, before the kubelet's SIGKILL.
          terminationGracePeriodSeconds: terminationGraceSeconds(DEFAULT_DRAIN_SECONDS),
          ...podPlacement(context, part, pod),
          securityContext: restrictedPodSecurity(settings),
          containers: [
            {
              name: part,
              image: settings.image,
              ...(settings.imagePullPolicy ? { imagePullPolicy: settings.imagePullPolicy } : {}),
              args: partPod.args,
              // A 2 MB young generation keeps a broker with 10,000 logins in flight near 115 MB RSS
              // instead of ~155 MB with Node's default (both measured by npm run bench -- broker).
              env: [{ name: 'NODE_OPTIONS', value: NODE_OPTIONS }],
              ports: [
                { name: 'http', containerPort: PUBLIC_PORT, protocol: 'TCP' },
                { name: 'management', containerPort: MANAGEMENT_PORT, protocol: 'TCP' },
              ],
              readinessProbe: probe('/readyz', 5, 3),
              livenessProbe: probe('/healthz', 10, 6),
              resources: podResources(pod),
              securityContext: RESTRICTED_CONTAINER_SECURITY,
              volumeMounts: [storage.mount, ...partPod.mounts],
            },
          ],
          volumes: [storage.volume, ...partPod.volumes],
        },
      },
    },
  };
}
