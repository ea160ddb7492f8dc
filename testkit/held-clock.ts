/**
 * The process's monotonic clock (`performance.now()`) held still, moved on only by the test. The
 * portal reads its Atlassian deadlines on it (a page's budget and a look's, portal/atlassian/page-budget.ts;
 * a call's, portal/atlassian/http.ts), so a test makes their seconds pass at once and exactly, the
 * way `passOnWriteClaim` (testkit/redis.ts) makes them pass for what the claims store in Redis:
 * no waiting on the clock, no bound on how long a loaded machine took. A timer already running
 * (an exchange's own, set from what was left of its deadline) still runs in real time.
 */
export interface HeldClock {
  /** `ms` pass on the clock at once. */
  advance(ms: number): void;
  /**
   * The real clock again, behind the held one by what was advanced: a deadline set while held is
   * that much further off. Released once the work under test is done.
   */
  release(): void;
}

export function holdClock(): HeldClock {
  let now = performance.now();
  performance.now = () => now;
  return {
    advance(ms) {
      now += ms;
    },
    release() {
      // The prototype's own `now` again.
      delete (performance as { now?: unknown }).now;
    },
  };
}
