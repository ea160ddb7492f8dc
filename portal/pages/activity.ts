// The tenant admins' activity page: who signed in lately, with names asked of Atlassian for this
// view only, a filter, and a button per person that ends all of their portal sessions.

import { type HtmlValue, html, type SafeHtml } from '../../common/http/html.js';
import type { MessageKey } from '../../common/i18n/index.js';
import {
  ACTIVITY_PERIODS,
  type ActivityEntry,
  type ActivityFilter,
  type ActivityPeriod,
} from '../activity.js';
import { csrfField, layout, type PageContext } from './layout.js';
import { dateTime } from './local-time.js';

/** The table's columns, also the labels of each card's lines on a phone. */
const COLUMNS: readonly MessageKey[] = [
  'activity.name',
  'activity.accountId',
  'activity.lastSignIn',
  'activity.clientIp',
  'activity.sessions',
];

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
  const { t } = ctx.i18n;
  const cell = (label: MessageKey, content: HtmlValue) => html`<td data-label="${t(label)}">${content}</td>`;
  const nameOf = (accountId: string) => names?.get(accountId);
  const pager =
    view.pageCount > 1
      ? html`<nav aria-label="${t('requests.pages')}" class="pager">${
          filter.page > 1
            ? html`<a class="button secondary" href="${activityLink(filter, filter.page - 1)}">${t('activity.previousPage')}</a>`
            : ''
        } <span>${t('activity.pageOf', { page: filter.page, count: view.pageCount })}</span> ${
          filter.page < view.pageCount
            ? html`<a class="button secondary" href="${activityLink(filter, filter.page + 1)}">${t('requests.nextPage')}</a>`
            : ''
        }</nav>`
      : '';
  return layout(
    ctx,
    t('activity.title'),
    html`<h1>${t('activity.heading')}</h1>
    <p class="muted">${t('activity.intro')}</p>
    ${view.revoked ? html`<p class="notice" role="status">${t('activity.revoked', { name: view.revoked })}</p>` : ''}
    ${names ? '' : html`<p class="alert" role="status">${t('activity.namesUnavailable')}</p>`}
    <form class="filters card" method="get" action="/activity" role="search" aria-label="${t('activity.filter')}">
      <div><label for="act-q">${t('activity.query')}</label><input id="act-q" type="search" name="q" value="${filter.query}" maxlength="100"></div>
      <div><label for="act-since">${t('activity.period')}</label><select id="act-since" name="since">${(
        Object.keys(ACTIVITY_PERIODS) as ActivityPeriod[]
      ).map(
        (p) =>
          html`<option value="${p}"${p === filter.period ? ' selected' : ''}>${t(`activity.period.${p}`)}</option>`,
      )}</select></div>
      <div><button type="submit">${t('activity.filterButton')}</button></div>
    </form>
    <p class="muted" id="act-count">${t('activity.count', { count: view.total })}</p>
    ${
      view.entries.length === 0
        ? html`<p class="empty">${t('activity.empty')}</p>`
        : html`<table class="cards"><caption class="muted">${t('activity.caption')}</caption>
    <thead><tr>${COLUMNS.map((c) => html`<th scope="col">${t(c)}</th>`)}</tr></thead>
    <tbody>${view.entries.map((e) => {
      const name = nameOf(e.accountId);
      return html`<tr>${cell('activity.name', name ?? html`<span class="muted">${t('activity.unknownName')}</span>`)}${cell('activity.accountId', html`<code>${e.accountId}</code>`)}${cell('activity.lastSignIn', dateTime(ctx.i18n, e.lastLoginAt))}${cell('activity.clientIp', e.ip)}${cell(
        'activity.sessions',
        html`<form method="post" action="/activity/revoke" class="inline">${csrfField(view.csrf)}<input type="hidden" name="accountId" value="${e.accountId}"><button type="submit" class="secondary" aria-label="${t('activity.endSessionsOf', { name: name ?? e.accountId })}">${t('activity.endSessions')}</button></form>`,
      )}</tr>`;
    })}</tbody></table>`
    }
    ${pager}`,
  );
}
