import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { TransitionDTO, UserDTO } from '../atlassian/types.js';
import type { PageReference } from '../reference.js';
import { MAX_TYPED_TEXT } from '../typed-text.js';
import { csrfField, layout, type PageContext, writeKeyField } from './layout.js';
import { referenceLine } from './reference.js';
import { richText } from './rich-text.js';

/**
 * Asks before a transition (Resolve, Cancel request, ...), with an optional comment sent along. Shown
 * again, its form under the same key, with the comment typed and why it was not sent (`error`, its
 * `reference`).
 */
export function transitionConfirmPage(
  ctx: PageContext,
  v: {
    key: string;
    summary: string;
    transition: TransitionDTO;
    csrf: string;
    writeKey: string;
    comment?: string;
    error?: string;
    reference?: PageReference;
  },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  const { t } = ctx.i18n;
  const names = { key: v.key, summary: v.summary, transition: v.transition.name };
  return layout(
    ctx,
    t('transition.title', names),
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${t('transition.question', names)}</h1>
    ${v.error ? html`<p class="alert" role="alert">${v.error}${v.reference ? html`<br>${referenceLine(ctx, v.reference)}` : ''}</p>` : ''}
    <form class="card" method="post" action="${back}/transition">${csrfField(v.csrf)}${writeKeyField(v.writeKey)}
      <input type="hidden" name="transition" value="${v.transition.id}">
      <p>${richText(ctx.i18n, 'transition.explain', { strong: (text) => html`<strong>${text}</strong>` }, names)}</p>
      <label for="transition-comment">${t('transition.comment')}</label>
      <textarea id="transition-comment" name="body" maxlength="${MAX_TYPED_TEXT}">${v.comment ?? ''}</textarea>
      <p><button type="submit">${v.transition.name}</button> <a href="${back}">${t('transition.keep')}</a></p>
    </form>`,
  );
}

/**
 * Shares a request with someone from the customer's organizations: the people are read for this
 * page only, not for every view of the request (ADR 0263). A select and a button: no script needed.
 */
export function sharePersonPage(
  ctx: PageContext,
  v: { key: string; summary: string; candidates: UserDTO[]; everyoneListed: boolean; csrf: string },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  const { t } = ctx.i18n;
  const help = v.everyoneListed
    ? ''
    : html`<div id="share-with-help" class="field-help">${t('colleagues.notEveryoneListed')}</div>`;
  return layout(
    ctx,
    `${t('request.shareWithLabel')}: ${v.key}`,
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${v.summary}</h1>
    ${
      v.candidates.length > 0
        ? html`<form class="card" method="post" action="${back}/participants/add">${csrfField(v.csrf)}
      <label for="share-with">${t('request.shareWithLabel')}</label>
      <select id="share-with" name="accountId"${v.everyoneListed ? '' : html` aria-describedby="share-with-help"`}>${v.candidates.map((c) => html`<option value="${c.accountId}">${c.displayName ?? ''}</option>`)}</select>
      ${help}
      <p><button type="submit">${t('request.share')}</button> <a href="${back}">${t('transition.keep')}</a></p>
    </form>`
        : html`<div class="card"><p class="muted empty">${t('request.nobodyToShareWith')}</p>${help}<p><a href="${back}">${t('transition.keep')}</a></p></div>`
    }`,
  );
}
