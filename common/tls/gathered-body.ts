/**
 * An answer's body gathered as it arrives, into one buffer of at most `limit` bytes (ADR 0267).
 * Keeping each chunk undici hands over and joining them at the end held an object per chunk: an
 * upstream answering in one-byte chunks (chunked transfer coding allows it) made a 1 MiB answer a
 * million Buffers, about 110 MiB of heap, and the portal's 8 MiB Atlassian read about 900 MiB,
 * past a pod's memory limit, whatever the byte limit said. Each chunk is copied here instead, and
 * dropped. Room is made as bytes come, doubling, never for bytes a Content-Length only announces
 * (a stalled answer stating 8 MiB would hold 8 MiB per call for its whole deadline).
 */
export class GatheredBody {
  readonly #limit: number;
  #buffer: Buffer<ArrayBuffer> = Buffer.alloc(0);
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Adds `chunk`; false, with nothing added, when the body would pass the limit. */
  add(chunk: Buffer): boolean {
    const end = this.#size + chunk.length;
    if (end > this.#limit) return false;
    if (end > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.#limit, Math.max(end, 2 * this.#buffer.length, FIRST_ROOM)),
      );
      this.#buffer.copy(grown, 0, 0, this.#size);
      this.#buffer = grown;
    }
    chunk.copy(this.#buffer, this.#size);
    this.#size = end;
    return true;
  }

  /** The body gathered so far. */
  bytes(): Buffer<ArrayBuffer> {
    return this.#buffer.subarray(0, this.#size);
  }
}

/** The room a body starts with: an IdP's answers are a few KiB, and most come in one chunk. */
const FIRST_ROOM = 16 * 1024;
