import { openAsBlob } from 'node:fs';
import { AtlassianError } from './errors.js';
import { AtlassianTransport, type TransportOptions } from './http.js';
import { outsidePage, waitWithinPage } from './page-budget.js';
import { SERVICEDESK_IDS, type Shape } from './shapes.js';
import type {
  ApprovalDTO,
  ArticleDTO,
  AttachmentDTO,
  CommentDTO,
  CustomerRequestDTO,
  JiraField,
  JqlIssue,
  JqlSearchResult,
  OrganizationDTO,
  PagedDTO,
  PageOfComments,
  PlatformUserDTO,
  RequestTypeDTO,
  RequestTypeFieldsDTO,
  RequestTypeGroupDTO,
  ServiceDeskDTO,
  StatusDTO,
  TransitionDTO,
  UserDTO,
} from './types.js';

const SD = '/rest/servicedeskapi';
/** Operations Atlassian still flags experimental need this header. */
const EXPERIMENTAL = { 'X-ExperimentalApi': 'opt-in' };
const PAGE = 50;
const MAX_PAGES = 20;
/**
 * An organization's members (the colleagues a customer may choose) are read up to 5,000, the pages
 * after the first five at a time: a large organization is read in about twenty round trips.
 */
const MEMBER_PAGES = 100;
const PAGES_AT_ONCE = 5;
/**
 * A request's participants, approvals, transitions, files and comments' files decide what a customer
 * sees or may do: they are read to their last page, up to 10,000 items, the pages after the first five
 * at a time; a longer list fails the page closed (ATLASSIAN_LIST_TOO_LONG) rather than deciding on a
 * part (ADR 0257, 0264). Jira Cloud's announced issue limit is 2,000 files. A desk's organizations are
 * read to the same bound, a page at a time until every one of the customer's is found, for the whole
 * tenant at once (ADR 0277, 0312, 0319).
 */
export const DECIDING_PAGES = 200;
/** An article is looked for among the first 250 hits for its title. */
const ARTICLE_PAGES = 5;
const USERS_PER_LOOKUP = 50;
/** Atlassian's user search "takes the filtered users ... up to the thousandth user". */
const USER_SEARCH_MAX = 1_000;

const id = (value: string) => encodeURIComponent(value);

/** What each read's answer must be for the code that reads it (ADR 0275). */
const SD_OBJECT: Shape = { ids: SERVICEDESK_IDS };
const SD_PAGE: Shape = { list: 'values', paged: true, ids: SERVICEDESK_IDS };
const USER: Shape = { ids: ['accountId'] };
const ISSUES: Shape = { list: 'issues', ids: ['id', 'key'] };
/**
 * Whether a page ends its list: Atlassian's last page says so. A page of no values that does not
 * say so ends the reading too (nothing tells where the rest would start), the list unread to its end.
 */
export const ends = (page: PagedDTO<unknown>) => page.isLastPage !== false || page.values.length === 0;

/**
 * A servicedeskapi list as far as it was read: `complete` when its last page was, false when the
 * reading stopped before it (the bound on pages, or an empty page not said to be the last).
 */
export interface ListRead<T> {
  values: T[];
  complete: boolean;
}
/** `reconcileIssues` takes at most 50 ids, each an int64 (as JSON, a number: kept below 2^53). */
export const RECONCILE_MAX = 50;
/** `/issue/bulkfetch` reads at most 100 issues per call. */
export const BULK_FETCH_MAX = 100;
const isIssueId = (value: string) => /^[1-9][0-9]{0,14}$/.test(value);

/** Jira's avatar viewer for request type icons (the path Atlassian puts in `iconUrls`). */
const REQUEST_TYPE_ICON_PATH =
  /^\/rest\/api\/[23]\/universal_avatar\/view\/type\/SD_REQTYPE\/avatar\/[0-9]{1,18}$/;
const ICON_TYPES = new Set(['image/svg+xml', 'image/png', 'image/gif', 'image/jpeg']);
const MAX_ICON_BYTES = 256 * 1024;

/**
 * What the request detail page reads from the request itself, in one call: participants, status
 * history, attachments and every comment (public and internal: the internal ones tell which
 * files a customer must not be offered) with its files and Atlassian's rendered HTML.
 */
const DETAIL_EXPANDS = [
  'participant',
  'status',
  'attachment',
  'comment',
  'comment.attachment',
  'comment.renderedBody',
].join(',');

/**
 * One typed client for the JSM (`/rest/servicedeskapi`) and Jira platform (`/rest/api/3`) endpoints
 * the portal uses, always as the service account. It does not decide visibility (portal/visibility.ts
 * does); it only speaks the API.
 */
export class AtlassianClient {
  readonly transport: AtlassianTransport;

  constructor(options: TransportOptions) {
    this.transport = new AtlassianTransport(options);
  }

  /**
   * The pages of a servicedeskapi list, one call each, until its last page or `maxPages`. Each page
   * starts where the one before ended (`start` + the values it held), never at `limit` steps: each
   * method has its own server-enforced maximum (servicedeskapi "Pagination"), and a page asked for 50
   * may hold 25 without being the last.
   */
  async *#pages<T>(
    path: string,
    query: Record<string, string | undefined>,
    headers: Record<string, string> | undefined,
    maxPages: number,
  ): AsyncGenerator<PagedDTO<T>> {
    let start = 0;
    for (let page = 0; page < maxPages; page++) {
      const result = await this.#page<T>(path, start, query, headers);
      yield result;
      if (ends(result)) return;
      start += result.values.length;
    }
  }

  #page<T>(
    path: string,
    start: number,
    query: Record<string, string | undefined> = {},
    headers?: Record<string, string>,
    limit = PAGE,
  ): Promise<PagedDTO<T>> {
    return this.transport.call<PagedDTO<T>>(path, {
      query: { ...query, start, limit },
      ...(headers ? { headers } : {}),
      shape: SD_PAGE,
    });
  }

  /**
   * A list read up to `maxPages`: its first page alone (most lists fit one; its size is the method's
   * page size), then `atOnce` pages at a time at that size, until one is the last; a round may ask
   * for a few pages past it. A page that holds fewer than the first did, not being the last, ends its
   * round there: the next round starts where it ended. With `atOnce` 1, each page starts where the one
   * before ended and none is asked past the last.
   */
  async #readInRounds<T>(
    path: string,
    maxPages: number,
    query: Record<string, string | undefined> = {},
    headers?: Record<string, string>,
    atOnce = PAGES_AT_ONCE,
  ): Promise<ListRead<T>> {
    const values: T[] = [];
    let start = 0;
    let size = PAGE;
    for (let asked = 0; asked < maxPages; ) {
      const count = asked === 0 ? 1 : Math.min(atOnce, maxPages - asked);
      const from = start;
      const round = await Promise.all(
        Array.from({ length: count }, (_, i) => this.#page<T>(path, from + i * size, query, headers)),
      );
      if (asked === 0) size = round[0]!.values.length;
      asked += count;
      for (const result of round) {
        values.push(...result.values);
        if (ends(result)) return { values, complete: result.isLastPage !== false };
        start += result.values.length;
        if (result.values.length !== size) break;
      }
    }
    return { values, complete: false };
  }

  /**
   * A list a decision is made on, read to its last page (`DECIDING_PAGES` at most); one that does
   * not end there, or ends on an empty page not said to be the last, is ATLASSIAN_LIST_TOO_LONG: a
   * part would let the decision go wrong either way.
   */
  async #deciding<T>(
    path: string,
    query: Record<string, string | undefined> = {},
    headers?: Record<string, string>,
  ): Promise<T[]> {
    const read = await this.#readInRounds<T>(path, DECIDING_PAGES, query, headers);
    if (!read.complete)
      throw new AtlassianError('ATLASSIAN_LIST_TOO_LONG', 200, {
        message: `a list read to ${read.values.length} items without its last page`,
      });
    return read.values;
  }

  /**
   * A list read a page at a time up to `MAX_PAGES` (1,000 items at 50 a page), saying whether it was
   * read to its end; its caller decides nothing on a part: a request's status history and comments
   * are shown cut and say so (ADR 0257, 0264), internal comments not read whole leave only the public
   * comments' files offered (ADR 0225). A page at a time: these are read on views, where a round's
   * pages past the last would be calls for nothing through the tenant's bulkhead.
   */
  #cuttable<T>(path: string, query: Record<string, string | undefined> = {}): Promise<ListRead<T>> {
    return this.#readInRounds<T>(path, MAX_PAGES, query, undefined, 1);
  }

  /**
   * The newest items of a list the servicedeskapi pages oldest first, in the list's order, up to
   * `MAX_PAGES` pages: its last page (found from `total`, another API's count of it, and read on
   * until a page says it is the last, the count may lag), then the pages before it back to its start.
   * `complete` when its start was read. A page holding fewer than asked (Atlassian's cap on the method,
   * below what was asked) is asked again at that size from where the pages read begin, so that none is
   * skipped; a page that says it is the last (the count was more than the list holds) is its end; an
   * item read twice (the list lost one while read, and moved back) is kept once. The spec promises no
   * order: undefined when the list's end read does not hold `newestId`, the newest item as another
   * API says (the list is in another order, and its end is not its newest: ADR 0384).
   */
  async #newest<T extends { id: string }>(
    path: string,
    query: Record<string, string | undefined>,
    total: number,
    newestId: string | undefined,
  ): Promise<ListRead<T> | undefined> {
    const last: T[] = [];
    const tailStart = Math.max(0, total - PAGE);
    let pages = 0;
    let size = PAGE;
    for (let start = tailStart; ; ) {
      const page = await this.#page<T>(path, start, query);
      if (++pages === 1 && page.isLastPage === false && page.values.length > 0) size = page.values.length;
      last.push(...page.values);
      // Past `MAX_PAGES` from where `total` put the end: the list grew by more than is read meanwhile.
      if (ends(page) || pages === MAX_PAGES) {
        if (page.isLastPage === false) return { values: last, complete: false };
        break;
      }
      start += page.values.length;
    }
    if (
      tailStart > 0 &&
      last.length > 0 &&
      newestId !== undefined &&
      !last.some((item) => item.id === newestId)
    )
      return undefined;
    const earlier: T[][] = [];
    let from = tailStart;
    while (from > 0 && pages < MAX_PAGES) {
      const start = Math.max(0, from - size);
      const page = await this.#page<T>(path, start, query, undefined, from - start);
      pages++;
      if (page.isLastPage !== false) {
        // The list ends in this page: it holds fewer than `total` counted. Its end is read from here.
        last.splice(0, last.length, ...page.values);
        earlier.length = 0;
        from = start;
        continue;
      }
      if (page.values.length === 0) break;
      if (page.values.length < from - start) {
        size = page.values.length;
        continue;
      }
      earlier.unshift(page.values);
      from = start;
    }
    const seen = new Set<string>();
    const values = [...earlier.flat(), ...last].filter((item) => !seen.has(item.id) && seen.add(item.id));
    return { values, complete: from === 0 };
  }

  /**
   * Adds (POST) or removes (DELETE) accounts of a member list: an organization's users, a
   * request's participants. Either may be repeated safely: adding a member twice, or removing one
   * already gone, leaves the same list. `answer` is what Atlassian documents answering (204 No Content
   * alone for an organization's users, ADR 0339).
   */
  #changeMembers(
    path: string,
    method: 'POST' | 'DELETE',
    accountIds: string[],
    answer?: Shape,
  ): Promise<void> {
    return this.transport.call(path, {
      method,
      json: { accountIds },
      idempotent: true,
      ...(answer ? { shape: answer } : { noContent: true }),
    });
  }

  /**
   * A list of the catalogue (desks, a desk's groups and request types), read as a deciding list is
   * (`DECIDING_PAGES`) but never refused: what it leaves out is neither offered nor listed, so a cut
   * decides nothing wrongly, and refusing it would close the help center to every customer. Read
   * once a cache period (portal/catalogue.ts); a list of one page costs one call as before.
   */
  async #catalogueList<T>(path: string): Promise<T[]> {
    return (await this.#readInRounds<T>(path, DECIDING_PAGES)).values;
  }

  // Service desks and the request type catalogue
  serviceDesks(): Promise<ServiceDeskDTO[]> {
    return this.#catalogueList(`${SD}/servicedesk`);
  }
  requestTypeGroups(serviceDeskId: string): Promise<RequestTypeGroupDTO[]> {
    return this.#catalogueList(`${SD}/servicedesk/${id(serviceDeskId)}/requesttypegroup`);
  }
  requestTypes(serviceDeskId: string): Promise<RequestTypeDTO[]> {
    return this.#catalogueList(`${SD}/servicedesk/${id(serviceDeskId)}/requesttype`);
  }
  requestTypeFields(serviceDeskId: string, requestTypeId: string): Promise<RequestTypeFieldsDTO> {
    return this.transport.call(
      `${SD}/servicedesk/${id(serviceDeskId)}/requesttype/${id(requestTypeId)}/field`,
      { shape: SD_OBJECT },
    );
  }
  /**
   * The HTML behind an article's `content.iframeSrc`, read with the service account. Only from the
   * Atlassian site itself: a link elsewhere is never fetched with the site's credentials.
   */
  async articleBody(iframeSrc: string): Promise<string> {
    const url = this.#onSite(iframeSrc, 'article content');
    const response = await this.transport.call<Response>(`${url.pathname}${url.search}`, {
      raw: true,
      headers: { accept: 'text/html' },
    });
    return response.text();
  }

  /**
   * A request type's icon image, from one of the URLs in its `icon._links.iconUrls`: Jira's avatar
   * viewer for request types on the Atlassian site, nothing else (the service account's credentials
   * go with it, so this is no general fetch of the site).
   */
  async requestTypeIcon(iconUrl: string): Promise<{ contentType: string; body: Buffer }> {
    const url = this.#onSite(iconUrl, 'request type icon');
    if (!REQUEST_TYPE_ICON_PATH.test(url.pathname))
      throw new AtlassianError('ATLASSIAN_NOT_FOUND', 404, { message: 'not a request type icon' });
    const response = await this.transport.call<Response>(`${url.pathname}${url.search}`, {
      raw: true,
      headers: { accept: 'image/svg+xml,image/png,image/*' },
      maxResponseBytes: MAX_ICON_BYTES,
    });
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const body = Buffer.from(await response.arrayBuffer());
    if (!ICON_TYPES.has(contentType) || body.length > MAX_ICON_BYTES)
      throw new AtlassianError('ATLASSIAN_ERROR', 502, { message: 'not an icon image' });
    return { contentType, body };
  }

  /** A URL Atlassian gave us, accepted only on the Atlassian site itself. */
  #onSite(link: string, what: string): URL {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      url = new URL('invalid:');
    }
    if (url.origin !== new URL(this.transport.url('')).origin)
      throw new AtlassianError('ATLASSIAN_NOT_FOUND', 404, {
        message: `${what} is not on the Atlassian site`,
      });
    return url;
  }
  async knowledgeBase(query: string, serviceDeskId?: string): Promise<ArticleDTO[]> {
    const path = serviceDeskId
      ? `${SD}/servicedesk/${id(serviceDeskId)}/knowledgebase/article`
      : `${SD}/knowledgebase/article`;
    const page = await this.transport.call<PagedDTO<ArticleDTO>>(path, {
      query: { query, highlight: false, limit: 20 },
      headers: EXPERIMENTAL,
      shape: SD_PAGE,
    });
    return page.values;
  }

  /**
   * The first article of a desk's knowledge base found by `query` that `wanted` picks, looked for a
   * page at a time (up to 250 hits): the API finds an article only by searching, and where its
   * words are in many articles, one that ranks below the first page is still found.
   */
  async knowledgeBaseArticle(
    query: string,
    serviceDeskId: string,
    wanted: (article: ArticleDTO) => boolean,
  ): Promise<ArticleDTO | undefined> {
    const pages = this.#pages<ArticleDTO>(
      `${SD}/servicedesk/${id(serviceDeskId)}/knowledgebase/article`,
      { query, highlight: 'false' },
      EXPERIMENTAL,
      ARTICLE_PAGES,
    );
    for await (const { values } of pages) {
      const found = values.find(wanted);
      if (found) return found;
    }
    return undefined;
  }

  // Customers, users and organizations
  /**
   * A desk's customers that Atlassian's search by `query` (a person's e-mail) finds, read to their
   * end: Atlassian does not say how it matches, and one that finds the customers whose name or e-mail
   * holds the query (the emulator's) fills pages with others (`li@` in `wei.li@`); whether the person
   * is among them decides whether the desk is theirs (ADR 0091, 0266). Most answers are one page: one call.
   */
  deskCustomers(serviceDeskId: string, query: string): Promise<UserDTO[]> {
    return this.#deciding(`${SD}/servicedesk/${id(serviceDeskId)}/customer`, { query }, EXPERIMENTAL);
  }
  /**
   * The platform user search's hits for `query` (the prefix of a name or an e-mail), a page at a
   * time, until a page holds one `wanted` picks, or the search's end: an empty page (Atlassian's
   * answer is a bare array, with nothing that says it is the last; a short page is not taken for it),
   * or the thousandth hit, past which Atlassian returns none ("up to the thousandth user"). A name is
   * the account holder's to choose, so the person searched for by her e-mail may come after a page
   * of others (ADR 0277).
   */
  async userSearch(query: string, wanted?: (user: PlatformUserDTO) => boolean): Promise<PlatformUserDTO[]> {
    const found: PlatformUserDTO[] = [];
    while (found.length < USER_SEARCH_MAX) {
      const page = await this.transport.call<PlatformUserDTO[]>('/rest/api/3/user/search', {
        query: { query, startAt: found.length, maxResults: PAGE },
        shape: { ...USER, list: '' },
      });
      found.push(...page);
      if (page.length === 0 || (wanted && page.some(wanted))) break;
    }
    return found;
  }
  user(accountId: string): Promise<PlatformUserDTO> {
    return this.transport.call('/rest/api/3/user', { query: { accountId }, shape: USER });
  }
  /**
   * Users by accountId, `USERS_PER_LOOKUP` ids a call (kept short so the query string stays small);
   * ids Atlassian does not know are left out. The answer is a page (PageBeanUser) whose `maxResults`
   * may be less than asked: each set of ids is read on from where its page ended until a page says
   * it is the last (`isLast`), or holds nothing (ADR 0375).
   */
  async usersByAccountId(accountIds: readonly string[]): Promise<PlatformUserDTO[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < accountIds.length; i += USERS_PER_LOOKUP)
      chunks.push(accountIds.slice(i, i + USERS_PER_LOOKUP));
    const read = await Promise.all(chunks.map((chunk) => this.#usersOf(chunk)));
    return read.flat();
  }
  async #usersOf(accountIds: readonly string[]): Promise<PlatformUserDTO[]> {
    const users: PlatformUserDTO[] = [];
    // As many pages as ids at most: a page that holds one or more moves the reading on.
    for (let page = 0; page < accountIds.length; page++) {
      const { values, isLast } = await this.transport.call<{ values: PlatformUserDTO[]; isLast?: boolean }>(
        '/rest/api/3/user/bulk',
        {
          query: { accountId: accountIds, startAt: users.length, maxResults: accountIds.length },
          shape: { ...USER, list: 'values' },
        },
      );
      users.push(...values);
      if (isLast !== false || values.length === 0) break;
    }
    return users;
  }
  /** The service account this client calls as. */
  myself(): Promise<PlatformUserDTO> {
    return this.transport.call('/rest/api/3/myself', { shape: USER });
  }
  #serviceAccountId: Promise<string> | undefined;
  /**
   * The service account's accountId, asked once per client (again after a failure); asked outside
   * the page that needs it first, and waited for within each page's deadline (ADR 0185).
   */
  serviceAccountId(): Promise<string> {
    this.#serviceAccountId ??= outsidePage(() => this.myself()).then(
      (me) => me.accountId,
      (err: unknown) => {
        this.#serviceAccountId = undefined;
        throw err;
      },
    );
    return waitWithinPage(this.#serviceAccountId);
  }
  createCustomer(email: string, displayName: string): Promise<UserDTO> {
    return this.transport.call(`${SD}/customer`, {
      method: 'POST',
      query: { strictConflictStatusCode: true },
      json: { email, displayName },
      // The sign-in reads the account it made: an answer of another shape is refused, not read.
      shape: SD_OBJECT,
    });
  }
  addCustomersToDesk(serviceDeskId: string, accountIds: string[]): Promise<void> {
    return this.transport.call(`${SD}/servicedesk/${id(serviceDeskId)}/customer`, {
      method: 'POST',
      json: { accountIds },
      headers: EXPERIMENTAL,
      // Adding a customer twice is harmless.
      idempotent: true,
      noContent: true,
    });
  }
  /**
   * One page of the organizations added to a desk, from `start`: their members are the desk's
   * customers too, and a request on it is shared with them through these only (ADR 0312). A desk may
   * have thousands (a provider's customer companies): portal/desk-organizations.ts reads them a page
   * at a time, as far as a decision needs, for every account of the tenant at once (ADR 0319).
   */
  deskOrganizationsPage(serviceDeskId: string, start: number): Promise<PagedDTO<OrganizationDTO>> {
    return this.#page<OrganizationDTO>(`${SD}/servicedesk/${id(serviceDeskId)}/organization`, start);
  }
  /**
   * The account's organizations, read to their end: they decide which requests shared with an
   * organization the customer sees, and which desks they may use (ADR 0263).
   */
  organizationsOf(accountId: string): Promise<OrganizationDTO[]> {
    return this.#deciding(`${SD}/organization`, { accountId });
  }
  /** An organization's members, as far as read (`MEMBER_PAGES`). */
  organizationMembers(organizationId: string): Promise<ListRead<UserDTO>> {
    return this.#readInRounds(`${SD}/organization/${id(organizationId)}/user`, MEMBER_PAGES);
  }
  addToOrganization(organizationId: string, accountIds: string[]): Promise<void> {
    return this.#changeMembers(`${SD}/organization/${id(organizationId)}/user`, 'POST', accountIds);
  }
  removeFromOrganization(organizationId: string, accountIds: string[]): Promise<void> {
    return this.#changeMembers(`${SD}/organization/${id(organizationId)}/user`, 'DELETE', accountIds);
  }

  // Jira platform
  fields(): Promise<JiraField[]> {
    return this.transport.call('/rest/api/3/field', { shape: { list: '', ids: ['id'] } });
  }
  /**
   * `reconcileIssues`: issue ids whose latest state the search must reflect. The search index is
   * eventually consistent ("Search after write with search and reconcile": seconds to minutes after
   * a write); for these ids Atlassian answers read-after-write. They make the index current, they
   * select nothing: the JQL alone decides which issues match. At most 50 (the API's limit).
   */
  searchJql(
    jql: string,
    fields: string[],
    maxResults: number,
    nextPageToken?: string,
    reconcileIssues: readonly string[] = [],
  ): Promise<JqlSearchResult> {
    const reconcile = reconcileIssues.filter(isIssueId).slice(0, RECONCILE_MAX).map(Number);
    return this.transport.call('/rest/api/3/search/jql', {
      method: 'POST',
      json: {
        jql,
        fields,
        maxResults,
        ...(nextPageToken ? { nextPageToken } : {}),
        ...(reconcile.length > 0 ? { reconcileIssues: reconcile } : {}),
      },
      // A search changes nothing.
      idempotent: true,
      shape: ISSUES,
    });
  }

  /**
   * Issues by key, up to 100 (the API's limit), read from the issues themselves, not from the search
   * index: one created a moment ago is there. Keys that name no issue, or one the service account
   * may not see, are left out of the answer.
   */
  bulkFetchIssues(issueIdsOrKeys: readonly string[], fields: string[]): Promise<{ issues: JqlIssue[] }> {
    return this.transport.call('/rest/api/3/issue/bulkfetch', {
      method: 'POST',
      json: { issueIdsOrKeys: issueIdsOrKeys.slice(0, BULK_FETCH_MAX), fields },
      // A read.
      idempotent: true,
      shape: ISSUES,
    });
  }

  /**
   * Adds organizations to, and removes them from, JSM's Organizations field of a request with the
   * issue edit's per-field operations (`update`), not by writing the field whole: Jira applies each
   * operation to the value it holds then, so changes sent at the same instant by different posts all
   * stay (ADR 0154). Each value is written as in the field's `set` form: an organization's numeric id.
   */
  changeOrganizations(
    issueKey: string,
    fieldId: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
  ): Promise<void> {
    const operations = [
      ...(change.add ?? []).map((o) => ({ add: Number(o) })),
      ...(change.remove ?? []).map((o) => ({ remove: Number(o) })),
    ];
    return this.transport.call(`/rest/api/3/issue/${id(issueKey)}`, {
      method: 'PUT',
      json: { update: { [fieldId]: operations } },
      // Adding an organization already there, or removing one already gone, changes nothing.
      idempotent: true,
      // Without `returnIssue`, the edit answers 204 alone (a 200 carries the issue asked for).
      noContent: true,
    });
  }

  /** Atlassian's estimate of how many issues a JQL search finds (recent changes may be missing). */
  async approximateCount(jql: string): Promise<number> {
    const result = await this.transport.call<{ count?: number }>('/rest/api/3/search/approximate-count', {
      method: 'POST',
      json: { jql },
      // A count changes nothing.
      idempotent: true,
      shape: {},
    });
    return result.count ?? 0;
  }

  // Requests
  /**
   * One attempt, never retried here: see portal/write-once.ts. Its answer is read (the key the
   * customer lands on): one of another shape is ATLASSIAN_ERROR with the 201, a request made whose
   * answer cannot be read, which write-once looks for rather than making again (ADR 0279).
   */
  createRequest(body: {
    serviceDeskId: string;
    requestTypeId: string;
    requestFieldValues: Record<string, unknown>;
    raiseOnBehalfOf: string;
    requestParticipants?: string[];
  }): Promise<CustomerRequestDTO> {
    return this.transport.call(`${SD}/request`, {
      method: 'POST',
      json: body,
      idempotent: false,
      shape: { ...SD_OBJECT, needs: ['issueKey', 'issueId'] },
    });
  }
  request(issueKey: string): Promise<CustomerRequestDTO> {
    return this.transport.call(`${SD}/request/${id(issueKey)}`, {
      query: { expand: 'participant,status' },
      shape: SD_OBJECT,
    });
  }
  /** The request with everything the detail page shows (DETAIL_EXPANDS); lists may be first pages only. */
  requestDetail(issueKey: string): Promise<CustomerRequestDTO> {
    return this.transport.call(`${SD}/request/${id(issueKey)}`, {
      query: { expand: DETAIL_EXPANDS },
      shape: SD_OBJECT,
    });
  }
  /** The statuses the request has been in, newest first, as far as read (`MAX_PAGES`): only shown. */
  statusHistory(issueKey: string): Promise<ListRead<StatusDTO>> {
    return this.#cuttable(`${SD}/request/${id(issueKey)}/status`);
  }
  /**
   * A request's comments newest first, a page at a time, up to `MAX_PAGES` (the platform's
   * getComments, `orderBy=-created`): a comment just written is on the first page however many came
   * before it, where the servicedeskapi's list, oldest first, shows it last.
   */
  async *commentsNewestFirst(issueKey: string): AsyncGenerator<PageOfComments['comments']> {
    let startAt = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.transport.call<PageOfComments>(`/rest/api/3/issue/${id(issueKey)}/comment`, {
        query: { orderBy: '-created', startAt, maxResults: PAGE },
        shape: { list: 'comments', ids: ['id'] },
      });
      yield result.comments;
      startAt += result.comments.length;
      if (result.comments.length === 0 || startAt >= (result.total ?? 0)) return;
    }
  }
  /**
   * Every comment, public and internal, with its files and rendered HTML, in the list's order: all of
   * them, or the newest `MAX_PAGES` pages when there are more (`complete` false). The native portal
   * shows a long request's newest activity; the servicedeskapi lists comments with no count, so the
   * platform's getComments says how many there are (`total`) and which is the newest (one comment
   * asked, `orderBy=-created`, an order its spec documents), and the list is read from its end, where
   * Atlassian lists the newest today (ADR 0293). Its spec promises no order (getRequestComments takes
   * none): when its end does not hold the newest, it is read from its start (ADR 0384). The caller
   * puts the comments in order (portal/comment-order.ts).
   */
  async newestComments(issueKey: string): Promise<ListRead<CommentDTO>> {
    const counted = await this.transport.call<PageOfComments>(`/rest/api/3/issue/${id(issueKey)}/comment`, {
      query: { orderBy: '-created', startAt: 0, maxResults: 1 },
      shape: { list: 'comments', ids: ['id'] },
    });
    const path = `${SD}/request/${id(issueKey)}/comment`;
    const query = { expand: 'attachment,renderedBody' };
    return (
      (await this.#newest<CommentDTO>(path, query, counted.total ?? 0, counted.comments[0]?.id)) ??
      this.#cuttable(path, query)
    );
  }
  /** The internal comments alone, with their files, as far as read (`MAX_PAGES`). */
  internalComments(issueKey: string): Promise<ListRead<CommentDTO>> {
    return this.#cuttable(`${SD}/request/${id(issueKey)}/comment`, {
      public: 'false',
      internal: 'true',
      expand: 'attachment',
    });
  }
  /**
   * Every file a comment added: an internal comment's are hidden, so all must be known; a part would
   * leave every file on no public comment withheld (ADR 0225, 0264).
   */
  commentAttachments(issueKey: string, commentId: string): Promise<AttachmentDTO[]> {
    return this.#deciding(
      `${SD}/request/${id(issueKey)}/comment/${id(commentId)}/attachment`,
      {},
      EXPERIMENTAL,
    );
  }
  /**
   * One attempt (portal/write-once.ts repeats it under its key). Its answer is Atlassian's comment:
   * one without its id is something else answering, which may have written nothing, and is
   * ATLASSIAN_ERROR with its 2xx, looked for rather than taken for the comment (ADR 0296).
   */
  addPublicComment(issueKey: string, body: string): Promise<CommentDTO> {
    return this.transport.call(`${SD}/request/${id(issueKey)}/comment`, {
      method: 'POST',
      json: { body, public: true },
      idempotent: false,
      shape: { ...SD_OBJECT, needs: ['id'] },
    });
  }
  /**
   * Every file of the request: which a customer may open, and which names her text may use without
   * Jira resolving one to a file she may not open (ADR 0260, 0264).
   */
  attachments(issueKey: string): Promise<AttachmentDTO[]> {
    return this.#deciding(`${SD}/request/${id(issueKey)}/attachment`);
  }
  /** Sends a spooled file; the body is streamed from disk, never read into memory whole. */
  async attachTemporaryFile(
    serviceDeskId: string,
    file: { filename: string; mimeType: string; path: string },
  ): Promise<string> {
    const form = new FormData();
    form.append('file', await openAsBlob(file.path, { type: file.mimeType }), file.filename);
    const result = await this.transport.call<{ temporaryAttachments?: { temporaryAttachmentId: string }[] }>(
      `${SD}/servicedesk/${id(serviceDeskId)}/attachTemporaryFile`,
      {
        method: 'POST',
        body: form,
        headers: { ...EXPERIMENTAL, 'X-Atlassian-Token': 'no-check' },
        // Its id is read and sent on: an answer of another shape, or an id that is no string (the
        // spec's example), is refused, not read nor sent (ADR 0279, 0296).
        shape: { list: 'temporaryAttachments', needs: ['temporaryAttachmentId'] },
      },
    );
    const temporaryId = result.temporaryAttachments?.[0]?.temporaryAttachmentId;
    if (!temporaryId)
      throw new AtlassianError('ATLASSIAN_ERROR', 200, { message: 'no temporary attachment id' });
    return temporaryId;
  }
  /**
   * One attempt (portal/write-once.ts repeats it under its key). Its answer is Atlassian's result,
   * the files attached as a page: one without them is something else answering, which may have
   * attached nothing, and is ATLASSIAN_ERROR with its 2xx, looked for rather than taken for the
   * files attached (ADR 0296).
   */
  attachToRequest(issueKey: string, temporaryAttachmentIds: string[], comment?: string): Promise<unknown> {
    return this.transport.call(`${SD}/request/${id(issueKey)}/attachment`, {
      method: 'POST',
      json: {
        temporaryAttachmentIds,
        public: true,
        ...(comment === undefined ? {} : { additionalComment: { body: comment } }),
      },
      headers: EXPERIMENTAL,
      shape: { parts: { attachments: { list: 'values' } } },
    });
  }
  /**
   * A file's bytes, streamed through to the customer (portal/routes/requests.ts), never held whole;
   * at most `maxBytes` of them (the size Atlassian lists for the file: a longer or endless body is
   * cut there, UPSTREAM_RESPONSE_TOO_LARGE).
   */
  attachmentContent(issueKey: string, attachmentId: string, maxBytes: number): Promise<Response> {
    return this.transport.call(`${SD}/request/${id(issueKey)}/attachment/${id(attachmentId)}`, {
      raw: true,
      headers: { ...EXPERIMENTAL, accept: '*/*' },
      maxResponseBytes: maxBytes,
      seeOther: true,
    });
  }
  attachmentThumbnail(issueKey: string, attachmentId: string, maxBytes: number): Promise<Response> {
    return this.transport.call(`${SD}/request/${id(issueKey)}/attachment/${id(attachmentId)}/thumbnail`, {
      raw: true,
      headers: { accept: 'image/*' },
      maxResponseBytes: maxBytes,
      seeOther: true,
    });
  }
  /** Every approval: they say who may see the request as its approver. */
  approvals(issueKey: string): Promise<ApprovalDTO[]> {
    return this.#deciding(`${SD}/request/${id(issueKey)}/approval`);
  }
  /** Every participant: they may see the request, and leave it. */
  participants(issueKey: string): Promise<UserDTO[]> {
    return this.#deciding(`${SD}/request/${id(issueKey)}/participant`);
  }
  /**
   * Atlassian answers a change of participants with the request's participants (a page): an answer
   * of another shape is something else answering, which may have changed nothing, and is refused
   * (ATLASSIAN_ERROR), not taken for the change made (ADR 0296). Sent again, the change is the same.
   */
  addParticipants(issueKey: string, accountIds: string[]): Promise<void> {
    return this.#changeMembers(`${SD}/request/${id(issueKey)}/participant`, 'POST', accountIds, SD_PAGE);
  }
  removeParticipants(issueKey: string, accountIds: string[]): Promise<void> {
    return this.#changeMembers(`${SD}/request/${id(issueKey)}/participant`, 'DELETE', accountIds, SD_PAGE);
  }
  /** Every step the customer may take: a step not read could be neither offered nor taken. */
  transitions(issueKey: string): Promise<TransitionDTO[]> {
    return this.#deciding(`${SD}/request/${id(issueKey)}/transition`);
  }
  performTransition(issueKey: string, transitionId: string, comment?: string): Promise<void> {
    return this.transport.call(`${SD}/request/${id(issueKey)}/transition`, {
      method: 'POST',
      json: { id: transitionId, ...(comment === undefined ? {} : { additionalComment: { body: comment } }) },
      noContent: true,
    });
  }
}

/** The attachment id from an AttachmentDTO's links (the DTO has no id property of its own). */
export function attachmentId(attachment: AttachmentDTO): string | undefined {
  for (const link of [attachment._links?.content, attachment._links?.self, attachment._links?.jiraRest]) {
    const match = link ? /\/attachment\/(?:content\/)?([0-9]{1,18})(?:[/?]|$)/.exec(link) : null;
    if (match) return match[1];
  }
  return undefined;
}
