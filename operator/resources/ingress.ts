import { isIP } from 'node:net';
import type { V1HTTPIngressPath, V1Ingress, V1IngressRule, V1ObjectMeta } from '@kubernetes/client-node';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { serverNameKey } from '../../common/pool/host-routing.js';
import { type AnyContext, childName, type DesiredContext, objectMeta, type Part } from './common.js';
import { publicServicePort, serviceName } from './service.js';

/**
 * The optional Ingress (spec.ingress): portal.url and broker.url, host and path, each to its
 * part's Service. Both URLs may share a host on different paths.
 */
export function ingressName(context: DesiredContext): string {
  return childName(context.tenant, 'ingress');
}

export function desiredIngress(context: DesiredContext): V1Ingress | undefined {
  return tenantIngress(context.tenant, objectMeta(context.tenant, ingressName(context), 'ingress'), context);
}

/**
 * The tenant's Ingress with the given metadata, routing `parts` (both unless told) to their Services
 * of `backends`: the tenant's own (dedicated), or its pool's, in the pool's namespace. None without
 * a part to route.
 */
export function tenantIngress(
  tenant: JsmSsoTenant,
  metadata: V1ObjectMeta,
  backends: AnyContext,
  routed: readonly Part[] = ['portal', 'broker'],
): V1Ingress | undefined {
  const spec = tenant.spec.ingress;
  if (!spec || routed.length === 0) return undefined;
  const rules = new Map<string, V1HTTPIngressPath[]>();
  // Longer paths first: a portal at / and a broker at /sso on one host both get their traffic.
  const parts = (['portal', 'broker'] as Part[])
    .filter((part) => routed.includes(part))
    .map((part) => ({
      part,
      url: new URL(part === 'broker' ? tenant.spec.broker.url : tenant.spec.portal.url),
    }))
    .sort((a, b) => b.url.pathname.length - a.url.pathname.length);
  for (const { part, url } of parts) {
    // An Ingress host has no trailing dot: `help.acme.example.` (an absolute name) is that host
    // without it, as the pool and ingress controllers read a Host header (ADR 0254).
    const host = serverNameKey(url.hostname).replace(/^\[|\]$/g, '');
    rules.set(host, [
      ...(rules.get(host) ?? []),
      {
        path: url.pathname === '' ? '/' : url.pathname,
        pathType: 'Prefix',
        backend: {
          service: {
            name: serviceName(backends, part),
            port: { name: publicServicePort(backends, part).name },
          },
        },
      },
    ]);
  }
  // An Ingress host must be a DNS name; loopback IPs (development) become a host-less rule.
  const ingressRules: V1IngressRule[] = [...rules.entries()].map(([host, paths]) =>
    isIP(host) ? { http: { paths } } : { host, http: { paths } },
  );
  const dnsHosts = [...rules.keys()].filter((h) => !isIP(h));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: spec.annotations
      ? { ...metadata, annotations: spec.annotations as Record<string, string> }
      : metadata,
    spec: {
      ...(spec.className ? { ingressClassName: spec.className } : {}),
      ...(spec.tlsSecretName && dnsHosts.length > 0
        ? { tls: [{ hosts: dnsHosts, secretName: spec.tlsSecretName }] }
        : {}),
      rules: ingressRules,
    },
  };
}
