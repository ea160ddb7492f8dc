import { certificateFingerprint, certificateNotAfter } from '../common/pki.js';
import type { KubeClient, KubeObject } from './kube/client.js';
import { cacheKey } from './kube/informer.js';
import { KINDS, objectPath } from './kube/kinds.js';
import { MANAGED_BY, type SecretFacts, sha256 } from './resources/common.js';

/**
 * What the operator knows of a Secret: which keys exist, a hash of each (to roll pods on change)
 * and the public certificates, never the private material.
 */
const PUBLIC_KEYS = ['tls.crt', 'next.crt'];

export function secretFacts(secret: KubeObject): SecretFacts {
  const data = (secret['data'] ?? {}) as Record<string, string>;
  const keyHashes: Record<string, string> = {};
  const certificates: Record<string, string> = {};
  for (const [key, base64] of Object.entries(data)) {
    keyHashes[key] = sha256(base64);
    if (PUBLIC_KEYS.includes(key)) certificates[key] = Buffer.from(base64, 'base64').toString('utf8');
  }
  return {
    ...(typeof secret['type'] === 'string' ? { type: secret['type'] } : {}),
    keyHashes,
    certificates,
  };
}

export interface ParsedCertificate {
  notAfter: Date;
  /** SHA-256, as certificateFingerprint prints it. */
  fingerprint: string;
}

/**
 * A Secret's facts are replaced when the Secret changes, so its certificates are parsed once per
 * version of the Secret, not at every reconcile (parsing two per tenant was a tenth of a resync).
 */
const parsed = new WeakMap<SecretFacts, Map<string, ParsedCertificate | undefined>>();

/** The certificate under `key` (tls.crt, next.crt); undefined when absent or not a PEM X.509 certificate. */
export function parsedCertificate(
  facts: SecretFacts | undefined,
  key: string,
): ParsedCertificate | undefined {
  if (!facts) return undefined;
  let certificates = parsed.get(facts);
  if (!certificates) {
    certificates = new Map();
    parsed.set(facts, certificates);
  }
  if (!certificates.has(key)) certificates.set(key, parse(facts.certificates[key]));
  return certificates.get(key);
}

function parse(pem: string | undefined): ParsedCertificate | undefined {
  const notAfter = certificateNotAfter(pem);
  if (!pem || !notAfter) return undefined;
  return { notAfter, fingerprint: certificateFingerprint(pem) };
}

/**
 * The metadata a Secret is cached with (from a PartialObjectMetadata list or watch). The labels
 * are kept only on the operator's own Secrets (pooled tenants' projections), which its cleanup finds by them.
 */
export function secretMetadata(object: KubeObject): KubeObject {
  const { name, namespace, resourceVersion, uid, labels, annotations, ownerReferences } = object.metadata;
  const ours = labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      resourceVersion,
      uid,
      ...(ours ? { labels, annotations, ownerReferences } : {}),
    },
  };
}

/**
 * Reads the data of just the Secrets tenants reference. Secrets are watched as metadata only, so
 * unrelated Secrets (Helm release history, other teams' certificates) cost a few hundred bytes
 * each, whatever their size; a referenced Secret is read with one GET when its resourceVersion
 * changes, and only its facts are kept.
 */
export class SecretReader {
  private readonly facts = new Map<string, { resourceVersion: string; facts: SecretFacts }>();
  private readonly client: KubeClient;
  private readonly metadata: (namespace: string, name: string) => KubeObject | undefined;

  constructor(client: KubeClient, metadata: (namespace: string, name: string) => KubeObject | undefined) {
    this.client = client;
    this.metadata = metadata;
  }

  /** The facts of a Secret, or undefined when it does not exist. */
  async read(namespace: string, name: string): Promise<SecretFacts | undefined> {
    const meta = this.metadata(namespace, name);
    if (!meta) return undefined;
    const key = cacheKey(namespace, name);
    const known = this.facts.get(key);
    if (known && known.resourceVersion === meta.metadata.resourceVersion) return known.facts;
    const secret = await this.client.get<KubeObject>(objectPath(KINDS.secret, namespace, name));
    if (!secret) return undefined;
    return this.remember(secret);
  }

  /** Keeps the facts of a Secret just read or written; returns them. */
  remember(secret: KubeObject): SecretFacts {
    const facts = secretFacts(secret);
    const key = cacheKey(secret.metadata.namespace, secret.metadata.name ?? '');
    this.facts.set(key, { resourceVersion: secret.metadata.resourceVersion ?? '', facts });
    return facts;
  }

  /** Drops what is known of a Secret (deleted, or read by no tenant any more). */
  forget(key: string): void {
    this.facts.delete(key);
  }

  /** Number of Secrets whose facts are held (for tests: it must follow the references, not the cluster). */
  get size(): number {
    return this.facts.size;
  }
}
