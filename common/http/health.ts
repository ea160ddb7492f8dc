/**
 * Readiness kept up to date in the background. /readyz must answer within a few hundred
 * milliseconds even when a dependency hangs (a stalled Redis keeps its connection open and answers
 * nothing), so the probe never runs on the request path: a timer runs it, bounded by a deadline, and
 * /readyz reads the last outcome.
 */
export interface HealthMonitorOptions {
  /** Resolves when every dependency answers. */
  check: () => Promise<void>;
  /** Time between the end of one probe and the start of the next. */
  intervalMs?: number;
  /** A probe that has not answered by then counts as a failure. */
  timeoutMs?: number;
  /**
   * Added to the first probe's deadline only: a dependency still connecting at start (the flow
   * store's connection attempt, which its commands wait for) is waited for, not reported down.
   */
  startAllowanceMs?: number;
  /**
   * Called with the first probe's outcome and whenever the state flips (logged by the caller);
   * `failure` is what the probe failed with.
   */
  onChange?: (ready: boolean, reason: string | undefined, failure?: unknown) => void;
  /**
   * Called every `remindEvery` failed probes in a row while not ready, so a dependency that stays
   * down (Redis down at start) is said again for whoever looks at the log later.
   */
  onStillNotReady?: (reason: string, failure: unknown) => void;
  remindEvery?: number;
}

export class HealthMonitor {
  readonly #options: Required<Omit<HealthMonitorOptions, 'onChange' | 'onStillNotReady'>> &
    Pick<HealthMonitorOptions, 'onChange' | 'onStillNotReady'>;
  #reason: string | undefined = 'starting';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #probed = false;
  #failedInARow = 0;

  constructor(options: HealthMonitorOptions) {
    this.#options = { intervalMs: 1000, timeoutMs: 500, startAllowanceMs: 0, remindEvery: 10, ...options };
  }

  /** Runs a first probe (so a healthy process is ready as soon as it starts), then keeps probing. */
  async start(): Promise<void> {
    await this.#probe();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Throws the last probe's failure; never waits. */
  assertReady(): void {
    if (this.#reason !== undefined) throw new Error(this.#reason);
  }

  async #probe(): Promise<void> {
    const { timeoutMs, startAllowanceMs } = this.#options;
    const first = !this.#probed;
    const deadlineMs = first ? timeoutMs + startAllowanceMs : timeoutMs;
    this.#probed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    let reason: string | undefined;
    let failure: unknown;
    try {
      await Promise.race([this.#options.check(), deadline]);
    } catch (err) {
      failure = err;
      reason = (err as Error).message;
    } finally {
      clearTimeout(timer);
    }
    // 'starting' is no state of its own: the first probe's outcome is always said, not-ready too.
    if (first || (reason === undefined) !== (this.#reason === undefined))
      this.#options.onChange?.(reason === undefined, reason, failure);
    this.#failedInARow = reason === undefined ? 0 : this.#failedInARow + 1;
    if (reason !== undefined && this.#failedInARow % this.#options.remindEvery === 0)
      this.#options.onStillNotReady?.(reason, failure);
    this.#reason = reason;
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), this.#options.intervalMs);
    this.#timer.unref();
  }
}
