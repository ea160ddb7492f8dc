import { isIP } from 'node:net';
import type { JsmSsoTenant } from '../common/config/load.js';
import type { JsmSsoPool } from '../common/config/pool.generated.js';
import type { KubeObject } from '../common/kube/client.js';
import { urlServerName } from '../common/pool/host-routing.js';
import type { OperatorReason } from './errors.js';
import { PARTS } from './resources/common.js';
import type { ConditionInput } from './status.js';

/**
 * A pooled tenant's Ingress sits in its pool's namespace among the other tenants' and routes its
 * URLs' hosts. A host that is no DNS name routed more than the tenant's own: an IP address became a
 * rule without a host, which an ingress controller takes for every host no rule names (and one that
 * ranks by path length may prefer to another tenant's host rule), and `*.acme.example` is taken by
 * the API server as a rule for every subdomain without one of its own. The pool serves by host name
 * and no tenant of it needs an address, so such a tenant is not placed (ADR 0254).
 */
export const HOST_NOT_A_DNS_NAME_REASON: OperatorReason = 'HostNotADnsName';

/** A lower-case RFC 1123 subdomain, as the API server holds an Ingress rule's host to. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether a server name (lower case, no trailing dot) is a DNS host name: no address, no wildcard. */
function isDnsName(serverName: string): boolean {
  return DNS_SUBDOMAIN.test(serverName) && isIP(serverName) === 0;
}

/** PoolReady for a tenant whose portal or broker host is no DNS name, or undefined when both are. */
export function hostNameRefusal(
  pool: JsmSsoPool & KubeObject,
  tenant: JsmSsoTenant,
): ConditionInput | undefined {
  const which = PARTS.flatMap((part) => {
    const serverName = urlServerName(tenant.spec[part].url);
    return isDnsName(serverName) ? [] : [`its ${part} at ${serverName} (spec.${part}.url)`];
  });
  if (which.length === 0) return undefined;
  const { namespace, name } = pool.metadata;
  return {
    status: 'False',
    reason: HOST_NOT_A_DNS_NAME_REASON,
    message: `JsmSsoPool ${namespace}/${name} serves its tenants by host name, and an Ingress rule at a host that is not one (an IP address, a wildcard) would route other hosts than this tenant's: ${which.join('; ')}; nothing of this tenant is placed there. Give it the host name its users reach it at`,
  };
}
