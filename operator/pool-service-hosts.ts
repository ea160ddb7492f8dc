import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import type { KubeObject } from '../common/kube/client.js';
import { urlServerName } from '../common/pool/host-routing.js';
import type { OperatorReason } from './errors.js';
import { childName, PARTS, type Part } from './resources/common.js';
import type { ConditionInput } from './status.js';

/**
 * A pool part that serves TLS itself sits behind an ingress that re-encrypts to its Service, told to
 * send no server name or the Service's own (placement.md). A connection whose server name names a
 * tenant is that tenant's alone (every other Host on it is 421 POOL_MISDIRECTED, ADR 0155): a tenant
 * whose URL named the Service made every connection the ingress opens its own, and the part answered
 * no other tenant behind that ingress. So a tenant naming one of its pool's Service DNS names is not
 * placed (ADR 0249).
 */
export const HOST_IS_POOL_SERVICE_REASON: OperatorReason = 'HostIsPoolService';

/**
 * The pool's Service `part`'s names a server name can take in the cluster: `<service>`,
 * `<service>.<namespace>`, `<service>.<namespace>.svc` and that under any cluster domain
 * (`.svc.cluster.local` by default, a cluster's own otherwise), as Kubernetes DNS answers them.
 */
function namesService(serverName: string, service: string, namespace: string): boolean {
  const qualified = `${service}.${namespace}.svc`;
  return (
    serverName === service ||
    serverName === `${service}.${namespace}` ||
    serverName === qualified ||
    serverName.startsWith(`${qualified}.`)
  );
}

interface ServiceHost {
  part: Part;
  serverName: string;
  service: string;
}

/** The tenant's parts whose URL names one of the pool's Services (either part's), and which. */
function serviceHosts(pool: JsmSsoPool & KubeObject, tenant: JsmSsoTenant): ServiceHost[] {
  const namespace = pool.metadata.namespace ?? '';
  // Named as resources/service.ts:serviceName names a pool part's Service.
  const services = PARTS.map((part) => childName(pool, part));
  return PARTS.flatMap((part) => {
    const serverName = urlServerName(tenant.spec[part].url);
    const service = services.find((name) => namesService(serverName, name, namespace));
    return service ? [{ part, serverName, service }] : [];
  });
}

/** PoolReady for a tenant whose URL names one of its pool's Services, or undefined when none does. */
export function poolServiceRefusal(
  pool: JsmSsoPool & KubeObject,
  tenant: JsmSsoTenant,
): ConditionInput | undefined {
  const named = serviceHosts(pool, tenant);
  if (named.length === 0) return undefined;
  const namespace = pool.metadata.namespace ?? '';
  const which = named
    .map((n) => `its ${n.part} at ${n.serverName} (spec.${n.part}.url) is Service ${namespace}/${n.service}`)
    .join('; ');
  return {
    status: 'False',
    reason: HOST_IS_POOL_SERVICE_REASON,
    message: `JsmSsoPool ${namespace}/${pool.metadata.name} is reached at its Services' names by the ingress in front of it, and a tenant served at one would take every connection that ingress opens: ${which}; nothing of this tenant is placed there. Give it the URL its users reach it at`,
  };
}
