/** A Redis `TIME` answer (seconds, microseconds) in milliseconds: Redis's own clock, no skew with this process's. */
export function redisTimeMs([seconds, micros]: ReadonlyArray<string | number>): number {
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
