import PQueue from 'p-queue';
import { AtlassianError } from './errors.js';

/**
 * How much of Atlassian one tenant's portal may use at once. Each tenant's client has its own
 * bulkhead, so in a process serving many tenants (a pool) a site that is slow or broken fills only
 * its own tenant's slots: the others keep theirs ([ADR 0110](../../docs/decisions/0110-atlassian-bulkheads.md)).
 */
export interface BulkheadLimits {
  /** HTTP attempts to the site in flight at once. */
  maxConcurrent: number;
  /** HTTP attempts started in any one-second window (a sliding window). */
  perSecond: number;
  /** The longest one call waits for a slot; past it the call fails with ATLASSIAN_BUSY. */
  maxWaitMs: number;
}

/** Defaults when the tenant sets none (spec.atlassian.limits) and the embedder gives no wait bound. */
export const DEFAULT_BULKHEAD_LIMITS: BulkheadLimits = {
  maxConcurrent: 16,
  perSecond: 100,
  maxWaitMs: 2_000,
};

/** What a customer who met a full bulkhead is told to wait before trying again. */
export const BUSY_RETRY_AFTER_MS = 5_000;

/**
 * A concurrency limit and a rate limit in front of one Atlassian site (p-queue), with a bounded
 * wait: a call that does not get a slot within `maxWaitMs` is refused with ATLASSIAN_BUSY, never
 * left hanging. The wait bound covers only the time before the attempt starts: a started attempt
 * is bounded by the transport's own timeout.
 */
export class AtlassianBulkhead {
  readonly limits: BulkheadLimits;
  readonly #queue: PQueue;

  constructor(limits: BulkheadLimits) {
    for (const [name, value] of Object.entries(limits))
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`bulkhead ${name} must be a positive integer, got ${value}`);
    this.limits = limits;
    this.#queue = new PQueue({
      concurrency: limits.maxConcurrent,
      intervalCap: limits.perSecond,
      interval: 1000,
      // Atlassian's burst limits count per second; fixed windows would allow twice the rate across a boundary.
      strict: true,
    });
  }

  /** Runs `attempt` once a slot is free; throws AtlassianError ATLASSIAN_BUSY when the wait is too long. */
  run<T>(attempt: () => Promise<T>): Promise<T> {
    const waiting = new AbortController();
    const timer = setTimeout(
      () =>
        waiting.abort(
          new AtlassianError('ATLASSIAN_BUSY', 0, {
            message: `no Atlassian slot within ${this.limits.maxWaitMs} ms (${this.#queue.pending} in flight, ${this.#queue.size} waiting)`,
            retryAfterMs: BUSY_RETRY_AFTER_MS,
          }),
        ),
      this.limits.maxWaitMs,
    );
    return this.#queue.add(
      () => {
        // Started: from here only the transport's timeout applies, so the signal must never abort.
        clearTimeout(timer);
        return attempt();
      },
      { signal: waiting.signal },
    );
  }

  /** Attempts in flight and calls waiting for a slot (metrics, tests). */
  stats(): { running: number; waiting: number } {
    return { running: this.#queue.pending, waiting: this.#queue.size };
  }
}
