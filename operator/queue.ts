/**
 * The reconcile queue, like client-go's rate-limited work queue: it holds keys (`namespace/name`),
 * never objects, so a reconcile always reads the latest state. A key is queued at most once; a key
 * being processed that is added again runs once more afterwards (never twice at the same time).
 * Failures retry after a per-key exponential backoff; a global token bucket caps the rate of
 * reconciles so that a storm of events cannot flood the API server.
 *
 * Keys of the periodic resync wait in a background lane that runs only when no other key waits: a
 * resync of 10,000 tenants is 200 s of the bucket, and a tenant created meanwhile must not queue
 * behind all of it (nor a convergence slow down each time a resync comes round).
 */
import { type BackoffBounds, backoffAfter } from '../common/backoff.js';

/** Sustained reconciles per second when the operator sets no other rate. */
export const DEFAULT_RATE_PER_SECOND = 50;

export interface QueueOptions {
  /** Per-key backoff after the first failure, doubling up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Global rate: sustained reconciles per second, and the burst allowed. */
  ratePerSecond?: number;
  burst?: number;
  now?: () => number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  /** The background lane; a key promoted to the queue stays here, skipped, until it is reached. */
  private readonly background: string[] = [];
  private readonly backgroundQueued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly backoff: BackoffBounds;
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private tokensAt: number;
  private shutDown = false;

  constructor(options: QueueOptions = {}) {
    this.backoff = { initialMs: options.baseBackoffMs ?? 500, maxMs: options.maxBackoffMs ?? 5 * 60_000 };
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    this.burst = options.burst ?? 200;
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.tokensAt = this.now();
  }

  /** Keys waiting to run, in both lanes (not counting delayed retries or keys being processed). */
  get depth(): number {
    return this.queue.length + this.backgroundQueued.size;
  }

  /** Keys waiting out a backoff before they are added again (failed reconciles to retry). */
  get retrying(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shutDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.backgroundQueued.delete(key);
    if (this.handOut(key)) return;
    this.queued.add(key);
    this.queue.push(key);
  }

  /**
   * Adds a key whose reconcile only re-checks (the periodic resync): it runs after every key added
   * with `add`, and not at all if it is queued or running already.
   */
  addBackground(key: string): void {
    if (this.shutDown || this.processing.has(key) || this.queued.has(key) || this.backgroundQueued.has(key))
      return;
    if (this.handOut(key)) return;
    this.backgroundQueued.add(key);
    this.background.push(key);
  }

  /** Gives `key` to a worker waiting for one; false when none waits. */
  private handOut(key: string): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    this.processing.add(key);
    waiter(key);
    return true;
  }

  /** Adds `key` after its backoff; the backoff doubles with each failure until `forget`. */
  addRateLimited(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const delay = this.backoffFor(failures);
    this.addAfter(key, delay);
    return delay;
  }

  backoffFor(failures: number): number {
    return backoffAfter(failures, this.backoff);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shutDown) return;
    const existing = this.delayed.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, timer);
  }

  /** Resets the backoff of `key` after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key and for a rate token; undefined once the queue is shut down. */
  async get(): Promise<string | undefined> {
    await this.takeToken();
    if (this.shutDown) return undefined;
    const key = this.queue.shift() ?? this.nextBackground();
    if (key !== undefined) {
      this.queued.delete(key);
      this.processing.add(key);
      return key;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private nextBackground(): string | undefined {
    for (let key = this.background.shift(); key !== undefined; key = this.background.shift()) {
      if (this.backgroundQueued.delete(key)) return key;
    }
    return undefined;
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  shutdown(): void {
    this.shutDown = true;
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private async takeToken(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.ratePerSecond);
      this.tokensAt = now;
      if (this.tokens >= 1 || this.shutDown) {
        this.tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, ((1 - this.tokens) / this.ratePerSecond) * 1000));
    }
  }
}
