import { JsmSsoError } from '../common/errors.js';

/**
 * Downloads one account may have streaming at once: as many connections as a browser opens to one
 * host over HTTP/1.1, so a customer saving several files in a row never meets it.
 */
export const DOWNLOADS_PER_ACCOUNT = 6;

/**
 * Downloads one tenant may have streaming at once in one portal process. A download streams at the
 * customer's pace, and a customer who reads a byte every minute keeps it going (CLIENT_IDLE_MS bounds
 * only a customer who reads nothing): each holds a connection to Atlassian, its buffers and two
 * sockets. Without a bound, accounts reading slowly piled them up until the process ran out of memory
 * or descriptors, and in a pool every tenant's portal went with it (ADR 0221).
 */
export const DOWNLOADS_PER_TENANT = 200;

/** How long a refused download is told to wait: a download in flight usually ends within seconds. */
const RETRY_AFTER_SECONDS = 5;

/** Every download slot of the account or of the tenant is taken. */
export class DownloadsBusyError extends JsmSsoError {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(scope: 'account' | 'tenant', bound: number) {
    super(
      scope === 'account' ? 'PORTAL_ACCOUNT_DOWNLOADS_BUSY' : 'PORTAL_DOWNLOADS_BUSY',
      `${bound} downloads of this ${scope} are streaming already`,
      { status: scope === 'account' ? 429 : 503, params: { seconds: RETRY_AFTER_SECONDS } },
    );
    this.name = 'DownloadsBusyError';
  }
}

/** The downloads of one tenant's portal streaming now, by account, within both bounds. */
export class DownloadSlots {
  readonly #perAccount: number;
  readonly #perTenant: number;
  readonly #byAccount = new Map<string, number>();
  #streaming = 0;

  constructor(perAccount = DOWNLOADS_PER_ACCOUNT, perTenant = DOWNLOADS_PER_TENANT) {
    this.#perAccount = perAccount;
    this.#perTenant = perTenant;
  }

  /** Downloads streaming now. */
  get streaming(): number {
    return this.#streaming;
  }

  /**
   * A slot for one download of `accountId`, and how to give it back (safe to call twice).
   * @throws DownloadsBusyError when the account's slots, or the tenant's, are all taken.
   */
  take(accountId: string): () => void {
    const held = this.#byAccount.get(accountId) ?? 0;
    if (held >= this.#perAccount) throw new DownloadsBusyError('account', this.#perAccount);
    if (this.#streaming >= this.#perTenant) throw new DownloadsBusyError('tenant', this.#perTenant);
    this.#byAccount.set(accountId, held + 1);
    this.#streaming++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#streaming--;
      const left = (this.#byAccount.get(accountId) ?? 1) - 1;
      if (left > 0) this.#byAccount.set(accountId, left);
      else this.#byAccount.delete(accountId);
    };
  }
}
