/**
 * Which organizations each of the tenant's desks has, read as far as the portal's decisions need it
 * and shared by every account for one cache lifetime (ADR 0319). What a desk's list says is the same
 * for every customer: read per account, a customer in one organization a large desk lacks cost up to
 * `DECIDING_PAGES` reads a minute each, all on the tenant's one service-account rate limit (ADR 0312).
 * Read here, a desk's pages cost at most once a lifetime whoever asks; a page read for one customer
 * answers the next, and a later customer whose organization is further on goes on from where the
 * reading stopped.
 */
import { type AtlassianClient, DECIDING_PAGES, ends } from './atlassian/client.js';
import { outsidePage, waitWithinPage } from './atlassian/page-budget.js';

/** Of some organizations, those found added to a desk, and whether its whole list was read. */
export interface OnDesk {
  found: string[];
  complete: boolean;
  /**
   * When the list this was read from is read again: what it says is a lifetime old then, and a
   * decision made on it is held no longer (ADR 0322, 0329). Never, when no organization was asked.
   */
  until: number;
}

/** A desk's organizations as far as read in one lifetime. */
interface ListSoFar {
  readonly deskId: string;
  /** When it was begun: every page of it was read since. */
  readonly since: number;
  /** Past this the list is read again from its first page: what it says is at most a lifetime old. */
  readonly until: number;
  readonly ids: Set<string>;
  /** Where the next page starts. */
  start: number;
  pages: number;
  /** No page is read after the last, an empty one not said to be the last, or `DECIDING_PAGES`. */
  ended: boolean;
  /** Its last page was read. */
  complete: boolean;
  /** The page being read, waited for by every customer who needs it. */
  reading: Promise<void> | undefined;
}

/** Desks whose lists are held at once: when more, the oldest makes room. */
const MAX_DESKS = 1000;

export class DeskOrganizations {
  readonly #client: AtlassianClient;
  readonly #ttlMs: number;
  readonly #lists = new Map<string, ListSoFar>();

  constructor(client: AtlassianClient, ttlMs: number) {
    this.#client = client;
    this.#ttlMs = ttlMs;
  }

  /**
   * Which of `organizationIds` the desk has: its list is read on, a page at a time, until every one
   * is found or the list ends. A list not read to its last page within `DECIDING_PAGES` (10,000
   * organizations) is `complete: false`: those not found may be past it (ADR 0277). A page failing
   * fails the callers waiting for it; the next to ask reads it again. No answer is made of pages a
   * list read before the question and held past its lifetime (ADR 0322).
   */
  async on(deskId: string, organizationIds: readonly string[]): Promise<OnDesk> {
    if (organizationIds.length === 0) return { found: [], complete: true, until: Number.POSITIVE_INFINITY };
    const asked = Date.now();
    let list = this.#listOf(deskId);
    for (;;) {
      // A list begun before this question outlived its lifetime while the question waited for its next
      // page: its first pages are older than a lifetime, so go on with the list begun since. That one
      // began after the question was asked, so every page of it is read for the question: kept to the end.
      if (list.until <= Date.now() && list.since < asked) list = this.#listOf(deskId);
      const found = organizationIds.filter((o) => list.ids.has(o));
      if (found.length === organizationIds.length || list.ended)
        return {
          found,
          complete: found.length === organizationIds.length || list.complete,
          until: list.until,
        };
      // Read outside the page that asked first: its deadline must not end it for the others (ADR 0185).
      list.reading ??= outsidePage(() => this.#readNextPage(list));
      await waitWithinPage(list.reading);
    }
  }

  #listOf(deskId: string): ListSoFar {
    const now = Date.now();
    const held = this.#lists.get(deskId);
    if (held && held.until > now) return held;
    this.#lists.delete(deskId);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.#lists.size >= MAX_DESKS) this.#lists.delete(this.#lists.keys().next().value!);
    const list: ListSoFar = {
      deskId,
      since: now,
      until: now + this.#ttlMs,
      ids: new Set(),
      start: 0,
      pages: 0,
      ended: false,
      complete: false,
      reading: undefined,
    };
    this.#lists.set(deskId, list);
    return list;
  }

  async #readNextPage(list: ListSoFar): Promise<void> {
    try {
      const page = await this.#client.deskOrganizationsPage(list.deskId, list.start);
      for (const o of page.values) list.ids.add(o.id);
      list.start += page.values.length;
      list.pages++;
      list.complete = page.isLastPage !== false;
      list.ended = ends(page) || list.pages >= DECIDING_PAGES;
    } finally {
      list.reading = undefined;
    }
  }
}
