import type { V1Service } from '@kubernetes/client-node';
import {
  childName,
  type DesiredContext,
  MANAGEMENT_PORT,
  objectMeta,
  type Part,
  selectorLabels,
} from './common.js';

/** A part's ClusterIP Service: the public port for the Ingress, the management port for scraping. */
export function serviceName(context: DesiredContext, part: Part): string {
  return childName(context.tenant, part);
}

/** The Service port the Ingress routes to: `https` when the pods terminate TLS themselves. */
export function publicServicePort(context: DesiredContext, part: Part): { name: string; port: number } {
  const tls =
    part === 'broker' ? context.tenant.spec.broker.tlsSecretRef : context.tenant.spec.portal.tlsSecretRef;
  return tls ? { name: 'https', port: 443 } : { name: 'http', port: 80 };
}

export function desiredService(context: DesiredContext, part: Part): V1Service {
  const { tenant } = context;
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
