/**
 * Which of the portal's desks a customer may use, as Atlassian decides for its own portal: a
 * customer of the desk, or a member of an organization added to it (ADR 0091). Decided at sign-in,
 * and judged again while the session lasts, at most one cache lifetime apart (ADR 0222): a customer
 * an agent takes off a desk, or out of the organization that gave them the desk, stops seeing its
 * request types and its requests within that lifetime, not when the session ends.
 */
import type { AtlassianClient } from './atlassian/client.js';
import { AtlassianError } from './atlassian/errors.js';
import type { UserDTO } from './atlassian/types.js';
import { TtlCache } from './catalogue.js';
import type { DeskOrganizations } from './desk-organizations.js';
import type { Customer } from './visibility.js';

/**
 * Desks worked on at once for one customer (asked whether the customer may use them, or joined to
 * them): a help center of hundreds of desks neither waits one round trip a desk nor queues them all
 * at the tenant's bulkhead at once, where those past its rate wait out its bound and the sign-in is
 * refused ATLASSIAN_BUSY (ADR 0265). Below the bulkhead's 16, so the tenant's other pages keep slots.
 */
const DESKS_AT_ONCE = 10;

/**
 * `each` of `deskIds`, at most `DESKS_AT_ONCE` under way, the answers in the desks' order. The first
 * failure is thrown and no desk is started after it.
 */
export async function forEachDesk<R>(
  deskIds: readonly string[],
  each: (deskId: string) => Promise<R>,
): Promise<R[]> {
  const answers: R[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < deskIds.length) {
      const i = next++;
      try {
        answers[i] = await each(deskIds[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DESKS_AT_ONCE, deskIds.length) }, worker));
  return answers;
}

/** Each desk's customers as Atlassian answered a search by the account's e-mail, by desk id. */
export type DeskAnswers = Map<string, readonly UserDTO[]>;

/**
 * The desks a customer may use, and on each of them the customer's organizations it has: the only
 * ones a request on it is shared with the customer through (ADR 0312).
 */
export interface DeskTies {
  serviceDeskIds: string[];
  organizationIdsByDesk: Readonly<Record<string, readonly string[]>>;
}

/**
 * Ties as judged, and when the first of the desks' organization lists they were judged on is read
 * again: they are held no longer, whoever began the desk's next list meanwhile (ADR 0322, 0329).
 */
interface Judged {
  ties: DeskTies;
  until: number;
}

/**
 * Of `deskIds`, those the account may use: `known` to be its (provisioning just added it, or the
 * session's when they cannot be searched), a desk one of
 * `organizationIds` is added to, or one whose customers, searched by the account's e-mail (the
 * only way Atlassian lets a desk's customers be searched), include the account. A desk in `answers`
 * (the sign-in's own search by that e-mail, moments before) is not asked again (ADR 0265). Each
 * desk's list of organizations is read for those of the account it has (as far as the tenant's other
 * accounts have not read it already this lifetime, ADR 0319): a desk given by none of
 * them whose list is too long to read whole is ATLASSIAN_LIST_TOO_LONG, not "no" (ADR 0277); on a
 * desk the account may use anyway, what was found of it stands (those past it share nothing there).
 */
async function desksAccountMayUse(
  client: AtlassianClient,
  organizations: DeskOrganizations,
  account: { accountId: string; email: string },
  organizationIds: readonly string[],
  deskIds: readonly string[],
  known: readonly string[] = [],
  answers: ReadonlyMap<string, readonly UserDTO[]> = new Map(),
): Promise<Judged> {
  const isCustomer = (customers: readonly UserDTO[]) =>
    customers.some((u) => u.accountId === account.accountId);
  // Per desk, what its list said, and whether the desk is the account's.
  const judged = await forEachDesk(deskIds, async (deskId) => {
    const onDesk = await organizations.on(deskId, organizationIds);
    const answered = answers.get(deskId);
    if (known.includes(deskId) || onDesk.found.length > 0 || (answered && isCustomer(answered)))
      return { onDesk, usable: true };
    // Its own customer may use it whatever its organizations are: asked before a list too long to
    // tell "no" refuses, or each page would refuse a customer the sign-in's own search let in.
    if (!answered && isCustomer(await client.deskCustomers(deskId, account.email)))
      return { onDesk, usable: true };
    if (!onDesk.complete)
      throw new AtlassianError('ATLASSIAN_LIST_TOO_LONG', 200, {
        message: "a desk's organizations read without their last page",
      });
    return { onDesk, usable: false };
  });
  const usable = deskIds.flatMap((deskId, i) =>
    judged[i]!.usable ? [[deskId, judged[i]!.onDesk.found] as const] : [],
  );
  return {
    ties: {
      serviceDeskIds: usable.map(([deskId]) => deskId),
      organizationIdsByDesk: Object.fromEntries(usable),
    },
    until: Math.min(...judged.map(({ onDesk }) => onDesk.until)),
  };
}

export class DeskAccess {
  readonly #client: AtlassianClient;
  readonly #organizations: DeskOrganizations;
  readonly #usable: TtlCache;

  constructor(client: AtlassianClient, organizations: DeskOrganizations, ttlMs: number) {
    this.#client = client;
    this.#organizations = organizations;
    this.#usable = new TtlCache(ttlMs);
  }

  /**
   * Of `deskIds`, those a signing-in account may use (`desksAccountMayUse`), held for the first pages
   * after the sign-in as long as the lists they were judged on: those pages need not ask again.
   */
  async decide(
    account: { accountId: string; email: string },
    organizationIds: readonly string[],
    deskIds: readonly string[],
    known: readonly string[],
    answers: ReadonlyMap<string, readonly UserDTO[]>,
  ): Promise<DeskTies> {
    const judged = await desksAccountMayUse(
      this.#client,
      this.#organizations,
      account,
      organizationIds,
      deskIds,
      known,
      answers,
    );
    const { accountId } = account;
    const { serviceDeskIds } = judged.ties;
    this.#usable.put(keyOf({ accountId, serviceDeskIds, organizationIds }), judged, judged.until);
    return judged.ties;
  }

  /**
   * Of the session's desks (`customer.serviceDeskIds`, with its organizations as Atlassian has them
   * now), those the customer may still use, and the customer's organizations each has. Never one
   * more desk: a desk an agent adds shows at the next sign-in. Without the account's e-mail
   * (Atlassian's record did not give it) the desks cannot be searched, and the session's stand.
   * Atlassian failing is thrown, for the caller to decide.
   */
  async current(customer: Customer, email: string | undefined): Promise<DeskTies> {
    const { serviceDeskIds } = customer;
    if (serviceDeskIds.length === 0) return { serviceDeskIds: [], organizationIdsByDesk: {} };
    // Desks judged on their organization lists, shared by the tenant's accounts and read up to a
    // lifetime before, are judged again when the first of those lists is: an organization taken off
    // a desk stops showing its requests within one lifetime, not two (ADR 0319, 0329).
    const judged = await this.#usable.get(
      keyOf(customer),
      () =>
        desksAccountMayUse(
          this.#client,
          this.#organizations,
          { accountId: customer.accountId, email: email ?? '' },
          customer.organizationIds,
          serviceDeskIds,
          // Known to be theirs without a search: no desk is searched by an e-mail not given.
          email === undefined ? serviceDeskIds : [],
        ),
      (loaded) => loaded.until,
    );
    return judged.ties;
  }
}

/**
 * Per account, the desks its session holds (two sessions of one account may hold different ones)
 * and its organizations now (which of them each desk has is part of the answer).
 */
function keyOf(customer: Pick<Customer, 'accountId' | 'serviceDeskIds' | 'organizationIds'>): string {
  return `${customer.accountId}:${customer.serviceDeskIds.join(',')}:${customer.organizationIds.join(',')}`;
}
