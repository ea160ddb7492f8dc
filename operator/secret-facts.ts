import type { KubeObject } from './kube/client.js';
import { type SecretFacts, sha256 } from './resources/common.js';

/**
 * Secrets are cached without their values: the operator needs to know which keys exist, a hash of
 * each (to roll pods on change) and the public certificates, never the private material.
 */
export interface CachedSecret extends KubeObject {
  facts: SecretFacts;
}

const PUBLIC_KEYS = ['tls.crt', 'next.crt'];

export function toCachedSecret(secret: KubeObject): CachedSecret {
  const data = (secret['data'] ?? {}) as Record<string, string>;
  const keyHashes: Record<string, string> = {};
  const certificates: Record<string, string> = {};
  for (const [key, base64] of Object.entries(data)) {
    keyHashes[key] = sha256(base64);
    if (PUBLIC_KEYS.includes(key)) certificates[key] = Buffer.from(base64, 'base64').toString('utf8');
  }
  const { name, namespace, resourceVersion, uid, ownerReferences } = secret.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, resourceVersion, uid, ownerReferences },
    facts: {
      ...(typeof secret['type'] === 'string' ? { type: secret['type'] } : {}),
      keyHashes,
      certificates,
    },
  };
}
