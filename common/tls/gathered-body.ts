/**
 * An answer's body gathered as it arrives, into one buffer of at most `limit` bytes (ADR 0267).
 * Keeping each chunk undici hands over and joining them at the end held an object per chunk: an
 * upstream answering in one-byte chunks (chunked transfer coding allows it) made a 1 MiB answer a
 * million Buffers, about 110 MiB of heap, and the portal's 8 MiB Atlassian read about 900 MiB,
 * past a pod's memory limit, whatever the byte limit said. Each chunk is copied here instead, and
 * dropped. The buffer starts at the answer's Content-Length when it gives one (the usual IdP and
 * Atlassian answer: one allocation, one copy, as the join was) and otherwise doubles as needed.
 */
export class GatheredBody {
  readonly #limit: number;
  #buffer: Buffer<ArrayBuffer> = Buffer.alloc(0);
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The answer says how long its body is (at most the limit): room for that much at once. */
  expect(length: number): void {
    if (Number.isSafeInteger(length) && length > this.#buffer.length) this.#grow(length);
  }

  /** Adds `chunk`; false, with nothing added, when the body would pass the limit. */
  add(chunk: Buffer): boolean {
    const end = this.#size + chunk.length;
    if (end > this.#limit) return false;
    if (end > this.#buffer.length)
      this.#grow(Math.min(this.#limit, Math.max(end, 2 * this.#buffer.length, FIRST_ROOM)));
    chunk.copy(this.#buffer, this.#size);
    this.#size = end;
    return true;
  }

  /** The body gathered so far. */
  bytes(): Buffer<ArrayBuffer> {
    return this.#buffer.subarray(0, this.#size);
  }

  #grow(length: number): void {
    const grown = Buffer.allocUnsafe(length);
    this.#buffer.copy(grown, 0, 0, this.#size);
    this.#buffer = grown;
  }
}

/** The room a body of no stated length starts with: an IdP's answers are a few KiB. */
const FIRST_ROOM = 16 * 1024;
