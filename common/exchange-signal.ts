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
}

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
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
          timeoutMs,
        );
  // As AbortSignal.timeout's: an exchange in flight holds its socket, which keeps the process alive.
  timer?.unref();
  const release = () => {
    clearTimeout(timer);
    for (const source of linked) source.removeEventListener('abort', onSourceAbort);
  };
  const aborted = linked.find((source) => source.aborted);
  if (aborted) controller.abort(aborted.reason);
  else for (const source of linked) source.addEventListener('abort', onSourceAbort, { once: true });
  return { signal: controller.signal, release };
}

/**
 * `response` with a body that releases `exchange` once it is read to its end, breaks off or is
 * cancelled: for an answer whose body the caller reads later (a file streamed through to the
 * customer), so the deadline still bounds the body and is gone once the body is.
 */
export function releasedWithBody(response: Response, exchange: ExchangeSignal): Response {
  const body = response.body;
  if (body === null) {
    exchange.release();
    return response;
  }
  const reader = body.getReader();
  const released = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch (err) {
        exchange.release();
        throw err;
      }
      if (read.done) {
        exchange.release();
        controller.close();
      } else controller.enqueue(read.value);
    },
    cancel(reason) {
      exchange.release();
      return reader.cancel(reason);
    },
  });
  return new Response(released, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
