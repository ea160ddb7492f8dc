// Streams a body from Atlassian (a file, a thumbnail) to the customer, and says how it ended. The two
// early ends are different faults: the customer hanging up (they navigated on: no fault of ours, and
// the Atlassian download must stop at once so no socket is held), and Atlassian breaking off mid-body
// (an upstream failure, logged with its code; the customer's download is cut, since a page can no
// longer follow the bytes already sent). Atlassian breaking off before its first byte leaves the
// customer's answer untouched, its headers unsent, so the caller can still answer with a page.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ANSWER_IDLE_MS } from '../../common/http/request-time.js';

export type StreamEnd =
  | { outcome: 'complete' }
  | { outcome: 'client-aborted' }
  /** The customer took nothing for `idleMs`: the download was cut. */
  | { outcome: 'client-stalled' }
  | { outcome: 'upstream-failed'; cause: unknown };

/**
 * How long a customer may take no byte of a download before it is cut (nginx's send_timeout, 60 s
 * by default, is the same bound). Atlassian's deadline does not run while the customer is slow
 * (common/exchange-signal.ts, releasedWithBody), so this alone frees a download the customer
 * stopped reading, with the Atlassian connection under it.
 */
export const CLIENT_IDLE_MS = ANSWER_IDLE_MS;

/**
 * Pipes `body` into `res`, once its first bytes (or its end) are there: `beforeFirstByte` then sets
 * the answer's headers, which are the file's only when a file follows. Cancelling the body (which
 * pipeline does on any early end) aborts the fetch underneath, which closes its connection to
 * Atlassian.
 */
export async function streamThrough(
  body: ReadableStream<Uint8Array> | null,
  res: ServerResponse,
  { idleMs = CLIENT_IDLE_MS, beforeFirstByte }: { idleMs?: number; beforeFirstByte?: () => void } = {},
): Promise<StreamEnd> {
  if (res.destroyed) {
    // Gone while Atlassian's headers were on their way.
    await body?.cancel().catch(() => {});
    return { outcome: 'client-aborted' };
  }
  if (!body) {
    beforeFirstByte?.();
    res.end();
    return { outcome: 'complete' };
  }
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  // Whichever side stopped first is the cause: pipeline then tears down the other, so its error
  // alone cannot tell (a client hang-up also surfaces as an error on the source). Listened to from
  // the start, so that no error of the source, whenever it comes, goes unhandled.
  let first: 'client' | 'upstream' | undefined;
  const onClose = () => {
    if (!res.writableFinished) first ??= 'client';
  };
  const onSourceError = () => {
    first ??= 'upstream';
  };
  source.on('error', onSourceError);
  try {
    const opened = await firstBytes(source, res);
    if (opened.outcome !== 'open') return opened;
    beforeFirstByte?.();
    // The connection's idle timer: every byte the customer's side takes (a write done) restarts it.
    let stalled = false;
    res.setTimeout(idleMs, () => {
      stalled = true;
      first ??= 'client';
      res.destroy();
    });
    res.once('close', onClose);
    try {
      await pipeline(source, res);
      return { outcome: 'complete' };
    } catch (cause) {
      if (first === 'upstream') return { outcome: 'upstream-failed', cause };
      return { outcome: stalled ? 'client-stalled' : 'client-aborted' };
    }
  } finally {
    res.off('close', onClose);
    source.off('error', onSourceError);
  }
}

/**
 * Waits for `source`'s first bytes or its end ('open'), without taking them; or says why none will
 * come: Atlassian broke off (`res` untouched: pipeline would have destroyed it, and the customer
 * got no answer at all where a page could still be sent), or the customer hung up meanwhile.
 */
function firstBytes(source: Readable, res: ServerResponse): Promise<StreamEnd | { outcome: 'open' }> {
  return new Promise((resolve) => {
    const settle = (end: StreamEnd | { outcome: 'open' }) => {
      source.off('readable', onReadable);
      source.off('error', onError);
      res.off('close', onClose);
      resolve(end);
    };
    const onReadable = () => settle({ outcome: 'open' });
    const onError = (cause: unknown) => settle({ outcome: 'upstream-failed', cause });
    const onClose = () => {
      source.destroy();
      settle({ outcome: 'client-aborted' });
    };
    source.once('readable', onReadable);
    source.once('error', onError);
    res.once('close', onClose);
  });
}
