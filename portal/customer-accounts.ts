/**
 * Which accounts Atlassian says are customers (`accountType: customer`, portal-only accounts): a file
 * such an account added is public, since customers can add no other ("Customers can set attachments
 * to public visibility only", servicedeskapi createAttachment). The answer for a set of accounts is
 * held for the catalogue's lifetime, so that a warm view of a request asks nothing more (ADR 0375). A
 * failed lookup is never held as "no customer" (TtlCache keeps no failed load): the next view asks
 * again, and meanwhile the files it decides are left undecided (ADR 0388).
 */
import type { AtlassianClient } from './atlassian/client.js';
import { TtlCache } from './catalogue.js';

export class CustomerAccounts {
  readonly #client: AtlassianClient;
  readonly #answers: TtlCache;

  constructor(client: AtlassianClient, ttlMs: number) {
    this.#client = client;
    this.#answers = new TtlCache(ttlMs);
  }

  /** Those of `accountIds` that are customers; an account Atlassian does not know is none. */
  async among(accountIds: readonly string[]): Promise<ReadonlySet<string>> {
    const asked = [...new Set(accountIds)].sort();
    if (asked.length === 0) return new Set();
    const customers = await this.#answers.get(asked.join(','), async () =>
      (await this.#client.usersByAccountId(asked))
        .filter((u) => u.accountType === 'customer' && asked.includes(u.accountId))
        .map((u) => u.accountId),
    );
    return new Set(customers);
  }
}
