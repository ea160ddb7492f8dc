/**
 * A customer's colleagues: the people in their own JSM organizations, and those organizations. Those
 * of the organizations a desk has are whom a customer may raise a request on it for and share one
 * with, on the raise-request form and on a request's page; nobody else in the site's directory is
 * ever offered or accepted (ADR 0329).
 */
import type { AtlassianClient } from './atlassian/client.js';
import type { OrganizationDTO, UserDTO } from './atlassian/types.js';
import { TtlCache } from './catalogue.js';
import { type Customer, isNumericId, sharingOrganizations } from './visibility.js';

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
   * The people a request on `serviceDeskId` may be raised for or shared with: those of the customer's
   * organizations the desk has, each once, without the customer and those in `exclude`, and without
   * the accounts Atlassian has deactivated (access revoked): its own pickers leave them out, and a
   * request raised for or shared with one would reach nobody who may read it. A colleague found only
   * in an organization the desk lacks is left out, as JSM takes only people with access to the
   * project: added by the service account they would be told of a request they cannot open, and a
   * request raised for them would make them the desk's customer, which no customer may grant.
   */
  async onDesk(
    customer: Customer,
    serviceDeskId: string,
    exclude: Iterable<string> = [],
  ): Promise<PeopleOffered> {
    return this.#membersOf(customer, sharingOrganizations(customer, serviceDeskId), exclude);
  }

  /**
   * The active members of `organizationIds` (of the first ORGANIZATIONS_READ), each once, without the
   * customer and those in `exclude`.
   */
  async #membersOf(
    customer: Customer,
    organizationIds: readonly string[],
    exclude: Iterable<string> = [],
  ): Promise<PeopleOffered> {
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
    const seen = new Set([customer.accountId, ...exclude]);
    return {
      people: reads
        .flatMap((members) => members.values)
        .filter((m) => m.active !== false && !seen.has(m.accountId) && seen.add(m.accountId)),
      allListed: read.length === organizationIds.length && reads.every((members) => members.complete),
    };
  }

  /**
   * For a request on `serviceDeskId`: the colleagues it may be raised for or shared with (`onDesk`),
   * and the customer's organizations it may be shared with, those the desk has (ADR 0312).
   */
  async of(
    customer: Customer,
    serviceDeskId: string,
  ): Promise<PeopleOffered & { organizations: OrganizationDTO[] }> {
    const onDesk = sharingOrganizations(customer, serviceDeskId);
    const [people, organizations] = await Promise.all([
      this.#membersOf(customer, onDesk),
      this.organizations(customer),
    ]);
    return { ...people, organizations: organizations.filter((o) => onDesk.includes(o.id)) };
  }
}
