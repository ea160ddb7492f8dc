import type { V1Secret } from '@kubernetes/client-node';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { KeyPairPem } from '../../common/pki.js';
import { objectMeta, type Part } from './common.js';
import { signingSecretName } from './secret-refs.js';

/**
 * The SAML signing key pair the operator generates when the tenant names no existing Secret.
 * It is created once and never overwritten: rotating it is the tenant owner's decision. It outlives
 * the tenant unless spec.signingSecretDeletionPolicy is Delete: upstream IdPs pin the broker's
 * certificate, so a tenant deleted and created again must find the same keys.
 */
export function desiredSigningSecret(tenant: JsmSsoTenant, part: Part, pair: KeyPairPem): V1Secret {
  const { ownerReferences, ...retained } = objectMeta(
    tenant,
    signingSecretName(tenant, part),
    `${part}-signing`,
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata:
      tenant.spec.signingSecretDeletionPolicy === 'Delete' ? { ...retained, ownerReferences } : retained,
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(pair.certPem).toString('base64'),
      'tls.key': Buffer.from(pair.keyPem).toString('base64'),
    },
  };
}
