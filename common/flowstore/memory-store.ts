import { assertTtl, type FlowStore } from './flow-store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/** Single-process flow store. Expired entries are invisible at once and swept every few seconds. */
export class MemoryFlowStore implements FlowStore {
  readonly #entries = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(options: { now?: () => number; sweepIntervalMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 5000);
    this.#sweeper.unref();
  }

  async put(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
  }

  async putIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    if (this.#live(key)) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlSeconds * 1000 });
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }

  /** Number of live entries; for memory benchmarks and tests. */
  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
