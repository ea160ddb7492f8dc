// A pseudo-random source that one number reproduces: a chaos test draws every choice (which fault,
// when, which journey does what) from it, prints the seed, and runs again the same way under
// CHAOS_SEED=<seed>. Not for anything secret: mulberry32, 32 bits of state.

export interface SeededRandom {
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    between: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('nothing to pick from');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/**
 * The seeds a run uses: CHAOS_SEED (one, or several separated by commas) when set, else `fixed`, the
 * ones CI runs every time.
 */
export function chaosSeeds(fixed: readonly number[]): number[] {
  const given = process.env['CHAOS_SEED'];
  if (!given) return [...fixed];
  const seeds = given.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff))
    throw new Error(`CHAOS_SEED must be integers from 0 to 4294967295, got ${given}`);
  return seeds;
}
