import type { V1Role, V1RoleBinding, V1ServiceAccount } from '@kubernetes/client-node';
import type { JsmSsoPool } from '../../common/config/pool.generated.js';
import { POD_SECRETS_DIR } from '../../common/config/secrets.js';
import type { KubeObject } from '../../common/kube/client.js';
import {
  POOL_SESSIONS_PER_TENANT,
  POOL_SIGN_IN_STARTS_PER_TENANT,
} from '../../common/pool/sign-in-starts.js';
import { AddressGate } from '../../common/tls/index.js';
import { mibToBytes, POOL_UPLOAD_SPOOL_DEFAULT_MIB } from '../../common/upload-spool-size.js';
import {
  canonicalJson,
  childName,
  type OperatorSettings,
  objectMeta,
  PARTS,
  type Part,
  type SecretFacts,
  sha256,
  type WorkloadContext,
} from './common.js';
import {
  keepAliveArgs,
  partDeployment,
  presentKeys,
  secretEntries,
  secretVolumes,
  serverArgs,
} from './deployment.js';
import { desiredHorizontalPodAutoscaler } from './hpa.js';
import { withAppliedHash } from './index.js';
import { desiredNetworkPolicy } from './networkpolicy.js';
import { desiredPodDisruptionBudget } from './pdb.js';
import { redisKeys, type SecretKeyUse, tlsPair } from './secret-refs.js';
import { desiredService } from './service.js';

/**
 * A JsmSsoPool's objects: the same broker and portal Deployments, Services, network policies,
 * disruption budgets and autoscalers a dedicated tenant gets (the same builders), plus the
 * ServiceAccount its pods read the tenants' projections with. Its Role grants list and watch on
 * Secrets in the pool's own namespace and nothing else (the calls of the pool process's one
 * informer, ADR 0258): the projections there hold only the keys each pooled tenant references
 * (projection.ts), so the pool never reads a tenant's namespace.
 */
export interface PoolContext extends WorkloadContext {
  pool: JsmSsoPool & KubeObject;
  /** The pool's own referenced Secrets (its Redis) that exist, by name. */
  secrets: Record<string, SecretFacts>;
}

export function poolContext(
  pool: JsmSsoPool & KubeObject,
  settings: OperatorSettings,
  secrets: Record<string, SecretFacts>,
): PoolContext {
  return {
    pool,
    owner: pool,
    parts: { broker: pool.spec.broker ?? {}, portal: pool.spec.portal ?? {} },
    settings,
    secrets,
  };
}

/** The ServiceAccount, Role and RoleBinding share one name. */
export function poolReaderName(pool: JsmSsoPool): string {
  return childName(pool, 'pool');
}

/**
 * The pool's own Secret keys a part's pods mount (every part's, without `part`): its Redis
 * connection (URL, CA bundle, client certificate) and the part's default TLS certificate.
 */
export function poolSecretKeys(pool: JsmSsoPool, part?: Part): SecretKeyUse[] {
  const defaults = (part ? [part] : PARTS).flatMap((p) => {
    const ref = pool.spec[p]?.tls?.defaultSecretRef;
    return ref ? tlsPair(ref.name) : [];
  });
  return [...redisKeys(pool.spec.redis), ...defaults];
}

/**
 * With `spec.<part>.tls` the pods serve HTTPS: each tenant's own certificate by SNI, the default
 * Secret's for other names (reloaded from the mounted files when it rotates).
 */
function tlsArgs(pool: JsmSsoPool, part: Part): string[] {
  const tls = pool.spec[part]?.tls;
  if (!tls) return [];
  const ref = tls.defaultSecretRef;
  return [
    '--tenant-tls',
    ...(ref
      ? [
          '--tls-cert',
          `${POD_SECRETS_DIR}/${ref.name}/tls.crt`,
          '--tls-key',
          `${POD_SECRETS_DIR}/${ref.name}/tls.key`,
        ]
      : []),
  ];
}

function redisArgs(pool: JsmSsoPool): string[] {
  const redis = pool.spec.redis;
  if (!redis) return [];
  const file = (secret: string, key: string) => `${POD_SECRETS_DIR}/${secret}/${key}`;
  return [
    '--redis-url-file',
    file(redis.urlSecretRef.name, redis.urlSecretRef.key),
    ...(redis.caBundleSecretRef
      ? ['--redis-ca-file', file(redis.caBundleSecretRef.name, redis.caBundleSecretRef.key)]
      : []),
    ...(redis.clientCertSecretRef
      ? [
          '--redis-client-cert-file',
          file(redis.clientCertSecretRef.name, 'tls.crt'),
          '--redis-client-key-file',
          file(redis.clientCertSecretRef.name, 'tls.key'),
        ]
      : []),
  ];
}

/** spec.builtTenants as the pool process's flags; a field not set leaves the process's default. */
function builtTenantArgs(pool: JsmSsoPool): string[] {
  const { idleSeconds, max } = pool.spec.builtTenants ?? {};
  return [
    ...(idleSeconds === undefined ? [] : ['--tenant-idle-seconds', String(idleSeconds)]),
    ...(max === undefined ? [] : ['--max-built-tenants', String(max)]),
  ];
}

/**
 * spec.portal.signInStartsPerTenant and sessionsPerTenant as the portal's flags (ADRs 0215, 0220).
 * A default is the process's own, so it is left out: a pool made before the field existed does not
 * roll its pods.
 */
function signInShareArgs(pool: JsmSsoPool): string[] {
  const shares = [
    ['--sign-in-starts-per-tenant', pool.spec.portal?.signInStartsPerTenant, POOL_SIGN_IN_STARTS_PER_TENANT],
    ['--sessions-per-tenant', pool.spec.portal?.sessionsPerTenant, POOL_SESSIONS_PER_TENANT],
  ] as const;
  return shares.flatMap(([flag, value, { default: fallback }]) =>
    value === undefined || value === fallback ? [] : [flag, String(value)],
  );
}

/**
 * spec.egress (ADR 0219): a pool's pods connect out to publicly reachable addresses only, but the
 * allowed networks. Always given: a pool's tenants are written by teams other than the pool's.
 */
function egressArgs(pool: JsmSsoPool): string[] {
  const networks = pool.spec.egress?.allowedNetworks ?? [];
  return [
    '--outbound-public-only',
    ...(networks.length > 0 ? ['--outbound-allowed-networks', networks.join(',')] : []),
  ];
}

/**
 * What of the pool's spec the schema cannot judge: an allowed network its pattern lets through that
 * is no network (`fd00:::1/64`), which the pods would refuse at start (exit 2) and crash-loop on.
 */
export function invalidPoolSpec(pool: JsmSsoPool): string | undefined {
  try {
    new AddressGate(pool.spec.egress?.allowedNetworks ?? []);
    return undefined;
  } catch (err) {
    return `spec.egress.allowedNetworks: ${(err as Error).message}`;
  }
}

/** spec.portal.uploadSpool.maxMiB: what every tenant of a portal pod may spool at once (ADR 0165). */
export function poolUploadSpoolMiB(pool: JsmSsoPool): number {
  return pool.spec.portal?.uploadSpool?.maxMiB ?? POOL_UPLOAD_SPOOL_DEFAULT_MIB;
}

export function desiredPoolDeployment(context: PoolContext, part: Part): KubeObject {
  const { pool, secrets } = context;
  const uses = presentKeys(poolSecretKeys(pool, part), secrets);
  const mounted = secretVolumes(uses);
  const spoolMiB = part === 'portal' ? poolUploadSpoolMiB(pool) : 0;
  return partDeployment(context, part, {
    args: [
      part,
      '--pool',
      pool.metadata.name!,
      '--pool-namespace',
      pool.metadata.namespace!,
      ...serverArgs(),
      ...egressArgs(pool),
      ...keepAliveArgs(pool.spec.keepAliveTimeoutSeconds),
      '--trusted-proxy-hops',
      String(pool.spec.trustedProxyHops ?? 1),
      ...redisArgs(pool),
      ...tlsArgs(pool, part),
      ...builtTenantArgs(pool),
      // Always given, so that the process's bound and the volume below come from one number.
      ...(part === 'portal' ? ['--upload-spool-mib', String(spoolMiB)] : []),
      ...(part === 'portal' ? signInShareArgs(pool) : []),
    ],
    volumes: mounted.volumes,
    mounts: mounted.mounts,
    spoolBytes: mibToBytes(spoolMiB),
    // Tenants are data the pods watch, not configuration they start with: only the pool's own
    // Redis Secrets roll them. Its default TLS certificate is reloaded from the mounted files.
    configHash: sha256(
      canonicalJson({
        secretEntries: secretEntries(presentKeys(redisKeys(pool.spec.redis), secrets), secrets),
      }),
    ),
    serviceAccountName: poolReaderName(pool),
  }) as KubeObject;
}

function serviceAccount(context: PoolContext): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: objectMeta(context.pool, poolReaderName(context.pool), 'pool'),
    // Only the pool's pods ask for the token (their pod spec mounts it); nothing else in the namespace.
    automountServiceAccountToken: false,
  };
}

function role(context: PoolContext): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: objectMeta(context.pool, poolReaderName(context.pool), 'pool'),
    // The pool process lists and watches its projections (common/pool/kube-source.ts), never a GET.
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }],
  };
}

function roleBinding(context: PoolContext): V1RoleBinding {
  const name = poolReaderName(context.pool);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: objectMeta(context.pool, name, 'pool'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: context.pool.metadata.namespace! }],
  };
}

/** Every object a pool owns, each with the hash of its desired state (as a tenant's objects). */
export function desiredPoolObjects(context: PoolContext): KubeObject[] {
  const objects: unknown[] = [serviceAccount(context), role(context), roleBinding(context)];
  for (const part of PARTS) {
    objects.push(
      desiredPoolDeployment(context, part),
      desiredService(context, part),
      desiredNetworkPolicy(context, part),
      desiredPodDisruptionBudget(context, part),
      desiredHorizontalPodAutoscaler(context, part),
    );
  }
  return objects.filter((o): o is KubeObject => o !== undefined).map(withAppliedHash);
}
