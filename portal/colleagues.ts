/**
 * A customer's colleagues: the people in their own JSM organizations, and those organizations. They
 * are whom a customer may raise a request for and share one with, on the raise-request form and on
 * a request's page; nobody else in the site's directory is ever offered or accepted.
 */
import type { AtlassianClient } from './atlassian/client.js';
import type { OrganizationDTO, UserDTO } from './atlassian/types.js';
import { TtlCache } from './catalogue.js';
import { type Customer, isNumericId } from './visibility.js';

/**
 * The people offered from the customer's organizations. `allListed` is false when an organization
 * has more members than are read (5,000), or the customer is in more organizations than are read
 * (`ORGANIZATIONS_READ`): the rest are neither offered nor accepted, and the page says that not
 * everyone is listed (ADR 0257, 0263).
 */
export interface PeopleOffered {
  people: UserDTO[];
  allListed: boolean;
}

/**
 * The organizations whose members one picker reads, and how many at once. Each is at least one call
 * through the tenant's bulkhead, which its other customers share: a customer in a thousand
 * organizations must not take every slot (ATLASSIAN_BUSY for all) to fill one picker (ADR 0263).
 */
const ORGANIZATIONS_READ = 100;
const ORGANIZATIONS_AT_ONCE = 10;

export class Colleagues {
  readonly #client: AtlassianClient;
  readonly #members: TtlCache;
  readonly #names: TtlCache;
  readonly #memberships: TtlCache;

  constructor(client: AtlassianClient, ttlMs: number) {
    this.#client = client;
    this.#members = new TtlCache(ttlMs);
    this.#names = new TtlCache(ttlMs);
    this.#memberships = new TtlCache(ttlMs);
  }

  /**
   * The customer's organizations as Atlassian has them now, at most one cache lifetime old: what
   * a request shared with an organization is seen by. The session's are those of the sign-in, and a
   * customer an agent took out of an organization must stop seeing its requests within that
   * lifetime, not when their session ends.
   */
  currentOrganizationIds(accountId: string): Promise<string[]> {
    return this.#memberships.get(accountId, async () =>
      (await this.#client.organizationsOf(accountId)).map((o) => o.id).filter(isNumericId),
    );
  }

  /** The organizations just read at sign-in: the first pages after it need not ask again. */
  noteOrganizationIds(accountId: string, organizationIds: readonly string[]): void {
    this.#memberships.put(accountId, [...organizationIds]);
  }

  /** The customer's organizations with their names (only those the session holds). */
  async organizations(customer: Customer): Promise<OrganizationDTO[]> {
    if (customer.organizationIds.length === 0) return [];
    const named = await this.#names.get(customer.accountId, () =>
      this.#client.organizationsOf(customer.accountId),
    );
    return customer.organizationIds.map(
      (id) => named.find((o) => o.id === id) ?? { id, name: `Organization ${id}` },
    );
  }

  /**
   * People from the given organizations, each once, without those in `exclude`, and without the
   * accounts Atlassian has deactivated (access revoked): its own pickers leave them out, and a
   * request raised for or shared with one would reach nobody who may read it.
   */
  async people(organizationIds: readonly string[], exclude: ReadonlySet<string>): Promise<PeopleOffered> {
    const read = organizationIds.slice(0, ORGANIZATIONS_READ);
    const reads = [];
    for (let i = 0; i < read.length; i += ORGANIZATIONS_AT_ONCE) {
      reads.push(
        ...(await Promise.all(
          read
            .slice(i, i + ORGANIZATIONS_AT_ONCE)
            .map((id) => this.#members.get(id, () => this.#client.organizationMembers(id))),
        )),
      );
    }
    const seen = new Set(exclude);
    return {
      people: reads
        .flatMap((members) => members.values)
        .filter((m) => m.active !== false && !seen.has(m.accountId) && seen.add(m.accountId)),
      allListed: read.length === organizationIds.length && reads.every((members) => members.complete),
    };
  }

  /** The customer's colleagues (not the customer), with the organizations they share. */
  async of(customer: Customer): Promise<PeopleOffered & { organizations: OrganizationDTO[] }> {
    const [people, organizations] = await Promise.all([
      this.people(customer.organizationIds, new Set([customer.accountId])),
      this.organizations(customer),
    ]);
    return { ...people, organizations };
  }
}
