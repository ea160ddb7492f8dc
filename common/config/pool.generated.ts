// Generated from crds/jsmssopool.yaml by `npm run gen`. Do not edit: change the CRD and regenerate.

import type { TenantMetadata } from './tenant-metadata.js';
import type { AutoscalingSpec, RedisSpec, TenantCondition, TenantPodSettings } from './tenant.generated.js';

/**
 * A shared broker and portal that serve many JsmSsoTenants (those with spec.placement.mode pool naming this pool), routed by the Host of each tenant's portal.url and broker.url. The operator runs one broker and one portal Deployment, their Services, disruption budgets, autoscalers and network policies, and a ServiceAccount that may read Secrets in this namespace only: keep nothing secret here but the pool's own Secrets and the tenants' projections the operator writes.
 */
export interface JsmSsoPool {
  /**
   * APIVersion defines the versioned schema of this representation of an object.
   */
  apiVersion?: string;
  /**
   * Kind is a string value representing the REST resource this object represents.
   */
  kind?: string;
  metadata?: TenantMetadata;
  spec: PoolSpec;
  status?: PoolStatus;
}
/**
 * Desired state of the pool.
 */
export interface PoolSpec {
  /**
   * The pool's broker pods, shared by every tenant placed in the pool.
   */
  broker?: PoolPartSpec;
  portal?: PoolPartSpec;
  /**
   * Shared flow and session state. Absent means in-memory state in each process, allowed only with one replica of each part.
   */
  redis?: RedisSpec;
  /**
   * Which JsmSsoTenants may place themselves in this pool (Gateway API's allowedRoutes, for tenants). The operator writes into this namespace for a tenant (the projection of its Secret keys, its Ingress, served by this pool's pods) only when the tenant's namespace is allowed here; a tenant that is not gets PoolReady False, reason NamespaceNotAllowed, and a Warning Event, and anything it placed earlier is removed. Without this field only tenants of the pool's own namespace are allowed.
   */
  tenants: {
    /**
     * The namespaces whose JsmSsoTenants may be placed in this pool.
     */
    namespaces: {
      /**
       * Same (the default): only tenants in this pool's namespace. Selector: tenants in the namespaces whose labels match selector, the pool's own namespace too only if it matches (a tenant whose namespace stops matching is taken out of the pool). All: tenants in every namespace the operator watches, so anyone who may create a JsmSsoTenant anywhere may have it served by this pool and claim a host in it.
       */
      from: 'Same' | 'All' | 'Selector';
      /**
       * With from: Selector, a label selector over namespaces (as a Deployment's selector: matchLabels and matchExpressions, all of which must match; an empty selector matches every namespace). The label kubernetes.io/metadata.name names one namespace.
       */
      selector?: {
        /**
         * Labels a namespace must carry, each with this value.
         */
        matchLabels?: {
          [k: string]: string | undefined;
        };
        /**
         * Requirements a namespace's labels must meet.
         *
         * @maxItems 32
         */
        matchExpressions?: {
          /**
           * The label key.
           */
          key: string;
          /**
           * In, NotIn (a namespace without the label matches), Exists or DoesNotExist.
           */
          operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
          /**
           * The values for In and NotIn.
           *
           * @maxItems 64
           */
          values?: string[];
        }[];
      };
    };
  };
  /**
   * Reverse proxies in front of the pool's pods whose X-Forwarded-For names the client (the ingress controller of the tenants' Ingresses: 1). 0 when clients reach the pods directly.
   */
  trustedProxyHops: number;
  /**
   * How long the pool's pods keep an idle keep-alive connection open, in seconds, for every tenant of the pool: a connection is shared before its Host, and so its tenant, is known. It must be longer than the idle timeout of the load balancer or ingress in front, so that it closes an idle connection, never the pod: a request it sends on a connection the pod is closing is lost, a 502 (ingress-nginx and AWS ALB keep one 60 s by default, GCLB 600 s, an ALB set up to 4,000 s). The default, 65, fits the 60 s defaults. A connection that has sent no request yet is still bounded by the 20 s headers timeout, and at most 4,096 sit idle per pod. A change rolls the pool's pods, drained as for any change of the pool.
   */
  keepAliveTimeoutSeconds: number;
  /**
   * What the pool's pods may call out to. A tenant's URLs (IdP issuer, metadata, Atlassian site) are its own team's to write, and the pool's pods sit in the pool's namespace with its network position: so they connect only to publicly reachable addresses, checked at each connection after the name is resolved. A URL whose host is, or resolves only to, a private, loopback, link-local (the cloud metadata address 169.254.169.254), carrier-grade NAT or other special-purpose address, such as a Service or pod of the cluster, is refused before anything is sent (OUTBOUND_ADDRESS_FORBIDDEN, 502, in the pod's log).
   */
  egress?: {
    /**
     * Networks the pool's pods may call all the same, in CIDR notation (10.20.0.0/16, fd00:1::/64): where a tenant's IdP or Atlassian is reached at a private address, through a proxy or a peered network. Every tenant of the pool may then call into them. IPv4 networks are given as IPv4. 0.0.0.0/0 and ::/0 allow every address. A change rolls the pool's pods.
     *
     * @maxItems 64
     */
    allowedNetworks?: string[];
  };
  /**
   * How many tenants each pool pod keeps built. A tenant's part (its keys, HTTP clients and wiring) is built at the tenant's first request; a part unused for idleSeconds, or the least recently used beyond max, is released and built again at its next request, so a pod's memory follows the tenants in use rather than every tenant used since it started. Sign-ins in progress live in the flow store and survive a release; a part serving a request is never released.
   */
  builtTenants?: {
    /**
     * Seconds without a request after which a tenant's built part is released.
     */
    idleSeconds: number;
    /**
     * Most tenants' parts kept built in one pod; beyond, the least recently used without a request in flight are released.
     */
    max: number;
  };
}
/**
 * The pool's portal pods, shared by every tenant placed in the pool.
 */
export interface PoolPartSpec {
  /**
   * Number of portal pods when autoscaling is not set; 1 when neither is. More than one requires spec.redis.
   */
  replicas?: number;
  /**
   * When set, this part's pool pods serve HTTPS themselves (for meshes without an ingress that terminates TLS): to a client that asks for a tenant's host name (SNI), that tenant's own spec.<part>.tlsSecretRef; to any other name, and to a client that sends none, defaultSecretRef, else the handshake fails (alert handshake_failure). Certificates are reloaded when they change, without a restart. The Service's port is then https (443).
   */
  tls?: {
    /**
     * A kubernetes.io/tls Secret in the pool's namespace (tls.crt, tls.key), e.g. a wildcard certificate for the tenants' domain, served when no tenant's own certificate is asked for.
     */
    defaultSecretRef?: {
      /**
       * Name of a Secret in the pool's namespace.
       */
      name: string;
    };
  };
  /**
   * Disk for the uploads of every tenant in the pool together. Each portal pod spools the files customers attach to a temporary folder until Atlassian has them; each tenant's spec.portal.limits bounds its own uploads, and this bounds their sum, so that one tenant's burst cannot fill the pod's /tmp, which the kubelet answers by evicting the pod and every tenant served by it. A form reserves its size (its Content-Length, at most 5 files of its tenant's maxUploadBytes) before it is read; one that does not fit is refused with 503 and Retry-After (PORTAL_POOL_UPLOADS_BUSY), nothing of it written. A tenant's forms together hold at most a quarter of it while they hold anything (PORTAL_POOL_SHARE_UPLOADS_BUSY past that), so one tenant whose Atlassian site stalls or whose customers send slowly leaves the others the rest; a tenant holding nothing may always send one form the pool has room for. The operator sizes the pod's /tmp (emptyDir sizeLimit) as 64 MiB plus maxMiB.
   */
  uploadSpool?: {
    /**
     * MiB of uploads all the pool's tenants together may have spooled at once, in each portal pod. At least 500, one form of 5 files at the largest maxUploadBytes a tenant may set (100 MiB), so that every tenant's form fits.
     */
    maxMiB: number;
  };
  /**
   * Sign-ins one tenant's portal may start within one flow lifetime (its spec.broker.flowTtlSeconds), counted over every replica in the pool's Redis. Each start writes a sign-in flow, the portal's and then the broker's (about 1.8 KB together), to the store every tenant of the pool shares, and the per-address limit does not stop a flood spread over many addresses: past this the tenant's new sign-ins are refused with 503 and Retry-After (FLOW_STORE_TENANT_FULL), nothing written, and the other tenants keep signing in. A tenant whose own spec.portal.limits.signInStarts.perTenant is lower is held to that instead. The default is 10 starts a second for 10 minutes; size the pool's Redis for twice this per tenant that may be flooded at once.
   */
  signInStartsPerTenant: number;
  /**
   * Sessions one tenant may hold at once in the pool's Redis (spec.redis), counted over every replica, each until its absolute end (the tenant's spec.portal.session.absoluteTimeoutSeconds) whether or not it ended sooner. A tenant's team writes its own IdP and session lifetimes (up to 7 days), so without this it could fill the Redis every tenant shares with sessions (about 3 KB each, the portal's and the broker's). While the tenant holds this many, its new sign-ins are refused with 503 and Retry-After (FLOW_STORE_TENANT_FULL), nothing written, its signed-in customers go on and the other tenants sign in. The default is 50,000 customers signed in at once, about 150 MB of Redis. A pool without Redis holds a share of its memory per tenant instead.
   */
  sessionsPerTenant: number;
  /**
   * Instead of replicas: a HorizontalPodAutoscaler (autoscaling/v2) made by the operator scales the part on CPU, and the operator leaves the Deployment's replica count to it. Requires spec.redis. Scaling on CPU needs a CPU request, which the default resources carry.
   */
  autoscaling?: AutoscalingSpec;
  /**
   * Scheduling, sizing and metadata of this part's pods. Each field set here replaces the operator's default for that field (the chart's tenantPodDefaults); podLabels and podAnnotations are merged key by key, this pool's value winning.
   */
  pod?: TenantPodSettings;
}
/**
 * Observed state, written by the operator.
 */
export interface PoolStatus {
  /**
   * The metadata.generation this status describes.
   */
  observedGeneration?: number;
  /**
   * Applied (the pool's objects match the desired state), BrokerAvailable, PortalAvailable and Ready (all three True).
   *
   * @maxItems 16
   *
   * Items: One condition.
   */
  conditions?: TenantCondition[];
  /**
   * Number of JsmSsoTenants placed in this pool whose projection the operator wrote.
   */
  tenantCount?: number;
}
