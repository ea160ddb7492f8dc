/**
 * How often an IdP's keys may be read again because a message names a key the broker does not have
 * (OIDC: an unknown kid; SAML: a signature no certificate of the metadata verifies). Such messages
 * can be sent at will, so the reads they cause are spaced: the first is made at once, the next only
 * `ms` later. Reads for other reasons (first use, a copy due for refresh) do not count (ADR 0144).
 */
export class RefetchCooldown {
  #allowedAt = 0;

  constructor(
    private readonly ms: number,
    private readonly now: () => Date,
  ) {}

  /** Whether a read may be made now; if so, the cooldown starts (before the read, so reads at once share it). */
  claim(): boolean {
    const at = this.now().getTime();
    if (at < this.#allowedAt) return false;
    this.#allowedAt = at + this.ms;
    return true;
  }

  /** Whole seconds until the next read may be made, for the log line of a read held back. */
  retryInSeconds(): number {
    return Math.max(0, Math.ceil((this.#allowedAt - this.now().getTime()) / 1000));
  }
}
