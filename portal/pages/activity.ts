// The tenant admins' activity page: who signed in lately, with names asked of Atlassian for this
// view only, a filter, and a button per person that ends all of their portal sessions.
import {
  ACTIVITY_PERIODS,
  type ActivityEntry,
  type ActivityFilter,
  type ActivityPeriod,
} from '../activity.js';
import { type HtmlValue, html, type SafeHtml } from '../html.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { dateTime } from './local-time.js';

export interface ActivityView {
  filter: ActivityFilter;
  /** This page's entries, newest sign-in first. */
  entries: ActivityEntry[];
  /** Display names by accountId, fetched from Atlassian for this view; undefined when it failed. */
  names: ReadonlyMap<string, string> | undefined;
  /** All entries the filter keeps, over every page. */
  total: number;
  pageCount: number;
  csrf: string;
  /** The account whose sessions were just ended (its name when known). */
  revoked?: string | undefined;
}

const PERIOD_LABELS: Record<ActivityPeriod, string> = {
  all: 'Last 30 days',
  day: 'Last 24 hours',
  week: 'Last 7 days',
};

function activityLink(filter: ActivityFilter, page: number): string {
  const params = new URLSearchParams({
    ...(filter.query ? { q: filter.query } : {}),
    ...(filter.period !== 'all' ? { since: filter.period } : {}),
    ...(page > 1 ? { page: String(page) } : {}),
  });
  const query = params.toString();
  return query ? `/activity?${query}` : '/activity';
}

export function activityPage(ctx: PageContext, view: ActivityView): SafeHtml {
  const { filter, names } = view;
  const cell = (label: string, content: HtmlValue) => html`<td data-label="${label}">${content}</td>`;
  const nameOf = (accountId: string) => names?.get(accountId);
  const pager =
    view.pageCount > 1
      ? html`<nav aria-label="Pages" class="pager">${
          filter.page > 1
            ? html`<a class="button secondary" href="${activityLink(filter, filter.page - 1)}">Previous page</a>`
            : ''
        } <span>Page ${String(filter.page)} of ${String(view.pageCount)}</span> ${
          filter.page < view.pageCount
            ? html`<a class="button secondary" href="${activityLink(filter, filter.page + 1)}">Next page</a>`
            : ''
        }</nav>`
      : '';
  return layout(
    ctx,
    'Activity',
    html`<h1>Customer activity</h1>
    <p class="muted">The most recent sign-ins (up to 500, kept 30 days). The portal keeps only Atlassian account IDs, client IPs and sign-in times; names are asked of Atlassian each time this page is shown and are not kept.</p>
    ${view.revoked ? html`<p class="notice" role="status">Every portal session of ${view.revoked} has ended. They must sign in again.</p>` : ''}
    ${names ? '' : html`<p class="alert" role="status">Names cannot be fetched from Atlassian right now; people are shown by account ID.</p>`}
    <form class="filters card" method="get" action="/activity" role="search" aria-label="Filter activity">
      <div><label for="act-q">Name, e-mail, account ID or IP</label><input id="act-q" type="search" name="q" value="${filter.query}" maxlength="100"></div>
      <div><label for="act-since">Signed in</label><select id="act-since" name="since">${(
        Object.keys(ACTIVITY_PERIODS) as ActivityPeriod[]
      ).map(
        (p) =>
          html`<option value="${p}"${p === filter.period ? ' selected' : ''}>${PERIOD_LABELS[p]}</option>`,
      )}</select></div>
      <div><button type="submit">Filter</button></div>
    </form>
    <p class="muted" id="act-count">${String(view.total)} ${view.total === 1 ? 'person' : 'people'}</p>
    ${
      view.entries.length === 0
        ? html`<p class="empty">No sign-ins match.</p>`
        : html`<table class="cards"><caption class="muted">Sign-ins, newest first</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Account ID</th><th scope="col">Last sign-in</th><th scope="col">Client IP</th><th scope="col">Sessions</th></tr></thead>
    <tbody>${view.entries.map((e) => {
      const name = nameOf(e.accountId);
      return html`<tr>${cell('Name', name ?? html`<span class="muted">Unknown</span>`)}${cell('Account ID', html`<code>${e.accountId}</code>`)}${cell('Last sign-in', dateTime(ctx.i18n, e.lastLoginAt))}${cell('Client IP', e.ip)}${cell(
        'Sessions',
        html`<form method="post" action="/activity/revoke" class="inline">${csrfField(view.csrf)}<input type="hidden" name="accountId" value="${e.accountId}"><button type="submit" class="secondary" aria-label="End sessions of ${name ?? e.accountId}">End sessions</button></form>`,
      )}</tr>`;
    })}</tbody></table>`
    }
    ${pager}`,
  );
}
