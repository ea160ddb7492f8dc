import { createHmac, randomBytes } from 'node:crypto';
import { JsmSsoError } from '../common/errors.js';
import { isConflict, type KubeClient, type KubeObject } from '../common/kube/client.js';
import { collectionPath, KINDS, objectPath } from './kube/kinds.js';
import { MANAGED_BY } from './resources/common.js';

/**
 * The key the operator hashes Secret values under (ADR 0315). Pod template annotations and
 * projections' applied hashes are readable by whoever may read Deployments or Secrets' metadata; an
 * unkeyed hash of a value there confirms an offline guess of it (a short Redis password). Under a key
 * kept in a Secret of the operator's own namespace, they confirm nothing to whoever cannot read it,
 * and stay the same across restarts, replicas and leader changes (every replica reads one key).
 */
export interface HashKeySecret {
  namespace: string;
  name: string;
}

export const HASH_KEY_DATA_KEY = 'key';
/** 256 bits: as long as HMAC-SHA-256's output, beyond any search. */
const KEY_BYTES = 32;

/** The key cannot be had: the operator stops at start, one line with its code (cli/main.ts). */
export class HashKeyError extends JsmSsoError {
  constructor(message: string) {
    super('OPERATOR_HASH_KEY_INVALID', message, { status: 500 });
    this.name = 'HashKeyError';
  }
}

/**
 * The key, from the Secret `where`; created with a random key when absent. Two replicas starting
 * at once both try to create it: the API server takes one, the other gets 409 and reads the winner's.
 */
export async function loadHashKey(client: KubeClient, where: HashKeySecret): Promise<Buffer> {
  const path = objectPath(KINDS.secret, where.namespace, where.name);
  const existing = await client.get<KubeObject>(path);
  if (existing) return keyOf(existing, where);
  try {
    const created = await client.request<KubeObject>('POST', collectionPath(KINDS.secret, where.namespace), {
      body: hashKeySecret(where),
    });
    return keyOf(created, where);
  } catch (err) {
    if (!isConflict(err)) throw err;
    const winner = await client.get<KubeObject>(path);
    if (!winner)
      throw new HashKeyError(`Secret ${where.namespace}/${where.name} was created and deleted at once`);
    return keyOf(winner, where);
  }
}

function hashKeySecret(where: HashKeySecret): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: where.name,
      namespace: where.namespace,
      labels: { 'app.kubernetes.io/managed-by': MANAGED_BY, 'app.kubernetes.io/component': 'hash-key' },
    },
    type: 'Opaque',
    data: { [HASH_KEY_DATA_KEY]: randomBytes(KEY_BYTES).toString('base64') },
  } as KubeObject;
}

/** The key a Secret holds; a short or missing one is refused (a weak key would undo the point). */
function keyOf(secret: KubeObject, where: HashKeySecret): Buffer {
  const base64 = ((secret['data'] ?? {}) as Record<string, string>)[HASH_KEY_DATA_KEY];
  const key = Buffer.from(base64 ?? '', 'base64');
  if (key.length < KEY_BYTES) {
    throw new HashKeyError(
      `Secret ${where.namespace}/${where.name} must hold at least ${KEY_BYTES} random bytes under "${HASH_KEY_DATA_KEY}"; delete it and the operator creates one`,
    );
  }
  return key;
}

/** HMAC-SHA-256 of a Secret value (as base64) under the operator's key, in hex. */
export function keyedHash(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}
