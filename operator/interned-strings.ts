/**
 * One copy of each string value the operator's caches hold many times. JSON.parse makes a new string
 * for every value of every object it reads, so 10,000 cached tenants hold 10,000 copies of the same
 * condition reasons, messages and transition times, of their namespace, of the defaults in their
 * spec, and the indexes as many copies of the Secret names they share: a fifth of the heap a pooled
 * tenant cost (ADR 0120). Bounded: past `max` distinct values it starts over, so values already
 * shared stay shared and memory never grows with values seen once.
 */
export class InternedStrings {
  private readonly known = new Map<string, string>();
  private readonly max: number;

  constructor(max = 100_000) {
    this.max = max;
  }

  /** The one copy of `value`. */
  of(value: string): string {
    const known = this.known.get(value);
    if (known !== undefined) return known;
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(value, value);
    return value;
  }

  /** A copy of a JSON value (as the API server sends) whose string values are the one copies. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.of(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.deep(item)) as T;
    if (value === null || typeof value !== 'object') return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = this.deep(item);
    return copy as T;
  }

  /** Number of distinct values held (tests: it stays bounded). */
  get size(): number {
    return this.known.size;
  }
}
