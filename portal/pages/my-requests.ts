// My requests: filters (status, whose, desk, request type, words), sorting, the list (a table that
// becomes cards on narrow screens) and paging with Atlassian's count.

import { type HtmlValue, html, type SafeHtml, seg } from '../../common/http/html.js';
import type { MessageKey } from '../../common/i18n/index.js';
import type { OrganizationDTO, RequestTypeDTO } from '../atlassian/types.js';
import type { Desk } from '../catalogue.js';
import { nextPosition, type PagePosition, previousPosition, type RequestSummary } from '../requests.js';
import { type Ownership, REQUEST_SORTS, type RequestSort, type StatusFilter } from '../visibility.js';
import { layout, type PageContext, statusLozenge } from './layout.js';
import { dateTime } from './local-time.js';

const OWNERSHIP_LABELS: Record<Exclude<Ownership, 'organization'>, MessageKey> = {
  all: 'requests.ownership.all',
  mine: 'requests.ownership.mine',
  shared: 'requests.ownership.shared',
  approvals: 'requests.ownership.approvals',
  'approvals-pending': 'requests.ownership.approvalsPending',
  'approvals-done': 'requests.ownership.approvalsDone',
};
/** A row whose customer-visible status name is not known shows its category (ADR 0286). */
const CATEGORY_LABELS: Record<string, MessageKey> = {
  new: 'requests.statusCategory.new',
  indeterminate: 'requests.statusCategory.indeterminate',
  done: 'requests.statusCategory.done',
};

const STATUS_LABELS: Record<StatusFilter, MessageKey> = {
  open: 'requests.status.open',
  closed: 'requests.status.closed',
  all: 'requests.status.all',
};
const SORT_LABELS: Record<RequestSort, MessageKey> = {
  'created-desc': 'requests.sort.createdDesc',
  'created-asc': 'requests.sort.createdAsc',
  'updated-desc': 'requests.sort.updatedDesc',
  'updated-asc': 'requests.sort.updatedAsc',
};

export interface ListState {
  ownership: Ownership;
  /** With `organization`: which one. */
  organizationId?: string | undefined;
  status: StatusFilter;
  search: string;
  /** One of the customer's desks, or every desk. */
  serviceDeskId?: string | undefined;
  /** `deskId:typeId` of one request type, or every type. */
  requestType?: string | undefined;
  sort: RequestSort;
  position: PagePosition;
  /** Said above the list after a write that took the request away from the customer (`?left=1`). */
  notice?: string | undefined;
}

/** The desks the filters offer, each with its request types. */
export interface DeskChoice {
  desk: Desk;
  types: readonly RequestTypeDTO[];
}

/** The filter's value: one of the ownership choices, or `org-<id>` for one organization. */
function ownershipValue(state: Pick<ListState, 'ownership' | 'organizationId'>): string {
  return state.ownership === 'organization' && state.organizationId
    ? `org-${state.organizationId}`
    : state.ownership;
}

function listQuery(state: ListState, position?: PagePosition): string {
  const params = new URLSearchParams({
    status: state.status,
    ownership: ownershipValue(state),
    ...(state.serviceDeskId ? { desk: state.serviceDeskId } : {}),
    ...(state.requestType ? { type: state.requestType } : {}),
    ...(state.search ? { q: state.search } : {}),
    ...(state.sort === 'created-desc' ? {} : { sort: state.sort }),
    ...(position && position.start > 0
      ? { page: position.trail.join('~'), start: String(position.start) }
      : {}),
  });
  return `/requests?${params.toString()}`;
}

function paging(
  ctx: PageContext,
  state: ListState,
  shown: number,
  nextPageToken: string | undefined,
  total: number | undefined,
) {
  const { t } = ctx.i18n;
  const { position } = state;
  const previous = previousPosition(position);
  const first = position.start + 1;
  const last = position.start + shown;
  const range =
    shown === 0
      ? ''
      : total !== undefined && total >= last
        ? t(nextPageToken || total > last ? 'requests.rangeOfAbout' : 'requests.rangeOf', {
            first,
            last,
            total,
          })
        : t('requests.range', { first, last });
  return html`<nav class="paging" aria-label="${t('requests.pages')}">
    ${range ? html`<p class="muted" role="status">${range}</p>` : ''}
    ${previous ? html`<a class="button secondary" href="${listQuery(state, previous)}" rel="prev">${t('requests.previous')}</a> ` : ''}
    ${nextPageToken ? html`<a class="button" href="${listQuery(state, nextPosition(position, nextPageToken))}" rel="next">${t('requests.nextPage')}</a> ` : ''}
    ${position.start > 0 && !(previous && previous.start === 0) ? html`<a href="${listQuery(state)}">${t('requests.firstPage')}</a>` : ''}
  </nav>`;
}

export function requestsPage(
  ctx: PageContext,
  page: { requests: RequestSummary[]; nextPageToken?: string | undefined; total?: number | undefined },
  state: ListState,
  organizations: readonly OrganizationDTO[],
  desks: readonly DeskChoice[],
  deskNames: ReadonlyMap<string, string>,
): SafeHtml {
  const { t } = ctx.i18n;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const ownership = ownershipValue(state);
  const cell = (label: MessageKey, content: HtmlValue) => html`<td data-label="${t(label)}">${content}</td>`;
  const { requests } = page;
  return layout(
    ctx,
    t('requests.title'),
    html`<h1>${t('requests.title')}</h1>
    ${state.notice ? html`<p class="notice" role="status" data-written>${state.notice}</p>` : ''}
    <form class="filters card" method="get" action="/requests" role="search" aria-label="${t('requests.filterLabel')}">
      <div><label for="flt-status">${t('requests.status')}</label><select id="flt-status" name="status">${(
        Object.keys(STATUS_LABELS) as StatusFilter[]
      ).map((k) => option(k, t(STATUS_LABELS[k]), state.status))}</select></div>
      <div><label for="flt-ownership">${t('requests.ownership')}</label><select id="flt-ownership" name="ownership">${(
        Object.keys(OWNERSHIP_LABELS) as Exclude<Ownership, 'organization'>[]
      ).map((k) => option(k, t(OWNERSHIP_LABELS[k]), ownership))}${
        organizations.length > 0
          ? html`<optgroup label="${t('requests.ownership.organizations')}">${organizations.map((o) =>
              option(`org-${o.id}`, o.name, ownership),
            )}</optgroup>`
          : ''
      }</select></div>
      <div><label for="flt-desk">${t('requests.desk')}</label><select id="flt-desk" name="desk">${option('', t('requests.any'), state.serviceDeskId ?? '')}${desks.map(
        (d) => option(d.desk.id, d.desk.name, state.serviceDeskId),
      )}</select></div>
      <div><label for="flt-type">${t('requests.requestType')}</label><select id="flt-type" name="type">${option('', t('requests.any'), state.requestType ?? '')}${desks.map(
        (d) =>
          html`<optgroup label="${d.desk.name}">${d.types.map((type) =>
            option(`${d.desk.id}:${type.id}`, type.name, state.requestType),
          )}</optgroup>`,
      )}</select></div>
      <div><label for="flt-q">${t('requests.search')}</label><input id="flt-q" type="search" name="q" value="${state.search}" maxlength="100"></div>
      <div><label for="flt-sort">${t('requests.sortBy')}</label><select id="flt-sort" name="sort">${REQUEST_SORTS.map(
        (k) => option(k, t(SORT_LABELS[k]), state.sort),
      )}</select></div>
      <div><button type="submit">${t('requests.filter')}</button></div>
    </form>
    ${
      requests.length === 0
        ? // After the first page, an empty one is the end of a list that changed since the page
          // before, or Atlassian's last page after a full one: not "nothing found".
          html`<p class="empty">${t(state.position.start > 0 ? 'requests.noMore' : 'requests.empty')}</p>`
        : html`<table class="cards"><caption class="muted">${t(STATUS_LABELS[state.status])} · ${t(SORT_LABELS[state.sort])}</caption>
      <thead><tr><th scope="col">${t('requests.column.reference')}</th><th scope="col">${t('requests.column.summary')}</th><th scope="col">${t('requests.column.status')}</th><th scope="col">${t('requests.column.desk')}</th><th scope="col">${t('requests.column.requestType')}</th><th scope="col">${t('requests.column.requester')}</th><th scope="col"${state.sort.startsWith('created') ? html` aria-sort="${state.sort === 'created-asc' ? 'ascending' : 'descending'}"` : ''}>${t('requests.column.created')}</th></tr></thead>
      <tbody>${requests.map(
        (r) =>
          html`<tr>${cell('requests.column.reference', html`<a href="/requests/${seg(r.key)}">${r.key}</a>`)}${cell('requests.column.summary', html`<a href="/requests/${seg(r.key)}">${r.summary}</a>`)}${cell('requests.column.status', statusLozenge(r.status || t(CATEGORY_LABELS[r.statusCategory] ?? 'requests.statusCategory.indeterminate'), r.statusCategory))}${cell('requests.column.desk', deskNames.get(r.projectId) ?? '')}${cell('requests.column.requestType', r.requestType?.name ?? '')}${cell('requests.column.requester', r.reporterName)}${cell('requests.column.created', dateTime(ctx.i18n, r.created))}</tr>`,
      )}</tbody></table>`
    }
    ${paging(ctx, state, requests.length, page.nextPageToken, page.total)}`,
  );
}
