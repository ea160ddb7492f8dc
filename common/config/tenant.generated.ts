// Generated from crds/jsmssotenant.yaml by `npm run gen`. Do not edit: change the CRD and regenerate.

import type { TenantMetadata } from './tenant-metadata.js';

/**
 * One help center (tenant) whose Jira Service Management customers sign in through jsm-sso.
 */
export interface JsmSsoTenant {
  /**
   * APIVersion defines the versioned schema of this representation of an object.
   */
  apiVersion?: string;
  /**
   * Kind is a string value representing the REST resource this object represents.
   */
  kind?: string;
  metadata?: TenantMetadata;
  spec: TenantSpec;
  status?: TenantStatus;
}
/**
 * Desired state of the tenant.
 */
export interface TenantSpec {
  portal: PortalSpec;
  broker: BrokerSpec;
  /**
   * The tenant's own identity providers. With several, the broker shows a choice page with home-realm discovery by e-mail domain.
   *
   * @minItems 1
   * @maxItems 5
   */
  identityProviders: [IdentityProviderSpec, ...IdentityProviderSpec[]];
  atlassian: AtlassianSpec;
  redis?: RedisSpec;
  ingress?: IngressSpec;
  /**
   * How long the broker and portal pods keep an idle keep-alive connection open, in seconds. It must be longer than the idle timeout of the load balancer or ingress in front, so that it closes an idle connection, never the pod: a request it sends on a connection the pod is closing is lost, a 502 (ingress-nginx and AWS ALB keep one 60 s by default, GCLB 600 s, an ALB set up to 4,000 s). Unset, 65, which fits the 60 s defaults. A connection that has sent no request yet is still bounded by the 20 s headers timeout, and at most 4,096 sit idle per pod. A tenant placed in a pool takes its pool's (JsmSsoPool spec.keepAliveTimeoutSeconds) and may not set it.
   */
  keepAliveTimeoutSeconds?: number;
  placement?: PlacementSpec;
  /**
   * The one XML Signature algorithm of the SAML messages between the portal and the broker, both ways: the broker's Responses and LogoutResponses, the portal's AuthnRequests and LogoutRequests. rsa-sha256 (the default) needs RSA keys of 2048 bits or more, ecdsa-sha256 (xmldsig-more, r||s values) EC P-256 keys; the operator generates missing signing Secrets of that kind. Each end accepts exactly this algorithm from the other and refuses any other (SAML_SIGNATURE_ALGORITHM_FORBIDDEN), and a part whose own key does not fit it does not start (SIGNING_KEY_ALGORITHM_MISMATCH). ecdsa-sha256 signs several times cheaper, but node-saml and pysaml2's Redirect binding cannot verify it (docs/decisions/0063-ecdsa-for-the-broker-portal-hop.md). The broker's key also signs its requests to upstream SAML IdPs, which must then accept ecdsa-sha256. Changing it on a running tenant needs new signing keys of the other kind.
   */
  signatureAlgorithm: 'rsa-sha256' | 'ecdsa-sha256';
  /**
   * What happens to the signing Secrets the operator generated (<name>-broker-signing, <name>-portal-signing) when the tenant is deleted. Retain (the default, as cert-manager keeps Certificate Secrets) leaves them without an owner reference, so a tenant deleted and created again signs with the same keys and the IdPs that pinned the broker's certificate keep working. Delete gives them an owner reference to the tenant, so they are garbage-collected with it. Read when a Secret is generated; the operator never modifies an existing Secret.
   */
  signingSecretDeletionPolicy: 'Retain' | 'Delete';
}
/**
 * The customer portal that replaces the native JSM portal for this help center.
 */
export interface PortalSpec {
  /**
   * Public URL of the portal, the root of its own host (no path, no trailing slash). Must be https:// unless the host is loopback (localhost, a name under .localhost such as acme.localhost, 127.0.0.0/8, [::1]).
   */
  url: string;
  /**
   * Help center name shown in the page header and browser title.
   */
  title: string;
  /**
   * Look of the portal pages.
   */
  branding?: {
    /**
     * URL of the logo shown in the header (https, or a path on the portal itself).
     */
    logoUrl?: string;
    /**
     * Primary colour as
     */
    primaryColor: string;
  };
  /**
   * A notice shown on the help center's home page and on every service desk's page, as Jira Service Management's help center announcement (which no REST API exposes, so it is set here): planned maintenance, an outage. Plain text, shown as written; in the customer's language when a translation is given, else `message`. Unset: no notice.
   */
  announcement?: {
    /**
     * The notice, shown to customers whose language has no translation below.
     */
    message: string;
    /**
     * The notice in the other languages the portal speaks, shown to customers who use that language.
     */
    translations?: {
      /**
       * German.
       */
      de?: string;
      /**
       * French.
       */
      fr?: string;
      /**
       * Japanese.
       */
      ja?: string;
    };
  };
  /**
   * Number of portal pods when autoscaling is not set; 1 when neither is. More than one requires spec.redis.
   */
  replicas?: number;
  autoscaling?: AutoscalingSpec;
  pod?: TenantPodSettings;
  /**
   * Who may use the portal once signed in.
   */
  access?: {
    /**
     * `jira`: Atlassian decides (the customer must exist or be creatable and have access to the service desks); `public`: anyone the IdP signs in; `groups`: only members of the listed IdP groups.
     */
    mode: 'jira' | 'public' | 'groups';
    /**
     * IdP group names allowed in `groups` mode (from the `groups` SAML attribute).
     *
     * @maxItems 100
     */
    groups?: string[];
    /**
     * Let licensed Atlassian users (accountType `atlassian`: agents, admins) sign in to the portal as themselves. Off by default: their accounts see internal work, and a portal session as one would let whoever controls a matching IdP account act in a place meant for customers. Decided from Atlassian's answer about the account. The portal's own service account, and system or app accounts (accountType `app`), are always refused.
     */
    allowLicensedUsers: boolean;
  };
  /**
   * IdP groups whose members see the portal's activity page (accountIds with last login and client IP).
   *
   * @maxItems 20
   */
  adminGroups?: string[];
  /**
   * Lets visitors who are not signed in read the help center home, the knowledge base of these service desks and its articles, as JSM's "anyone can view" knowledge base does. They never see requests, request types or anything about a customer: raising a request, My requests and every other page still send them to sign in. Absent: every page needs sign-in.
   */
  anonymousAccess?: {
    /**
     * The service desks whose name and knowledge base anonymous visitors may see (desks outside the portal's atlassian.serviceDeskIds are ignored).
     *
     * @minItems 1
     * @maxItems 200
     */
    serviceDeskIds: [string, ...string[]];
  };
  samlSigningSecretRef?: SecretRef;
  /**
   * When set, portal pods serve HTTPS themselves with this kubernetes.io/tls Secret (for meshes without an ingress that terminates TLS). In a pool whose portal has spec.portal.tls, the pool's pods serve it to clients that ask for this tenant's host name (SNI); only then does the operator copy it into the pool's namespace, with the tenant's other keys.
   */
  tlsSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * Abuse limits. Rate limits count per client IP (an IPv6 client per /64, the least a host or a site is given, whose last 64 bits it may change at will) and per account over a window; with spec.redis they are kept in Redis, so all portal replicas count together, otherwise in the process. A request over a limit is refused with 429, a Retry-After header and a page saying when to try again (reason PORTAL_RATE_LIMITED).
   */
  limits: {
    /**
     * Length of the window every rate limit counts over.
     */
    windowSeconds: number;
    /**
     * Sign-ins started (`GET /login`); the account is not known yet, so per client IP, and all of the tenant's together.
     */
    signInStarts: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many sign-ins started from all addresses together within one flow lifetime (spec.broker.flowTtlSeconds, not windowSeconds), counted over every replica with spec.redis; 6,000 when not set, 10 starts a second for 10 minutes, beyond a help center's busiest hour. Each start writes a sign-in flow, the portal's and then the broker's (about 1.8 KB together), and the per-address limit does not stop a flood spread over many addresses (an IPv6 /48, a botnet): past this, new sign-ins are refused with 503, Retry-After: 60 and the page asking to try again in a minute (PORTAL_SIGN_IN_STARTS_FULL), nothing written, and customers signed in go on; without it the flood fills Redis (or the memory store) until every sign-in and every session fails. It holds a flood to at most twice this many flows at once (about 22 MB of Redis at 6,000). In a pool, the pool's spec.portal.signInStartsPerTenant applies when it is lower, or when this is not set.
       */
      perTenant?: number;
    };
    /**
     * SAML Responses posted to `/saml/acs`; per account is counted once the Response is verified.
     */
    acsPosts: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Requests raised from the portal.
     */
    requestCreations: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Comments added.
     */
    comments: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Changes to an existing request other than comments and files (a workflow transition, a participant added or removed). Each may have Atlassian e-mail the people on the request, so they are limited like comments.
     */
    requestChanges: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Attachments uploaded to an existing request (files sent with a new request count as that request's creation).
     */
    uploads: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Pages anonymous visitors open when portal.anonymousAccess is set (home, knowledge base searches, articles; each may call Atlassian as the service account); per client IP only.
     */
    anonymousPages: {
      /**
       * At most this many per client IP in one window.
       */
      perIp: number;
    };
    /**
     * Pages and files a signed-in customer opens (each may call Atlassian as the service account, within the tenant's share of Atlassian, spec.atlassian.limits); per account only, so that one customer cannot use up that share for the others. Request type icons are not counted (served from the portal's cache of the tenant's catalogue).
     */
    signedInPages: {
      /**
       * At most this many per account in one window.
       */
      perAccount: number;
    };
    /**
     * Largest file a customer may attach, in bytes (Atlassian's own limit may be lower).
     */
    maxUploadBytes: number;
    /**
     * Uploads one portal process reads or sends on at once. Files are spooled to a temporary folder, never held in memory, and removed after the upload's answer; as many ended uploads' folders may still be waiting for removal, so disk use is at most twice this many requests of at most 5 files of maxUploadBytes, which the portal pod's /tmp is sized for. More at once are refused with 503 and Retry-After (PORTAL_UPLOADS_BUSY, or PORTAL_UPLOAD_REMOVALS_BEHIND while the removals lag).
     */
    maxConcurrentUploads: number;
  };
  /**
   * Customer session lifetime.
   */
  session?: {
    /**
     * A session unused for this long ends.
     */
    idleTimeoutSeconds: number;
    /**
     * A session ends this long after sign-in, however active.
     */
    absoluteTimeoutSeconds: number;
  };
}
/**
 * Instead of replicas: a HorizontalPodAutoscaler (autoscaling/v2) made by the operator scales the part on CPU, and the operator leaves the Deployment's replica count to it. Requires spec.redis. Scaling on CPU needs a CPU request, which the default resources carry.
 */
export interface AutoscalingSpec {
  /**
   * Fewest pods.
   */
  minReplicas: number;
  /**
   * Most pods.
   */
  maxReplicas: number;
  /**
   * Average CPU use, as a percentage of the CPU request, that the autoscaler aims at.
   */
  targetCPUUtilizationPercentage: number;
}
/**
 * Scheduling, sizing and metadata of this part's pods. Each field set here replaces the operator's default for that field (the chart's tenantPodDefaults); podLabels and podAnnotations are merged key by key, this tenant's value winning.
 */
export interface TenantPodSettings {
  /**
   * Secrets in the tenant's namespace used to pull the jsm-sso image from a private registry.
   *
   * @maxItems 10
   *
   * Items: A reference to a kubernetes.io/dockerconfigjson Secret.
   */
  imagePullSecrets?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  }[];
  /**
   * CPU, memory and disk of the container (core/v1 ResourceRequirements without claims). Default: requests cpu 100m and memory 128Mi, limits cpu 1 and memory 512Mi. The operator sets no ephemeral-storage (a node whose kubelet runs without local storage capacity isolation reports none, and the scheduler would place no pod asking for any); name it for the scheduler to count what the pod may write: its /tmp volume (64 MiB, plus for a portal the uploads it may spool at once) and 64 MiB of container log.
   */
  resources?: {
    /**
     * Minimum resources the scheduler reserves, by resource name (cpu, memory, ephemeral-storage).
     */
    requests?: {
      /**
       * A Kubernetes quantity such as 250m, 1, 512Mi.
       */
      [k: string]: number | string | undefined;
    };
    /**
     * Maximum resources the container may use, by resource name.
     */
    limits?: {
      /**
       * A Kubernetes quantity such as 250m, 1, 512Mi.
       */
      [k: string]: number | string | undefined;
    };
  };
  /**
   * Node labels a node must carry to run these pods.
   */
  nodeSelector?: {
    [k: string]: string | undefined;
  };
  /**
   * Taints these pods tolerate (core/v1 Toleration).
   *
   * @maxItems 20
   *
   * Items: One toleration. Its fields are held to what the API server requires of them together: an empty key only with operator Exists (every taint), no value with operator Exists, tolerationSeconds only with effect NoExecute.
   */
  tolerations?: {
    /**
     * Taint key, a label key; empty with operator Exists matches every taint.
     */
    key?: string;
    /**
     * Exists or Equal (the default).
     */
    operator?: 'Exists' | 'Equal';
    /**
     * Taint value for operator Equal, a label value.
     */
    value?: string;
    /**
     * Taint effect to match; empty matches all.
     */
    effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
    /**
     * With effect NoExecute, how long the pod stays bound after the taint appears.
     */
    tolerationSeconds?: number;
  }[];
  /**
   * Node and pod affinity (core/v1 Affinity), held to what the API server takes in a Deployment. Each list of terms or requirements holds at most 20 entries, which bounds the cost of checking them at admission.
   */
  affinity?: {
    /**
     * core/v1 NodeAffinity.
     */
    nodeAffinity?: {
      /**
       * Node selector terms one of which a node must match for the pods to be placed on it.
       */
      requiredDuringSchedulingIgnoredDuringExecution?: {
        /**
         * The terms, ORed.
         *
         * @minItems 1
         * @maxItems 20
         */
        nodeSelectorTerms: [NodeSelectorTerm, ...NodeSelectorTerm[]];
      };
      /**
       * Node selector terms the scheduler prefers, each with a weight.
       *
       * @maxItems 20
       *
       * Items: A weighted node selector term.
       */
      preferredDuringSchedulingIgnoredDuringExecution?: {
        /**
         * Weight among the preferred terms, 1 to 100.
         */
        weight: number;
        preference: NodeSelectorTerm;
      }[];
    };
    podAffinity?: PodAffinity;
    podAntiAffinity?: PodAffinity;
  };
  /**
   * How pods spread over topology domains (core/v1 TopologySpreadConstraint). A constraint without labelSelector applies to this part's pods. Default with two or more replicas or autoscaling: spread across nodes (kubernetes.io/hostname) and zones (topology.kubernetes.io/zone), maxSkew 1, ScheduleAnyway.
   *
   * @maxItems 8
   *
   * Items: One spread constraint.
   */
  topologySpreadConstraints?: {
    /**
     * Largest allowed difference in matching pods between two domains.
     */
    maxSkew: number;
    /**
     * Node label whose values are the domains, e.g. topology.kubernetes.io/zone.
     */
    topologyKey: string;
    /**
     * DoNotSchedule keeps a pod pending; ScheduleAnyway prefers balance.
     */
    whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
    /**
     * Minimum number of eligible domains (only with DoNotSchedule).
     */
    minDomains?: number;
    /**
     * Whether the pod's nodeAffinity and nodeSelector limit the domains counted (Honor, the default) or not (Ignore).
     */
    nodeAffinityPolicy?: 'Honor' | 'Ignore';
    /**
     * Whether node taints limit the domains counted (Honor) or not (Ignore, the default).
     */
    nodeTaintsPolicy?: 'Honor' | 'Ignore';
    /**
     * Pod label keys whose values narrow the counted pods to this pod's (e.g. pod-template-hash, one rollout at a time).
     *
     * @maxItems 8
     *
     * Items: A pod label key.
     */
    matchLabelKeys?: string[];
    labelSelector?: LabelSelector;
  }[];
  /**
   * Extra labels on the pods. The labels the operator selects and manages by (app.kubernetes.io/name, instance, component, part-of, managed-by) are reserved.
   */
  podLabels?: {
    [k: string]: string | undefined;
  };
  /**
   * Extra annotations on the pods (e.g. for a service mesh). Keys under jsm-sso.io/ are reserved for the operator. The pods meet the restricted Pod Security Standard: an AppArmor annotation (container.apparmor.security.beta.kubernetes.io/<container>) may name runtime/default or localhost/<profile>, never unconfined, and the seccomp annotations are refused (the operator sets RuntimeDefault in the pods' securityContext, and the API server refuses an annotation that differs).
   */
  podAnnotations?: {
    [k: string]: string | undefined;
  };
  /**
   * PriorityClass of the pods.
   */
  priorityClassName?: string;
}
/**
 * A node selector term (core/v1 NodeSelectorTerm): its requirements, ANDed.
 */
export interface NodeSelectorTerm {
  /**
   * Requirements on node labels.
   *
   * @maxItems 20
   *
   * Items: A requirement on a node label: In and NotIn take values, Exists and DoesNotExist none, Gt and Lt one (an integer).
   */
  matchExpressions?: {
    /**
     * A node label key.
     */
    key: string;
    /**
     * In, NotIn, Exists, DoesNotExist, Gt or Lt.
     */
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
    /**
     * The values the operator compares the label's with.
     *
     * Items: One value.
     */
    values?: string[];
  }[];
  /**
   * Requirements on node fields (metadata.name only).
   *
   * @maxItems 20
   *
   * Items: A requirement on the node's name.
   */
  matchFields?: {
    /**
     * metadata.name, the one field the API server takes.
     */
    key: 'metadata.name';
    /**
     * In or NotIn.
     */
    operator: 'In' | 'NotIn';
    /**
     * One node name.
     *
     * @minItems 1
     * @maxItems 1
     *
     * Items: A node name.
     */
    values: [string, ...string[]];
  }[];
}
/**
 * core/v1 PodAffinity (podAntiAffinity has the same shape).
 */
export interface PodAffinity {
  /**
   * Pod affinity terms every one of which a node must meet.
   *
   * @maxItems 20
   */
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  /**
   * Pod affinity terms the scheduler prefers, each with a weight.
   *
   * @maxItems 20
   *
   * Items: A weighted pod affinity term.
   */
  preferredDuringSchedulingIgnoredDuringExecution?: {
    /**
     * Weight among the preferred terms, 1 to 100.
     */
    weight: number;
    podAffinityTerm: PodAffinityTerm;
  }[];
}
/**
 * A pod affinity term (core/v1 PodAffinityTerm): the pods it selects and the topology domain they share.
 */
export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  /**
   * Namespaces whose pods the term selects; none, with no namespaceSelector, means the pod's own.
   *
   * @maxItems 20
   *
   * Items: A namespace name.
   */
  namespaces?: string[];
  /**
   * Node label whose values are the domains the selected pods are counted in.
   */
  topologyKey: string;
  /**
   * Pod label keys whose values, taken from this pod, narrow the selected pods.
   *
   * @maxItems 20
   *
   * Items: A pod label key.
   */
  matchLabelKeys?: string[];
  /**
   * Pod label keys whose values, taken from this pod, exclude the pods carrying them.
   *
   * @maxItems 20
   *
   * Items: A pod label key.
   */
  mismatchLabelKeys?: string[];
}
/**
 * A label selector (metav1 LabelSelector): matchLabels and matchExpressions, ANDed.
 */
export interface LabelSelector {
  /**
   * Labels a pod must carry.
   */
  matchLabels?: {
    [k: string]: string | undefined;
  };
  /**
   * Requirements on pod labels.
   *
   * @maxItems 20
   *
   * Items: A requirement on a pod label: In and NotIn take values, Exists and DoesNotExist none.
   */
  matchExpressions?: {
    /**
     * A pod label key.
     */
    key: string;
    /**
     * In, NotIn, Exists or DoesNotExist.
     */
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    /**
     * Label values.
     *
     * Items: A label value.
     */
    values?: string[];
  }[];
}
/**
 * A kubernetes.io/tls Secret (keys tls.crt, tls.key) with the portal's SAML signing key. Optional keys next.crt and next.key hold the next pair during a rotation, whose certificate the broker trusts too. The operator generates it when it does not exist. A key that is not its certificate's (tls.key of tls.crt; next.key of next.crt when both are there) is ConfigValid False, SigningKeyInvalid, and not rolled out.
 */
export interface SecretRef {
  /**
   * Name of a Secret in the tenant's namespace.
   */
  name: string;
}
/**
 * The protocol bridge between the portal (SAML) and the tenant's identity providers.
 */
export interface BrokerSpec {
  /**
   * Public base URL of the broker, without a trailing slash. Must be https:// unless the host is loopback (as for portal.url, a name under .localhost counts). The redirect URIs given to OIDC and OAuth 2.0 IdPs are derived from it in the URL's canonical form (host in lower case, no default port such as :443), the one sent in both the authorization and the token request; register them as status.identityProviderEndpoints names them.
   */
  url: string;
  /**
   * Number of broker pods when autoscaling is not set; 1 when neither is. More than one requires spec.redis.
   */
  replicas?: number;
  autoscaling?: AutoscalingSpec;
  pod?: TenantPodSettings;
  /**
   * A kubernetes.io/tls Secret with the broker's SAML signing key (tls.crt, tls.key). Optional keys next.crt and next.key hold the next pair: its certificate is published in metadata ahead of a rollover. Generated by the operator when absent. A key that is not its certificate's (tls.key of tls.crt; next.key of next.crt when both are there) is ConfigValid False, SigningKeyInvalid, and not rolled out.
   */
  signingSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * A kubernetes.io/tls Secret with an RSA key pair (2048 bits or more; tls.crt, tls.key) that upstream SAML IdPs encrypt their assertions, and the NameIDs in them (EncryptedID), to: its certificate is published as the encryption KeyDescriptor of the broker's SP metadata, with the algorithms accepted (RSA-OAEP key transport; AES-GCM, or AES-CBC inside a signed Response when the tenant has one SAML IdP). Optional keys next.crt and next.key hold a second pair, published and used to decrypt as well, for a rollover: both or neither (one alone is refused: ConfigValid False, SecretKeyMissing). A key of its own: none of the tenant's signing keys (next ones too) nor listener TLS keys. A key the broker would refuse (not RSA of 2048 bits or more, not its certificate's, another key of the tenant's) is ConfigValid False, EncryptionKeyInvalid, and not rolled out. Without it the SP metadata offers no encryption key and an EncryptedAssertion or EncryptedID is refused.
   */
  encryptionSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * When set, broker pods serve HTTPS themselves with this kubernetes.io/tls Secret. In a pool whose broker has spec.broker.tls, the pool's pods serve it to clients that ask for this tenant's host name (SNI); only then does the operator copy it into the pool's namespace, with the tenant's other keys.
   */
  tlsSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * Validity of the SAML assertions issued to the portal.
   */
  assertionLifetimeSeconds: number;
  /**
   * How long a login may take from AuthnRequest to Response before its state expires.
   */
  flowTtlSeconds: number;
  /**
   * What the broker does with an AuthnRequest's RequestedAuthnContext (SAML core 3.3.2.2.1). Forward (the default): the listed context classes go to an OIDC IdP as acr_values, a voluntary request, and to a SAML IdP in its AuthnRequest as they came (SAML core 3.4.1.5.1), and the Response asserts the class the IdP signed the person in with (its acr, else unspecified), as Keycloak and SATOSA do; common SP libraries send a context by default (node-saml: PasswordProtectedTransport, exact) that an OIDC IdP rarely asserts. Enforce: a login asserted with a class the SP did not list is answered with a signed Responder/NoAuthnContext Response (SAML_AUTHN_CONTEXT_NOT_MET), at once for Comparison better or a request naming only declarations. The portal asks for no context, so this matters only to another SP trusted with the portal's key.
   */
  requestedAuthnContext: 'Forward' | 'Enforce';
}
/**
 * One identity provider, reached over exactly one of oidc, oauth2 or saml.
 */
export interface IdentityProviderSpec {
  /**
   * Stable identifier (DNS label); appears in metrics and logs.
   */
  name: string;
  /**
   * Name shown on the IdP choice page.
   */
  displayName?: string;
  /**
   * The e-mail domains this IdP is authoritative for: it may assert only addresses in them, and home-realm discovery sends them to it. `example.com` is that domain exactly; `*.example.com` is every subdomain of example.com (not example.com itself; list both for both). Lower case, IDNs in punycode (xn--...). A tenant's only IdP may leave this empty: it is then authoritative for every domain. With several IdPs each must list its domains (except the catchAll), and no domain may belong to two.
   *
   * @maxItems 30
   */
  emailDomains?: string[];
  /**
   * `domains` (when unset): authoritative only for its emailDomains. `catchAll`: also for every domain no other IdP lists (a social or partner login for everyone else); never for a domain another IdP lists, nor for a subdomain of one (eu.example.com when another IdP lists example.com). At most one IdP may be the catchAll.
   */
  authority?: 'domains' | 'catchAll';
  /**
   * Whether the e-mail address this IdP asserts is trusted as verified. `verifiedClaim`: only when the IdP says so: from OIDC and OAuth 2.0 the claim email_verified is the JSON boolean true (OIDC Core 5.1); from SAML the attribute named email_verified has exactly one value, `true` or `1` (xs:boolean, as signed: no whitespace around it); a sign-in without it is refused. `asserted`: the IdP vouches for every address it asserts (a company directory that owns its domains, e.g. Entra ID or Google Workspace, or a SAML IdP that sends no such attribute; SAML defines none). Default for OIDC: verifiedClaim. OAuth 2.0 and SAML IdPs must state it.
   */
  emailTrust?: 'verifiedClaim' | 'asserted';
  /**
   * Whether the groups this IdP asserts count for portal.adminGroups, portal.access mode groups and organization mappings by idpGroup. Groups from an IdP not trusted are ignored (a partner IdP must not make its users admins). Unset: trusted when it is the tenant's only IdP, not trusted otherwise.
   */
  trustGroups?: boolean;
  oidc?: OidcIdpSpec;
  oauth2?: OAuth2IdpSpec;
  saml?: SamlIdpSpec;
  /**
   * SAML attribute name -> CEL expression over the IdP's claims, e.g. claims.email, claims.given_name + ' ' + claims.family_name, claims.groups.filter(g, g.startsWith('jsm-')). A list result becomes a multi-valued attribute. An expression nests at most 32 brackets, and the expressions of one sign-in share one evaluation cost bound (Kubernetes' per-call limit of 1,000,000): an attribute whose expression passes it is left out.
   */
  attributeMapping: {
    [k: string]: string | undefined;
  };
  /**
   * How the NameID of the assertion sent to the portal is made.
   */
  nameId?: {
    /**
     * NameID format.
     */
    format:
      | 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
      | 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'
      | 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
    /**
     * CEL expression over the claims giving the NameID value; at most 32 nested brackets. A NameID whose expression passes the sign-in's evaluation cost bound refuses the sign-in.
     */
    expression: string;
  };
}
/**
 * An OpenID Connect provider, configured by discovery from its issuer.
 */
export interface OidcIdpSpec {
  /**
   * Issuer identifier, as the IdP's discovery document writes it (Auth0's ends in `/`); discovery reads {issuer}/.well-known/openid-configuration and the issuer it names must be identical, character for character, or the IdP is refused at sign-in (OIDC_DISCOVERY_FAILED).
   */
  issuer: string;
  /**
   * Client identifier registered at the IdP.
   */
  clientId: string;
  clientSecretRef?: SecretKeyRef;
  /**
   * Secret key holding the PEM private key used for private_key_jwt client authentication.
   */
  privateKeySecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
  /**
   * How the broker authenticates to the token endpoint.
   */
  clientAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /**
   * Scopes requested (openid is always sent for OIDC).
   *
   * @maxItems 20
   */
  scopes: string[];
  /**
   * The only JWS algorithm accepted for ID tokens.
   */
  idTokenSigningAlg: 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
  /**
   * Extra query parameters for the authorization request (e.g. prompt, login_hint policy, domain_hint). The protocol's own (redirect_uri, response_type, scope, state, nonce, code_challenge, code_challenge_method) are always the broker's; client_id, request, request_uri, claims (OIDC Core 5.5: its requirements would not be held to; acr_values and max_age are, and scopes ask for claims) and a response_mode other than query are refused. OIDC only: `max_age` (seconds) is also enforced: the ID token must carry an `auth_time` no older than max_age before the request was sent, else the sign-in is refused (OIDC_AUTHENTICATION_NOT_FRESH); ForceAuthn sends max_age=0 whatever is set here, and so does a `prompt` that lists `login` (a fresh sign-in every time): the ID token's `auth_time` must then be no older than the request, else OIDC_AUTHENTICATION_NOT_FRESH, and a passive request is answered NoPassive; ForceAuthn adds `login` to the `prompt` set here, keeping its other values. `prompt=none` is refused: the broker sends it itself for a passive AuthnRequest, and set here it would make every sign-in passive. `acr_values` is enforced too (space-separated classes): the ID token's `acr` must be one of them, else the sign-in is refused (OIDC_ACR_NOT_MET); the classes an SP's RequestedAuthnContext names are then not sent. A plain OAuth 2.0 IdP (oauth2) may have neither max_age, nor acr_values, nor prompt=login: nothing it answers states when or how the person authenticated, so none could be held to, and each is refused rather than sent and ignored.
   */
  extraAuthorizationParams?: {
    [k: string]: string | undefined;
  };
  /**
   * Secret key with extra PEM CA certificates trusted for this connection (the IdP, the Atlassian site or Redis it is set on; private PKI). Public CAs stay trusted; verification cannot be turned off.
   */
  caBundleSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
}
/**
 * Secret key holding the client secret.
 */
export interface SecretKeyRef {
  /**
   * Name of a Secret in the tenant's namespace.
   */
  name: string;
  /**
   * Key within the Secret.
   */
  key: string;
}
/**
 * A plain OAuth 2.0 provider without ID tokens; claims come from its userinfo endpoint. The broker sends a PKCE S256 challenge with every authorization request; the provider must hold its token endpoint to it (RFC 9700 2.1.1). With no ID token there is no nonce, so PKCE enforced by the provider is the only defence against a stolen code injected into another person's sign-in (RFC 9700 4.5), and the broker cannot see whether the provider enforces it: prefer oidc where the provider offers OpenID Connect.
 */
export interface OAuth2IdpSpec {
  /**
   * The authorization server's issuer identifier (RFC 8414), exactly as the server writes it in the RFC 9207 `iss` of its authorization responses (a Keycloak realm: `https://idp.example/realms/acme`). Set: the server is held to send `iss` with every authorization response, identical character for character to this value, else the sign-in is refused (OIDC_ISSUER_MISMATCH); it is also the AuthenticatingAuthority of the broker's assertions. Unset: the authorization endpoint's origin stands in for it, and an `iss` the server sends must be that origin.
   */
  issuer?: string;
  /**
   * Authorization endpoint URL; it may carry a query, which is kept (RFC 6749 section 3.1), but no fragment.
   */
  authorizationEndpoint: string;
  /**
   * Token endpoint URL.
   */
  tokenEndpoint: string;
  /**
   * Endpoint returning the user's claims as JSON for the access token.
   */
  userinfoEndpoint: string;
  /**
   * Client identifier registered at the IdP.
   */
  clientId: string;
  clientSecretRef: SecretKeyRef;
  /**
   * How the broker authenticates to the token endpoint.
   */
  clientAuthMethod: 'client_secret_basic' | 'client_secret_post';
  /**
   * Scopes requested.
   *
   * @maxItems 20
   */
  scopes?: string[];
  /**
   * Extra query parameters for the authorization request (e.g. prompt, login_hint policy, domain_hint). The protocol's own (redirect_uri, response_type, scope, state, nonce, code_challenge, code_challenge_method) are always the broker's; client_id, request, request_uri, claims (OIDC Core 5.5: its requirements would not be held to; acr_values and max_age are, and scopes ask for claims) and a response_mode other than query are refused. OIDC only: `max_age` (seconds) is also enforced: the ID token must carry an `auth_time` no older than max_age before the request was sent, else the sign-in is refused (OIDC_AUTHENTICATION_NOT_FRESH); ForceAuthn sends max_age=0 whatever is set here, and so does a `prompt` that lists `login` (a fresh sign-in every time): the ID token's `auth_time` must then be no older than the request, else OIDC_AUTHENTICATION_NOT_FRESH, and a passive request is answered NoPassive; ForceAuthn adds `login` to the `prompt` set here, keeping its other values. `prompt=none` is refused: the broker sends it itself for a passive AuthnRequest, and set here it would make every sign-in passive. `acr_values` is enforced too (space-separated classes): the ID token's `acr` must be one of them, else the sign-in is refused (OIDC_ACR_NOT_MET); the classes an SP's RequestedAuthnContext names are then not sent. A plain OAuth 2.0 IdP (oauth2) may have neither max_age, nor acr_values, nor prompt=login: nothing it answers states when or how the person authenticated, so none could be held to, and each is refused rather than sent and ignored.
   */
  extraAuthorizationParams?: {
    [k: string]: string | undefined;
  };
  /**
   * Secret key with extra PEM CA certificates trusted for this connection (the IdP, the Atlassian site or Redis it is set on; private PKI). Public CAs stay trusted; verification cannot be turned off.
   */
  caBundleSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
}
/**
 * A SAML 2.0 identity provider; the broker is its service provider. Give exactly one of metadataUrl, metadataXml, or entityId with ssoUrl and certificates.
 */
export interface SamlIdpSpec {
  /**
   * URL of the IdP's SAML metadata (fetched over verified TLS). Read again hourly, sooner when its cacheDuration or validUntil ask (at most every minute), never used past its validUntil, and read again when a signature verifies with none of its certificates (a rollover; at most every 10 s).
   */
  metadataUrl?: string;
  /**
   * The IdP's SAML metadata document inline.
   */
  metadataXml?: string;
  /**
   * The IdP's entityID.
   */
  entityId?: string;
  /**
   * The IdP's SingleSignOnService URL (HTTP-Redirect binding). It may carry a query, as Google Workspace's `…/idp?idpid=…` does; the broker appends its parameters to it.
   */
  ssoUrl?: string;
  /**
   * The IdP's SingleLogoutService URL (HTTP-Redirect binding), if it supports logout. It may carry a query.
   */
  sloUrl?: string;
  /**
   * PEM signing certificates of the IdP. Only these verify its signatures; a key in the message's KeyInfo is never trusted.
   *
   * @maxItems 4
   */
  certificates?: string[];
  /**
   * Secret key with extra PEM CA certificates trusted for this connection (the IdP, the Atlassian site or Redis it is set on; private PKI). Public CAs stay trusted; verification cannot be turned off.
   */
  caBundleSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
}
/**
 * The tenant's Atlassian Cloud site, reached with a service account.
 */
export interface AtlassianSpec {
  /**
   * Base URL of the Atlassian site, e.g. https://example.atlassian.net.
   */
  siteUrl: string;
  /**
   * Secret with keys email and apiToken of the service account (an agent of every listed service desk).
   */
  credentialsSecretRef: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * Service desks shown in the portal; all the service account sees when absent.
   *
   * @maxItems 200
   */
  serviceDeskIds?: string[];
  /**
   * `createOnFirstLogin` creates the JSM customer on first sign-in and adds it to service desks (all the portal's, or those `provisioningRules` give); `existingOnly` refuses people Atlassian does not know.
   */
  customerProvisioning: 'createOnFirstLogin' | 'existingOnly';
  /**
   * Which service desks a customer joins when the portal creates it (or finds an Atlassian account that is a customer of none of the portal's desks). A customer joins the desks of every rule that matches; when no rule matches, none (the customer can still sign in). Absent: every desk of the portal. Desks outside the portal's `serviceDeskIds` are ignored. Existing desk memberships are never changed.
   *
   * @maxItems 100
   *
   * Items: One rule; set emailDomain, idpGroup or both (both must then match).
   */
  provisioningRules?: {
    /**
     * E-mail domain (after the @, lower case) the customer's address must have.
     */
    emailDomain?: string;
    /**
     * IdP group (the `groups` SAML attribute) the customer must be in.
     */
    idpGroup?: string;
    /**
     * Service desks a matching customer joins.
     *
     * @minItems 1
     * @maxItems 200
     */
    serviceDeskIds: [string, ...string[]];
  }[];
  /**
   * Customers are added to (and removed from) JSM organizations by e-mail domain or IdP group.
   *
   * @maxItems 200
   */
  organizationMappings?: OrganizationMapping[];
  /**
   * Secret key with extra PEM CA certificates trusted for this connection (the IdP, the Atlassian site or Redis it is set on; private PKI). Public CAs stay trusted; verification cannot be turned off.
   */
  caBundleSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
  /**
   * This tenant's share of its Atlassian site, per portal process (a bulkhead): in a pool, a slow or failing site fills only its own tenant's slots. A call that gets no slot within 2 seconds is not sent; the customer gets 503 with Retry-After (reason ATLASSIAN_BUSY). Each call to Atlassian also gives up after 10 seconds (ATLASSIAN_TIMEOUT; for a file download, 10 seconds of waiting for Atlassian's bytes: the customer's own pace does not count, and a customer taking nothing for 60 seconds is cut), and a page's calls together after 25 seconds (ATLASSIAN_PAGE_TIMEOUT). Raise these for a large tenant whose site allows more (Atlassian's own burst limits apply per site).
   */
  limits: {
    /**
     * Calls to Atlassian in flight at once from one portal process.
     */
    maxConcurrentCalls: number;
    /**
     * Calls to Atlassian started in any one second from one portal process.
     */
    callsPerSecond: number;
  };
}
/**
 * One mapping rule; give exactly one of emailDomain or idpGroup.
 */
export interface OrganizationMapping {
  /**
   * JSM organization id.
   */
  organizationId: string;
  /**
   * E-mail domain whose customers belong to the organization.
   */
  emailDomain?: string;
  /**
   * IdP group whose members belong to the organization.
   */
  idpGroup?: string;
}
/**
 * Shared flow and session state. Absent means in-memory state in each process, allowed only with one replica of each part.
 */
export interface RedisSpec {
  /**
   * Secret key with the Redis address: redis://host:port[/db] or rediss:// (TLS); Sentinel as sentinel://host:port,host:port[/db]?name=MASTER (sentinels:// with TLS); Cluster as cluster://host:port,host:port (clusters:// with TLS).
   */
  urlSecretRef: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
  /**
   * Secret key with extra PEM CA certificates trusted for this connection (the IdP, the Atlassian site or Redis it is set on; private PKI). Public CAs stay trusted; verification cannot be turned off.
   */
  caBundleSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
    /**
     * Key within the Secret.
     */
    key: string;
  };
  /**
   * A kubernetes.io/tls Secret with a client certificate for Redis over TLS.
   */
  clientCertSecretRef?: {
    /**
     * Name of a Secret in the tenant's namespace.
     */
    name: string;
  };
  /**
   * Whether the tenant's keys in this Redis (its customers' sessions, up to 7 days, flows and one-time markers) are deleted when the tenant is deleted. true: the tenant carries the finalizer jsm-sso.io/redis-purge, and its deletion runs a Job in its namespace (the operator's image, `jsm-sso purge`, with this Redis Secret) that deletes the keys of this incarnation only; the tenant goes once the Job succeeds, or, after the Job failed or 10 minutes, with a Warning Event RedisKeysNotPurged and the keys left to expire. The Job's pod must reach this Redis as the broker's pods do. false or absent (no default is written into the tenant: a part of an earlier release refuses a field it does not know, and would meet it in every tenant's document during the rollout of this one): the keys expire on their own, or `jsm-sso purge` deletes them by hand (docs/production.md). Only a dedicated tenant reads it: a pooled tenant's keys are its pool's, deleted by the pool.
   */
  purgeOnDeletion?: boolean;
}
/**
 * Optional Ingress routing portal.url and broker.url to the pods.
 */
export interface IngressSpec {
  /**
   * IngressClass name.
   */
  className?: string;
  /**
   * kubernetes.io/tls Secret the Ingress terminates TLS with.
   */
  tlsSecretName?: string;
  /**
   * Extra annotations on the Ingress.
   */
  annotations?: {
    [k: string]: string | undefined;
  };
}
/**
 * Where the tenant's broker and portal run. dedicated (the default) gives the tenant Deployments of its own in its namespace; pool places it in a shared JsmSsoPool, whose pods serve many tenants and tell them apart by the Host of portal.url and broker.url. The operator then copies only the Secret keys this tenant references (and its signing keys) into one Secret in the pool's namespace, and makes the tenant's Ingress there. The pool must take this tenant's namespace (the pool's spec.tenants.namespaces: by default only its own); otherwise nothing is placed and the tenant reports PoolReady False, NamespaceNotAllowed. Two tenants of one pool cannot share a host: the one placed first is served there, and the other reports PoolReady False, HostClaimedByEarlierTenant, naming it, until it leaves. Choosing between them: docs/placement.md.
 */
export interface PlacementSpec {
  /**
   * dedicated (Deployments of this tenant's own) or pool (the JsmSsoPool named by placement.pool).
   */
  mode: 'dedicated' | 'pool';
  /**
   * The JsmSsoPool this tenant runs in, with placement.mode pool.
   */
  pool?: {
    /**
     * Name of the JsmSsoPool.
     */
    name: string;
    /**
     * Namespace of the JsmSsoPool; the tenant's own namespace when unset. A pool in another namespace takes this tenant only if its spec.tenants.namespaces allows this tenant's namespace.
     */
    namespace?: string;
  };
}
/**
 * Observed state, written by the operator.
 */
export interface TenantStatus {
  /**
   * The metadata.generation this status describes.
   */
  observedGeneration?: number;
  /**
   * ConfigValid, Applied, BrokerAvailable, PortalAvailable, SigningCertificateValid and Ready; PoolReady for a tenant placed in a pool (whether its JsmSsoPool exists and is Ready, and serves this tenant - False with HostClaimedByEarlierTenant when another tenant of the pool named its portal or broker host first), which then stands for BrokerAvailable and PortalAvailable; TLSCertificateServed for a pooled tenant with its own tlsSecretRef in a pool part that serves TLS (False with ServerNameClaimedByEarlierTenant when clients naming its host name get the certificate of a tenant at that name on another port; not part of Ready).
   *
   * @maxItems 16
   */
  conditions?: TenantCondition[];
  /**
   * The portal's public URL.
   */
  portalUrl?: string;
  /**
   * URL of the broker's SAML IdP metadata.
   */
  brokerMetadataUrl?: string;
  /**
   * SHA-256 fingerprint of the broker's active signing certificate.
   */
  signingCertificateFingerprint?: string;
  /**
   * Number of configured identity providers.
   */
  identityProviderCount?: number;
  /**
   * What to register at each identity provider for the broker (an OIDC or OAuth 2.0 client's URIs, a SAML IdP's metadata of the broker), by the IdP's name in spec.identityProviders.
   *
   * @maxItems 64
   */
  identityProviderEndpoints?: {
    /**
     * The identity provider's name in spec.identityProviders.
     */
    name: string;
    /**
     * OIDC and OAuth 2.0 - the client's redirect URI (redirect_uris). A tenant's only OIDC or OAuth 2.0 IdP uses <broker>/oidc/callback; with several, each has its own, <broker>/oidc/callback/<name>, so that an answer is judged by the IdP whose address it came to (RFC 9700 mix-up defence, ADR 0175). Always in canonical URL form (host in lower case, no default port), whatever spelling spec.broker.url has; the broker sends exactly this string in the authorization and the token request (ADR 0243).
     */
    redirectUri?: string;
    /**
     * OIDC only - the client's post_logout_redirect_uri (RP-initiated logout).
     */
    postLogoutRedirectUri?: string;
    /**
     * OIDC only - the client's backchannel_logout_uri; with backchannel_logout_session_required, signing out at the IdP ends the help-center session (ADR 0150).
     */
    backchannelLogoutUri?: string;
    /**
     * OIDC only - the client's frontchannel_logout_uri, with frontchannel_logout_session_required; the IdP's logout page frames it and the help-center session of that IdP session ends (ADR 0159).
     */
    frontchannelLogoutUri?: string;
    /**
     * SAML only - the broker's SP metadata for this IdP to read; its SOAP SingleLogoutService is this IdP's own, so that the IdP's back-channel LogoutRequests end the help-center session (ADR 0160).
     */
    spMetadataUrl?: string;
    /**
     * SAML only - where the IdP posts its LogoutRequests over the SAML SOAP binding (its SingleLogoutService of binding urn:oasis:names:tc:SAML:2.0:bindings:SOAP), as that metadata says (ADR 0160).
     */
    soapLogoutUri?: string;
  }[];
  /**
   * Where the tenant runs, as the operator placed it - dedicated, or pool <namespace>/<name>.
   */
  placement?: string;
}
/**
 * One condition.
 */
export interface TenantCondition {
  /**
   * Condition type (metav1.Condition's rule).
   */
  type: string;
  /**
   * True, False or Unknown.
   */
  status: 'True' | 'False' | 'Unknown';
  /**
   * CamelCase reason for the last transition (metav1.Condition's rule).
   */
  reason: string;
  /**
   * What a person can do about it.
   */
  message: string;
  /**
   * The metadata.generation the condition was set for.
   */
  observedGeneration?: number;
  /**
   * When the status last changed.
   */
  lastTransitionTime: string;
}
