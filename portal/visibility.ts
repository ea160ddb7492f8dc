/**
 * Who sees which request. Every Atlassian call runs as the service account, which sees everything,
 * so this module is the only place that decides what a customer may see. It is pure: the facts come
 * in, a decision (or a JQL restriction built only from validated identifiers) comes out.
 *
 * A customer sees a request (an issue with a request type: one raised inside Jira is not a customer
 * request and no portal shows it) when its service desk is one of the portal's desks that the customer
 * may use (`Customer.serviceDeskIds`: as Atlassian's own portal, a request is only seen through the
 * portal of a desk one can access) AND they reported it (which includes requests raised on their
 * behalf), are a participant, are one of its approvers (as in the native portal, where approvers open
 * the request to answer), or it is shared with one of their organizations that is added to that desk
 * (an organization's members see its requests in a project the organization is added to; taken off
 * the project, it gives them nothing there, though a request may still name it: ADR 0312). The list
 * JQL (`ownershipJql`) names the same four ties on the same desks, so what is listed is what `canSee`
 * lets open.
 */
import { JsmSsoError } from '../common/errors.js';

export interface Customer {
  accountId: string;
  displayName: string;
  /** JSM organization ids the customer belongs to (after organizationMappings). */
  organizationIds: readonly string[];
  /**
   * The portal desks this customer may raise requests in and browse, as native JSM shows a customer
   * only the portals they can use: a customer of the desk, or of one of its organizations. Decided
   * at sign-in and narrowed on each page to what Atlassian still allows (portal/desk-access.ts,
   * ADR 0222).
   */
  serviceDeskIds: readonly string[];
  /**
   * Of `organizationIds`, those added to each of `serviceDeskIds` (by service desk id): the only ones
   * through which a request on that desk is shared with the customer. Judged with the desks on each
   * page (portal/desk-access.ts). Absent, or a desk not named: no organization counts there.
   */
  organizationIdsByDesk?: Readonly<Record<string, readonly string[]>> | undefined;
}

/** What the portal knows about a request from Atlassian, reduced to what visibility needs. */
export interface RequestFacts {
  /** Project id of the request's service desk. */
  projectId: string;
  reporterAccountId: string | undefined;
  participantAccountIds: readonly string[];
  approverAccountIds: readonly string[];
  organizationIds: readonly string[];
}

/** The portal's desks: service desk id and the Jira project behind it. */
export interface DeskRef {
  serviceDeskId: string;
  projectId: string;
}

/**
 * Whose requests a list shows. The three approval choices follow the native portal's (the
 * servicedeskapi's `requestOwnership=APPROVER`, with `approvalStatus=MY_PENDING_APPROVAL` for the
 * second): every request the customer approves, those waiting for their answer, and the rest
 * (answered by them, or decided without their answer).
 */
export type Ownership =
  | 'all'
  | 'mine'
  | 'shared'
  | 'approvals'
  | 'approvals-pending'
  | 'approvals-done'
  | 'organization';
export type StatusFilter = 'open' | 'closed' | 'all';
export type RequestSort = 'created-desc' | 'created-asc' | 'updated-desc' | 'updated-asc';
export const REQUEST_SORTS: readonly RequestSort[] = [
  'created-desc',
  'created-asc',
  'updated-desc',
  'updated-asc',
];

export interface RequestFilters {
  ownership: Ownership;
  /** With `organization`: one of the customer's organizations (as the native filter lists each). */
  organizationId?: string | undefined;
  status: StatusFilter;
  /** Free text from the customer, matched against summaries; reduced by `sanitizeSearchText` before it reaches JQL. */
  search?: string;
  /** Restrict to one of the portal's desks. */
  serviceDeskId?: string | undefined;
  /** Restrict to one request type, by its name (as JQL's "Request Type" takes it) from the catalogue. */
  requestTypeName?: string | undefined;
  /** The order: newest or oldest first, by creation or last update. Newest created by default. */
  sort?: RequestSort | undefined;
  /** Restrict to one request (the detail pages' ownership check). */
  issueKey?: string;
}

const ACCOUNT_ID = /^[A-Za-z0-9:_-]{1,128}$/;
const NUMERIC_ID = /^[0-9]{1,18}$/;

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID.test(value);
}

export function isNumericId(value: unknown): value is string {
  return typeof value === 'string' && NUMERIC_ID.test(value);
}

/** The portal's desks this customer may use: the only ones whose requests they can see. */
export function usableDesks(customer: Customer, desks: readonly DeskRef[]): DeskRef[] {
  return desks.filter((d) => customer.serviceDeskIds.includes(d.serviceDeskId));
}

function usableDeskOf(customer: Customer, request: RequestFacts, desks: readonly DeskRef[]) {
  return usableDesks(customer, desks).find((d) => d.projectId === request.projectId);
}

/** The customer's organizations added to this desk: those a request on it is shared with them through. */
export function sharingOrganizations(customer: Customer, serviceDeskId: string): string[] {
  const onDesk = customer.organizationIdsByDesk?.[serviceDeskId] ?? [];
  return customer.organizationIds.filter((id) => onDesk.includes(id));
}

export function canSee(customer: Customer, request: RequestFacts, desks: readonly DeskRef[]): boolean {
  return canAct(customer, request, desks) || isApproverOf(customer, request, desks);
}

/**
 * Whether the customer may change the request (move it through its workflow, share it, attach
 * files): they reported it, take part in it or share it through an organization. Being asked to
 * approve lets one read, comment and answer the approval, not cancel or re-share someone else's
 * request.
 */
export function canAct(customer: Customer, request: RequestFacts, desks: readonly DeskRef[]): boolean {
  const desk = usableDeskOf(customer, request, desks);
  if (!desk) return false;
  if (request.reporterAccountId !== undefined && request.reporterAccountId === customer.accountId)
    return true;
  if (request.participantAccountIds.includes(customer.accountId)) return true;
  const onDesk = sharingOrganizations(customer, desk.serviceDeskId);
  return request.organizationIds.some((id) => onDesk.includes(id));
}

function isApproverOf(customer: Customer, request: RequestFacts, desks: readonly DeskRef[]): boolean {
  return (
    usableDeskOf(customer, request, desks) !== undefined &&
    request.approverAccountIds.includes(customer.accountId)
  );
}

/**
 * Free text for `summary ~ "..."`. Lucene and JQL both give meaning to quotes, backslashes, operators
 * and wildcards; rather than escape each, only letters, digits and spaces survive. That loses
 * nothing a help-center search needs and leaves nothing to inject. What is left of Jira's text
 * syntax are its Boolean operators AND, OR and NOT, which count only in ALL CAPS ("Search syntax
 * for text fields"): written in lower case they are words like any other (query terms are not case
 * sensitive), so an OR never widens the search and a trailing NOT is no syntax error.
 */
export function sanitizeSearchText(text: string | undefined): string {
  if (!text) return '';
  return text
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N} ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 100)
    .trim()
    .split(' ')
    .map((word) => (TEXT_OPERATORS.has(word) ? word.toLowerCase() : word))
    .join(' ');
}
const TEXT_OPERATORS = new Set(['AND', 'OR', 'NOT']);

function quoted(value: string, valid: (v: string) => boolean): string {
  if (!valid(value))
    throw new JsmSsoError('PORTAL_INVALID_IDENTIFIER', 'refusing to build JQL from an invalid identifier');
  return `"${value}"`;
}

/**
 * The organization clause on `desks`: shared with one of the customer's organizations (or with
 * `only`, when it is one of them) on a desk that organization is added to, each desk with its own.
 * Undefined when no desk has one.
 */
function sharedWithOrganizationsJql(
  customer: Customer,
  desks: readonly DeskRef[],
  only: string | undefined,
): string | undefined {
  const ties = desks.flatMap((d) => {
    const orgs = sharingOrganizations(customer, d.serviceDeskId).filter(
      (id) => only === undefined || id === only,
    );
    if (orgs.length === 0) return [];
    const list = orgs.map((id) => quoted(id, isNumericId)).join(', ');
    return [`(project = ${quoted(d.projectId, isNumericId)} AND organizations in (${list}))`];
  });
  if (ties.length === 0) return undefined;
  return ties.length === 1 ? ties[0] : `(${ties.join(' OR ')})`;
}

/**
 * The ownership clause on `desks` (the customer's, those the search is on): who is connected to
 * the request. Undefined when nothing can match (the organization filter for a customer without
 * organizations on those desks), so no search is sent at all.
 */
export function ownershipJql(
  customer: Customer,
  desks: readonly DeskRef[],
  ownership: Ownership,
  organizationId?: string,
): string | undefined {
  const me = quoted(customer.accountId, isAccountId);
  const mine = `reporter = ${me}`;
  const shared = `"Request participants" = ${me}`;
  // JSM's Approvers field: the people asked to approve (the native portal's "Approvals").
  const approvals = `approvers = ${me}`;
  // Waiting for the customer's answer: JSM's pendingApprovalBy() on its Approvals field, "the
  // approver for a pending approval step and is yet to approve or decline" (not pendingBy(), which
  // also holds after they answered while the step waits for others). Named, since the search runs
  // as the service account (myPendingApproval() would be its own). Always ANDed to the Approvers
  // clause, so each narrows what "Approvals" lists and the gate lets open: nothing new is reached.
  const awaitingMe = `pendingApprovalBy(${me})`;
  const organization = sharedWithOrganizationsJql(customer, desks, undefined);
  switch (ownership) {
    case 'mine':
      return mine;
    case 'shared':
      return shared;
    case 'approvals':
      return approvals;
    case 'approvals-pending':
      return `${approvals} AND approvals = ${awaitingMe}`;
    case 'approvals-done':
      // `!=` holds on requests with approvals only (JQL leaves out empty fields).
      return `${approvals} AND approvals != ${awaitingMe}`;
    case 'organization':
      // One organization only if it is one of the customer's own: an id from the URL widens nothing.
      if (organizationId === undefined) return organization;
      return customer.organizationIds.includes(organizationId)
        ? sharedWithOrganizationsJql(customer, desks, organizationId)
        : undefined;
    case 'all':
      return `(${[mine, shared, approvals, organization].filter(Boolean).join(' OR ')})`;
  }
}

/**
 * A search in its two JQL parts: which issues (`where`) and in what order (`orderBy`). Kept apart
 * so that a count is asked of exactly the same issues (`where` alone: Jira's count takes no
 * order), never by cutting text out of the whole query, where a quoted value may hold the words.
 */
export interface JqlSearch {
  where: string;
  orderBy: string;
}

/** The search as one JQL query. */
export function jqlOf(search: JqlSearch): string {
  return `${search.where} ORDER BY ${search.orderBy}`;
}

/** JQL for the requests a customer may list (`visibleRequestsSearch` as one query). */
export function visibleRequestsJql(
  customer: Customer,
  desks: readonly DeskRef[],
  filters: RequestFilters,
): string | undefined {
  const search = visibleRequestsSearch(customer, desks, filters);
  return search && jqlOf(search);
}

/**
 * The search for the requests a customer may list, or undefined when nothing can match. Built only
 * from the validated accountId, organization ids and desk project ids; the search text is reduced by
 * `sanitizeSearchText`, quoted, and matched against the summary only.
 */
export function visibleRequestsSearch(
  customer: Customer,
  desks: readonly DeskRef[],
  filters: RequestFilters,
): JqlSearch | undefined {
  const usable = usableDesks(customer, desks);
  const scoped = filters.serviceDeskId
    ? usable.filter((d) => d.serviceDeskId === filters.serviceDeskId)
    : usable;
  const ownership = ownershipJql(customer, scoped, filters.ownership, filters.organizationId);
  const text = sanitizeSearchText(filters.search);
  // A search with no letter or digit matches no summary: searching without it would list everything.
  const unsearchable = text === '' && (filters.search ?? '').trim() !== '';
  if (scoped.length === 0 || ownership === undefined || unsearchable) return undefined;
  const projects = scoped.map((d) => quoted(d.projectId, isNumericId));
  // An issue raised inside Jira has no request type: not a customer request, never on the portal.
  const clauses = [`project in (${projects.join(', ')})`, '"Request Type" IS NOT EMPTY', ownership];
  if (filters.status === 'open') clauses.push('statusCategory != Done');
  if (filters.status === 'closed') clauses.push('statusCategory = Done');
  // The summary only, as Atlassian's own portal search (`searchTerm`) does: JQL's `text` also covers
  // every comment and text field the service account reads, internal notes and hidden fields among
  // them, and a request listed for a word only they hold would tell the customer what it says.
  if (text) clauses.push(`summary ~ "${text}"`);
  if (filters.issueKey !== undefined) clauses.push(`issuekey = ${quoted(filters.issueKey, isIssueKey)}`);
  if (filters.requestTypeName !== undefined)
    clauses.push(`"Request Type" = ${jqlString(filters.requestTypeName)}`);
  const [field, direction] = (filters.sort ?? 'created-desc').split('-') as [string, string];
  return { where: clauses.join(' AND '), orderBy: `${field} ${direction.toUpperCase()}` };
}

/** A JQL string literal for a name Atlassian gave us (a request type's): quotes and backslashes escaped. */
function jqlString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[\r\n]+/g, ' ')}"`;
}

/**
 * JQL that finds one request if it is shared with one of `organizationIds` (the customer's on the
 * request's desk): the organization part of the detail re-check when the site's Organizations field
 * is not known (the JSM request DTO does not carry organizations). Undefined when there are none.
 */
export function organizationShareJql(
  organizationIds: readonly string[],
  projectId: string,
  issueKey: string,
): string | undefined {
  if (organizationIds.length === 0) return undefined;
  const orgs = organizationIds.map((id) => quoted(id, isNumericId));
  return `project = ${quoted(projectId, isNumericId)} AND issuekey = ${quoted(issueKey, isIssueKey)} AND organizations in (${orgs.join(', ')})`;
}

/** JQL whose first hit is the newest issue of the project the search index shows. */
export function newestIssueJql(projectId: string): string {
  return `project = ${quoted(projectId, isNumericId)} ORDER BY created DESC`;
}

/** JQL finding a request this portal created, by the marker it put in the description. */
export function createdRequestJql(reporterAccountId: string, projectId: string, marker: string): string {
  if (!/^jsmsso[0-9a-f]{24}$/.test(marker))
    throw new JsmSsoError('PORTAL_INVALID_IDENTIFIER', 'invalid marker');
  return `project = ${quoted(projectId, isNumericId)} AND reporter = ${quoted(reporterAccountId, isAccountId)} AND text ~ "${marker}" ORDER BY created DESC`;
}

export const ISSUE_KEY = /^[A-Z][A-Z0-9_]{0,49}-[0-9]{1,18}$/;

function isIssueKey(value: string): boolean {
  return ISSUE_KEY.test(value);
}
