import type { V1Deployment } from '@kubernetes/client-node';
import { identityProviderEndpoints } from '../broker/backends/registration.js';
import type { TenantCondition, TenantStatus } from '../common/config/tenant.generated.js';
import type { OwnedObjectCache } from './apply.js';
import type { FailureReason } from './errors.js';
import { KINDS } from './kube/kinds.js';

/**
 * The tenant's status, computed from observations. Conditions follow the Kubernetes API
 * conventions: a CamelCase reason, a message that says what to do, the generation they describe,
 * and a lastTransitionTime that moves only when the status value changes.
 */
export const TENANT_CONDITION_TYPES = [
  'ConfigValid',
  'Applied',
  'BrokerAvailable',
  'PortalAvailable',
  'SigningCertificateValid',
  'PoolReady',
  'TLSCertificateServed',
  'Ready',
] as const;
export type ConditionType = (typeof TENANT_CONDITION_TYPES)[number];
export type ConditionInput = Pick<TenantCondition, 'status' | 'reason' | 'message'>;

/** The broker's SAML IdP metadata path (served by the broker). */
export const BROKER_METADATA_PATH = '/saml/metadata';

export interface StatusObservations {
  generation: number;
  configValid: ConditionInput;
  /** Whether every owned object was applied (see `appliedCondition`). */
  applied: ConditionInput;
  broker: ConditionInput;
  portal: ConditionInput;
  /** Expiry of the signing certificates (signing-certificate-condition.ts); not part of Ready. */
  signingCertificate?: ConditionInput;
  portalUrl?: string;
  brokerUrl?: string;
  identityProviderCount?: number;
  /** The spec's identity providers as written (names and kinds), for `identityProviderEndpoints`. */
  identityProviders?: unknown;
  signingCertificateFingerprint?: string;
  /**
   * A pooled tenant's pool (exists and is Ready): it stands for BrokerAvailable and
   * PortalAvailable, since the tenant has no Deployments of its own.
   */
  pool?: ConditionInput;
  /**
   * A pooled tenant's own listener certificate, where its pool serves TLS: whether the pool serves it
   * for the tenant's host name (server-name-claims.ts); not part of Ready, the tenant is served either way.
   */
  tlsCertificate?: ConditionInput;
  /** status.placement: `dedicated` or `pool <namespace>/<name>`. */
  placement?: string;
}

/**
 * Why a part's Deployment is kept away on purpose: its owner's spec names a projection (ADR 0330),
 * and the condition that names the Secret (the tenant's ConfigValid, the pool's Applied).
 */
export interface DeploymentWithheld {
  reason: 'SecretNotReferable';
  toldBy: 'ConfigValid' | 'Applied';
}

/** The parts' Deployments withheld when `condition` (`toldBy`) says the spec names a projection. */
export function deploymentsWithheld(
  condition: ConditionInput,
  toldBy: DeploymentWithheld['toldBy'],
): DeploymentWithheld | undefined {
  return condition.reason === 'SecretNotReferable' ? { reason: condition.reason, toldBy } : undefined;
}

/**
 * Availability of a part from its Deployment (Unknown while it has not reported on the operator's
 * latest spec). No Deployment is "not there yet" unless it is `withheld`: then it will not come
 * before the spec changes, and the condition says why (ADR 0337). `ownSpecGeneration` is the
 * Deployment's generation the operator last wrote (cached-owned.ts:AppliedStates): a later one is
 * another manager's (an autoscaler's scale), which rolls out nothing, so the status as it stands
 * still tells the part's availability (ADR 0360). Unknown, every generation is awaited.
 */
export function deploymentCondition(
  part: 'Broker' | 'Portal',
  deployment: V1Deployment | undefined,
  hint: string,
  withheld?: DeploymentWithheld,
  ownSpecGeneration?: number,
): ConditionInput {
  if (!deployment && withheld) {
    return {
      status: 'False',
      reason: withheld.reason,
      message: `the ${part.toLowerCase()} Deployment is not run while the spec names a Secret that is a projection (${withheld.toldBy} says which), so that no pod mounts its keys`,
    };
  }
  if (!deployment) {
    return {
      status: 'Unknown',
      reason: 'DeploymentMissing',
      message: `the ${part.toLowerCase()} Deployment does not exist yet`,
    };
  }
  const status = deployment.status ?? {};
  const wanted = deployment.spec?.replicas ?? 1;
  const ready = status.availableReplicas ?? 0;
  if ((status.observedGeneration ?? 0) < (ownSpecGeneration ?? deployment.metadata?.generation ?? 0)) {
    return {
      status: 'Unknown',
      reason: 'RolloutPending',
      message: `the ${part.toLowerCase()} Deployment has not yet observed its latest spec`,
    };
  }
  const refusal = podsRefusal(status.conditions);
  // Pods of an earlier spec may still be available, but the latest spec, the one the status
  // reports on (observedGeneration), is not served and will not be until the rollout moves again.
  if (status.conditions?.some(isStalledRollout)) {
    return {
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `the ${part.toLowerCase()} Deployment's rollout of its latest spec made no progress within its deadline (ProgressDeadlineExceeded); ${refusal ? `${refusal}; ` : ''}${ready}/${wanted} pods available, of an earlier spec where not updated; ${hint}`,
    };
  }
  const available = status.conditions?.find((c) => c.type === 'Available');
  if (available?.status === 'True' && ready >= 1) {
    return {
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: `${ready}/${wanted} ${part.toLowerCase()} pods available${refusal ? `; ${refusal}` : ''}`,
    };
  }
  // Not a pod that fails to start but none made: what refuses them is the platform's (a quota, a
  // LimitRange, PodSecurity, a policy), and the API server's answer names it.
  if (refusal) {
    return {
      status: 'False',
      reason: 'FailedCreate',
      message: `${ready}/${wanted} ${part.toLowerCase()} pods available; ${refusal}; the ReplicaSet controller creates them once that is lifted; ${hint}`,
    };
  }
  return {
    status: 'False',
    reason: 'PodsUnavailable',
    message: `${ready}/${wanted} ${part.toLowerCase()} pods available; ${hint}`,
  };
}

/**
 * The broker's and the portal's conditions, from their Deployments as the cache holds them (named
 * `name(part)` in `namespace`), each judged on the generation the operator last wrote.
 */
export function partConditions(
  cache: Pick<OwnedObjectCache, 'get' | 'ownSpecGeneration'>,
  namespace: string,
  name: (part: 'broker' | 'portal') => string,
  withheld: DeploymentWithheld | undefined,
): { broker: ConditionInput; portal: ConditionInput } {
  const hint = `see \`kubectl -n ${namespace} describe deployment\` and the pods' logs`;
  const condition = (part: 'Broker' | 'Portal') => {
    const deployment = cache.get(KINDS.deployment, namespace, name(part === 'Broker' ? 'broker' : 'portal'));
    const own = deployment && cache.ownSpecGeneration(deployment);
    return deploymentCondition(part, deployment as V1Deployment | undefined, hint, withheld, own);
  };
  return { broker: condition('Broker'), portal: condition('Portal') };
}

/** The API server's answers are cut to this many characters in a part's condition, as an apply's are. */
const REFUSAL_MAX_CHARS = 1000;

/** Why the Deployment's pods could not be created, in the API server's words; undefined when they could. */
function podsRefusal(
  conditions: { type?: string; status?: string; reason?: string; message?: string }[] | undefined,
) {
  const refused = conditions?.find(isPodCreationRefused);
  if (!refused) return undefined;
  return `pods could not be created (FailedCreate): ${(refused.message ?? '').slice(0, REFUSAL_MAX_CHARS)}`;
}

/**
 * A Deployment condition that says its ReplicaSet's pods were refused: ReplicaFailure True
 * `FailedCreate`, carrying the API server's answer, which the Deployment controller keeps until a
 * pod is created again (the ReplicaSet controller retries with its backoff).
 */
export function isPodCreationRefused(condition: {
  type?: string;
  status?: string;
  reason?: string;
}): boolean {
  return (
    condition.type === 'ReplicaFailure' && condition.status === 'True' && condition.reason === 'FailedCreate'
  );
}

/**
 * A Deployment condition that says its rollout stalled: Progressing False `ProgressDeadlineExceeded`,
 * which the Deployment controller keeps until the rollout moves again (or a new one starts).
 */
export function isStalledRollout(condition: { type?: string; status?: string; reason?: string }): boolean {
  return (
    condition.type === 'Progressing' &&
    condition.status === 'False' &&
    condition.reason === 'ProgressDeadlineExceeded'
  );
}

/** Why the owned objects could not be brought to desired state, in words that name the object. */
export interface ApplyFailure {
  reason: FailureReason;
  message: string;
  /** What the reconcile throws afterwards, so the queue retries with backoff. */
  error: unknown;
}

/**
 * Whether the owned objects match desired state. Unknown while the configuration is invalid:
 * nothing is applied then, and the objects last applied are kept, but for the Deployments of a
 * configuration naming a projection (`deploymentsRemoved`, ADR 0330), whose removal may also fail.
 */
export function appliedCondition(
  configValid: boolean,
  failure: ApplyFailure | undefined,
  deploymentsRemoved = false,
): ConditionInput {
  if (failure) return { status: 'False', reason: failure.reason, message: failure.message };
  if (!configValid) {
    const kept = deploymentsRemoved
      ? 'its Deployments are removed (ConfigValid says why), the other objects last applied are kept'
      : 'the last applied objects are kept';
    return {
      status: 'Unknown',
      reason: 'ConfigInvalid',
      message: `nothing is applied until the configuration is valid; ${kept}`,
    };
  }
  return {
    status: 'True',
    reason: 'ObjectsApplied',
    message: 'every owned object matches the desired state',
  };
}

export function computeStatus(
  previous: TenantStatus | undefined,
  observed: StatusObservations,
  now: Date,
): TenantStatus {
  const serving: [ConditionType, ConditionInput][] = observed.pool
    ? [['PoolReady', observed.pool]]
    : [
        ['BrokerAvailable', observed.broker],
        ['PortalAvailable', observed.portal],
      ];
  const ready: ConditionInput = [observed.configValid, observed.applied, ...serving.map(([, c]) => c)].every(
    (c) => c.status === 'True',
  )
    ? { status: 'True', reason: 'AllComponentsReady', message: 'the portal and the broker are serving' }
    : notReady(observed);
  const inputs: [ConditionType, ConditionInput][] = [
    ['ConfigValid', observed.configValid],
    ['Applied', observed.applied],
    ...serving,
    ...(observed.signingCertificate
      ? [['SigningCertificateValid', observed.signingCertificate] as [ConditionType, ConditionInput]]
      : []),
    ...(observed.tlsCertificate
      ? [['TLSCertificateServed', observed.tlsCertificate] as [ConditionType, ConditionInput]]
      : []),
    ['Ready', ready],
  ];
  const conditions = toConditions(previous?.conditions, inputs, observed.generation, now);
  const status: TenantStatus = { observedGeneration: observed.generation, conditions };
  if (observed.portalUrl) status.portalUrl = observed.portalUrl;
  if (observed.brokerUrl) status.brokerMetadataUrl = `${observed.brokerUrl}${BROKER_METADATA_PATH}`;
  if (observed.identityProviderCount !== undefined)
    status.identityProviderCount = observed.identityProviderCount;
  const endpoints = observed.brokerUrl
    ? identityProviderEndpoints(observed.brokerUrl, observed.identityProviders)
    : [];
  if (endpoints.length > 0) status.identityProviderEndpoints = endpoints;
  if (observed.signingCertificateFingerprint)
    status.signingCertificateFingerprint = observed.signingCertificateFingerprint;
  if (observed.placement) status.placement = observed.placement;
  return status;
}

/** Conditions as the API conventions want them: lastTransitionTime moves only when the status does. */
export function toConditions(
  previous: TenantCondition[] | undefined,
  inputs: [string, ConditionInput][],
  generation: number,
  now: Date,
): TenantCondition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return inputs.map(([type, input]): TenantCondition => {
    const prior = before.get(type);
    return {
      type,
      status: input.status,
      reason: input.reason,
      message: input.message.slice(0, 32768),
      observedGeneration: generation,
      lastTransitionTime:
        prior && prior.status === input.status
          ? prior.lastTransitionTime
          : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    };
  });
}

function notReady(observed: StatusObservations): ConditionInput {
  if (observed.configValid.status !== 'True') {
    return { status: 'False', reason: 'ConfigInvalid', message: 'fix the configuration (see ConfigValid)' };
  }
  if (observed.applied.status !== 'True') {
    return { status: 'False', reason: observed.applied.reason, message: observed.applied.message };
  }
  if (observed.pool) return { status: 'False', reason: observed.pool.reason, message: observed.pool.message };
  const waiting = [
    observed.broker.status !== 'True' ? 'broker' : undefined,
    observed.portal.status !== 'True' ? 'portal' : undefined,
  ].filter(Boolean);
  return {
    status: 'False',
    reason: 'ComponentsUnavailable',
    message: `waiting for ${waiting.join(' and ')} (see their conditions)`,
  };
}

/** Whether two statuses say the same (so writing `next` would change nothing). */
export function sameStatus(a: TenantStatus | undefined, b: TenantStatus): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

/**
 * Conditions in a comparable form: sorted by type, only the types in `ours` and only what the
 * operator writes of them. A type of another component's (the API conventions let other
 * controllers add their own) is its manager's: the operator's apply leaves it, so it is no
 * difference to write, or every resync would write the status again.
 */
export function comparableConditions(
  conditions: TenantCondition[] | undefined,
  ours: readonly string[],
): unknown[] {
  return (conditions ?? [])
    .filter((c) => ours.includes(c.type))
    .sort((x, y) => (x.type < y.type ? -1 : 1))
    .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration, c.lastTransitionTime]);
}

function normalise(status: TenantStatus | undefined): unknown {
  if (!status) return {};
  const conditions = comparableConditions(status.conditions, TENANT_CONDITION_TYPES);
  return [
    status.observedGeneration,
    conditions,
    status.portalUrl,
    status.brokerMetadataUrl,
    status.identityProviderCount,
    // The API server answers an object's keys sorted: compared field by field, not as written.
    (status.identityProviderEndpoints ?? []).map((e) => [
      e.name,
      e.redirectUri,
      e.postLogoutRedirectUri,
      e.backchannelLogoutUri,
      e.spMetadataUrl,
      e.soapLogoutUri,
      e.frontchannelLogoutUri,
    ]),
    status.signingCertificateFingerprint,
    status.placement,
  ];
}
