/**
 * The abort signal of one outbound exchange (a kube API call, an Atlassian call), and its release
 * once the answer is read. Not `AbortSignal.timeout` and `AbortSignal.any`: neither can be
 * released. The timeout's timer runs its full length after the answer was read, holding the signal
 * until the garbage collector takes it (a FinalizationRegistry clears the timer), and any() links a
 * signal to its long-lived sources until then; every call left that behind, which cost the operator
 * (ADR 0156) and the portal (ADR 0163) CPU and collector time on every call.
 */
export interface ExchangeSignal {
  readonly signal: AbortSignal;
  /** Clears the deadline and unlinks the sources; the exchange is over. Safe to call again. */
  release(): void;
  /**
   * Stops the deadline's clock, keeping the time left, until `resume`: the exchange is waiting on
   * its caller (a slow reader of the body), not on the peer. Safe to call when stopped.
   */
  pause(): void;
  /** Starts the deadline's clock again with the time that was left. Safe to call when running. */
  resume(): void;
  /** Gives the deadline its whole length again: the peer has shown it is not silent. */
  renew(): void;
}

/**
 * The share of a streamed body (`releasedWithBody`) whose arrival renews the deadline: the peer
 * must send this much within one deadline of the caller's waiting, 6.5 kB/s at the portal's 10 s
 * (one socket read's worth). Not the sum of every wait over the whole body: a read the caller asks
 * for once the customer's side took the last one waits a moment even on a fast peer (the peer's
 * next bytes on their way, the process busy elsewhere), and thousands of such moments over a large
 * file add up to any deadline while the peer was never silent.
 */
export const BYTES_RENEWING_DEADLINE = 64 * 1024;

/**
 * Aborted with the reason of whichever of `sources` aborts first, or with a DOMException named
 * TimeoutError (what `AbortSignal.timeout` aborts with, and what callers tell a timeout by) after
 * `timeoutMs` when given.
 */
export function exchangeSignal(
  sources: readonly (AbortSignal | undefined)[],
  timeoutMs?: number,
): ExchangeSignal {
  const controller = new AbortController();
  const linked = sources.filter((source): source is AbortSignal => source !== undefined);
  const onSourceAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  // The clock: the time left when it last stopped, and when it last started (undefined: stopped).
  let leftMs = timeoutMs ?? 0;
  let since: number | undefined;
  const start = () => {
    if (timeoutMs === undefined || released || since !== undefined || controller.signal.aborted) return;
    since = performance.now();
    timer = setTimeout(
      () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
      leftMs,
    );
    // As AbortSignal.timeout's: an exchange in flight holds its socket, which keeps the process alive.
    timer.unref();
  };
  const stop = () => {
    if (since === undefined) return;
    clearTimeout(timer);
    leftMs = Math.max(0, leftMs - (performance.now() - since));
    since = undefined;
  };
  const renew = () => {
    const running = since !== undefined;
    stop();
    leftMs = timeoutMs ?? 0;
    if (running) start();
  };
  const release = () => {
    stop();
    released = true;
    for (const source of linked) source.removeEventListener('abort', onSourceAbort);
  };
  const aborted = linked.find((source) => source.aborted);
  if (aborted) controller.abort(aborted.reason);
  else for (const source of linked) source.addEventListener('abort', onSourceAbort, { once: true });
  start();
  return { signal: controller.signal, release, pause: stop, resume: start, renew };
}

/**
 * `response` with a body that releases `exchange` once it is read to its end, breaks off or is
 * cancelled: for an answer whose body the caller reads later (a file streamed through to the
 * customer), so the deadline still bounds the body and is gone once the body is.
 *
 * The deadline's clock runs only while the caller waits for the peer's next bytes (a read asked
 * for and not yet answered), never while the caller is busy with what it has: a customer's
 * download goes at the customer's pace (the reads stop while the customer's connection is full),
 * and a file taking longer to download than the deadline is no timeout of the peer's. Every
 * BYTES_RENEWING_DEADLINE of body renews it, so it bounds the peer's silence, not the sum of the
 * waits over the whole body. A peer that trickles its body still runs the clock out (every read
 * waits on it, and the trickle never adds up to a renewing share within the deadline).
 */
export function releasedWithBody(response: Response, exchange: ExchangeSignal): Response {
  const body = response.body;
  if (body === null) {
    exchange.release();
    return response;
  }
  // The headers are in hand; the clock waits for the caller's first read.
  exchange.pause();
  const reader = body.getReader();
  let sinceRenewed = 0;
  const released = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let read: ReadableStreamReadResult<Uint8Array>;
        exchange.resume();
        try {
          read = await reader.read();
        } catch (err) {
          exchange.release();
          throw err;
        }
        exchange.pause();
        if (read.done) {
          exchange.release();
          controller.close();
        } else {
          sinceRenewed += read.value.byteLength;
          if (sinceRenewed >= BYTES_RENEWING_DEADLINE) {
            sinceRenewed = 0;
            exchange.renew();
          }
          controller.enqueue(read.value);
        }
      },
      cancel(reason) {
        exchange.release();
        return reader.cancel(reason);
      },
    },
    // Nothing read ahead: a read is asked for only when the caller wants one.
    { highWaterMark: 0 },
  );
  return new Response(released, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
