import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { MessageKey } from '../../common/i18n/index.js';
import type { RequestTypeDTO, RequestTypeGroupDTO } from '../atlassian/types.js';
import type { Desk } from '../catalogue.js';
import type { HelpResults } from '../help-search.js';
import type { Article, ArticleHit } from '../knowledge-base.js';
import { SIGN_IN_PATH } from '../return-path.js';
import { layout, type PageContext } from './layout.js';
import { typeDescription } from './request-type-text.js';
import { richText } from './rich-text.js';

/** Who is looking: a signed-in customer, or an anonymous reader of the knowledge base. */
export type Visitor = 'customer' | 'anonymous';

const signInPrompt = (ctx: PageContext) =>
  html`<p>${richText(ctx.i18n, 'home.signInPrompt', { link: (text) => html`<a class="button" href="${SIGN_IN_PATH}">${text}</a>` })}</p>`;

function articleList(ctx: PageContext, articles: readonly ArticleHit[]): SafeHtml {
  return articles.length === 0
    ? html`<p class="empty">${ctx.i18n.t('home.kbNoResults')}</p>`
    : html`<ul class="articles">${articles.map((a) => html`<li><a href="${articlePath(a)}"><strong>${a.title}</strong></a><br><span class="muted">${a.excerpt}</span></li>`)}</ul>`;
}

/** A knowledge base section: the articles found, or how to find some. */
function knowledgeSection(
  ctx: PageContext,
  desks: readonly Desk[],
  articles: readonly ArticleHit[] | undefined,
): SafeHtml {
  const { t } = ctx.i18n;
  return html`<section class="card" aria-labelledby="kb-h"><h2 id="kb-h">${t('home.knowledgeBase')}</h2>
    ${
      articles
        ? articleList(ctx, articles)
        : html`<p class="muted">${desks.length === 0 ? t('home.kbNone') : t('home.kbHint', { desks: desks.map((d) => d.name).join(', ') })}</p>`
    }</section>`;
}

export function homePage(
  ctx: PageContext,
  desks: Desk[],
  search: HelpResults | undefined,
  visitor: Visitor = 'customer',
): SafeHtml {
  const { t } = ctx.i18n;
  const hero = html`<section class="hero" aria-labelledby="welcome"><div>
  <h1 id="welcome">${t('home.welcome', { site: ctx.title })}</h1>
  <form role="search" method="get" action="/" aria-label="${t('home.searchLabel')}">
    <label for="kb-q">${t('home.searchPrompt')}</label>
    <input id="kb-q" type="search" name="q" value="${search?.query ?? ''}" maxlength="200">
    <button type="submit">${t('home.search')}</button>
  </form></div></section>`;
  const requestTypes = search?.requestTypes
    ? html`<section class="card" aria-labelledby="rt-h"><h2 id="rt-h">${t('home.requestTypes')}</h2>
      ${
        search.requestTypes.length === 0
          ? html`<p class="empty">${t('home.requestTypesNoResults')}</p>`
          : html`<ul class="articles">${search.requestTypes.map((hit) => html`<li><a href="/desk/${seg(hit.desk.id)}/create/${seg(hit.type.id)}"><strong>${hit.type.name}</strong></a> <span class="muted">(${hit.desk.name})</span>${typeDescription(ctx, hit.type)}</li>`)}</ul>`
      }</section>`
    : '';
  return layout(
    ctx,
    t('home.title'),
    html`${announcement(ctx)}${requestTypes}${search ? knowledgeSection(ctx, desks, search.articles) : ''}<h2>${t('home.desks')}</h2>
    ${desks.length === 0 ? html`<p class="empty">${t('home.noDesks')}</p>` : ''}
    <div class="grid">${desks.map(
      (d) =>
        html`<a class="card" href="/desk/${seg(d.id)}"><strong>${d.name}</strong><br><span class="muted">${visitor === 'anonymous' ? t('home.knowledgeBase') : t('home.raiseRequest')}</span></a>`,
    )}</div>
    ${search ? '' : knowledgeSection(ctx, desks, undefined)}
    ${visitor === 'anonymous' ? signInPrompt(ctx) : ''}`,
    { hero },
  );
}

/** A desk page's breadcrumb, title and search form. */
function deskHeading(
  ctx: PageContext,
  desk: Desk,
  search: string,
  field: { id: string; label: MessageKey },
): SafeHtml {
  const { t } = ctx.i18n;
  return html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/">${t('home.title')}</a> / ${desk.name}</nav>
    <h1>${desk.name}</h1>
    <form role="search" method="get" action="/desk/${seg(desk.id)}">
      <label for="${field.id}">${t(field.label)}</label>
      <input id="${field.id}" type="search" name="q" value="${search}" maxlength="100"> <button type="submit">${t('home.search')}</button>
    </form>`;
}

/**
 * The help center's announcement (spec.portal.announcement), where native shows it: on the help
 * center's home and on each service desk's page. Text only, escaped like every value.
 */
function announcement(ctx: PageContext): SafeHtml {
  return ctx.announcement
    ? html`<section class="card announcement" aria-labelledby="announcement-h"><h2 id="announcement-h">${ctx.i18n.t('home.announcement')}</h2><p>${ctx.announcement}</p></section>`
    : html``;
}

/** A desk as an anonymous visitor sees it: its knowledge base only, and the way to sign in. */
export function publicDeskPage(
  ctx: PageContext,
  desk: Desk,
  search: string,
  articles: ArticleHit[] | undefined,
): SafeHtml {
  return layout(
    ctx,
    desk.name,
    html`${deskHeading(ctx, desk, search, { id: 'kb-desk-q', label: 'desk.searchKnowledgeBase' })}
    ${announcement(ctx)}
    ${knowledgeSection(ctx, [desk], articles)}
    ${signInPrompt(ctx)}`,
  );
}

/** An article's page: found again by its desk, page id and title (portal/knowledge-base.ts). */
export function articlePath(a: Pick<ArticleHit, 'serviceDeskId' | 'pageId' | 'title'>): string {
  return `/desk/${seg(a.serviceDeskId)}/article/${seg(a.pageId)}?${new URLSearchParams({ title: a.title }).toString()}`;
}

export function articlePage(ctx: PageContext, desk: Desk, article: Article): SafeHtml {
  const { t } = ctx.i18n;
  const deskLink = (text: SafeHtml) => html`<a href="/desk/${seg(desk.id)}">${text}</a>`;
  return layout(
    ctx,
    article.title,
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/">${t('home.title')}</a> / ${deskLink(html`${desk.name}`)}</nav>
    <article class="card kb-article" aria-labelledby="article-h"><h1 id="article-h">${article.title}</h1>${article.body}</article>
    <p class="muted">${richText(ctx.i18n, 'article.stillNeedHelp', { link: deskLink }, { desk: desk.name })}</p>`,
  );
}

/** The pseudo-group of request types that are in none of the desk's groups. */
const OTHER_GROUP = 'other';

/**
 * A desk as native shows it: its groups as a left-hand navigation (links, no script), the chosen
 * group's request types with their icons and descriptions, and a search across all of them.
 */
export function deskPage(
  ctx: PageContext,
  desk: Desk,
  groups: RequestTypeGroupDTO[],
  types: RequestTypeDTO[],
  search: string,
  chosenGroupId: string | undefined,
  /** The desk's articles matching `search` (none searched without one). */
  articles?: ArticleHit[],
): SafeHtml {
  const { t } = ctx.i18n;
  const inGroup = (g: string) =>
    g === OTHER_GROUP
      ? types.filter((t) => !t.groupIds?.some((id) => groups.some((x) => x.id === id)))
      : types.filter((t) => t.groupIds?.includes(g));
  const navigation = [
    ...groups.map((g) => ({ id: g.id, name: g.name })),
    { id: OTHER_GROUP, name: t('desk.otherGroup') },
  ].filter((g) => inGroup(g.id).length > 0);
  const chosen = search ? undefined : (navigation.find((g) => g.id === chosenGroupId) ?? navigation[0]);
  const shown = search
    ? types.filter((t) => `${t.name} ${t.description ?? ''}`.toLowerCase().includes(search.toLowerCase()))
    : chosen
      ? inGroup(chosen.id)
      : [];
  const deskPath = `/desk/${seg(desk.id)}`;
  return layout(
    ctx,
    desk.name,
    html`${deskHeading(ctx, desk, search, { id: 'rt-q', label: 'desk.searchAll' })}
    ${announcement(ctx)}
    <div class="desk-layout">
      <nav class="groups" aria-label="${t('desk.groupsNav')}"><ul>${navigation.map(
        (g) =>
          html`<li><a href="${deskPath}?${new URLSearchParams({ group: g.id }).toString()}"${g.id === chosen?.id ? html` aria-current="page"` : ''}>${g.name}</a></li>`,
      )}</ul></nav>
      <section aria-labelledby="types-h"><h2 id="types-h">${search ? t('desk.matching', { search }) : (chosen?.name ?? t('desk.requestTypes'))}</h2>
      ${
        shown.length === 0
          ? html`<p class="empty">${t('desk.noMatches')}</p>`
          : html`<ul class="types" role="list">${shown.map(
              (t) =>
                html`<li class="card type"><img src="${deskPath}/icon/${seg(t.id)}" alt="" width="32" height="32"><div><a href="${deskPath}/create/${seg(t.id)}"><strong>${t.name}</strong></a>${typeDescription(ctx, t)}</div></li>`,
            )}</ul>`
      }
      </section>
    </div>
    ${knowledgeSection(ctx, [desk], search ? (articles ?? []) : undefined)}`,
  );
}
