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
   * that much further off. Released once the work under test is done; a second release, or one
   * after the root hook released it (releaseClockLeftHeld), does nothing.
   */
  release(): void;
}

/** The clock held now, if any: one at a time, as there is one `performance.now` to patch. */
let held: HeldClock | undefined;

export function holdClock(): HeldClock {
  if (held) throw new Error('the clock is already held: release it before holding it again');
  let now = performance.now();
  performance.now = () => now;
  const clock: HeldClock = {
    advance(ms) {
      now += ms;
    },
    release() {
      if (held !== clock) return;
      held = undefined;
      // The prototype's own `now` again.
      delete (performance as { now?: unknown }).now;
    },
  };
  held = clock;
  return clock;
}

/**
 * Releases a clock the last test left held; whether there was one. A test that fails on mocha's
 * timeout never reaches its own release (its `finally` waits on work that never ends), and the clock
 * would stand still for every later test file in the process: leases, deadlines and elapsed times
 * that never move (test/clock-hooks.ts calls this after each test).
 */
export function releaseClockLeftHeld(): boolean {
  const left = held;
  left?.release();
  return left !== undefined;
}
