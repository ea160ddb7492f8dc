import type { V1Deployment } from '@kubernetes/client-node';
import { checkTenant, type JsmSsoTenant } from '../common/config/load.js';
import type { TenantStatus } from '../common/config/tenant.generated.js';
import { ConfigError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { certificateFingerprint, type KeyPairPem } from '../common/pki.js';
import { needsApply } from './drift.js';
import type { EventRecorder } from './events.js';
import { ApiError, isConflict, type KubeClient, type KubeObject } from './kube/client.js';
import { collectionPath, KINDS, kindByName, objectPath, type ResourceKind } from './kube/kinds.js';
import {
  childName,
  type DesiredContext,
  FIELD_MANAGER,
  type OperatorSettings,
  PARTS,
  type SecretFacts,
} from './resources/common.js';
import { desiredObjects } from './resources/index.js';
import { allSecretKeys, signingSecretName } from './resources/secret-refs.js';
import { desiredSigningSecret } from './resources/signing-secret.js';
import { type CachedSecret, toCachedSecret } from './secret-facts.js';
import {
  type ApplyFailure,
  appliedCondition,
  type ConditionInput,
  computeStatus,
  deploymentCondition,
  sameStatus,
} from './status.js';

/**
 * One level-triggered reconcile of one tenant: read the tenant and what it owns from the caches,
 * compute desired state, apply only what differs, delete what is no longer wanted, and write the
 * status only when it changed. An idle tenant costs no API write.
 */
export interface ObjectCache {
  tenant(namespace: string, name: string): JsmSsoTenant | undefined;
  secret(namespace: string, name: string): CachedSecret | undefined;
  get(kind: ResourceKind, namespace: string, name: string): KubeObject | undefined;
  /** Objects of the owned kinds whose controller is the tenant with this uid. */
  ownedBy(uid: string): KubeObject[];
  /** Records what an apply returned (owned kinds and the tenant's status) ahead of its watch event. */
  remember(kind: ResourceKind, object: KubeObject): void;
}

export interface ReconcilerDeps {
  client: KubeClient;
  settings: OperatorSettings;
  cache: ObjectCache;
  events: EventRecorder;
  logger: Logger;
  generateKeyPair: (commonName: string) => Promise<KeyPairPem>;
  /** Records which Secrets a tenant reads, so a Secret change requeues it. */
  indexSecrets: (tenantKey: string, secretKeys: string[]) => void;
  now?: () => Date;
}

export interface ReconcileOutcome {
  applied: string[];
  deleted: string[];
  generated: string[];
  statusWritten: boolean;
  configValid: boolean;
}

const NO_OUTCOME: ReconcileOutcome = {
  applied: [],
  deleted: [],
  generated: [],
  statusWritten: false,
  configValid: true,
};

export async function reconcileTenant(deps: ReconcilerDeps, key: string): Promise<ReconcileOutcome> {
  const [namespace, name] = key.split('/') as [string, string];
  const live = deps.cache.tenant(namespace, name);
  // Deleted: the garbage collector removes what the tenant owned via ownerReferences.
  if (!live || live.metadata?.['deletionTimestamp']) return NO_OUTCOME;
  const outcome: ReconcileOutcome = {
    applied: [],
    deleted: [],
    generated: [],
    statusWritten: false,
    configValid: true,
  };
  const generation = (live.metadata?.generation as number | undefined) ?? 0;
  const previous = live.status;

  const validation = validate(live);
  deps.indexSecrets(
    key,
    validation.tenant ? allSecretKeys(validation.tenant).map((u) => `${namespace}/${u.secret}`) : [],
  );
  let configValid: ConditionInput = validation.condition;
  let fingerprint = previous?.signingCertificateFingerprint;
  const tenant = validation.tenant;
  let applyFailure: (ApplyFailure & { error: unknown }) | undefined;

  if (tenant) {
    const secrets = await ensureSigningSecrets(deps, tenant, outcome);
    configValid = secretsCondition(tenant, secrets) ?? configValid;
    const brokerCert = secrets[signingSecretName(tenant, 'broker')]?.certificates['tls.crt'];
    if (configValid.status === 'True' && brokerCert) {
      try {
        fingerprint = certificateFingerprint(brokerCert);
      } catch {
        configValid = {
          status: 'False',
          reason: 'SigningCertificateInvalid',
          message: `Secret ${signingSecretName(tenant, 'broker')} key tls.crt is not a PEM X.509 certificate; replace it`,
        };
      }
    }
    // A broken configuration leaves the running pods as they are: better the last good state
    // than pods that cannot start.
    if (configValid.status === 'True') {
      applyFailure = await applyOwned(deps, { tenant, settings: deps.settings, secrets }, outcome);
    }
  }
  outcome.configValid = configValid.status === 'True';

  const hint = `see \`kubectl -n ${namespace} describe deployment\` and the pods' logs`;
  const deployment = (part: 'broker' | 'portal') =>
    deps.cache.get(KINDS.deployment, namespace, childName(live, part)) as V1Deployment | undefined;
  const status = computeStatus(
    previous,
    {
      generation,
      configValid,
      applied: appliedCondition(outcome.configValid, applyFailure),
      broker: deploymentCondition('Broker', deployment('broker'), hint),
      portal: deploymentCondition('Portal', deployment('portal'), hint),
      portalUrl: live.spec?.portal?.url,
      brokerUrl: live.spec?.broker?.url,
      identityProviderCount: Array.isArray(live.spec?.identityProviders)
        ? live.spec.identityProviders.length
        : undefined,
      signingCertificateFingerprint: fingerprint,
    },
    (deps.now ?? (() => new Date()))(),
  );
  if (!sameStatus(previous, status)) {
    await writeStatus(deps, live, status);
    outcome.statusWritten = true;
    await recordTransitions(deps, live, previous, status);
  }
  if (outcome.applied.length + outcome.deleted.length > 0) {
    const changes = [...outcome.applied, ...outcome.deleted.map((d) => `deleted ${d}`)];
    await deps.events.record(live, 'Normal', 'Applied', `applied ${changes.join(', ')}`);
  }
  // Failed after recording it: the queue retries this tenant with its per-key backoff.
  if (applyFailure) throw applyFailure.error;
  return outcome;
}

function validate(live: JsmSsoTenant): { tenant?: JsmSsoTenant; condition: ConditionInput } {
  const { status: _status, ...document } = structuredClone(live);
  const { managedFields: _managed, ...metadata } = document.metadata ?? { name: '' };
  try {
    const tenant = checkTenant({ ...document, metadata });
    return { tenant, condition: { status: 'True', reason: 'Valid', message: 'the configuration is valid' } };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const cel = err.problems.some((p) => p.message.startsWith('invalid CEL'));
    return {
      condition: {
        status: 'False',
        reason: cel ? 'MappingInvalid' : 'SchemaInvalid',
        message: `fix these fields: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      },
    };
  }
}

/** Generates each missing signing Secret once; an existing one is never touched. */
async function ensureSigningSecrets(
  deps: ReconcilerDeps,
  tenant: JsmSsoTenant,
  outcome: ReconcileOutcome,
): Promise<Record<string, SecretFacts>> {
  const namespace = tenant.metadata!.namespace!;
  const secrets: Record<string, SecretFacts> = {};
  for (const use of allSecretKeys(tenant)) {
    const cached = deps.cache.secret(namespace, use.secret);
    if (cached) secrets[use.secret] = cached.facts;
  }
  for (const part of PARTS) {
    const name = signingSecretName(tenant, part);
    if (secrets[name]) continue;
    const pair = await deps.generateKeyPair(`${tenant.metadata!.name} ${part} SAML signing`);
    try {
      const created = await deps.client.create<KubeObject>(
        collectionPath(KINDS.secret, namespace),
        desiredSigningSecret(tenant, part, pair),
        { fieldManager: FIELD_MANAGER },
      );
      secrets[name] = toCachedSecret(created).facts;
      outcome.generated.push(name);
      await deps.events.record(
        tenant,
        'Normal',
        'SigningKeyGenerated',
        `generated SAML signing key pair in Secret ${name}`,
      );
    } catch (err) {
      // Created meanwhile (another reconcile, a restart mid-way, or the user): keep theirs.
      if (!isConflict(err)) throw err;
      const existing = await deps.client.get<KubeObject>(
        `${collectionPath(KINDS.secret, namespace)}/${name}`,
      );
      if (existing) secrets[name] = toCachedSecret(existing).facts;
    }
  }
  return secrets;
}

function secretsCondition(
  tenant: JsmSsoTenant,
  secrets: Record<string, SecretFacts>,
): ConditionInput | undefined {
  const namespace = tenant.metadata!.namespace!;
  const missing: string[] = [];
  const missingKeys: string[] = [];
  for (const use of allSecretKeys(tenant)) {
    if (use.optional) continue;
    const facts = secrets[use.secret];
    if (!facts) missing.push(use.secret);
    else if (facts.keyHashes[use.key] === undefined) missingKeys.push(`${use.secret} has no key ${use.key}`);
  }
  if (missing.length > 0) {
    const names = [...new Set(missing)];
    return {
      status: 'False',
      reason: 'SecretMissing',
      message: `create Secret${names.length > 1 ? 's' : ''} ${names.join(', ')} in namespace ${namespace}`,
    };
  }
  if (missingKeys.length > 0) {
    return {
      status: 'False',
      reason: 'SecretKeyMissing',
      message: `add the missing keys: ${missingKeys.join('; ')}`,
    };
  }
  return undefined;
}

/**
 * Applies what differs and deletes what is no longer wanted. The first apply that fails stops the
 * pass and is returned (not thrown), so the tenant's status can say which object failed and why.
 */
async function applyOwned(
  deps: ReconcilerDeps,
  context: DesiredContext,
  outcome: ReconcileOutcome,
): Promise<(ApplyFailure & { error: unknown }) | undefined> {
  const namespace = context.tenant.metadata!.namespace!;
  const desired = desiredObjects(context);
  const wanted = new Set<string>();
  for (const object of desired) {
    const kind = kindByName(object.kind ?? '')!;
    const name = object.metadata.name!;
    wanted.add(`${object.kind}/${name}`);
    if (!needsApply(object, deps.cache.get(kind, namespace, name))) continue;
    let applied: KubeObject;
    try {
      applied = await deps.client.apply<KubeObject>(objectPath(kind, namespace, name), object, {
        fieldManager: FIELD_MANAGER,
        force: true,
      });
    } catch (error) {
      return { kind: object.kind ?? kind.kind, name, message: applyErrorMessage(error), error };
    }
    deps.cache.remember(kind, applied);
    outcome.applied.push(`${object.kind}/${name}`);
  }
  for (const object of deps.cache.ownedBy(context.tenant.metadata!.uid ?? '')) {
    const id = `${object.kind}/${object.metadata.name}`;
    if (wanted.has(id)) continue;
    const kind = kindByName(object.kind ?? '');
    if (!kind) continue;
    await deps.client.delete(objectPath(kind, namespace, object.metadata.name!));
    outcome.deleted.push(id);
  }
  return undefined;
}

/**
 * The API server's answer without the request line. Owned objects carry no Secret values (those
 * stay in Secrets, which are never applied here), so the server cannot echo one back.
 */
function applyErrorMessage(error: unknown): string {
  const text =
    error instanceof ApiError
      ? `${error.status} ${error.reason}: ${error.serverMessage}`
      : error instanceof Error
        ? error.message
        : String(error);
  return text.slice(0, 1000);
}

async function writeStatus(deps: ReconcilerDeps, tenant: JsmSsoTenant, status: TenantStatus): Promise<void> {
  const { name, namespace } = tenant.metadata!;
  const written = await deps.client.apply<KubeObject>(
    `${objectPath(KINDS.tenant, namespace, name)}/status`,
    { apiVersion: tenant.apiVersion, kind: tenant.kind, metadata: { name, namespace }, status },
    { fieldManager: FIELD_MANAGER, force: true },
  );
  deps.cache.remember(KINDS.tenant, written);
}

/** A Warning Event for each condition that turned False, so `kubectl describe` shows why. */
async function recordTransitions(
  deps: ReconcilerDeps,
  tenant: JsmSsoTenant,
  previous: TenantStatus | undefined,
  next: TenantStatus,
): Promise<void> {
  for (const condition of next.conditions ?? []) {
    if (condition.type === 'Ready') continue;
    const prior = previous?.conditions?.find((c) => c.type === condition.type);
    const changed = !prior || prior.status !== condition.status || prior.reason !== condition.reason;
    if (!changed) continue;
    if (condition.status === 'False') {
      await deps.events.record(
        tenant,
        'Warning',
        condition.reason,
        `${condition.type}: ${condition.message}`,
      );
    } else if (condition.status === 'True' && prior) {
      await deps.events.record(tenant, 'Normal', condition.reason, `${condition.type}: ${condition.message}`);
    }
  }
}
