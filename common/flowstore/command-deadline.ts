/**
 * `answer`, or a rejection once `ms` have passed without it, as seen by this process.
 *
 * When the deadline's timer fires, the verdict waits one turn of the event loop, past its I/O poll:
 * an answer that reached the socket while the process was stalled (a long GC pause, CPU throttled to
 * its cgroup's quota, a burst of work) is read first and wins. ioredis's own commandTimeout fires in
 * the timers phase, before the poll that would read the answer, so a process stalled past the
 * deadline failed every command in flight against a healthy Redis (503 FLOW_STORE_UNAVAILABLE), and
 * a claim Redis had granted read as unknown (ADR 0214).
 */
export function answeredWithin<T>(answer: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(
      () => setImmediate(() => settle(() => reject(new Error(`Redis did not answer within ${ms} ms`)))),
      ms,
    );
    answer.then(
      (value) => settle(() => resolve(value)),
      (err: unknown) => settle(() => reject(err)),
    );
  });
}
