import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { TransitionDTO } from '../atlassian/types.js';
import { csrfField, layout, type PageContext, writeKeyField } from './layout.js';
import { richText } from './rich-text.js';

/** Asks before a transition (Resolve, Cancel request, ...), with an optional comment sent along. */
export function transitionConfirmPage(
  ctx: PageContext,
  v: { key: string; summary: string; transition: TransitionDTO; csrf: string; writeKey: string },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  const { t } = ctx.i18n;
  const names = { key: v.key, summary: v.summary, transition: v.transition.name };
  return layout(
    ctx,
    t('transition.title', names),
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${t('transition.question', names)}</h1>
    <form class="card" method="post" action="${back}/transition">${csrfField(v.csrf)}${writeKeyField(v.writeKey)}
      <input type="hidden" name="transition" value="${v.transition.id}">
      <p>${richText(ctx.i18n, 'transition.explain', { strong: (text) => html`<strong>${text}</strong>` }, names)}</p>
      <label for="transition-comment">${t('transition.comment')}</label>
      <textarea id="transition-comment" name="body" maxlength="32000"></textarea>
      <p><button type="submit">${v.transition.name}</button> <a href="${back}">${t('transition.keep')}</a></p>
    </form>`,
  );
}
