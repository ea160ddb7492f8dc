/**
 * Whom the portal lately shared a request with, or stopped sharing it with: a person added to it or
 * taken off, an organization added or taken off (ADR 0419). Jira's search index may have the request
 * as it was for seconds to minutes, and My requests is a search: the person's list, naming the
 * request in `reconcileIssues`, has it as it is now, listed or not as the list's JQL decides.
 *
 * A person's are kept under `portal:shared-with:<keyed hash of the accountId>` (keyed like a
 * session's draft owner: a store dump does not tell whose they are); an organization's, all together
 * under `portal:shared-with-organizations`, so that a list reads one key however many organizations
 * its customer is in. Each a list of issue ids and times, RECENT_WRITE_SECONDS, the newest 50; the
 * organizations' with the organization's id. A write racing another to the same key may drop one id,
 * which only leaves that request to the index's lag.
 */
import type { FlowStore } from '../common/flowstore/index.js';
import type { KeyMaterial } from '../common/key-material.js';
import { keyedHash, keyedHashes } from '../common/keyed-hash.js';
import {
  isIssueId,
  RECENT_WRITE_SECONDS,
  type RecentIssue,
  recentIssues,
  withNewest,
} from './recent-issues.js';
import type { Customer } from './visibility.js';

/** Whom a share action changed a request for: the person added or taken off, or the organization. */
export type ShareChange = { accountId: string } | { organizationId: string };

interface OrganizationShare extends RecentIssue {
  organizationId: string;
}

const personKey = (accountHash: string) => `portal:shared-with:${accountHash}`;
const ORGANIZATIONS_KEY = 'portal:shared-with-organizations';

export class RecentShares {
  readonly #store: FlowStore;
  /** Made under the sealing material; during a rotation of the portal's key, read under each (ADR 0298). */
  readonly #accountHash: (accountId: string) => string;
  readonly #accountHashes: (accountId: string) => string[];

  constructor(store: FlowStore, keyMaterial: KeyMaterial) {
    this.#store = store;
    this.#accountHash = keyedHash(keyMaterial, 'jsm-sso-portal', 'shared-with');
    this.#accountHashes = keyedHashes(keyMaterial, 'jsm-sso-portal', 'shared-with');
  }

  /** Remembers that `change` was made (or may have been) to request `issueId`. */
  async remember(change: ShareChange, issueId: string, now = Date.now()): Promise<void> {
    if (!isIssueId(issueId)) return;
    if ('accountId' in change) {
      const key = personKey(this.#accountHash(change.accountId));
      const kept = recentIssues(await this.#store.get(key), now);
      await this.#store.put(
        key,
        JSON.stringify(withNewest(kept, { issueId, at: now })),
        RECENT_WRITE_SECONDS,
      );
      return;
    }
    const entry: OrganizationShare = { issueId, at: now, organizationId: change.organizationId };
    const kept = organizationShares(await this.#store.get(ORGANIZATIONS_KEY), now);
    const shares = withNewest(
      kept,
      entry,
      (a, b) => a.issueId === b.issueId && a.organizationId === b.organizationId,
    );
    await this.#store.put(ORGANIZATIONS_KEY, JSON.stringify(shares), RECENT_WRITE_SECONDS);
  }

  /**
   * The requests lately shared with `customer` or unshared from her, newest first: hers as a person,
   * then those of her organizations. One read, in parallel with a second only during a key rotation.
   */
  async issueIdsFor(
    customer: Pick<Customer, 'accountId' | 'organizationIds'>,
    now = Date.now(),
  ): Promise<string[]> {
    const [organizations, ...persons] = await Promise.all([
      this.#store.get(ORGANIZATIONS_KEY),
      ...this.#accountHashes(customer.accountId).map((h) => this.#store.get(personKey(h))),
    ]);
    const hers = persons.flatMap((raw) => recentIssues(raw, now)).sort((a, b) => b.at - a.at);
    const theirs = organizationShares(organizations, now).filter((s) =>
      customer.organizationIds.includes(s.organizationId),
    );
    return [...hers, ...theirs].map((s) => s.issueId);
  }
}

/** The organization shares kept that are still recent, newest first. */
function organizationShares(raw: string | undefined, now: number): OrganizationShare[] {
  return recentIssues(raw, now).filter(
    (s): s is OrganizationShare => typeof (s as Partial<OrganizationShare>).organizationId === 'string',
  );
}
