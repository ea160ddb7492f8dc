import type { OrganizationDTO, TransitionDTO } from '../atlassian/types.js';
import { type HtmlValue, html, type SafeHtml, seg } from '../html.js';
import type { RequestSummary } from '../requests.js';
import type { Ownership, StatusFilter } from '../visibility.js';
import { csrfField, layout, type PageContext, statusLozenge } from './layout.js';
import { dateTime } from './local-time.js';

const OWNERSHIP_LABELS: Record<Exclude<Ownership, 'organization'>, string> = {
  all: 'Any',
  mine: 'Created by me',
  shared: 'Shared with me',
  approvals: 'Approvals (I am an approver)',
};
const STATUS_LABELS: Record<StatusFilter, string> = {
  open: 'Open requests',
  closed: 'Closed requests',
  all: 'All requests',
};

export interface ListState {
  ownership: Ownership;
  /** With `organization`: which one. */
  organizationId?: string | undefined;
  status: StatusFilter;
  search: string;
  nextPageToken?: string | undefined;
}

/** The filter's value: one of the ownership choices, or `org-<id>` for one organization. */
function ownershipValue(state: Pick<ListState, 'ownership' | 'organizationId'>): string {
  return state.ownership === 'organization' && state.organizationId
    ? `org-${state.organizationId}`
    : state.ownership;
}

function listQuery(state: ListState, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    status: state.status,
    ownership: ownershipValue(state),
    ...(state.search ? { q: state.search } : {}),
    ...extra,
  });
  return `/requests?${params.toString()}`;
}

export function requestsPage(
  ctx: PageContext,
  requests: RequestSummary[],
  state: ListState,
  organizations: readonly OrganizationDTO[],
): SafeHtml {
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const ownership = ownershipValue(state);
  const cell = (label: string, content: HtmlValue) => html`<td data-label="${label}">${content}</td>`;
  return layout(
    ctx,
    'Requests',
    html`<h1>Requests</h1>
    <form class="filters card" method="get" action="/requests" role="search" aria-label="Filter requests">
      <div><label for="flt-status">Status</label><select id="flt-status" name="status">${(
        Object.keys(STATUS_LABELS) as StatusFilter[]
      ).map((k) => option(k, STATUS_LABELS[k], state.status))}</select></div>
      <div><label for="flt-ownership">Requests</label><select id="flt-ownership" name="ownership">${Object.entries(
        OWNERSHIP_LABELS,
      ).map(([k, label]) => option(k, label, ownership))}${
        organizations.length > 0
          ? html`<optgroup label="Shared with my organization">${organizations.map((o) =>
              option(`org-${o.id}`, o.name, ownership),
            )}</optgroup>`
          : ''
      }</select></div>
      <div><label for="flt-q">Search</label><input id="flt-q" type="search" name="q" value="${state.search}" maxlength="100"></div>
      <div><button type="submit">Filter</button></div>
    </form>
    ${
      requests.length === 0
        ? html`<p class="empty">No requests found.</p>`
        : html`<table class="cards"><caption class="muted">${STATUS_LABELS[state.status]}</caption>
      <thead><tr><th scope="col">Reference</th><th scope="col">Summary</th><th scope="col">Status</th><th scope="col">Requester</th><th scope="col">Created</th></tr></thead>
      <tbody>${requests.map(
        (r) =>
          html`<tr>${cell('Reference', html`<a href="/requests/${seg(r.key)}">${r.key}</a>`)}${cell('Summary', html`<a href="/requests/${seg(r.key)}">${r.summary}</a>`)}${cell('Status', statusLozenge(r.status, r.statusCategory))}${cell('Requester', r.reporterName)}${cell('Created', dateTime(ctx.i18n, r.created))}</tr>`,
      )}</tbody></table>`
    }
    <nav aria-label="Pages">${state.nextPageToken ? html`<a class="button" href="${listQuery(state, { page: state.nextPageToken })}">Next page</a>` : ''}
    ${state.nextPageToken !== undefined || requests.length > 0 ? html` <a href="${listQuery(state)}">First page</a>` : ''}</nav>`,
  );
}

/** Asks before a transition (Resolve, Cancel request, ...), with an optional comment sent along. */
export function transitionConfirmPage(
  ctx: PageContext,
  v: { key: string; summary: string; transition: TransitionDTO; csrf: string },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  return layout(
    ctx,
    `${v.transition.name}: ${v.key}`,
    html`<nav aria-label="Breadcrumb"><a href="/requests">Requests</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${v.transition.name}?</h1>
    <form class="card" method="post" action="${back}/transition">${csrfField(v.csrf)}
      <input type="hidden" name="transition" value="${v.transition.id}">
      <p><strong>${v.key}</strong> ${v.summary} will be updated with “${v.transition.name}”. The help desk sees this change.</p>
      <label for="transition-comment">Add a comment (optional)</label>
      <textarea id="transition-comment" name="body" maxlength="32000"></textarea>
      <p><button type="submit">${v.transition.name}</button> <a href="${back}">Keep the request as it is</a></p>
    </form>`,
  );
}
