import type { KeyReadHealth } from './key-read-health.js';

/**
 * The reads of the broker's copy of an IdP's keys, as the OIDC JWKS (oidc-key-copy.ts) and SAML
 * metadata from a URL (saml-metadata.ts) share them (ADR 0151): one read at a time, joined by
 * whoever asks meanwhile; each outcome told to `KeyReadHealth` (a log line per change of state);
 * and, while reads fail, background reads no sooner than `KEY_READ_RETRY_MS` after the last, so an
 * endpoint that is down costs one read a minute, not one a sign-in. When to read (before a check
 * or in the background) and how long a copy is fresh or usable are each caller's.
 */

/** While reads fail, the next is tried in the background this long after the last. */
export const KEY_READ_RETRY_MS = 60 * 1000;

export interface ReadCopy {
  /** Until when the copy may serve at all (epoch ms), also while reads fail. */
  readonly usableUntil: number;
}

export interface KeyCopyReadsOptions<C extends ReadCopy> {
  /** Reads a new copy; refuses when it cannot be read or used. */
  read: () => Promise<C>;
  now: () => Date;
  health: KeyReadHealth;
}

export class KeyCopyReads<C extends ReadCopy> {
  #copy: C | undefined;
  #inFlight: Promise<C> | undefined;
  /** Set while reads fail: when the next background read may be made. */
  #retryAt: number | undefined;

  constructor(private readonly options: KeyCopyReadsOptions<C>) {}

  /** The last copy read, whether or not it may still serve. */
  get latest(): C | undefined {
    return this.#copy;
  }

  /** The last copy read if it may still serve at `at` (epoch ms). */
  usable(at: number): C | undefined {
    return this.#copy && at < this.#copy.usableUntil ? this.#copy : undefined;
  }

  /** Whether a read is under way. */
  get reading(): boolean {
    return this.#inFlight !== undefined;
  }

  /** Whether the last read failed. */
  get failing(): boolean {
    return this.#retryAt !== undefined;
  }

  /** Reads a copy now, or joins the read under way; refuses when the read fails. */
  read(): Promise<C> {
    this.#inFlight ??= this.options
      .read()
      .then(
        (fresh) => {
          this.#copy = fresh;
          this.#retryAt = undefined;
          this.options.health.readSucceeded();
          return fresh;
        },
        (err: unknown) => {
          const at = this.options.now().getTime();
          this.#retryAt = at + KEY_READ_RETRY_MS;
          this.options.health.readFailed(err, this.usable(at)?.usableUntil);
          throw err;
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  /**
   * Starts a read that nobody waits for (or leaves the one under way), unless the last read failed
   * less than `KEY_READ_RETRY_MS` before `at`. Its failure is told by `health` only.
   */
  readInBackground(at: number): void {
    if (this.#retryAt !== undefined && at < this.#retryAt) return;
    this.read().catch(() => undefined);
  }

  /** Settles once the read under way, if any, has ended, whatever its outcome. */
  async settled(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
  }
}
