/**
 * The request's activity as one stream, oldest first as in the native portal: the request being
 * raised, comments (with the files added with them), files added on their own, status changes and
 * approval decisions. Pure: the detail read in, entries out.
 */

import { html, SafeHtml } from '../common/http/html.js';
import { attachmentId } from './atlassian/client.js';
import type { ApprovalDTO, CommentDTO, DateDTO, StatusDTO } from './atlassian/types.js';
import { type CommentAuthor, commentAuthor, withoutAuthorParagraph } from './comment-author.js';
import { epochMillis } from './comment-order.js';
import { type FileView, filesById } from './files.js';
import type { RequestDetail } from './request-detail.js';
import { sanitizeCommentHtml } from './sanitize.js';
import { withoutWriteKey } from './write-once.js';

export type TimelineEntry =
  | { kind: 'raised'; at: string; author: string; status: string }
  /** Right after the raise: the status changes between it and the oldest one read are not shown. */
  | { kind: 'olderStatusesUnread'; at: string }
  /** Right before the oldest comment read: earlier comments are not shown (the newest are, ADR 0293). */
  | { kind: 'earlierCommentsUnread'; at: string }
  | { kind: 'comment'; at: string; author: string; viaPortal: boolean; body: SafeHtml; files: FileView[] }
  | { kind: 'files'; at: string; author: string; files: FileView[] }
  | { kind: 'status'; at: string; status: string; statusCategory: string }
  | { kind: 'approval'; at: string; name: string; decision: 'approved' | 'declined' };

/** Wiki markup that only names files: `[^file.txt]`, `!image.png!`, `!image.png|thumbnail!`. */
const FILE_MARKUP = /\[\^[^\]\n]+\]|![^!\s|][^!\n|]*(?:\|[^!\n]*)?!/g;

/**
 * A comment's body for the page: Atlassian's rendered HTML, sanitized, with links to the request's
 * files pointing at the portal and without the portal's own markers (the author line and the write
 * key). The written text, escaped, when Atlassian gave no rendering.
 */
function commentHtml(
  comment: CommentDTO,
  author: CommentAuthor,
  files: ReadonlyMap<string, FileView>,
  siteOrigin: string,
  typedByCustomer: boolean,
): SafeHtml {
  const rendered = comment.renderedBody?.html;
  if (rendered === undefined) {
    const paragraphs = withoutWriteKey(author.body)
      .split(/\n[ \t]*\n/)
      .map((p) => p.trim())
      .filter((p) => p !== '');
    return html`${paragraphs.map((p) => html`<p>${p}</p>`)}`;
  }
  const clean = sanitizeCommentHtml(rendered, {
    siteOrigin,
    file: (id) => files.get(id),
    typedByCustomer,
  }).value;
  // Only text and whole paragraphs are taken out of sanitized markup, so it stays well-formed.
  const shown = withoutWriteKey(author.viaPortal ? withoutAuthorParagraph(clean) : clean);
  return new SafeHtml(shown.replace(/\s*<p>\s*<\/p>/g, '').trim());
}

/**
 * A text field's value as Atlassian renders it (`renderedValue.html`: a description's wiki markup as
 * HTML, its paragraphs and line breaks), cleaned as a comment the customer typed is (links only to
 * files they may open, Jira's "not found" for others dropped), without the portal's write key.
 */
export function renderedFieldHtml(
  rendered: string,
  files: ReadonlyMap<string, FileView>,
  siteOrigin: string,
): SafeHtml {
  const clean = sanitizeCommentHtml(rendered, {
    siteOrigin,
    file: (id) => files.get(id),
    typedByCustomer: true,
  }).value;
  return new SafeHtml(
    withoutWriteKey(clean)
      .replace(/\s*<p>\s*<\/p>/g, '')
      .trim(),
  );
}

export interface TimelineOptions {
  /** The Atlassian site's origin (links there are rewritten or dropped). */
  siteOrigin: string;
}

export function requestTimeline(detail: RequestDetail, options: TimelineOptions): TimelineEntry[] {
  const { request } = detail;
  const key = request.issueKey;
  const files = filesById(key, detail.attachments);
  const reporter = request.reporter?.displayName ?? '';
  const entries: { at: number; order: number; entry: TimelineEntry }[] = [];
  const add = (date: DateDTO | undefined, order: number, entry: TimelineEntry) => {
    const at = epochMillis(date);
    if (!Number.isNaN(at)) entries.push({ at, order, entry });
  };

  // The oldest status is the one the request was raised in; every later one is a change. A history
  // read only in part (its newest) holds changes alone, and the raise's status is not known.
  const history = [...detail.statusHistory].sort(
    (a, b) => epochMillis(a.statusDate) - epochMillis(b.statusDate),
  );
  const raisedIn = detail.olderStatusesUnread ? undefined : history.shift();
  const raisedAt = request.createdDate?.iso8601 ?? '';
  add(request.createdDate, 0, {
    kind: 'raised',
    at: raisedAt,
    author: reporter,
    status: raisedIn?.status ?? '',
  });
  if (detail.olderStatusesUnread) add(request.createdDate, 0, { kind: 'olderStatusesUnread', at: raisedAt });
  for (const s of history) add(s.statusDate, 3, statusEntry(s));

  // Whose text a comment is: the portal's for a customer, or a customer's own account's (a reply by
  // e-mail comes from the reporter or a participant). Their file references must tell them nothing.
  const customers = new Set([request.reporter?.accountId, ...detail.participants.map((p) => p.accountId)]);
  const inComments = new Set<string>();
  for (const comment of detail.comments) {
    const author = commentAuthor(comment, detail.serviceAccountId);
    const own = (comment.attachments?.values ?? []).flatMap((a) => files.get(attachmentId(a) ?? '') ?? []);
    for (const f of own) inComments.add(f.id);
    const at = comment.created?.iso8601 ?? '';
    // A comment that only names its files (an upload) is shown as the upload.
    if (own.length > 0 && withoutWriteKey(author.body).replace(FILE_MARKUP, '').trim() === '') {
      add(comment.created, 2, { kind: 'files', at, author: author.name, files: own });
      continue;
    }
    add(comment.created, 1, {
      kind: 'comment',
      at,
      author: author.name,
      viaPortal: author.viaPortal,
      body: commentHtml(
        comment,
        author,
        files,
        options.siteOrigin,
        author.viaPortal || customers.has(comment.author?.accountId),
      ),
      files: own,
    });
  }

  const oldest = detail.comments[0]?.created;
  if (detail.earlierCommentsUnread)
    add(oldest, 0, { kind: 'earlierCommentsUnread', at: oldest?.iso8601 ?? '' });

  // Files added on their own (with the request, or by an agent without a comment).
  const loose = [...files.values()].filter((f) => !inComments.has(f.id));
  const groups = new Map<string, FileView[]>();
  for (const f of loose) {
    const group = `${f.created ?? ''}|${f.author?.accountId ?? ''}`;
    groups.set(group, [...(groups.get(group) ?? []), f]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    // The service account adds files only for the portal: with a comment naming the customer, or
    // with the request, raised by its reporter.
    const author =
      first.author?.accountId === detail.serviceAccountId ? reporter : (first.author?.displayName ?? '');
    add({ iso8601: first.created ?? '' }, 2, {
      kind: 'files',
      at: first.created ?? '',
      author,
      files: group,
    });
  }

  for (const approval of detail.approvals) {
    const decision = approval.finalDecision;
    if (decision === 'approved' || decision === 'declined')
      add(approval.completedDate, 4, approvalEntry(approval, decision));
  }

  return entries.sort((a, b) => a.at - b.at || a.order - b.order).map((e) => e.entry);
}

function statusEntry(s: StatusDTO): TimelineEntry {
  return {
    kind: 'status',
    at: s.statusDate?.iso8601 ?? '',
    status: s.status,
    statusCategory: (s.statusCategory ?? '').toLowerCase(),
  };
}

function approvalEntry(a: ApprovalDTO, decision: 'approved' | 'declined'): TimelineEntry {
  return { kind: 'approval', at: a.completedDate?.iso8601 ?? '', name: a.name ?? '', decision };
}
