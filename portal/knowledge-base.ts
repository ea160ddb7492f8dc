/**
 * The knowledge base as a customer sees it: search through the desks they may use, and article pages
 * whose content is the article's own HTML (`content.iframeSrc`) read through the API and sanitised.
 * There is no "get article by id" in JSM's API, so an article is found again by searching its desk
 * for its title and matching the page id: only an article a portal desk offers can be opened.
 */

import type { SafeHtml } from '../common/http/html.js';
import type { AtlassianClient } from './atlassian/client.js';
import type { ArticleDTO } from './atlassian/types.js';
import type { Catalogue, Desk } from './catalogue.js';
import { sanitizeAtlassianHtml } from './sanitize.js';

export interface ArticleHit {
  serviceDeskId: string;
  pageId: string;
  title: string;
  /** Plain text (highlight markup removed). */
  excerpt: string;
}

export interface Article {
  serviceDeskId: string;
  title: string;
  body: SafeHtml;
}

const MAX_HITS = 20;
const PAGE_ID = /^[0-9A-Za-z_-]{1,64}$/;

const plain = (text: string | undefined) => (text ?? '').replace(/<[^>]*>/g, '');
const pageIdOf = (a: ArticleDTO) => {
  const pageId = a.source?.pageId;
  return typeof pageId === 'string' && PAGE_ID.test(pageId) ? pageId : undefined;
};

export class KnowledgeBase {
  readonly #client: AtlassianClient;
  readonly #catalogue: Catalogue;

  constructor(client: AtlassianClient, catalogue: Catalogue) {
    this.#client = client;
    this.#catalogue = catalogue;
  }

  /** Articles of the given desks (the customer's: portal/catalogue.ts `desksFor`). */
  async search(query: string, desks: readonly Desk[]): Promise<ArticleHit[]> {
    const lists = await Promise.all(
      desks.map(async (d) =>
        (await this.#client.knowledgeBase(query, d.id)).flatMap((a): ArticleHit[] => {
          const pageId = pageIdOf(a);
          return pageId
            ? [{ serviceDeskId: d.id, pageId, title: plain(a.title), excerpt: plain(a.excerpt) }]
            : [];
        }),
      ),
    );
    return lists.flat().slice(0, MAX_HITS);
  }

  /** The article, or undefined when no portal desk offers an article with this page id and title. */
  async article(serviceDeskId: string, pageId: string, title: string): Promise<Article | undefined> {
    if (!PAGE_ID.test(pageId) || title.trim() === '') return undefined;
    const desk = await this.#catalogue.desk(serviceDeskId);
    if (!desk) return undefined;
    const found = await this.#client.knowledgeBaseArticle(title, desk.id, (a) => pageIdOf(a) === pageId);
    const src = found?.content?.iframeSrc;
    if (!found || !src) return undefined;
    return {
      serviceDeskId: desk.id,
      title: plain(found.title),
      // articleBody reads src only on the site: so it is the article's absolute URL there.
      body: sanitizeAtlassianHtml(await this.#client.articleBody(src), src),
    };
  }
}
