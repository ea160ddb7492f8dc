/**
 * Requests as a customer sees them: lists from JQL restricted by visibility.ts, detail pages that
 * re-check visibility before anything else is fetched, and creation that never duplicates.
 */

import { JsmSsoError } from '../common/errors.js';
import type { FlowStore } from '../common/flowstore/index.js';
import { PORTAL_WRITE_BUDGET_MS } from '../common/http/request-time.js';
import { adfText } from './atlassian/adf-text.js';
import type { AtlassianClient } from './atlassian/client.js';
import { AtlassianError } from './atlassian/errors.js';
import { outsidePage } from './atlassian/page-budget.js';
import type {
  ApprovalDTO,
  CustomerRequestDTO,
  JqlIssue,
  PagedDTO,
  TransitionDTO,
  UserDTO,
} from './atlassian/types.js';
import type { Audience } from './audience.js';
import { type Catalogue, TtlCache } from './catalogue.js';
import { findCreatedPastTheIndex } from './created-past-the-index.js';
import {
  type Customer,
  canAct,
  canSee,
  createdRequestJql,
  type DeskRef,
  ISSUE_KEY,
  isNumericId,
  jqlOf,
  organizationShareJql,
  type RequestFacts,
  type RequestFilters,
  sharingOrganizations,
  usableDesks,
  visibleRequestsJql,
  visibleRequestsSearch,
} from './visibility.js';
import { WriteClaims } from './write-claims.js';
import {
  readBeforeWrite,
  type WriteOnceOptions,
  type WriteOutcome,
  withWriteKey,
  writeKeyMadeAt,
  writeOnce,
} from './write-once.js';

export interface RequestSummary {
  key: string;
  summary: string;
  status: string;
  statusCategory: string;
  created: string;
  updated?: string;
  reporterName: string;
  projectId: string;
  /** From JSM's Request Type field, when the site has it. */
  requestType?: { id: string; name: string } | undefined;
}

/** One page of My requests. */
export interface RequestPage {
  requests: RequestSummary[];
  nextPageToken?: string;
  /** Atlassian's estimate of the whole list (approximate-count), when it gave one. */
  total?: number;
}

export const PAGE_SIZE = 20;
const PAGE_TOKEN = /^[A-Za-z0-9_=+/.-]{1,1024}$/;
/** Pages remembered for "Previous" (tokens in the URL; older ones are dropped). */
const MAX_TRAIL = 10;
const MAX_START = 1_000_000;
const LIST_FIELDS = ['summary', 'status', 'created', 'updated', 'reporter', 'project'];

/**
 * Where a list page is: the paging tokens that led to it (Atlassian's `nextPageToken`s, oldest
 * first, at most MAX_TRAIL), and the position of its first row. Jira's search pages forward only,
 * so "Previous" is the trail without its last token.
 */
export interface PagePosition {
  trail: string[];
  start: number;
}

export function pagePosition(page: unknown, start: unknown): PagePosition {
  const trail = typeof page === 'string' && page !== '' ? page.split('~') : [];
  const at = typeof start === 'string' && start !== '' ? Number(start) : trail.length * PAGE_SIZE;
  if (
    trail.length > MAX_TRAIL ||
    trail.some((t) => !PAGE_TOKEN.test(t)) ||
    !Number.isInteger(at) ||
    at < 0 ||
    at > MAX_START ||
    at % PAGE_SIZE !== 0 ||
    (trail.length === 0) !== (at === 0)
  )
    throw new PageTokenError();
  return { trail, start: at };
}

/** The position of the next page, given the token Atlassian answered for it. */
export function nextPosition(at: PagePosition, token: string): PagePosition {
  return { trail: [...at.trail, token].slice(-MAX_TRAIL), start: at.start + PAGE_SIZE };
}

/** The position of the previous page, or undefined when it is no longer remembered. */
export function previousPosition(at: PagePosition): PagePosition | undefined {
  if (at.start === 0) return undefined;
  if (at.start === PAGE_SIZE) return { trail: [], start: 0 };
  return at.trail.length >= 2 ? { trail: at.trail.slice(0, -1), start: at.start - PAGE_SIZE } : undefined;
}

/** A `page=` token that is not one Atlassian gave us (malformed, tampered or expired). */
export class PageTokenError extends JsmSsoError {
  constructor(cause?: unknown) {
    super('PORTAL_PAGE_TOKEN_INVALID', 'a page token that is malformed, tampered with or expired', {
      status: 400,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

export class NotVisibleError extends JsmSsoError {
  constructor() {
    // The same answer for "does not exist" and "not yours": nothing to probe.
    super('PORTAL_REQUEST_NOT_FOUND', 'no such request, or not visible to this customer', { status: 404 });
  }
}

/**
 * A raise form for someone else whose write key found a request its sender neither reported nor follows:
 * the key is no secret (ADR 0435), and the look is scoped to the reporter the form names, whom the sender
 * chose. Landing there would hand her that request, and share it as her form says (ADR 0446).
 */
export class ForeignWriteKeyError extends JsmSsoError {
  constructor() {
    super('PORTAL_WRITE_KEY_FOREIGN', "the form's write key is a request its sender does not follow", {
      status: 409,
    });
  }
}

/**
 * The key asked for is one the request had before it was moved to another project (Jira keeps old
 * keys): its page is at `issueKey` now. Only for a customer the gate lets see it where it is now.
 */
export class RequestMovedError extends JsmSsoError {
  readonly issueKey: string;
  constructor(issueKey: string) {
    super('PORTAL_REQUEST_MOVED', 'the request was moved: it has another key now', { status: 301 });
    this.issueKey = issueKey;
  }
}

/** The step asked for is not one Atlassian offers now: nothing was sent (RequestService.transition). */
class StepNotOffered extends Error {}

function summaryOf(issue: JqlIssue, requestTypeField: string | undefined): RequestSummary {
  const f = issue.fields;
  const status = (f['status'] ?? {}) as { name?: string; statusCategory?: { key?: string } };
  const reporter = (f['reporter'] ?? {}) as { displayName?: string };
  const project = (f['project'] ?? {}) as { id?: string };
  const type = requestTypeField
    ? ((f[requestTypeField] ?? {}) as { requestType?: { id?: unknown; name?: unknown } }).requestType
    : undefined;
  return {
    key: issue.key,
    summary: typeof f['summary'] === 'string' ? f['summary'] : '',
    status: status.name ?? '',
    statusCategory: status.statusCategory?.key ?? '',
    created: typeof f['created'] === 'string' ? f['created'] : '',
    updated: typeof f['updated'] === 'string' ? f['updated'] : '',
    reporterName: reporter.displayName ?? '',
    projectId: String(project.id ?? ''),
    requestType:
      typeof type?.id === 'string' && typeof type.name === 'string'
        ? { id: type.id, name: type.name }
        : undefined,
  };
}

export interface VisibleRequest {
  request: CustomerRequestDTO;
  facts: RequestFacts;
  desk: DeskRef;
  /** canAct's answer: false for a customer who sees the request only as one of its approvers. */
  mayAct: boolean;
  /**
   * Jira's `updated` of the request when the visibility gate ran: it changes with every change to
   * the request (comment, transition, approval answer, field), so it versions what is cached per
   * request. Undefined when Atlassian did not say.
   */
  version: string | undefined;
  /**
   * Every organization the request is shared with (JSM's Organizations field, read by the gate's
   * own search), the customer's and others'. Undefined when the site has no such field: then nobody
   * knows the list, and it must not be written (a write replaces the whole list).
   */
  sharedOrganizationIds: string[] | undefined;
}

/**
 * The organization ids in a value of JSM's Organizations field: objects naming an organization by
 * `id` (a number in Jira's issue fields, a string in the servicedeskapi; both taken).
 */
export function organizationIdsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((o) => {
    const id = (o as { id?: unknown } | null)?.id;
    const text = typeof id === 'number' ? String(id) : id;
    return isNumericId(text) ? [text] : [];
  });
}

/** What `visible` fetches with the request: the basics, or everything the detail page shows. */
export interface VisibleOptions {
  detail?: boolean;
}

/**
 * Who reads requests: the customer, and the issue ids their session wrote lately
 * (`SessionStore.rememberWrite`), which every search of theirs names in `reconcileIssues` (see
 * `list`). A signed-in `Session` is one; the services read the ids from it, so no route passes them.
 */
export interface Reader {
  customer: Customer;
  recentIssueIds: readonly string[];
}

/** A request just raised: its key, and its issue id for the searches that must see it at once. */
export interface CreatedRequest {
  issueKey: string;
  issueId: string;
}

/** How writes are retried (portal/write-once.ts); tests shorten the waits. */
export type WriteSettings = Pick<
  WriteOnceOptions<unknown>,
  'budgetMs' | 'reconcileDelaysMs' | 'sleep' | 'onRetry'
>;

/**
 * A timed-out write may still be processed by Atlassian a moment later: it is looked for after
 * 0.5 s, 2 s and 5 s, so that the customer lands on it, before the post gives up saying it could not
 * confirm (ADR 0393). 20 s in all, within the browser's patience.
 */
const DEFAULT_WRITE_SETTINGS: WriteSettings = {
  budgetMs: PORTAL_WRITE_BUDGET_MS,
  reconcileDelaysMs: [500, 2000, 5000],
};

/** Beyond the write budget, what a write's own calls may take (each bounded by the transport's timeout). */
const CLAIM_MARGIN_SECONDS = 120;

/** Bound on the per-request cache (approvals and transitions of recently viewed requests). */
const VERSIONED_MAX = 500;
/**
 * Customer-visible status names not yet known that one My requests page waits for (ADR 0286); the
 * page's others are read after it answers, one at a time, for the next view (ADR 0293).
 */
const STATUS_NAME_READS = 5;
/** Bound on the learnt names: (request type, workflow status) pairs. */
const STATUS_NAMES_MAX = 1000;

/** A customer-visible name the page did not learn: its row shows the status category only. */
class StatusNameUnknown extends Error {}

/**
 * The issue ids the gate's second search reconciles: the request fetched for the key, when there is
 * one, and the session's own. The fetch is Atlassian's answer for the key (the servicedeskapi, read
 * from the issue, not the index), so the search sees that request as it is now; it selects nothing,
 * the gate's JQL still decides (ADR 0194, 0381). First, so that it is never what the 50 cut off.
 */
function madeCurrent(
  fetched: PromiseSettledResult<CustomerRequestDTO>,
  recentIssueIds: readonly string[],
): string[] {
  const asked = fetched.status === 'fulfilled' ? [fetched.value.issueId] : [];
  return [...new Set([...asked, ...recentIssueIds])];
}

export class RequestService {
  readonly #client: AtlassianClient;
  readonly #catalogue: Catalogue;
  /**
   * A request's approvals and customer transitions, keyed by request and version (Jira's `updated`),
   * so any change to the request is a miss. Both are what the service account reads and the same
   * for every customer who may see the request: who may see it is decided on every view, never
   * cached. The TTL bounds what a change that leaves `updated` alone (a workflow edit) can hide.
   */
  readonly #versioned: TtlCache;
  /**
   * The name a request type shows customers for a workflow status ("customer-visible status"),
   * keyed by both: the search answers the workflow's name, an agent's word, and only the
   * servicedeskapi answers the customer's (ADR 0286). The same for every customer.
   */
  readonly #statusNames: TtlCache;
  /**
   * The pairs of #statusNames waiting their turn to be read after a view (ADR 0293): a later view
   * shows their category rather than wait behind the reads before them.
   */
  readonly #statusNamesQueued = new Set<string>();
  /**
   * The end of the one line of status-name reads made after views (ADR 0293), every view's queued
   * pairs in turn: one read at a time for the whole tenant, never a burst of views' reads at once.
   */
  #statusNameQueue: Promise<unknown> = Promise.resolve();

  readonly #writes: WriteSettings;
  /** One post per write key writes at a time (a double click); absent without a store (unit tests). */
  readonly #claims: WriteClaims | undefined;
  /**
   * How long a form may be posted: its session's absolute timeout (its CSRF token is the session's).
   * A step without a comment, and a create without a description, keep their outcome in their claim
   * that long (ADR 0288, 0299).
   */
  readonly #formSeconds: number | undefined;

  constructor(
    client: AtlassianClient,
    catalogue: Catalogue,
    writes: Partial<WriteSettings> = {},
    cacheTtlMs = 60_000,
    claims?: { store: FlowStore; formSeconds: number },
  ) {
    this.#client = client;
    this.#catalogue = catalogue;
    this.#writes = { ...DEFAULT_WRITE_SETTINGS, ...writes };
    this.#versioned = new TtlCache(cacheTtlMs, VERSIONED_MAX);
    this.#formSeconds = claims?.formSeconds;
    this.#statusNames = new TtlCache(cacheTtlMs, STATUS_NAMES_MAX);
    this.#claims =
      claims &&
      new WriteClaims(claims.store, {
        // A second post waits as long as the first may wait for Atlassian; the claim outlives the
        // first's whole write (its calls' own timeouts come on top of the waits).
        waitMs: this.#writes.budgetMs,
        holdSeconds: Math.ceil(this.#writes.budgetMs / 1000) + CLAIM_MARGIN_SECONDS,
      });
  }

  /**
   * A write under its key (write-once), claimed so that a second post of the same form waits. It
   * keeps its own budget, outside the page's (ADR 0185): cut off by the page, its outcome would be
   * unknown.
   */
  #writeOnce<T>(scope: string, options: WriteOnceOptions<T>): Promise<WriteOutcome<T>> {
    return outsidePage(() =>
      writeOnce(this.#claims ? { ...options, claim: { claims: this.#claims, scope } } : options),
    );
  }

  /**
   * For a write with nothing at Atlassian to find it by: its claim keeps what became of it for as
   * long as its form can be posted (ADR 0288, 0299).
   */
  #keptForItsForm(): Pick<WriteOnceOptions<unknown>, 'keepSeconds'> {
    return this.#formSeconds === undefined ? {} : { keepSeconds: this.#formSeconds };
  }

  /** The request's approvals; from the cache when `version` is known and unchanged. */
  approvals(issueKey: string, version: string | undefined): Promise<ApprovalDTO[]> {
    return version === undefined
      ? this.#client.approvals(issueKey)
      : this.#versioned.get(`${issueKey}@${version}:approvals`, () => this.#client.approvals(issueKey));
  }

  /** The transitions Atlassian offers on the request; from the cache when `version` is known and unchanged. */
  transitions(issueKey: string, version: string | undefined): Promise<TransitionDTO[]> {
    return version === undefined
      ? this.#client.transitions(issueKey)
      : this.#versioned.get(`${issueKey}@${version}:transitions`, () => this.#client.transitions(issueKey));
  }

  /**
   * One page of the customer's requests: the search and Atlassian's count of the whole list, in
   * parallel (two Atlassian calls on a warm catalogue cache; while status names are learnt, at most
   * STATUS_NAME_READS more waited for, the rest after it answers). The count is an estimate Atlassian
   * may lag on, and only a label: when it fails the page is shown without it.
   *
   * The reader's recent issue ids (`Reader`): Jira's search index lags
   * behind writes (seconds to minutes); named in `reconcileIssues`, those issues are searched as
   * they are now, so a request just raised is listed. They only make the index current: the
   * visibility clauses still decide what matches.
   */
  async list(
    { customer, recentIssueIds }: Reader,
    filters: RequestFilters,
    pageToken?: string,
  ): Promise<RequestPage> {
    const [desks, requestTypeField] = await Promise.all([
      this.#catalogue.deskRefs(),
      this.#catalogue.requestTypeField(),
    ]);
    const search = visibleRequestsSearch(customer, desks, filters);
    if (!search) return { requests: [], total: 0 };
    if (pageToken !== undefined && !PAGE_TOKEN.test(pageToken)) throw new PageTokenError();
    const fields = requestTypeField ? [...LIST_FIELDS, requestTypeField] : LIST_FIELDS;
    const [searched, counted] = await Promise.allSettled([
      this.#client.searchJql(jqlOf(search), fields, PAGE_SIZE, pageToken, recentIssueIds),
      this.#client.approximateCount(search.where),
    ]);
    if (searched.status === 'rejected') {
      const err: unknown = searched.reason;
      // The JQL is ours and valid; a 400 on a page after the first is Atlassian refusing the token.
      if (pageToken && err instanceof AtlassianError && err.code === 'ATLASSIAN_VALIDATION')
        throw new PageTokenError(err);
      throw err;
    }
    const result = searched.value;
    // Defence in depth: a row outside the customer's desks is never shown, whatever the search returned.
    const usable = usableDesks(customer, desks);
    const requests = await this.#asCustomersSee(
      result.issues
        .map((issue) => summaryOf(issue, requestTypeField))
        .filter((r) => usable.some((d) => d.projectId === r.projectId)),
    );
    return {
      requests,
      ...(result.nextPageToken && result.isLast !== true ? { nextPageToken: result.nextPageToken } : {}),
      ...(counted.status === 'fulfilled' ? { total: counted.value } : {}),
    };
  }

  /**
   * The rows with the status names customers see (ADR 0286). The search gives the workflow's name;
   * each (request type, workflow status) pair not yet known costs one servicedeskapi read of a row
   * that has it: at most STATUS_NAME_READS per page, in parallel, waited for; the rest are read after,
   * one after another outside the page, for the next view (ADR 0293): a view meanwhile waits for the
   * one being read, not for those waiting their turn; a warm page costs none. A name
   * not learnt (not yet, a failed read, or a read whose status category differs from the search's,
   * which lags) is left out and the row shows its status category: never the workflow's name, which
   * may be an agent's ("Escalated to Tier 2").
   */
  async #asCustomersSee(rows: RequestSummary[]): Promise<RequestSummary[]> {
    let reads = 0;
    const pairOf = (r: RequestSummary) => r.requestType && `${r.requestType.id}\n${r.status}`;
    const names = new Map<string, Promise<string | undefined>>();
    for (const row of rows) {
      const pair = pairOf(row);
      if (!pair || names.has(pair)) continue;
      if (this.#statusNamesQueued.has(pair)) {
        names.set(pair, Promise.resolve(undefined));
        continue;
      }
      let waited = true;
      const learnt = this.#statusNames.get(pair, () => {
        reads += 1;
        if (reads <= STATUS_NAME_READS) return this.#customersName(row);
        waited = false;
        this.#statusNamesQueued.add(pair);
        const read = this.#statusNameQueue.then(() => {
          this.#statusNamesQueued.delete(pair);
          return this.#customersName(row);
        });
        this.#statusNameQueue = read.catch(() => undefined);
        return read;
      });
      const name = learnt.catch(() => undefined);
      names.set(pair, waited ? name : Promise.resolve(undefined));
    }
    return Promise.all(
      rows.map(async (row) => {
        const pair = pairOf(row);
        const name = pair ? await names.get(pair) : undefined;
        return { ...row, status: name ?? '' };
      }),
    );
  }

  /** Resolves once no status name is read after a view: the line's reads, and any queued meanwhile, ended. */
  async statusNamesRead(): Promise<void> {
    let end: Promise<unknown>;
    do {
      end = this.#statusNameQueue;
      await end;
    } while (end !== this.#statusNameQueue);
  }

  /** The name the row's request shows customers for its status, if its category is the search's. */
  async #customersName(row: RequestSummary): Promise<string> {
    const current = (await this.#client.request(row.key)).currentStatus;
    if (!current?.status || (current.statusCategory ?? '').toLowerCase() !== row.statusCategory)
      throw new StatusNameUnknown();
    return current.status;
  }

  /**
   * The request if this customer may see it, else NotVisibleError (also for keys that do not
   * exist). The facts are gathered from Atlassian and the decision is canSee's.
   *
   * "Does not exist" and "exists but not yours" must not be told apart by timing: both take the
   * same path at the same cost. The gate is one search restricted by ownership (the list's own JQL
   * narrowed to this key), sent together with the request fetch, and both are awaited whatever
   * their outcome before anything is decided. Only a request the gate lets through costs more.
   * The gate's search reconciles the session's recent writes (`list`), the same ids whatever the
   * key asked for, so they change neither what it lets through nor what a refusal costs.
   *
   * A key the search does not list is asked once more with the request the fetch found made current
   * (`madeCurrent`): Jira's index may not have her on it yet (a participant or an organization share
   * another customer just added, an approval just asked of her, a request an agent raised for her),
   * and native JSM shows it at once. Every key not listed is asked again, whether a request exists
   * under it or not, so a refusal still costs the same calls whatever the key (ADR 0381).
   */
  async visible(
    { customer, recentIssueIds }: Reader,
    issueKey: string,
    { detail = false }: VisibleOptions = {},
  ): Promise<VisibleRequest> {
    if (!ISSUE_KEY.test(issueKey)) throw new NotVisibleError();
    const [desks, organizationsField] = await Promise.all([
      this.#catalogue.deskRefs(),
      this.#catalogue.organizationsField(),
    ]);
    const [listed, fetched] = await Promise.allSettled([
      this.#listedFor(customer, desks, issueKey, organizationsField, recentIssueIds),
      detail ? this.#client.requestDetail(issueKey) : this.#client.request(issueKey),
    ]);
    if (listed.status === 'rejected') throw listed.reason;
    const gate =
      listed.value.listed || listed.value.movedTo !== undefined
        ? listed.value
        : await this.#listedFor(
            customer,
            desks,
            issueKey,
            organizationsField,
            madeCurrent(fetched, recentIssueIds),
          );
    const { movedTo } = gate;
    if (movedTo !== undefined) throw new RequestMovedError(movedTo);
    if (!gate.listed) throw new NotVisibleError();
    const { version, sharedOrganizationIds } = gate;
    if (fetched.status === 'rejected') {
      const err: unknown = fetched.reason;
      if (err instanceof AtlassianError && err.code === 'ATLASSIAN_NOT_FOUND') throw new NotVisibleError();
      throw err;
    }
    const request = fetched.value;
    const desk = desks.find((d) => d.serviceDeskId === request.serviceDeskId);
    // A request reached through a moved key answers with another key: treat as not found. So is an
    // issue without a request type, whatever the servicedeskapi made of it (the gate already said no).
    if (!desk || request.issueKey !== issueKey || !request.requestTypeId) throw new NotVisibleError();
    const participants = await this.#participants(customer, issueKey, request);
    const facts: RequestFacts = {
      projectId: desk.projectId,
      reporterAccountId: request.reporter?.accountId,
      participantAccountIds: participants.values.map((u) => u.accountId),
      approverAccountIds: [],
      organizationIds: [],
    };
    const seen = participants === request.participants ? request : { ...request, participants };
    if (canAct(customer, facts, desks))
      return { request: seen, facts, desk, mayAct: true, version, sharedOrganizationIds };
    // Not decided by the request itself: the organization share decides whether they may act, the
    // approvals whether an approver may at least see it.
    const [approvals, organizationIds] = await Promise.all([
      this.approvals(issueKey, version),
      this.#sharedOrganizations(customer, desk, issueKey, sharedOrganizationIds),
    ]);
    facts.approverAccountIds = approvals.flatMap((a) =>
      (a.approvers ?? []).flatMap((x) => (x.approver ? [x.approver.accountId] : [])),
    );
    facts.organizationIds = organizationIds;
    if (!canSee(customer, facts, desks)) throw new NotVisibleError();
    return {
      request: seen,
      facts,
      desk,
      mayAct: canAct(customer, facts, desks),
      version,
      sharedOrganizationIds,
    };
  }

  /**
   * Whether the list of requests this customer may see holds this key (the gate of `visible`), and
   * when it does the request's `updated` and the organizations it is shared with (asked of the same
   * search: the detail page shows them without another call).
   */
  async #listedFor(
    customer: Customer,
    desks: readonly DeskRef[],
    issueKey: string,
    organizationsField: string | undefined,
    reconcile: readonly string[],
  ): Promise<{
    listed: boolean;
    version?: string;
    sharedOrganizationIds: string[] | undefined;
    /** The key the request has now, when the key asked for is one it had before a move. */
    movedTo?: string;
  }> {
    const unlisted = { listed: false, sharedOrganizationIds: undefined };
    const jql = visibleRequestsJql(customer, desks, { ownership: 'all', status: 'all', issueKey });
    if (!jql) return unlisted;
    try {
      const fields = ['project', 'updated', ...(organizationsField ? [organizationsField] : [])];
      const found = await this.#client.searchJql(jql, fields, 1, undefined, reconcile);
      const issue = found.issues.find((i) => i.key === issueKey);
      if (!issue) {
        // Jira finds an issue by a key it had before a move, and answers its key now: a customer the
        // list would show it to is sent on to it (the list shows that key anyway); the visibility
        // clauses decided that, as for any request.
        const moved = found.issues[0];
        return moved !== undefined && ISSUE_KEY.test(moved.key)
          ? { ...unlisted, movedTo: moved.key }
          : unlisted;
      }
      const updated = issue.fields['updated'];
      const sharedOrganizationIds = organizationsField
        ? organizationIdsOf(issue.fields[organizationsField])
        : undefined;
      return typeof updated === 'string' && updated !== ''
        ? { listed: true, version: updated, sharedOrganizationIds }
        : { listed: true, sharedOrganizationIds };
    } catch (err) {
      // Jira answers 400 to JQL naming an issue key that does not exist: that is "not listed".
      if (err instanceof AtlassianError && err.code === 'ATLASSIAN_VALIDATION') return unlisted;
      throw err;
    }
  }

  /**
   * The request's participants: the expansion's first page, unless Atlassian cut it short and the
   * customer is neither its reporter nor on it; then the whole list from its own resource, so that a
   * participant past the first page is one (a long list costs calls only when it decides).
   */
  async #participants(
    customer: Customer,
    issueKey: string,
    request: CustomerRequestDTO,
  ): Promise<PagedDTO<UserDTO>> {
    const expanded = request.participants ?? { values: [] };
    if (
      expanded.isLastPage !== false ||
      request.reporter?.accountId === customer.accountId ||
      expanded.values.some((u) => u.accountId === customer.accountId)
    )
      return expanded;
    return { values: await this.#client.participants(issueKey), isLastPage: true };
  }

  /**
   * The customer's organizations on the request's desk that the request is shared with: from JSM's
   * Organizations field as the gate's own search read it (`shared`, no call), else from a search for
   * this request shared with them (all of them, or none).
   */
  async #sharedOrganizations(
    customer: Customer,
    desk: DeskRef,
    issueKey: string,
    shared: readonly string[] | undefined,
  ): Promise<string[]> {
    const onDesk = sharingOrganizations(customer, desk.serviceDeskId);
    if (shared !== undefined) return onDesk.filter((o) => shared.includes(o));
    const jql = organizationShareJql(onDesk, desk.projectId, issueKey);
    if (!jql) return [];
    const found = await this.#client.searchJql(jql, ['project'], 1);
    return found.issues.some((i) => i.key === issueKey) ? onDesk : [];
  }

  /**
   * The request raised for `reporterAccountId` under `writeKey` on this desk, if any. `recent`: issue
   * ids the customer's session wrote lately, named in `reconcileIssues` so that one of them is found
   * however far behind the search is (a form raised fine and sent again from the back button).
   */
  async findCreated(
    reporterAccountId: string,
    serviceDeskId: string,
    writeKey: string,
    recent: readonly string[] = [],
  ): Promise<CreatedRequest | undefined> {
    const desk = (await this.#catalogue.deskRefs()).find((d) => d.serviceDeskId === serviceDeskId);
    if (!desk) return undefined;
    const found = await this.#client.searchJql(
      createdRequestJql(reporterAccountId, desk.projectId, writeKey),
      ['summary'],
      1,
      undefined,
      recent,
    );
    const issue = found.issues[0];
    return issue && { issueKey: issue.key, issueId: issue.id };
  }

  /**
   * findCreated without the search index, which may not show a request raised a moment ago: reads
   * the project's newest keys themselves (portal/created-past-the-index.ts). Costlier: only when an
   * earlier post of the form gave up on a create that may have been made.
   */
  async #findCreatedPastTheIndex(
    reporterAccountId: string,
    serviceDeskId: string,
    writeKey: string,
  ): Promise<CreatedRequest | undefined> {
    const desk = await this.#catalogue.desk(serviceDeskId);
    return desk && findCreatedPastTheIndex(this.#client, desk, reporterAccountId, writeKey);
  }

  /**
   * Creates a request once per write key (portal/write-once.ts): the description carries the key,
   * so a resubmitted form, a write whose outcome is unknown and a throttled write all end with one
   * request. A request type without a description field cannot carry it: its create is repeated
   * only after a 429, and its claim keeps what became of it for the form's life (ADR 0299): the
   * same form sent again lands on the request made or, after an answer that leaves it unknown,
   * creates nothing (WriteUnconfirmedError). A new form raises it anew. A request found under the key of
   * a form sent for someone else is landed on only by a sender who follows it (ForeignWriteKeyError).
   */
  async create(input: {
    serviceDeskId: string;
    requestTypeId: string;
    values: Record<string, unknown>;
    hasDescription: boolean;
    writeKey: string;
    /** Whom it is for and whom it is shared with (portal/audience.ts checked them). */
    audience: Pick<Audience, 'reporterAccountId' | 'participantAccountIds'>;
    /** The customer who sends the form: the reporter, or a participant when it is for someone else. */
    sentBy: string;
    /** Values made per attempt, after the key was looked for (e.g. uploaded temporary attachments). */
    attempt?: () => Promise<Record<string, unknown>>;
    /** The issue ids the customer's session wrote lately (findCreated's `recent`). */
    recentIssueIds?: readonly string[];
  }): Promise<WriteOutcome<CreatedRequest>> {
    const outcome = await this.#createOnce(input);
    if (outcome.existed && input.audience.reporterAccountId !== input.sentBy)
      await this.#followedBy(outcome.value.issueKey, input.sentBy);
    return outcome;
  }

  /**
   * A request found under a form's key that the form's sender raised for someone else is hers only if
   * she follows it: raising it made her a participant (audience.ts), and the look that found it was
   * scoped to the reporter her form names, not to her (ADR 0446). Else ForeignWriteKeyError.
   */
  async #followedBy(issueKey: string, accountId: string): Promise<void> {
    const participants = await this.#client.participants(issueKey);
    if (!participants.some((p) => p.accountId === accountId)) throw new ForeignWriteKeyError();
  }

  #createOnce(input: Parameters<RequestService['create']>[0]): Promise<WriteOutcome<CreatedRequest>> {
    const values = { ...input.values };
    if (input.hasDescription) {
      const text = typeof values['description'] === 'string' ? values['description'] : '';
      values['description'] = withWriteKey(text, input.writeKey);
    }
    return this.#writeOnce(
      `create:${input.serviceDeskId}:${input.audience.reporterAccountId}:${input.writeKey}`,
      {
        ...this.#writes,
        ...(input.hasDescription
          ? {
              // A JQL search: it may not find a request created a moment ago.
              find: () =>
                this.findCreated(
                  input.audience.reporterAccountId,
                  input.serviceDeskId,
                  input.writeKey,
                  input.recentIssueIds,
                ),
              confirm: () =>
                this.#findCreatedPastTheIndex(
                  input.audience.reporterAccountId,
                  input.serviceDeskId,
                  input.writeKey,
                ),
              // Older than its claim, the form may have lost one: looked for past the search first.
              formMadeAt: writeKeyMadeAt(input.writeKey),
            }
          : // Nothing carries the key, so nothing can find the request: a post of the same form (a
            // double click, the back button) must not create it again on the first's unknown
            // outcome (ADR 0240), however late it comes, nor once a request made has left the claim
            // (ADR 0299).
            this.#keptForItsForm()),
        write: async () => {
          const created = await this.#client.createRequest({
            serviceDeskId: input.serviceDeskId,
            requestTypeId: input.requestTypeId,
            requestFieldValues: { ...values, ...(await input.attempt?.()) },
            raiseOnBehalfOf: input.audience.reporterAccountId,
            ...(input.audience.participantAccountIds.length > 0
              ? { requestParticipants: input.audience.participantAccountIds }
              : {}),
          });
          return { issueKey: created.issueKey, issueId: created.issueId };
        },
      },
    );
  }

  /**
   * Shares a request with organizations, or stops sharing it with them, through JSM's Organizations
   * field (the servicedeskapi has no call for it; the platform's issue edit adds and removes single
   * values of it, so the organizations it is shared with besides are never rewritten). False when the
   * site has no such field.
   */
  async changeSharedOrganizations(
    issueKey: string,
    change: { add?: readonly string[]; remove?: readonly string[] },
  ): Promise<boolean> {
    const fieldId = await readBeforeWrite(() => this.#catalogue.organizationsField());
    if (!fieldId) return false;
    await this.#client.changeOrganizations(issueKey, fieldId, change);
    return true;
  }

  /**
   * The public comment written under `writeKey`, if any (comments and attachments carry the key),
   * looked for newest first: read oldest first, a request with more comments than are read had the
   * one just written past the bound, found nothing, and wrote it again (ADR 0229).
   */
  async #findComment(issueKey: string, writeKey: string): Promise<true | undefined> {
    const marker = `(portal reference ${writeKey})`;
    for await (const comments of this.#client.commentsNewestFirst(issueKey))
      if (comments.some((c) => c.jsdPublic !== false && adfText(c.body).includes(marker))) return true;
    return undefined;
  }

  /**
   * A write whose comment on the request carries `writeKey` (a comment, files with their note, a step
   * with its comment), once per key: found by that comment, and claimed under it whatever the write,
   * so that each of them sent under one key waits for the others. The comment of a step whose outcome
   * is unknown comes back in the request's comment form under the step's key (ADR 0378): claimed as a
   * comment apart from the step, it was written beside the step's, still on its way (ADR 0393).
   */
  #writeCommented<T>(
    issueKey: string,
    writeKey: string,
    write: () => Promise<T>,
  ): Promise<WriteOutcome<T | true>> {
    return this.#writeOnce<T | true>(`comment:${issueKey}:${writeKey}`, {
      ...this.#writes,
      find: () => this.#findComment(issueKey, writeKey),
      write,
    });
  }

  /** Adds a public comment once per write key. */
  async comment(issueKey: string, text: string, writeKey: string): Promise<WriteOutcome<true>> {
    return this.#writeCommented(issueKey, writeKey, async () => {
      await this.#client.addPublicComment(issueKey, withWriteKey(text, writeKey));
      return true as const;
    });
  }

  /**
   * Moves the request through one step of its workflow, once per write key (the confirmation
   * form's): a second post of the same form (a double click) waits for the first under its claim
   * and lands on the same outcome, instead of finding the step gone or, where the step is offered
   * again from where it leads, taking it twice. The step must be one Atlassian offers now; false
   * when it is not (nothing was sent).
   *
   * A step sent with a comment carries the key in it, as a comment does: after an answer that
   * leaves its outcome unknown (a 5xx, a timeout), and for a post of the same form, the comment is
   * looked for on the request itself, and the step is taken again only when it is not there (Jira
   * adds the comment with the step). A step without one leaves nothing its key could be found by:
   * its claim keeps what became of it as long as the form can be posted (ADR 0288), so a post of
   * the same form lands on the step taken or, after an answer that leaves it unknown, sends nothing
   * (WriteUnconfirmedError), however late it comes. Before, it was judged afresh 30 s after such an
   * answer (ADR 0245) or once the claim of a step taken had ended (140 s): a step still offered was
   * taken again. A new form takes the step anew.
   */
  async transition(
    issueKey: string,
    transitionId: string,
    comment: string | undefined,
    writeKey: string,
  ): Promise<WriteOutcome<boolean>> {
    const write = async () => {
      const offered = await readBeforeWrite(() => this.#client.transitions(issueKey));
      // Thrown, not answered: a claim keeps no outcome of a step not sent.
      if (!offered.some((t) => t.id === transitionId)) throw new StepNotOffered();
      await this.#client.performTransition(
        issueKey,
        transitionId,
        comment === undefined ? undefined : withWriteKey(comment, writeKey),
      );
      return true;
    };
    try {
      return comment === undefined
        ? await this.#writeOnce(`transition:${issueKey}:${writeKey}`, {
            ...this.#writes,
            ...this.#keptForItsForm(),
            write,
          })
        : await this.#writeCommented(issueKey, writeKey, write);
    } catch (err) {
      if (err instanceof StepNotOffered) return { value: false, existed: false };
      throw err;
    }
  }

  /**
   * Attaches files once per write key, with `note` as the comment Atlassian adds with them (a
   * customer's comment sent with files, or a line naming who attached them): that comment carries
   * the key.
   */
  async attach(
    issueKey: string,
    serviceDeskId: string,
    files: readonly { filename: string; path: string; mimeType: string }[],
    note: string,
    writeKey: string,
  ): Promise<WriteOutcome<true>> {
    return this.#writeCommented(issueKey, writeKey, async () => {
      const temporaryIds: string[] = [];
      for (const file of files)
        temporaryIds.push(await this.#client.attachTemporaryFile(serviceDeskId, file));
      await this.#client.attachToRequest(issueKey, temporaryIds, withWriteKey(note, writeKey));
      return true as const;
    });
  }
}
