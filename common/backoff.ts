/** An exponential backoff as client-go's: the first wait, doubled after each failure in a row up to a cap. */
export interface BackoffBounds {
  initialMs: number;
  maxMs: number;
}

/** The wait after the `failures`-th failure in a row (1 for the first): `initialMs`, doubling, at most `maxMs`. */
export function backoffAfter(failures: number, { initialMs, maxMs }: BackoffBounds): number {
  return Math.min(maxMs, initialMs * 2 ** (failures - 1));
}
