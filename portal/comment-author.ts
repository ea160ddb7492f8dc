/**
 * Who wrote a comment. The portal writes every customer's comment as its service account, so the
 * body it writes opens with a paragraph naming the customer: `Alice Anders (via the help center):`.
 * Agents read that line in Jira and in Atlassian's notification e-mails; the portal reads it back,
 * shows the customer as the author and leaves the line out of the body it shows
 * (docs/decisions/0080-comment-authors-named-in-the-body.md).
 *
 * The line is believed only on comments the service account wrote: every one of those was written
 * by the portal with the line in front, so what a customer types can never stand in for it, and a
 * comment by an agent is that agent's whatever it starts with.
 *
 * The name is written as its characters, none of them markup (wiki-text.ts, ADR 0273): it is no
 * text she typed on the page, and Jira would otherwise render a link or macro in it.
 */
import { replaceControlCharacters } from './text.js';
import { withoutHiddenFiles } from './wiki-files.js';
import { withoutMentions } from './wiki-mentions.js';
import { asWikiText, fromWikiText } from './wiki-text.js';

const VIA = ' (via the help center):';
/**
 * The first paragraph of a portal-written body: the author's name and the fixed suffix. A name of
 * 255 characters is up to twice as long escaped.
 */
const AUTHOR_LINE = /^([^\n]{1,510}) \(via the help center\):[ \t]*(?:\n[ \t]*\n|$)/;

/**
 * The body the service account writes for `displayName`: their name first, then their text, as wiki
 * markup that mentions nobody (wiki-mentions.ts) and names no file but one `shownFile` says the
 * customer may open (wiki-files.ts; by default none).
 */
export function authoredBody(
  displayName: string,
  text: string,
  shownFile: (name: string) => boolean = () => false,
): string {
  const name = asWikiText(replaceControlCharacters(displayName, ' ').trim()) || 'A customer';
  return withoutHiddenFiles(withoutMentions(`${name}${VIA}\n\n${text}`), shownFile);
}

export interface CommentAuthor {
  /** The name shown as the comment's author. */
  name: string;
  /** True when the portal wrote the comment for a customer (the body opened with their name). */
  viaPortal: boolean;
  /** The wiki-markup body without the author line. */
  body: string;
}

/** The author of a comment as a customer should see it. */
export function commentAuthor(
  comment: { body?: string | undefined; author?: { accountId: string; displayName?: string | undefined } },
  serviceAccountId: string,
): CommentAuthor {
  const body = (comment.body ?? '').replace(/\r\n?/g, '\n');
  const line = comment.author?.accountId === serviceAccountId ? AUTHOR_LINE.exec(body) : null;
  if (line) return { name: fromWikiText(line[1]!.trim()), viaPortal: true, body: body.slice(line[0].length) };
  return { name: comment.author?.displayName ?? '', viaPortal: false, body };
}

/**
 * Atlassian's rendered HTML of a portal-written comment without the author line, which the
 * renderer makes the first paragraph (the line is a paragraph of its own). Anything else first is
 * left alone.
 */
export function withoutAuthorParagraph(renderedHtml: string): string {
  const first = /^\s*<p>([\s\S]*?)<\/p>\s*/.exec(renderedHtml);
  const text = first?.[1]?.replace(/<[^>]*>/g, '').trim();
  return first && text?.endsWith(VIA.trim()) ? renderedHtml.slice(first[0].length) : renderedHtml;
}
