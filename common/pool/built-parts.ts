/**
 * How many built tenant parts a pool process keeps, and for how long (ADR 0123). A part costs far
 * more than its tenant's parsed bundle (keys, HTTP clients, the part's wiring), and tenants are built
 * on their first request, so without a bound a pool's memory would grow with every tenant used since
 * it started.
 */
export interface BuiltPartLimits {
  /** A part no request has used for this long is released; its next request builds it again. */
  idleMs: number;
  /** At most this many parts are kept; beyond, the least recently used ones without a request are released. */
  max: number;
}

export const DEFAULT_BUILT_PART_LIMITS: BuiltPartLimits = { idleMs: 15 * 60_000, max: 1_000 };

export type ReleaseReason = 'idle' | 'limit';

interface Usage {
  lastUsedAt: number;
  /** Requests the part is serving: it is never released under them. */
  inFlight: number;
}

/** Longest wait between two looks for idle parts: a part is released at most this late. */
const MOST_SWEEP_MS = 60_000;

/**
 * The built parts of a pool in order of last use, least recent first, releasing those beyond the
 * limits through `release`. Nothing here is per tenant in cost: a use moves one entry, a sweep stops
 * at the first part used within the idle period.
 */
export class BuiltParts<T> {
  readonly #limits: BuiltPartLimits;
  readonly #release: (part: T, reason: ReleaseReason) => void;
  /** Map order is the order of last use. */
  readonly #usage = new Map<T, Usage>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(limits: BuiltPartLimits, release: (part: T, reason: ReleaseReason) => void) {
    if (!(limits.idleMs > 0) || !(Number.isInteger(limits.max) && limits.max >= 1))
      throw new RangeError(`built-part limits need idleMs > 0 and max >= 1 (got ${JSON.stringify(limits)})`);
    this.#limits = limits;
    this.#release = release;
    this.#sweeper = setInterval(() => this.#releaseIdle(), Math.min(MOST_SWEEP_MS, limits.idleMs / 4));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#usage.size;
  }

  /** `part` was just built: the most recently used now; the least recently used beyond `max` are released. */
  built(part: T): void {
    this.#touch(part, this.#usage.get(part) ?? { lastUsedAt: 0, inFlight: 0 });
    let over = this.#usage.size - this.#limits.max;
    for (const [candidate, usage] of this.#usage) {
      if (over <= 0) break;
      if (usage.inFlight > 0 || candidate === part) continue;
      this.#usage.delete(candidate);
      this.#release(candidate, 'limit');
      over--;
    }
  }

  /** A request for `part` starts; the function returned ends it (call it once). */
  begin(part: T): () => void {
    const usage = this.#usage.get(part);
    if (!usage) return () => {};
    usage.inFlight++;
    this.#touch(part, usage);
    return () => {
      usage.inFlight--;
      // A part forgotten meanwhile (its tenant changed or left) stays forgotten.
      if (this.#usage.get(part) === usage) this.#touch(part, usage);
    };
  }

  /** `part` is gone another way (its tenant changed or left): no longer tracked, not released. */
  forget(part: T): void {
    this.#usage.delete(part);
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#usage.clear();
  }

  #touch(part: T, usage: Usage): void {
    usage.lastUsedAt = performance.now();
    this.#usage.delete(part);
    this.#usage.set(part, usage);
  }

  #releaseIdle(): void {
    const cutoff = performance.now() - this.#limits.idleMs;
    for (const [part, usage] of this.#usage) {
      if (usage.lastUsedAt > cutoff) break;
      // A request longer than the idle period (a download) keeps its part; it is looked at again at its end.
      if (usage.inFlight > 0) continue;
      this.#usage.delete(part);
      this.#release(part, 'idle');
    }
  }
}
