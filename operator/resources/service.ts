import type { V1Service } from '@kubernetes/client-node';
import {
  type AnyContext,
  childName,
  MANAGEMENT_PORT,
  objectMeta,
  type Part,
  selectorLabels,
  workloadOf,
} from './common.js';

/** A part's ClusterIP Service: the public port for the Ingress, the management port for scraping. */
export function serviceName(context: AnyContext, part: Part): string {
  return childName(workloadOf(context).owner, part);
}

/**
 * The Service port the Ingress routes to: `https` when the part's pods terminate TLS themselves (a
 * dedicated tenant's tlsSecretRef, a pool part's tls), else `http`.
 */
export function publicServicePort(context: AnyContext, part: Part): { name: string; port: number } {
  const settings = workloadOf(context).parts[part];
  return settings.tlsSecretRef || settings.tls ? { name: 'https', port: 443 } : { name: 'http', port: 80 };
}

export function desiredService(context: AnyContext, part: Part): V1Service {
  const { owner: tenant } = workloadOf(context);
  const publicPort = publicServicePort(context, part);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(tenant, serviceName(context, part), part),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(tenant, part),
      ports: [
        { name: publicPort.name, port: publicPort.port, targetPort: 'http', protocol: 'TCP' },
        { name: 'management', port: MANAGEMENT_PORT, targetPort: 'management', protocol: 'TCP' },
      ],
    },
  };
}
