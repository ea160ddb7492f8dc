// Knowledge base article search (experimental in the servicedeskapi, hence the opt-in header).
import type { Request, Response } from 'express';
import { badRequest, locals, notFound, pageOf, single } from '../http.js';
import type { EmulatorState } from '../state.js';
import { canUseDesk } from '../visibility.js';

export function searchArticles(
  state: EmulatorState,
  req: Request,
  res: Response,
  path: string,
  serviceDeskId?: string,
): void {
  const { caller, links } = locals(res);
  const query = single(req, 'query');
  if (query === undefined || query.trim() === '')
    throw badRequest('The query parameter is required.', 'sd.kb.search.query.required');
  const highlight = single(req, 'highlight') === 'true';
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  const found = state.articles.filter((a) => {
    const desk = state.serviceDesks.get(a.serviceDeskId);
    if (
      !desk ||
      !canUseDesk(state, caller, desk) ||
      (serviceDeskId !== undefined && a.serviceDeskId !== serviceDeskId)
    )
      return false;
    const text = `${a.title} ${a.body}`.toLowerCase();
    return words.some((w) => text.includes(w));
  });
  const mark = (text: string) =>
    highlight
      ? words.reduce(
          (t, w) =>
            t.replace(
              new RegExp(w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'),
              (m) => `@@@hl@@@${m}@@@endhl@@@`,
            ),
          text,
        )
      : text;
  res.json(
    pageOf(req, res, path, found, (a) => ({
      title: mark(a.title),
      excerpt: mark(a.excerpt),
      source: { type: 'confluence' as const, pageId: a.id, spaceKey: 'KB' },
      content: { iframeSrc: `${links.base}/rest/servicedeskapi/knowledgebase/article/view/${a.id}` },
    })),
  );
}

/**
 * The article body behind `content.iframeSrc` ("the body of the article (without title), suitable
 * for rendering in an iframe"): Confluence's rendered HTML, for a caller who may use the desk.
 */
export function articleView(state: EmulatorState, req: Request, res: Response): void {
  const { caller } = locals(res);
  const id = String(req.params['articleId']);
  const article = state.articles.find((a) => a.id === id);
  const desk = article ? state.serviceDesks.get(article.serviceDeskId) : undefined;
  if (!article || !desk || !canUseDesk(state, caller, desk)) throw notFound('article', id);
  res.type('text/html; charset=utf-8').send(`<div class="wiki-content">${article.body}</div>`);
}
