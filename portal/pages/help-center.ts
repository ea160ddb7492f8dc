import type { RequestTypeDTO, RequestTypeGroupDTO } from '../atlassian/types.js';
import type { Desk } from '../catalogue.js';
import { html, type SafeHtml, seg } from '../html.js';
import type { Article, ArticleHit } from '../knowledge-base.js';
import { layout, type PageContext } from './layout.js';

export function homePage(
  ctx: PageContext,
  desks: Desk[],
  kb: { query: string; articles: ArticleHit[] } | undefined,
): SafeHtml {
  const hero = html`<section class="hero" aria-labelledby="welcome"><div>
  <h1 id="welcome">Welcome to ${ctx.title}</h1>
  <form role="search" method="get" action="/" aria-label="Search the knowledge base">
    <label for="kb-q">What can we help you with?</label>
    <input id="kb-q" type="search" name="q" value="${kb?.query ?? ''}" maxlength="200">
    <button type="submit">Search</button>
  </form></div></section>`;
  const results = kb
    ? html`<section class="card" aria-labelledby="kb-h"><h2 id="kb-h">Knowledge base results</h2>
      ${
        kb.articles.length === 0
          ? html`<p class="muted">No articles match your search.</p>`
          : html`<ul>${kb.articles.map((a) => html`<li><a href="${articlePath(a)}"><strong>${a.title}</strong></a><br><span class="muted">${a.excerpt}</span></li>`)}</ul>`
      }</section>`
    : '';
  return layout(
    ctx,
    'Help center',
    html`${results}<h2>Service desks</h2>
    ${desks.length === 0 ? html`<p>No service desks are available to you.</p>` : ''}
    <div class="grid">${desks.map(
      (d) =>
        html`<a class="card" href="/desk/${seg(d.id)}"><strong>${d.name}</strong><br><span class="muted">Raise a request</span></a>`,
    )}</div>`,
    { hero },
  );
}

/** An article's page: found again by its desk, page id and title (portal/knowledge-base.ts). */
export function articlePath(a: Pick<ArticleHit, 'serviceDeskId' | 'pageId' | 'title'>): string {
  return `/desk/${seg(a.serviceDeskId)}/article/${seg(a.pageId)}?${new URLSearchParams({ title: a.title }).toString()}`;
}

export function articlePage(ctx: PageContext, desk: Desk, article: Article): SafeHtml {
  return layout(
    ctx,
    article.title,
    html`<nav aria-label="Breadcrumb"><a href="/">Help center</a> / <a href="/desk/${seg(desk.id)}">${desk.name}</a></nav>
    <article class="card kb-article" aria-labelledby="article-h"><h1 id="article-h">${article.title}</h1>${article.body}</article>
    <p class="muted">Still need help? <a href="/desk/${seg(desk.id)}">Raise a request with ${desk.name}</a>.</p>`,
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
): SafeHtml {
  const inGroup = (g: string) =>
    g === OTHER_GROUP
      ? types.filter((t) => !t.groupIds?.some((id) => groups.some((x) => x.id === id)))
      : types.filter((t) => t.groupIds?.includes(g));
  const navigation = [
    ...groups.map((g) => ({ id: g.id, name: g.name })),
    { id: OTHER_GROUP, name: 'Other' },
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
    html`<nav aria-label="Breadcrumb"><a href="/">Help center</a> / ${desk.name}</nav>
    <h1>${desk.name}</h1>
    <form role="search" method="get" action="${deskPath}">
      <label for="rt-q">Find a request type</label>
      <input id="rt-q" type="search" name="q" value="${search}" maxlength="100"> <button type="submit">Search</button>
    </form>
    <div class="desk-layout">
      <nav class="groups" aria-label="Request type groups"><ul>${navigation.map(
        (g) =>
          html`<li><a href="${deskPath}?${new URLSearchParams({ group: g.id }).toString()}"${g.id === chosen?.id ? html` aria-current="page"` : ''}>${g.name}</a></li>`,
      )}</ul></nav>
      <section aria-labelledby="types-h"><h2 id="types-h">${search ? `Request types matching “${search}”` : (chosen?.name ?? 'Request types')}</h2>
      ${
        shown.length === 0
          ? html`<p class="empty">No request types match.</p>`
          : html`<ul class="types" role="list">${shown.map(
              (t) =>
                html`<li class="card type"><img src="${deskPath}/icon/${seg(t.id)}" alt="" width="32" height="32"><div><a href="${deskPath}/create/${seg(t.id)}"><strong>${t.name}</strong></a><br><span class="muted">${t.description ?? ''}</span></div></li>`,
            )}</ul>`
      }
      </section>
    </div>`,
  );
}
