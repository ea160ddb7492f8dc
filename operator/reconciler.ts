import type { JsmSsoTenant } from '../common/config/load.js';
import { signingCertificateCommonName } from '../common/config/signing-secrets.js';
import { isConflict, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { cacheKey } from '../common/kube/informer.js';
import type { Logger } from '../common/log.js';
import type { KeyPairPem } from '../common/pki.js';
import type { HopSignatureAlgorithm } from '../common/saml/index.js';
import { type ApplyCache, type ApplyOutcome, apiErrorMessage, applyObjects, failureError } from './apply.js';
import { decryptionKeyVerdict } from './decryption-key-verdict.js';
import { ReconcileError } from './errors.js';
import { type EventRecorder, recordTransitions } from './events.js';
import { HOST_CLAIMED_REASON, hostClaimKeys } from './host-claims.js';
import { collectionPath, KINDS } from './kube/kinds.js';
import { missingSecrets } from './missing-secrets.js';
import { logNamespaceTerminating, namespaceTerminatingCondition } from './namespace-terminating.js';
import {
  type Placement,
  type PlacementCache,
  placementOf,
  placementText,
  reconcilePooled,
  releasePlacement,
} from './placement.js';
import { HOST_NOT_A_DNS_NAME_REASON } from './pool-host-names.js';
import { HOST_IS_POOL_SERVICE_REASON } from './pool-service-hosts.js';
import { NAMESPACE_NOT_ALLOWED_REASON } from './pool-tenancy.js';
import { keepPurgeFinalizer, type RedisPurgeTimings } from './redis-purge.js';
import {
  childName,
  FIELD_MANAGER,
  type OperatorSettings,
  PARTS,
  type SecretFacts,
} from './resources/common.js';
import { desiredObjects } from './resources/index.js';
import { projectionNames } from './resources/projection.js';
import { allSecretKeys, signingSecretName } from './resources/secret-refs.js';
import { desiredSigningSecret } from './resources/signing-secret.js';
import { parsedCertificate } from './secret-facts.js';
import { signingCertificateCondition } from './signing-certificate-condition.js';
import { signingKeyVerdict } from './signing-key-verdict.js';
import {
  type ApplyFailure,
  appliedCondition,
  type ConditionInput,
  computeStatus,
  deploymentsWithheld,
  partConditions,
  sameStatus,
} from './status.js';
import { latestOf, writeStatus } from './status-write.js';
import { reconcileDeletedTenant } from './tenant-deletion.js';
import type { TenantVerdicts, Validation } from './tenant-verdicts.js';
import { unreferableSecrets, unreferableSecretsMessage } from './unreferable-secrets.js';
import {
  DEPLOYMENTS_NOT_YET_REMOVED,
  DEPLOYMENTS_REMOVED,
  removeDeployments,
} from './unreferable-workloads.js';

/**
 * One level-triggered reconcile of one tenant: read the tenant and what it owns from the caches,
 * compute desired state, apply only what differs, delete what is no longer wanted, and write the
 * status only when it changed. An idle tenant costs no API write.
 */
export interface ObjectCache extends ApplyCache, PlacementCache {
  tenant(namespace: string, name: string): JsmSsoTenant | undefined;
  /** A Secret's facts (key hashes, public certificates), read on demand; undefined when it does not exist. */
  secretFacts(namespace: string, name: string): Promise<SecretFacts | undefined>;
  /**
   * Records a Secret the operator just created or read for the tenant `writer` (its cache key), ahead
   * of its watch event, and requeues the other tenants and pools that name it.
   */
  rememberSecret(secret: KubeObject, writer: string): SecretFacts;
}

export interface ReconcilerDeps {
  client: KubeClient;
  settings: OperatorSettings;
  cache: ObjectCache;
  events: EventRecorder;
  logger: Logger;
  /** A key pair of the kind the tenant's spec.signatureAlgorithm needs. */
  generateKeyPair: (commonName: string, algorithm: HopSignatureAlgorithm) => Promise<KeyPairPem>;
  /** Validation verdicts remembered per tenant generation. */
  verdicts: TenantVerdicts;
  /** Records which Secrets a tenant reads, so a Secret change requeues it. */
  indexSecrets: (tenantKey: string, secretKeys: string[]) => void;
  /** Records the pool (`<namespace>/<name>`) a tenant is placed in, so a pool's change requeues it. */
  indexPlacement: (tenantKey: string, poolKey: string | undefined) => void;
  /** Records the hosts a pooled tenant claims (host-claims.ts), so a change at one requeues its other claimants. */
  indexHostClaims: (tenantKey: string, claimKeys: string[]) => void;
  /**
   * Told of the fields of a tenant's generation this version's schema does not know (a newer CRD
   * applied ahead of this operator); they were ignored, not refused.
   */
  reportIgnoredFields: (tenantKey: string, generation: number, fields: string[]) => void;
  now?: () => Date;
  /** How long a deleted tenant's cleanup may be forbidden before its finalizer is released (tenant-deletion.ts). */
  cleanupForbiddenGraceMs?: number;
  /** A deleted tenant's Redis purge: its deadline and how often its Job is read (REDIS_PURGE_TIMINGS unless told). */
  redisPurge?: RedisPurgeTimings;
}

export interface ReconcileOutcome extends ApplyOutcome {
  generated: string[];
  statusWritten: boolean;
  configValid: boolean;
  /** The tenant waits on something the operator does not watch (its purge Job): read it again after this. */
  requeueAfterMs?: number;
}

/**
 * The conditions whose transitions become Events on the tenant. Not Ready, which only sums the
 * others up; not PoolReady, which is the pool's state: the pool records its own Events, and one per
 * tenant would be 10,000 Warnings each time a pool of 10,000 stops being Ready. Except what is this
 * tenant's alone, and its end: its host taken by an earlier tenant (ADR 0197), its namespace not
 * taken by the pool (ADR 0213), its URL at the pool's Service name (ADR 0249) or at no DNS name (ADR 0254).
 */
const TENANT_OWN_POOL_REASONS: readonly string[] = [
  HOST_CLAIMED_REASON,
  NAMESPACE_NOT_ALLOWED_REASON,
  HOST_IS_POOL_SERVICE_REASON,
  HOST_NOT_A_DNS_NAME_REASON,
];
const TENANT_EVENT_CONDITIONS = (condition: { type: string; reason: string }, prior?: { reason: string }) =>
  condition.type === 'PoolReady'
    ? [condition.reason, prior?.reason].some((r) => r !== undefined && TENANT_OWN_POOL_REASONS.includes(r))
    : condition.type !== 'Ready';

export async function reconcileTenant(deps: ReconcilerDeps, key: string): Promise<ReconcileOutcome> {
  const [namespace, name] = key.split('/') as [string, string];
  const live = deps.cache.tenant(namespace, name);
  // Filled in by the steps below; a tenant gone from the cache is a reconcile with nothing to do.
  const outcome: ReconcileOutcome = {
    applied: [],
    deleted: [],
    left: [],
    generated: [],
    statusWritten: false,
    configValid: true,
  };
  if (!live) return outcome;
  // Deleted: the garbage collector removes what the tenant owned via ownerReferences; what it
  // placed in a pool's namespace (no ownerReference can reach it) is removed here first.
  if (live.metadata?.['deletionTimestamp']) {
    // The placement stays indexed until the tenant is gone: its pool, requeued then
    // (Controller.onTenant), removes what a released finalizer may have left (tenant-deletion.ts).
    await reconcileDeletedTenant(deps, key, live, outcome);
    return outcome;
  }
  const generation = (live.metadata?.generation as number | undefined) ?? 0;
  const previous = live.status;

  const validation = deps.verdicts.validate(live);
  if (validation.ignoredFields.length > 0)
    deps.reportIgnoredFields(key, generation, validation.ignoredFields);
  const placement = validation.tenant ? placementOf(validation.tenant) : undefined;
  const poolKey = placement?.mode === 'pool' ? `${placement.namespace}/${placement.name}` : undefined;
  deps.indexPlacement(key, poolKey);
  // The host names its spec names: a claim made, moved or given up there (a projection written or
  // collected: Controller.indexPlaced) requeues it. The claims themselves are the projections'.
  deps.indexHostClaims(
    key,
    validation.tenant && placement?.mode === 'pool' ? hostClaimKeys(validation.tenant, placement) : [],
  );
  deps.indexSecrets(key, [
    ...(validation.tenant ? allSecretKeys(validation.tenant).map((u) => `${namespace}/${u.secret}`) : []),
    // Its projection, so an edit or a deletion there requeues the tenant and is undone.
    ...(validation.tenant && placement?.mode === 'pool'
      ? projectionNames(deps.cache, validation.tenant, placement.namespace).map(
          (projection) => `${placement.namespace}/${projection}`,
        )
      : []),
  ]);
  let configValid: ConditionInput = validation.condition;
  let fingerprint = previous?.signingCertificateFingerprint;
  let failure: ApplyFailure | undefined;
  let signingSecrets: Record<string, SecretFacts> = {};
  let pool: ConditionInput | undefined;
  let tlsCertificate: ConditionInput | undefined;
  if (validation.tenant && placement) {
    // Whatever fails from here on (a Secret the API server refuses, a lost connection, a bug)
    // ends in the Applied condition and a Warning Event, never in a silent retry loop.
    try {
      const converged = await converge(deps, validation, validation.tenant, placement, outcome);
      configValid = converged.configValid ?? configValid;
      fingerprint = converged.fingerprint ?? fingerprint;
      signingSecrets = converged.secrets;
      failure = converged.failure;
      pool = converged.pool;
      tlsCertificate = converged.tlsCertificate;
    } catch (error) {
      failure = unexpectedFailure(error);
    }
  }
  if (placement?.mode === 'pool')
    pool ??= {
      status: 'Unknown',
      reason: 'PoolNotChecked',
      message: 'the pool is checked once the tenant is valid',
    };
  outcome.configValid = configValid.status === 'True';
  const ended = namespaceTerminatingCondition(failure);

  const parts = partConditions(
    deps.cache,
    namespace,
    (part) => childName(live, part),
    deploymentsWithheld(configValid, 'ConfigValid'),
  );
  const now = (deps.now ?? (() => new Date()))();
  const status = computeStatus(
    previous,
    {
      generation,
      configValid,
      applied:
        ended ?? appliedCondition(outcome.configValid, failure, configValid.reason === 'SecretNotReferable'),
      ...parts,
      signingCertificate: signingCertificateCondition(validation.tenant, signingSecrets, now),
      portalUrl: live.spec?.portal?.url,
      brokerUrl: live.spec?.broker?.url,
      identityProviderCount: Array.isArray(live.spec?.identityProviders)
        ? live.spec.identityProviders.length
        : undefined,
      identityProviders: live.spec?.identityProviders,
      signingCertificateFingerprint: fingerprint,
      ...(pool ? { pool } : {}),
      ...(tlsCertificate ? { tlsCertificate } : {}),
      ...(placement ? { placement: placementText(placement) } : {}),
    },
    now,
  );
  if (!sameStatus(previous, status)) {
    // The tenant as last written in this pass (its finalizer), if it is still this tenant.
    const current = latestOf(live, deps.cache.tenant(namespace, name));
    const written = await writeStatus(deps, KINDS.tenant, current, status, outcome);
    // Deleted meanwhile: whatever failed, nothing is left to report it on or retry.
    if (!written) return outcome;
    deps.cache.remember(KINDS.tenant, written);
    outcome.statusWritten = true;
    await recordTransitions(
      deps.events,
      live,
      previous?.conditions,
      status.conditions,
      TENANT_EVENT_CONDITIONS,
    );
  }
  if (outcome.applied.length + outcome.deleted.length > 0) {
    const changes = [...outcome.applied, ...outcome.deleted.map((d) => `deleted ${d}`)];
    await deps.events.record(live, 'Normal', 'Applied', `applied ${changes.join(', ')}`);
  }
  if (ended) {
    logNamespaceTerminating(deps.logger, { tenant: key });
    return outcome;
  }
  // Failed after recording it: the queue retries this tenant with its per-key backoff. Thrown with
  // the condition's reason, so the metric and the log line count the same closed set.
  if (failure) throw failureError(failure);
  return outcome;
}

/**
 * Signing Secrets, the Secret checks and the owned objects of a valid tenant. Returns the
 * ConfigValid verdict when the Secrets change it, the broker certificate's fingerprint, and what
 * failed to apply.
 */
async function converge(
  deps: ReconcilerDeps,
  validation: Validation,
  tenant: JsmSsoTenant,
  placement: Placement,
  outcome: ReconcileOutcome,
): Promise<{
  secrets: Record<string, SecretFacts>;
  configValid?: ConditionInput;
  fingerprint?: string;
  failure?: ApplyFailure;
  pool?: ConditionInput;
  tlsCertificate?: ConditionInput;
}> {
  const unreferable = unreferableSecrets(
    tenant.metadata!.namespace!,
    allSecretKeys(tenant),
    (namespace, name) => deps.cache.secretMeta(namespace, name),
  );
  const secrets = await ensureSigningSecrets(deps, tenant, outcome, unreferable);
  const owner = {
    namespace: tenant.metadata!.namespace!,
    uid: tenant.metadata!.uid ?? '',
    kind: KINDS.tenant.kind,
  };
  if (unreferable.length > 0) {
    // Unlike any other broken configuration, its running pods are not left as they are (ADR 0330).
    const failure = await removeDeployments(deps, owner, outcome);
    const removal = failure ? DEPLOYMENTS_NOT_YET_REMOVED : DEPLOYMENTS_REMOVED;
    const message = `${unreferableSecretsMessage(unreferable, 'tenant')}; ${removal}`;
    return {
      secrets,
      configValid: { status: 'False', reason: 'SecretNotReferable', message },
      ...(failure ? { failure } : {}),
    };
  }
  const missing = missingSecrets(allSecretKeys(tenant), secrets, owner.namespace);
  if (missing) return { secrets, configValid: { status: 'False', ...missing } };
  // A key the broker would exit on at start is not rolled out: its pods keep the last good one.
  const badKey = decryptionKeyVerdict(tenant, secrets);
  if (badKey) return { secrets, configValid: { status: 'False', ...badKey } };
  const brokerSecret = signingSecretName(tenant, 'broker');
  const brokerCert = secrets[brokerSecret]?.certificates['tls.crt'];
  let fingerprint: string | undefined;
  if (brokerCert) {
    fingerprint = parsedCertificate(secrets[brokerSecret], 'tls.crt')?.fingerprint;
    if (!fingerprint) {
      // A broken configuration leaves the running pods as they are: better the last good state
      // than pods that cannot start.
      return {
        secrets,
        configValid: {
          status: 'False',
          reason: 'SigningCertificateInvalid',
          message: `Secret ${brokerSecret} key tls.crt is not a PEM X.509 certificate; replace it`,
        },
      };
    }
  }
  // A signing key that is not its certificate's would fail every sign-in, or stop the new pods.
  const badSigningKey = signingKeyVerdict(tenant, secrets);
  if (badSigningKey) return { secrets, configValid: { status: 'False', ...badSigningKey } };
  const found = { secrets, ...(fingerprint ? { fingerprint } : {}) };
  if (placement.mode === 'pool') {
    // No dedicated objects: the ones a dedicated past left are pruned.
    const failure = await applyObjects(deps, owner, [], outcome);
    if (failure) return { ...found, failure };
    const pooled = await reconcilePooled(deps, tenant, placement, secrets, outcome, validation);
    // Its keys are the pool's, purged by the pool (ADR 0390); a dedicated past's finalizer goes.
    const released = pooled.failure ? undefined : await keepPurgeFinalizer(deps, tenant, outcome);
    return { ...found, ...pooled, ...(released ? { failure: released } : {}) };
  }
  const desired = desiredObjects({ tenant, settings: deps.settings, secrets });
  const failure =
    (await applyObjects(deps, owner, desired, outcome)) ??
    (await releasePlacement(deps, tenant, outcome)) ??
    (await keepPurgeFinalizer(deps, tenant, outcome));
  return { ...found, ...(failure ? { failure } : {}) };
}

/** A failure nobody planned for, as a condition: the typed reason when there is one. */
function unexpectedFailure(error: unknown): ApplyFailure {
  if (error instanceof ReconcileError) return { reason: error.reason, message: error.message, error };
  return {
    reason: 'ReconcileFailed',
    message: `reconcile failed (retrying with backoff): ${apiErrorMessage(error)}`,
    error,
  };
}

/**
 * Generates each missing signing Secret once; an existing one is never touched. The `unreferable`
 * Secrets are neither read nor generated: they are another's (unreferable-secrets.ts).
 */
async function ensureSigningSecrets(
  deps: ReconcilerDeps,
  tenant: JsmSsoTenant,
  outcome: ReconcileOutcome,
  unreferable: string[],
): Promise<Record<string, SecretFacts>> {
  const namespace = tenant.metadata!.namespace!;
  const writer = cacheKey(namespace, tenant.metadata!.name!);
  const secrets: Record<string, SecretFacts> = {};
  for (const name of new Set(allSecretKeys(tenant).map((use) => use.secret))) {
    if (unreferable.includes(name)) continue;
    const facts = await deps.cache.secretFacts(namespace, name);
    if (facts) secrets[name] = facts;
  }
  for (const part of PARTS) {
    const name = signingSecretName(tenant, part);
    if (secrets[name] || unreferable.includes(name)) continue;
    const pair = await deps.generateKeyPair(
      signingCertificateCommonName(tenant, part),
      tenant.spec.signatureAlgorithm,
    );
    try {
      const created = await deps.client.create<KubeObject>(
        collectionPath(KINDS.secret, namespace),
        desiredSigningSecret(tenant, part, pair),
        { fieldManager: FIELD_MANAGER },
      );
      secrets[name] = deps.cache.rememberSecret(created, writer);
      outcome.generated.push(name);
      await deps.events.record(
        tenant,
        'Normal',
        'SigningKeyGenerated',
        `generated SAML signing key pair in Secret ${name}`,
      );
    } catch (err) {
      // Created meanwhile (another reconcile, a restart mid-way, or the user): keep theirs.
      if (!isConflict(err)) {
        throw new ReconcileError(
          'SecretCreateFailed',
          `Secret ${name} could not be created (retrying with backoff): ${apiErrorMessage(err)}`,
          { cause: err },
        );
      }
      const existing = await deps.client.get<KubeObject>(
        `${collectionPath(KINDS.secret, namespace)}/${name}`,
      );
      if (existing) secrets[name] = deps.cache.rememberSecret(existing, writer);
    }
  }
  return secrets;
}
