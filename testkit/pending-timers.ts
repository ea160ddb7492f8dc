import { createHook } from 'node:async_hooks';

/**
 * The timers `body` creates that are still pending once it has resolved, watched through async_hooks
 * as Node reports them: one created and neither fired nor cleared is pending (ADR 0156, 0163). With
 * `madeIn`, only timers whose creation stack names that file count, so a server running in the same
 * process (the emulator, a test's own waits) does not.
 */
export async function timersLeftBy(body: () => Promise<unknown>, madeIn?: string): Promise<number> {
  const pending = new Set<number>();
  const stackTraceLimit = Error.stackTraceLimit;
  // Deep enough to reach the transport's frame under undici's and the client's own.
  if (madeIn !== undefined) Error.stackTraceLimit = 50;
  const hook = createHook({
    init: (id, type) => {
      if (type === 'Timeout' && (madeIn === undefined || new Error().stack?.includes(madeIn)))
        pending.add(id);
    },
    destroy: (id) => pending.delete(id),
  });
  hook.enable();
  try {
    await body();
    // A cleared timer's destroy is reported from the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    hook.disable();
    Error.stackTraceLimit = stackTraceLimit;
  }
  return pending.size;
}
