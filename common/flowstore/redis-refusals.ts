import { ReplyError } from 'ioredis';
import { JsmSsoError } from '../errors.js';
import { FlowStoreUnavailableError } from './flow-store.js';

/**
 * Redis answered, and its answer was an error. Its kind is the error's first word: the protocol's
 * own convention for simple errors (RESP: "the first word after the -, up to the first space or
 * newline, represents the kind of error returned"), which Redis keeps for an error met inside a
 * script too. Three kinds of answer, three honest codes (ADR 0205):
 * - Redis cannot serve now and will again by itself (a failover, a start loading its data, a busy
 *   script, a primary whose `min-replicas-to-write` replicas are restarting or lagging, a Cluster
 *   slot moved): FLOW_STORE_UNAVAILABLE, as for no answer at all.
 * - It is full (maxmemory reached and a policy that evicts nothing): FLOW_STORE_FULL. Every entry
 *   expires, so writes go through again as entries do, or once an operator gives it room.
 * - It refuses the command itself (an ACL without it, a key of another type, a command renamed or
 *   disabled, writes stopped after a failed snapshot): FLOW_STORE_REFUSED, until an operator acts.
 * NOSCRIPT needs none: ioredis sends a script again as EVAL when the server has not cached it.
 */
const WILL_SERVE_AGAIN = new Set([
  'READONLY',
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'NOREPLICAS',
  // A Cluster redirection not followed: a marker's pipeline redirected again, or to a node not found
  // (redis-store.ts:#followed).
  'MOVED',
  'ASK',
]);

/** An error answer as ioredis gives it (its ReplyError is exported untyped). */
interface RedisErrorAnswer extends Error {
  command?: { name?: unknown };
}

function isErrorAnswer(err: unknown): err is RedisErrorAnswer {
  return err instanceof (ReplyError as new () => Error);
}

/** The kind of a Redis error answer, or undefined for anything that is not one (a timeout, a lost connection). */
export function redisErrorKind(err: unknown): string | undefined {
  return isErrorAnswer(err) ? kindOf(err) : undefined;
}

function kindOf(err: RedisErrorAnswer): string {
  return /^[A-Z][A-Z_]*(?=\s|$)/.exec(err.message)?.[0] ?? 'ERR';
}

/** The command a Redis error answered (its name only; its arguments are keys and values, never logged). */
function commandOf(err: RedisErrorAnswer): string {
  return typeof err.command?.name === 'string' ? err.command.name : 'unknown';
}

/** Redis holds its maxmemory and evicts nothing: a write is refused, nothing written (503). */
export class FlowStoreOutOfMemoryError extends JsmSsoError {
  constructor(command: string, cause: unknown) {
    super('FLOW_STORE_FULL', `Redis refused ${command}: it holds its maxmemory and evicts nothing (OOM)`, {
      status: 503,
      cause,
      where: { redisError: 'OOM', command },
    });
    this.name = 'FlowStoreOutOfMemoryError';
  }
}

/**
 * Redis refuses the command itself, whatever the moment: its configuration (an ACL, a renamed
 * command) or a key of another type. Not temporary, so 500 without Retry-After: an operator acts.
 */
export class FlowStoreRefusedError extends JsmSsoError {
  constructor(kind: string, command: string, cause: unknown) {
    super('FLOW_STORE_REFUSED', `Redis refused ${command} (${kind})`, {
      status: 500,
      cause,
      where: { redisError: kind, command },
    });
    this.name = 'FlowStoreRefusedError';
  }
}

/** The store's error for a failed command: what Redis answered, or that it did not answer. */
export function flowStoreErrorOf(err: unknown): JsmSsoError {
  if (!isErrorAnswer(err)) return new FlowStoreUnavailableError(err);
  const kind = kindOf(err);
  if (WILL_SERVE_AGAIN.has(kind)) return new FlowStoreUnavailableError(err);
  const command = commandOf(err);
  return kind === 'OOM'
    ? new FlowStoreOutOfMemoryError(command, err)
    : new FlowStoreRefusedError(kind, command, err);
}
