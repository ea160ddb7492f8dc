import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type BackoffBounds, backoffAfter } from '../common/backoff.js';
import { JsmSsoError } from '../common/errors.js';
import { ApiError, isConflict, type KubeClient, type KubeObject } from '../common/kube/client.js';
import type { Logger } from '../common/log.js';
import type { OperatorReason } from './errors.js';
import { collectionPath, KINDS, objectPath } from './kube/kinds.js';
import { MANAGED_BY, PART_OF } from './resources/common.js';

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
 * The API server refused the request on the key's Secret (a 4xx but throttling): the operator's
 * credentials (401), their permission (403 from RBAC), or the Secret itself (an admission policy, a
 * webhook or a quota: 403, 422). No retry heals any of them, so the operator stops at start, one line
 * with its code and the API server's words, which name the policy (ADR 0332, ADR 0335).
 */
export class ApiAccessDeniedError extends JsmSsoError {
  constructor(refused: ApiError) {
    super('OPERATOR_API_ACCESS_DENIED', `the API server refused ${refused.message}: ${remedyFor(refused)}`, {
      status: 500,
      cause: refused,
    });
    this.name = 'ApiAccessDeniedError';
  }
}

/**
 * The authorizer's refusal names the user that "cannot" do the verb (apiserver's forbiddenMessage);
 * an admission plugin's 403 names the policy, webhook or quota instead.
 */
const RBAC_REFUSAL = /\bUser ".*" cannot /;

function remedyFor(refused: ApiError): string {
  if (refused.status === 401) return "the kubeconfig's or the service account's token is invalid or expired";
  if (refused.status === 403 && RBAC_REFUSAL.test(refused.serverMessage))
    return "the operator's service account lacks get or create on Secrets in its own namespace (the chart's Role)";
  return 'an admission policy, webhook or quota refuses the Secret as the operator makes it: let it, or create the Secret yourself';
}

/** A refusal (4xx), not throttling (429, waited out: `throttled`): what no later attempt heals. */
function refused(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429;
}

/** The wait before the next attempt while the API server does not answer or admit: client-go's informers' 0.5 s doubling to 30 s. */
const UNREACHABLE_RETRY: BackoffBounds = { initialMs: 500, maxMs: 30_000 };

/**
 * The key as `loadHashKey` reads or makes it, the first thing the operator asks the API server. An
 * API server that does not answer (not up yet, a network fault, a 5xx) or throttles the operator past
 * the client's retries (429) may answer later, so it is asked again, each wait logged, as the informers
 * do; a refusal (401, 403, 422), a bad key and a bug cannot heal by themselves and end the start (ADR
 * 0332, ADR 0337).
 */
export async function loadHashKeyWhenReachable(
  client: KubeClient,
  where: HashKeySecret,
  logger: Logger,
): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadHashKey(client, where);
    } catch (err) {
      if (refused(err)) throw new ApiAccessDeniedError(err);
      const wait = waitBeforeAsking(err, backoffAfter(attempt, UNREACHABLE_RETRY));
      if (!wait) throw err;
      const { message, retryInMs, ...said } = wait;
      logger.warn({ ...said, err, attempt, retryInMs }, message);
      await delay(retryInMs);
    }
  }
}

/** The wait before asking again after `err`, and how it is said; undefined when no wait heals it. */
function waitBeforeAsking(
  err: unknown,
  backoffMs: number,
): { event: string; reason: OperatorReason; retryInMs: number; message: string } | undefined {
  if (throttled(err))
    return {
      event: 'operator.api_throttled',
      reason: 'OPERATOR_API_THROTTLED',
      // Never sooner than the API server asked: its Retry-After grows while it is overloaded.
      retryInMs: Math.max(backoffMs, err.retryAfterMs ?? 0),
      message: "the API server throttled the hash key read past the client's retries; asking again",
    };
  if (unanswered(err))
    return {
      event: 'operator.api_unreachable',
      reason: 'OPERATOR_API_UNREACHABLE',
      retryInMs: backoffMs,
      message: 'the API server did not answer the hash key read; asking again',
    };
  return undefined;
}

/**
 * A 429 the client gave back: its retries spent by the Retry-After of API Priority and Fairness (or
 * a watch cache still initializing), or one without Retry-After. Load, not a refusal (ADR 0337).
 */
function throttled(err: unknown): err is ApiError {
  return err instanceof ApiError && err.status === 429;
}

/**
 * No answer, or the API server's own failure (5xx): what a later attempt may not meet. The way there
 * failing is Node's error with a system or TLS code (refused, reset, a name not resolved, a
 * certificate), or the request's deadline passing; anything else (a TypeError, a SyntaxError, Node's
 * ERR_INVALID_ARG_TYPE) is the operator's own fault, which every attempt meets again (ADR 0337).
 */
function unanswered(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500;
  if (!(err instanceof Error) || err instanceof JsmSsoError) return false;
  // The deadline as the exchange aborts with it (exchange-signal.ts), or as Node's request wraps it.
  if (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError'))
    return true;
  const code = (err as NodeJS.ErrnoException).code;
  // Node's own ERR_ codes name a misuse of its API, but for TLS's; an abort is the operator's stop.
  if (typeof code !== 'string' || err.name === 'AbortError') return false;
  return !code.startsWith('ERR_') || /^ERR_(TLS|SSL)_/.test(code);
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
      // The recommended labels, as on the tenants' objects: `kubectl get -l app.kubernetes.io/part-of=jsm-sso`
      // finds the key with the rest. No instance: the operator does not know its release's name.
      labels: {
        'app.kubernetes.io/name': 'jsm-sso',
        'app.kubernetes.io/component': 'hash-key',
        'app.kubernetes.io/part-of': PART_OF,
        'app.kubernetes.io/managed-by': MANAGED_BY,
      },
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
