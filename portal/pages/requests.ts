import type { MessageKey } from '../../common/i18n/index.js';
import type { OrganizationDTO, TransitionDTO } from '../atlassian/types.js';
import { type HtmlValue, html, type SafeHtml, seg } from '../html.js';
import type { RequestSummary } from '../requests.js';
import type { Ownership, StatusFilter } from '../visibility.js';
import { csrfField, layout, type PageContext, statusLozenge } from './layout.js';
import { dateTime } from './local-time.js';
import { richText } from './rich-text.js';

const OWNERSHIP_LABELS: Record<Exclude<Ownership, 'organization'>, MessageKey> = {
  all: 'requests.ownership.all',
  mine: 'requests.ownership.mine',
  shared: 'requests.ownership.shared',
  approvals: 'requests.ownership.approvals',
};
const STATUS_LABELS: Record<StatusFilter, MessageKey> = {
  open: 'requests.status.open',
  closed: 'requests.status.closed',
  all: 'requests.status.all',
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

const COLUMNS: MessageKey[] = [
  'requests.column.reference',
  'requests.column.summary',
  'requests.column.status',
  'requests.column.requester',
  'requests.column.created',
];

export function requestsPage(
  ctx: PageContext,
  requests: RequestSummary[],
  state: ListState,
  organizations: readonly OrganizationDTO[],
): SafeHtml {
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const ownership = ownershipValue(state);
  const { t } = ctx.i18n;
  const cell = (label: MessageKey, content: HtmlValue) => html`<td data-label="${t(label)}">${content}</td>`;
  return layout(
    ctx,
    t('requests.title'),
    html`<h1>${t('requests.title')}</h1>
    <form class="filters card" method="get" action="/requests" role="search" aria-label="${t('requests.filterLabel')}">
      <div><label for="flt-status">${t('requests.status')}</label><select id="flt-status" name="status">${(
        Object.keys(STATUS_LABELS) as StatusFilter[]
      ).map((k) => option(k, t(STATUS_LABELS[k]), state.status))}</select></div>
      <div><label for="flt-ownership">${t('requests.ownership')}</label><select id="flt-ownership" name="ownership">${Object.entries(
        OWNERSHIP_LABELS,
      ).map(([k, label]) => option(k, t(label), ownership))}${
        organizations.length > 0
          ? html`<optgroup label="${t('requests.ownership.organizations')}">${organizations.map((o) =>
              option(`org-${o.id}`, o.name, ownership),
            )}</optgroup>`
          : ''
      }</select></div>
      <div><label for="flt-q">${t('requests.search')}</label><input id="flt-q" type="search" name="q" value="${state.search}" maxlength="100"></div>
      <div><button type="submit">${t('requests.filter')}</button></div>
    </form>
    ${
      requests.length === 0
        ? html`<p class="empty">${t('requests.empty')}</p>`
        : html`<table class="cards"><caption class="muted">${t(STATUS_LABELS[state.status])}</caption>
      <thead><tr>${COLUMNS.map((c) => html`<th scope="col">${t(c)}</th>`)}</tr></thead>
      <tbody>${requests.map(
        (r) =>
          html`<tr>${cell('requests.column.reference', html`<a href="/requests/${seg(r.key)}">${r.key}</a>`)}${cell('requests.column.summary', html`<a href="/requests/${seg(r.key)}">${r.summary}</a>`)}${cell('requests.column.status', statusLozenge(r.status, r.statusCategory))}${cell('requests.column.requester', r.reporterName)}${cell('requests.column.created', dateTime(ctx.i18n, r.created))}</tr>`,
      )}</tbody></table>`
    }
    <nav aria-label="${t('requests.pages')}">${state.nextPageToken ? html`<a class="button" href="${listQuery(state, { page: state.nextPageToken })}">${t('requests.nextPage')}</a>` : ''}
    ${state.nextPageToken !== undefined || requests.length > 0 ? html` <a href="${listQuery(state)}">${t('requests.firstPage')}</a>` : ''}</nav>`,
  );
}

/** Asks before a transition (Resolve, Cancel request, ...), with an optional comment sent along. */
export function transitionConfirmPage(
  ctx: PageContext,
  v: { key: string; summary: string; transition: TransitionDTO; csrf: string },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  const { t } = ctx.i18n;
  const names = { key: v.key, summary: v.summary, transition: v.transition.name };
  return layout(
    ctx,
    t('transition.title', names),
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${t('transition.question', names)}</h1>
    <form class="card" method="post" action="${back}/transition">${csrfField(v.csrf)}
      <input type="hidden" name="transition" value="${v.transition.id}">
      <p>${richText(ctx.i18n, 'transition.explain', { strong: (text) => html`<strong>${text}</strong>` }, names)}</p>
      <label for="transition-comment">${t('transition.comment')}</label>
      <textarea id="transition-comment" name="body" maxlength="32000"></textarea>
      <p><button type="submit">${v.transition.name}</button> <a href="${back}">${t('transition.keep')}</a></p>
    </form>`,
  );
}
