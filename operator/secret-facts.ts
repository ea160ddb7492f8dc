import {
  certificatePublicKey,
  isPrivateKeyName,
  type PrivateKeyFacts,
  type PublicKeyOf,
  privateKeyFacts,
} from '../common/config/decryption-key.js';
import type { KubeClient, KubeObject } from '../common/kube/client.js';
import { cacheKey } from '../common/kube/informer.js';
import { certificateFingerprint, certificateNotAfter } from '../common/pki.js';
import { keyedHash } from './hash-key.js';
import type { InternedStrings } from './interned-strings.js';
import { KINDS, objectPath } from './kube/kinds.js';
import { canonicalJson, MANAGED_BY, type SecretFacts, sha256 } from './resources/common.js';

/**
 * What the operator knows of a Secret: which keys exist, a hash of each under the operator's key
 * (to roll pods on change, confirming no guess of the value to who reads the pods: ADR 0315) and
 * the public certificates, never the private material.
 */
const PUBLIC_KEYS = ['tls.crt', 'next.crt'];
/** Of these only the public facts are kept, to judge a decryption key against them (ADR 0352). */
const PRIVATE_KEYS = ['tls.key', 'next.key'];

export function secretFacts(secret: KubeObject, hashKey: Buffer): SecretFacts {
  const data = secretData(secret);
  const certificates: Record<string, string> = {};
  const privateKeys: Record<string, PrivateKeyFacts> = {};
  for (const [key, base64] of Object.entries(data)) {
    const text = () => Buffer.from(base64, 'base64').toString('utf8');
    if (PUBLIC_KEYS.includes(key)) certificates[key] = text();
    const facts = PRIVATE_KEYS.includes(key) ? privateKeyFacts(text()) : undefined;
    if (facts) privateKeys[key] = facts;
  }
  return {
    ...(typeof secret['type'] === 'string' ? { type: secret['type'] } : {}),
    keyHashes: keyHashes(secret, hashKey),
    certificates,
    privateKeys,
  };
}

function secretData(secret: KubeObject): Record<string, string> {
  return (secret['data'] ?? {}) as Record<string, string>;
}

/** The hash of each key's value; all that is kept of a projection (its digest: rememberDigest). */
function keyHashes(secret: KubeObject, hashKey: Buffer): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secretData(secret)).map(([key, base64]) => [key, keyedHash(hashKey, base64)]),
  );
}

export interface ParsedCertificate {
  notAfter: Date;
  /** SHA-256, as certificateFingerprint prints it. */
  fingerprint: string;
  /** Its public key's digest, as decryption-key.ts compares keys; undefined for a key node cannot read. */
  publicKey: string | undefined;
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
  return { notAfter, fingerprint: certificateFingerprint(pem), publicKey: certificatePublicKey(pem) };
}

/** PublicKeyOf of the Secrets' facts: a key's public facts, a certificate's parsed public key. */
export function factsPublicKeys(secrets: Record<string, SecretFacts>): PublicKeyOf {
  return (secret, key) =>
    isPrivateKeyName(key)
      ? secrets[secret]?.privateKeys[key]?.publicKey
      : parsedCertificate(secrets[secret], key)?.publicKey;
}

/**
 * One digest of a Secret's key hashes: all the operator checks of its own projections (whether
 * their data is what it wrote), in 64 characters instead of a hash per key.
 */
export function keyHashesDigest(keyHashes: Record<string, string>): string {
  return sha256(canonicalJson(keyHashes));
}

/**
 * The metadata a Secret is cached with (from a PartialObjectMetadata list or watch). The labels
 * are kept only on the operator's own Secrets (pooled tenants' projections), which its cleanup
 * finds by them; their values and the pool owner they name are the same for every projection of a
 * pool, so one copy of each string is kept.
 */
export function secretMetadata(object: KubeObject, strings: InternedStrings): KubeObject {
  const { name, namespace, resourceVersion, uid, labels, annotations, ownerReferences, creationTimestamp } =
    object.metadata;
  const ours = labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: namespace === undefined ? undefined : strings.of(namespace),
      resourceVersion,
      // A cluster's other Secrets (Helm releases, service account tokens...) may number tens of
      // thousands: of those, only whether they exist and their resourceVersion are read.
      ...(ours
        ? {
            uid,
            // A projection's: its tenant's claim on its hosts in the pool (operator/host-claims.ts).
            creationTimestamp,
            labels: strings.deep(labels),
            annotations,
            ownerReferences: strings.deep(ownerReferences),
          }
        : {}),
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
  /** The operator's own projections, one per pooled tenant: a digest each, not their facts. */
  private readonly digests = new Map<string, { resourceVersion: string; digest: string }>();
  private readonly client: KubeClient;
  private readonly metadata: (namespace: string, name: string) => KubeObject | undefined;
  private readonly hashKey: Buffer;

  constructor(
    client: KubeClient,
    metadata: (namespace: string, name: string) => KubeObject | undefined,
    hashKey: Buffer,
  ) {
    this.client = client;
    this.metadata = metadata;
    this.hashKey = hashKey;
  }

  /** The facts of a Secret, or undefined when it does not exist. */
  async read(namespace: string, name: string): Promise<SecretFacts | undefined> {
    const known = this.facts.get(cacheKey(namespace, name));
    if (known && this.isCurrent(namespace, name, known.resourceVersion)) return known.facts;
    const secret = await this.fetch(namespace, name);
    return secret && this.remember(secret);
  }

  /** The keyHashesDigest of a Secret (a projection), or undefined when it does not exist. */
  async readDigest(namespace: string, name: string): Promise<string | undefined> {
    const known = this.digests.get(cacheKey(namespace, name));
    if (known && this.isCurrent(namespace, name, known.resourceVersion)) return known.digest;
    const secret = await this.fetch(namespace, name);
    return secret && this.rememberDigest(secret);
  }

  /** Keeps the facts of a Secret just read or written; returns them. */
  remember(secret: KubeObject): SecretFacts {
    const facts = secretFacts(secret, this.hashKey);
    this.facts.set(keyOf(secret), { resourceVersion: secret.metadata.resourceVersion ?? '', facts });
    return facts;
  }

  /** Keeps only the digest of a Secret just read or written (a projection); returns it. */
  rememberDigest(secret: KubeObject): string {
    const digest = keyHashesDigest(keyHashes(secret, this.hashKey));
    this.digests.set(keyOf(secret), { resourceVersion: secret.metadata.resourceVersion ?? '', digest });
    return digest;
  }

  /** Drops what is known of a Secret (deleted, or read by no tenant any more). */
  forget(key: string): void {
    this.facts.delete(key);
    this.digests.delete(key);
  }

  /** Number of Secrets whose facts or digest are held (it must follow the references, not the cluster). */
  get size(): number {
    return this.facts.size + this.digests.size;
  }

  /** Whether the Secret still exists at the resourceVersion something was learnt from. */
  private isCurrent(namespace: string, name: string, resourceVersion: string): boolean {
    return this.metadata(namespace, name)?.metadata.resourceVersion === resourceVersion;
  }

  /** The Secret with its data (one GET), unless the cache says it does not exist. */
  private async fetch(namespace: string, name: string): Promise<KubeObject | undefined> {
    if (!this.metadata(namespace, name)) return undefined;
    return this.client.get<KubeObject>(objectPath(KINDS.secret, namespace, name));
  }
}

function keyOf(secret: KubeObject): string {
  return cacheKey(secret.metadata.namespace, secret.metadata.name ?? '');
}
