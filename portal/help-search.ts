/**
 * "How can we help?": one search over what a visitor may use — the request types of their desks
 * and the articles of those desks' knowledge bases. An anonymous visitor (spec.portal.anonymousAccess)
 * searches articles only: request types lead to forms that need sign-in.
 */
import type { RequestTypeDTO } from './atlassian/types.js';
import type { Catalogue, Desk } from './catalogue.js';
import type { ArticleHit, KnowledgeBase } from './knowledge-base.js';

export interface RequestTypeHit {
  desk: Desk;
  type: RequestTypeDTO;
}

export interface HelpResults {
  query: string;
  /** Undefined for an anonymous visitor: request types are not searched. */
  requestTypes: RequestTypeHit[] | undefined;
  articles: ArticleHit[];
}

const MAX_REQUEST_TYPES = 20;

/** Every word of the query appears in the request type's name or description. */
export function requestTypeMatches(
  type: Pick<RequestTypeDTO, 'name' | 'description'>,
  query: string,
): boolean {
  const text = `${type.name} ${type.description ?? ''}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .every((w) => text.includes(w));
}

export async function searchHelp(
  query: string,
  desks: readonly Desk[],
  sources: { catalogue: Catalogue; knowledgeBase: KnowledgeBase },
  options: { requestTypes: boolean },
): Promise<HelpResults> {
  const [types, articles] = await Promise.all([
    options.requestTypes
      ? Promise.all(
          desks.map(async (desk) =>
            (await sources.catalogue.portalRequestTypes(desk.id))
              .filter((type) => requestTypeMatches(type, query))
              .map((type) => ({ desk, type })),
          ),
        )
      : undefined,
    sources.knowledgeBase.search(query, desks),
  ]);
  return { query, requestTypes: types?.flat().slice(0, MAX_REQUEST_TYPES), articles };
}
