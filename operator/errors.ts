/**
 * Why a reconcile failed, as the `reason` of the tenant's Applied condition, its Warning Event and
 * the `jsm_sso_operator_reconcile_errors_total{reason}` metric. A closed set: tests and alerts
 * match on these. Each reason's meaning and remedy are the operator README's table (`npm run gen`).
 */
export const FAILURE_REASONS = {
  ObjectConflict: {
    meaning:
      "An object with the name of one the tenant owns (`<tenant>-config`, `<tenant>-broker`...) exists and is not controlled by this tenant (its controller ownerReference is missing or names another uid). The message names each such object and its owner (controller, or the field managers that wrote it). Nothing is applied: the other team's object is left untouched, and the tenant's pods are not started next to a ConfigMap or Service that is not theirs.",
    action: 'Delete or rename the other object, or rename the tenant.',
  },
  ApplyFailed: {
    meaning:
      "The API server refused an owned object (422 invalid, quota, `failed to allocate a serviceIP`, 5xx...). The message names the object (`Service acme-broker`) and repeats the API server's answer. The objects applied before it stay applied, the ones after it wait.",
    action: 'Fix what the message names.',
  },
  SecretCreateFailed: {
    meaning:
      'A generated signing Secret could not be created (quota, admission policy...), before any owned object is applied.',
    action: 'Fix what the message names, or create the Secret yourself.',
  },
  SecretMissing: {
    meaning:
      "A Secret a tenant or a JsmSsoPool references does not exist in its namespace (a tenant's: the Atlassian credentials, an IdP's credentials or CA bundle, Redis, a listener's TLS, its signing keys; a pool's `spec.redis`: URL, CA bundle, client certificate); the message names it. A tenant reports it on ConfigValid and its running pods are left as they were; nothing of the pool is applied, so its pods are not started without their Redis.",
    action: 'Create the Secret in the namespace the message names, or fix the reference.',
  },
  SecretKeyMissing: {
    meaning:
      "A Secret a tenant or a JsmSsoPool references exists but lacks the key the reference names (a tenant's: `email` and `apiToken` of the Atlassian credentials, for one; a pool's: `url`, `ca.crt`, or `tls.crt`/`tls.key` of a client certificate); the message names it. Nothing of the tenant or the pool is applied.",
    action: 'Add the key to the Secret, or fix the reference.',
  },
  SecretNotReferable: {
    meaning:
      "A tenant or a JsmSsoPool names a Secret that is a pooled tenant's projection (the operator's own, in a pool's namespace), which holds another tenant's credentials; the message names it. Its values are never read, mounted or copied. A tenant reports it on ConfigValid (ADR 0313); nothing else of the pool is applied (ADR 0320). Unlike any other broken configuration, the tenant's or pool's Deployments are deleted, since their pods mount each named Secret by name and would be given the projection's keys (ADR 0330); they are applied again once the spec names a Secret of its own. Meanwhile BrokerAvailable and PortalAvailable are False with this reason (ADR 0337).",
    action: "Reference a Secret of the tenant's or the pool's own.",
  },
  SpecInvalid: {
    meaning:
      "A JsmSsoPool field that the schema's pattern lets through is invalid all the same (`spec.egress.allowedNetworks`: an entry that is not a network, `fd00:::1/64`); the message names it. Nothing of the pool is applied, so its pods do not start and crash-loop on it.",
    action: 'Fix the field the message names.',
  },
  StatusWriteFailed: {
    meaning:
      "The API server refused the status of the tenant or JsmSsoPool (an admission policy or webhook on the `status` subresource, 5xx, a lost connection...). No condition can carry this one: it is a Warning Event `StatusWriteFailed` on the object, with the API server's answer. A tenant or pool deleted since it was read (404) is not a failure: there is nothing left to report on.",
    action:
      'Read the Event (`kubectl describe`); fix what refuses the write, e.g. `kubectl get validatingadmissionpolicies,validatingwebhookconfigurations`.',
  },
  ReconcileFailed: {
    meaning:
      'Anything else: an owned object no longer wanted that the API server refuses to delete (an admission policy), a lost connection, an unexpected answer or error. The metric and the log line carry only this reason; the detail is in the message and the log line.',
    action: "Read the message and the operator's log (`operator.reconcile_failed`).",
  },
} as const satisfies Record<string, { meaning: string; action: string }>;

export type FailureReason = keyof typeof FAILURE_REASONS;

export class ReconcileError extends Error {
  readonly reason: FailureReason;

  constructor(reason: FailureReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReconcileError';
    this.reason = reason;
  }
}

/**
 * The reason a failed reconcile is counted and logged under: its own when it is a ReconcileError,
 * else `ReconcileFailed`. Never an API server reason or an error's class, so the metric's `reason`
 * label stays within this closed set (the detail goes in the log line's message).
 */
export function failureReasonOf(error: unknown): FailureReason {
  return error instanceof ReconcileError ? error.reason : 'ReconcileFailed';
}

/**
 * Every other reason the operator writes on a condition (tenant and JsmSsoPool), an Event, or logs, besides
 * FAILURE_REASONS (which also stand on Applied and Ready): the operator README's second table
 * (`npm run gen`), and test/common/emitted-codes.test.ts fails when a reason the sources write is in
 * neither. `conditions` names where it appears.
 */
export const OPERATOR_REASONS = {
  Valid: { conditions: 'ConfigValid=True', meaning: 'The configuration passes the schema and its rules.' },
  SchemaInvalid: {
    conditions: 'ConfigValid=False',
    meaning: 'A field breaks the schema or a cross-field rule; the message names each.',
  },
  MappingInvalid: {
    conditions: 'ConfigValid=False',
    meaning: 'An attribute-mapping expression does not compile; the message names it.',
  },
  SigningCertificateInvalid: {
    conditions: 'ConfigValid=False',
    meaning:
      "A signing Secret's `tls.crt` is not a PEM X.509 certificate; the running pods are left as they are.",
  },
  EncryptionKeyInvalid: {
    conditions: 'ConfigValid=False',
    meaning:
      "A key pair of the broker's decryption Secret (spec.broker.encryptionSecretRef: tls.*, next.*) is refused as the broker would refuse it at start: a key that is not a PEM RSA key of 2048 bits or more, a certificate that is not PEM or not of its key, or a key that is another of the tenant's (a signing key, next ones too, or a listener's TLS key); the message names the key. The running pods are left as they are.",
  },
  SigningKeyInvalid: {
    conditions: 'ConfigValid=False',
    meaning:
      "A signing Secret's key is not the key of its certificate, as the broker and the portal would refuse it at start: `tls.key` of `tls.crt` (a certificate renewed beside the old key), or `next.key` of `next.crt` when both are there (either alone is a step of the rotation runbook); or one is not PEM. The message names the keys, never their content. The running pods are left as they are.",
  },
  UnknownFieldsIgnored: {
    conditions: 'log line `operator.unknown_fields_ignored`',
    meaning:
      'The tenant has fields this operator version does not know (a CRD newer than the operator); they are ignored and named in the ConfigValid message, once per generation.',
  },
  ConfigInvalid: {
    conditions: 'Applied=Unknown, Ready=False, SigningCertificateValid=Unknown',
    meaning: 'Nothing is applied or checked while ConfigValid is False.',
  },
  ObjectsApplied: { conditions: 'Applied=True', meaning: 'Every owned object is in its desired state.' },
  DeploymentMissing: {
    conditions: 'BrokerAvailable, PortalAvailable=Unknown',
    meaning: "The part's Deployment does not exist yet.",
  },
  RolloutPending: {
    conditions: 'BrokerAvailable, PortalAvailable=Unknown',
    meaning:
      "The part's Deployment has not yet observed the latest spec the operator wrote. A generation another manager made (an autoscaler's or `kubectl scale`'s replica count, an annotation) is no rollout of the operator's and is not awaited (ADR 0360).",
  },
  MinimumReplicasAvailable: {
    conditions: 'BrokerAvailable, PortalAvailable=True',
    meaning: "At least one of the part's pods is available.",
  },
  PodsUnavailable: {
    conditions: 'BrokerAvailable, PortalAvailable=False',
    meaning: "None of the part's pods is available; the message says where to look.",
  },
  ProgressDeadlineExceeded: {
    conditions: 'BrokerAvailable, PortalAvailable=False (tenant, JsmSsoPool); Ready=False (JsmSsoPool)',
    meaning:
      "The part's Deployment says the rollout of its latest spec made no progress within its deadline (Progressing=False, an image no node pulls, pods that never get ready): pods of an earlier spec may still serve, but not the spec the status reports on. Clears once the rollout moves again. The message counts the available pods and says where to look.",
  },
  FailedCreate: {
    conditions: 'BrokerAvailable, PortalAvailable=False (tenant, JsmSsoPool); Ready=False (JsmSsoPool)',
    meaning:
      "None of the part's pods is available and the API server refuses to create them (the Deployment's ReplicaFailure `FailedCreate`): a ResourceQuota they exceed, a LimitRange, PodSecurity, an admission policy or webhook. The message repeats the API server's answer, which names what refuses them. The ReplicaSet controller retries with its backoff and creates them once that is lifted; the condition clears then. Where some pods are available the part stays True and its message carries the refusal.",
  },
  AllComponentsReady: { conditions: 'Ready=True', meaning: 'The portal and the broker are serving.' },
  ComponentsUnavailable: {
    conditions: 'Ready=False',
    meaning: 'The broker or the portal (or the pool) is not available; the message says which.',
  },
  DeletionBlocked: {
    conditions: 'Ready=False',
    meaning:
      'The tenant is being deleted, but removing what it placed in its pool, or then its finalizer, fails; the message says which and why.',
  },
  NamespaceTerminating: {
    conditions: 'Applied=False, Ready=False (tenant, JsmSsoPool); log line `operator.namespace_terminating`',
    meaning:
      "The API server refused to create an object because its namespace is being deleted (the tenant's or pool's own, or a pooled tenant's pool's): the namespace controller is deleting all it holds. The operator creates nothing more there and does not retry (a retry could only be refused again); no Warning Event, none can be recorded in such a namespace. The tenant or pool goes with its namespace; a tenant elsewhere placed in a pool whose namespace goes says PoolNotFound once the pool is gone.",
  },
  PoolNotChecked: {
    conditions: 'PoolReady=Unknown',
    meaning: 'A pooled tenant whose configuration is not valid: its pool is checked once it is.',
  },
  PoolNotFound: {
    conditions: 'PoolReady=False',
    meaning:
      'The JsmSsoPool `spec.placement.pool` names does not exist, or is in a namespace the operator does not watch.',
  },
  HostClaimedByEarlierTenant: {
    conditions: 'PoolReady=False, Ready=False; Warning Event',
    meaning:
      "Another tenant of the pool claimed this tenant's host first (spec.portal.url or spec.broker.url; it named that host earlier, ADR 0193, 0230): the pool serves that tenant there and refuses this one (POOL_TENANT_CONFLICT in the pool's log). The message names the part, the host and the other tenant's namespace/name, and the projection Secret when that tenant is gone and left it behind (it is served until removed, ADR 0235). A host name is one tenant's for both parts: another tenant's portal there counts against this one's broker and the other way round (its message says the holder claimed that host first for its portal), and a part not served at its host gets no rule in the tenant's Ingress (ADR 0247). It clears, with an Event, once that tenant leaves the pool or changes its URL; or give this tenant a URL of its own.",
  },
  CertificateServed: {
    conditions: 'TLSCertificateServed=True',
    meaning:
      "A pooled tenant with its own certificate (spec.portal.tlsSecretRef or spec.broker.tlsSecretRef) in a pool part that serves TLS (the JsmSsoPool's spec.<part>.tls): clients that name its host name (SNI) get that certificate. A pair that does not load is the pool's to report (POOL_TENANT_TLS_INVALID in its log); its host name then gets the pool's default certificate.",
  },
  ServerNameClaimedByEarlierTenant: {
    conditions: 'TLSCertificateServed=False; Warning Event',
    meaning:
      "Another tenant of the pool is served at this tenant's host name on another port (`https://sso.acme.example` and `https://sso.acme.example:8443`) and named its host first (ADR 0230): a TLS client names a host without its port, so the pool serves that tenant's certificate (or its default, if that tenant has none) for the name, to this tenant's clients too. This tenant is still served at its own host, so PoolReady and Ready do not change. The message names the part, the host and the other tenant's namespace/name. It clears, with an Event, once that tenant leaves the pool or changes its host name; or give this tenant a host name of its own (ADR 0235).",
  },
  NamespaceNotAllowed: {
    conditions: 'PoolReady=False, Ready=False; Warning Event',
    meaning:
      "The JsmSsoPool `spec.placement.pool` names does not take tenants of this tenant's namespace (its `spec.tenants.namespaces`; by default only its own namespace's, ADR 0213). Nothing of the tenant is written in the pool's namespace, and what it placed there before (projection, Ingress) is removed. The pool's owner may allow the namespace (`from: All`), or place the tenant in a pool of its own namespace.",
  },
  HostIsPoolService: {
    conditions: 'PoolReady=False, Ready=False; Warning Event',
    meaning:
      "The tenant's spec.portal.url or spec.broker.url names one of its JsmSsoPool's Services (`<pool>-<part>`, with `.<namespace>`, `.svc` or `.svc.<cluster domain>`; any case, a trailing dot too). An ingress that re-encrypts to a pool part serving TLS sends no server name or that Service's (docs/placement.md), and a connection naming a tenant serves no other tenant's Host (421 POOL_MISDIRECTED), so the tenant would have taken every connection of the part. Nothing of the tenant is written in the pool's namespace, and what it placed there before (projection, Ingress) is removed (ADR 0249). Give the tenant the URL its users reach it at.",
  },
  HostNotADnsName: {
    conditions: 'PoolReady=False, Ready=False; Warning Event',
    meaning:
      "The tenant's spec.portal.url or spec.broker.url has a host that is not a DNS name: an IP address (`https://203.0.113.5`, `https://[2001:db8::5]`), a wildcard (`https://*.acme.example`) or another name an Ingress rule cannot hold. A pooled tenant's Ingress sits among the other tenants' in the pool's namespace, and such a host routed more than the tenant's own: an address became a rule without a host, which an ingress controller takes for every host no rule names, and a wildcard one for every subdomain without a rule of its own. Nothing of the tenant is written in the pool's namespace, and what it placed there before (projection, Ingress) is removed (ADR 0254). Give the tenant the host name its users reach it at.",
  },
  PoolNotReady: {
    conditions: 'PoolReady=False or Unknown',
    meaning: "The tenant's JsmSsoPool is not Ready (its own conditions say why) or has not reported yet.",
  },
  PoolReady: { conditions: 'PoolReady=True', meaning: "The tenant's JsmSsoPool is Ready." },
  CertificatesValid: {
    conditions: 'SigningCertificateValid=True',
    meaning: 'Both signing certificates have more than 30 days left.',
  },
  CertificateExpiringSoon: {
    conditions: 'SigningCertificateValid=False',
    meaning: 'A signing certificate expires within 30 days; rotate it.',
  },
  CertificateExpired: {
    conditions: 'SigningCertificateValid=False',
    meaning: 'A signing certificate has expired; rotate it.',
  },
  CertificateUnreadable: {
    conditions: 'SigningCertificateValid=Unknown',
    meaning: 'A signing Secret has no readable `tls.crt` (see ConfigValid).',
  },
  Applied: {
    conditions: 'Normal Event',
    meaning: 'Owned objects were created or changed; the note names them.',
  },
  SigningKeyGenerated: {
    conditions: 'Normal Event',
    meaning: 'The operator generated a SAML signing key pair in a Secret the tenant did not provide.',
  },
  CleanupAbandoned: {
    conditions: 'Warning Event, log line `operator.cleanup_abandoned`',
    meaning:
      "A deleted tenant's objects in its pool stayed forbidden to remove past the grace: the finalizer is released and the note says how to remove them by hand.",
  },
  PurgeRunning: {
    conditions: 'RedisKeysPurged=Unknown (a tenant with spec.redis.purgeOnDeletion, being deleted)',
    meaning:
      "The tenant's Job `<tenant>-redis-purge` is deleting this incarnation's keys from its spec.redis; the finalizer `jsm-sso.io/redis-purge` holds the tenant until the Job answers, 10 minutes at most (ADR 0427).",
  },
  RedisKeysPurged: {
    conditions: 'RedisKeysPurged=True, Normal Event',
    meaning:
      "The purge Job deleted the deleted tenant's keys from its spec.redis; the finalizer is released and the Job deleted (ADR 0427).",
  },
  RedisKeysNotPurged: {
    conditions: 'RedisKeysPurged=False, Warning Event',
    meaning:
      "The deleted tenant's keys were not deleted from its spec.redis: the Job failed (its pod kept an hour for `kubectl logs`), no Job could be made (the namespace being deleted, the spec not valid), or 10 minutes passed. The finalizer is released all the same and the keys expire on their own, or `jsm-sso purge` deletes them by hand (docs/production.md; ADR 0427).",
  },
  OwnershipChanged: {
    conditions: 'log line `operator.write_skipped` (its `objects` name each)',
    meaning:
      "Between the operator's read of an object and its write (a delete of one no longer wanted, a finalizer, a status), the object changed hands: it was deleted and another made under its name, or its controller ownerReference or tenant-uid label changed. The API server refused the write on its precondition (resourceVersion, uid) and the object is left untouched; an apply meeting such an object fails with `ObjectConflict` instead (ADR 0166).",
  },
  OPERATOR_NOT_LEADER: {
    conditions: 'the message of a failed reconcile, and its log line',
    meaning:
      'A write refused before it was sent because this replica no longer holds the leader lease (a process paused past its renew deadline); the reconcile fails under the reason of the refused write, and the replica that holds the lease does the work.',
  },
  OPERATOR_STOP_DEADLINE: {
    conditions: 'log line `operator.requests_aborted`',
    meaning:
      "On SIGTERM the reconciles in flight were still waiting on the API server 10 s into the stop (it does not answer): their requests were aborted so that the operator stops within its pod's terminationGracePeriodSeconds. The tenants are reconciled again by the replica that takes the lease.",
  },
  OPERATOR_API_UNREACHABLE: {
    conditions: 'log line `operator.api_unreachable`',
    meaning:
      "At start, the API server did not answer the read or create of the operator's hash key Secret (connection refused or reset, TLS failure, a 5xx): the operator waits and asks again (0.5 s doubling to 30 s), one line per attempt, and starts once it answers; /readyz fails meanwhile (ADR 0332).",
  },
  OPERATOR_API_THROTTLED: {
    conditions: 'log line `operator.api_throttled`',
    meaning:
      "At start, the API server throttled the read or create of the operator's hash key Secret past the client's 10 retries, each after its Retry-After (429 from API Priority and Fairness: the operator's priority level is full): the operator waits its Retry-After (at least 0.5 s doubling to 30 s) and asks again, one line per attempt, and starts once it is admitted; /readyz fails meanwhile (ADR 0337).",
  },
  OPERATOR_LEASE_NOT_RELEASED: {
    conditions: 'log line `leader.release_failed`',
    meaning:
      'The stopping leader could not hand its lease back within 5 s (the API server did not answer): a standby takes over once the lease expires (`leaseDurationSeconds` after the last renewal) instead of at once.',
  },
} as const satisfies Record<string, { conditions: string; meaning: string }>;

export type OperatorReason = keyof typeof OPERATOR_REASONS;
