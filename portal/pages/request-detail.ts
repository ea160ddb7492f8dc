// The request detail page, laid out as the native portal's: the request's fields, its approvals,
// one activity stream (oldest first) with the comment form, its files with the upload form, and
// beside them status and its steps, service levels, notifications and sharing.

import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { Translator } from '../../common/i18n/index.js';
import type {
  ApprovalDTO,
  CustomerRequestDTO,
  OrganizationDTO,
  TransitionDTO,
  UserDTO,
} from '../atlassian/types.js';
import type { FileView } from '../files.js';
import type { PageReference } from '../reference.js';
import type { TimelineEntry } from '../request-timeline.js';
import type { RequestSummary } from '../requests.js';
import { MAX_TYPED_TEXT } from '../typed-text.js';
import { withoutWriteKey } from '../write-once.js';
import { approvalsSection } from './approvals.js';
import { csrfField, layout, type PageContext, statusLozenge, writeKeyField } from './layout.js';
import { dateTime, relativeTime } from './local-time.js';
import { referenceLine } from './reference.js';
import { richText } from './rich-text.js';
import { fileInputLimits, MAX_COMMENT_FILES } from './uploads.js';

/** The request's sharing with organizations, as far as this customer is concerned. */
export interface OrganizationSharingView {
  /** The customer's organizations the request is shared with. */
  shared: OrganizationDTO[];
  /** The customer's organizations it is not shared with yet. */
  offered: OrganizationDTO[];
  /** How many other organizations (not the customer's) it is shared with: counted, never named. */
  others: number;
  /** Only whoever raised the request may stop sharing it with an organization. */
  mayStopSharing: boolean;
}

export interface DetailView {
  summary: RequestSummary;
  /** The request type's name, when the catalogue knows it. */
  requestTypeName?: string | undefined;
  request: CustomerRequestDTO;
  /** The ids of the fields whose values are dates or dates and times (shown as such, not as Jira's text). */
  timeFields: ReadonlyMap<string, 'date' | 'datetime'>;
  /** Text fields as Atlassian rendered them (a description's paragraphs), already made safe. */
  renderedFields: ReadonlyMap<string, SafeHtml>;
  timeline: TimelineEntry[];
  files: FileView[];
  /** Some files could not be decided now (their authors' account lookup failed): the page says so (ADR 0388). */
  filesUnlisted?: boolean | undefined;
  approvals: ApprovalDTO[];
  participants: UserDTO[];
  /** Undefined when the site cannot share requests with organizations (no Organizations field). */
  organizations?: OrganizationSharingView | undefined;
  transitions: TransitionDTO[];
  customerAccountId: string;
  /** False for a customer who sees the request only as an approver: no workflow, sharing or upload. */
  mayAct: boolean;
  csrf: string;
  /** Write keys of the comment and attachment forms (portal/write-once.ts). */
  writeKeys: { comment: string; attachment: string };
  /** The comment text to put back after a failed write, so nothing typed is lost. */
  commentDraft?: string | undefined;
  notice?: string | undefined;
  error?: string | undefined;
  /** Shown beside the file input (a refused or missing file). */
  uploadError?: string | undefined;
  /** The reference of the failure `error` or `uploadError` says (ADR 0316). */
  reference?: PageReference | undefined;
  /** Shown beside the comment form's file input (a refused file). */
  commentUploadError?: string | undefined;
  /** The largest file the portal takes (spec.portal.limits.maxUploadBytes), said by the file input. */
  maxUploadBytes: number;
}

function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value)) return value.map(fieldText).join(', ');
  if (typeof value === 'object') {
    const o = value as { value?: unknown; name?: unknown; displayName?: unknown; child?: unknown };
    const base = fieldText(o.value ?? o.displayName ?? o.name);
    return o.child ? `${base} › ${fieldText(o.child)}` : base;
  }
  return '';
}

/**
 * A field's value as the page shows it: a date in the customer's language, a date and time also
 * in their zone (as every instant on the page), anything else as text. A value that is not the
 * date Jira's schema said is shown as text.
 */
function fieldValue(
  i18n: Translator,
  time: 'date' | 'datetime' | undefined,
  value: unknown,
): SafeHtml | string {
  if (time === 'date' && typeof value === 'string' && i18n.date(value) !== '') return i18n.date(value);
  if (time === 'datetime' && typeof value === 'string' && i18n.dateTime(value) !== '')
    return dateTime(i18n, value);
  return withoutWriteKey(fieldText(value));
}

/** A field as Atlassian rendered it when it did (and something is left of it), else its value. */
function renderedOrValue(
  i18n: Translator,
  v: DetailView,
  f: { fieldId: string; value?: unknown },
): SafeHtml | string {
  const rendered = v.renderedFields.get(f.fieldId);
  return rendered && rendered.value !== ''
    ? rendered
    : fieldValue(i18n, v.timeFields.get(f.fieldId), f.value);
}

/** One date format on the whole page: how long ago, in the customer's language (full date as title). */
const when = (i18n: Translator, iso: string) => relativeTime(i18n, iso);

/** Files as cards: a thumbnail for images, the name (a download through the portal) and the size. */
export function fileList(i18n: Translator, files: readonly FileView[]): SafeHtml {
  if (files.length === 0) return html``;
  return html`<ul class="files">${files.map(
    (f) =>
      html`<li><a href="${f.href}">${f.thumbnail ? html`<img src="${f.thumbnail}" alt="" loading="lazy">` : ''}<span>${f.name}</span></a> <span class="muted">${i18n.fileSize(f.size)}</span></li>`,
  )}</ul>`;
}

const strong = { strong: (text: SafeHtml) => html`<strong>${text}</strong>` };

function timelineItem(i18n: Translator, entry: TimelineEntry): SafeHtml {
  switch (entry.kind) {
    case 'raised':
      return html`<li><p class="activity-head">${richText(i18n, 'request.timeline.raised', strong, { author: entry.author, when: when(i18n, entry.at) })}</p></li>`;
    case 'comment':
      return html`<li class="comment"><p class="activity-head"><strong>${entry.author}</strong> ${when(i18n, entry.at)}</p>
        <div class="comment-body">${entry.body}</div>${fileList(i18n, entry.files)}</li>`;
    case 'files':
      return html`<li><p class="activity-head">${richText(i18n, 'request.timeline.files', strong, { author: entry.author, count: entry.files.length, when: when(i18n, entry.at) })}</p>${fileList(i18n, entry.files)}</li>`;
    case 'status':
      return html`<li><p class="activity-head">${richText(i18n, 'request.timeline.status', {}, { status: statusLozenge(entry.status, entry.statusCategory), when: when(i18n, entry.at) })}</p></li>`;
    case 'olderStatusesUnread':
      return html`<li><p class="activity-head muted">${i18n.t('request.timeline.olderStatusesUnread')}</p></li>`;
    case 'earlierCommentsUnread':
      return html`<li><p class="activity-head muted">${i18n.t('request.timeline.earlierCommentsUnread')}</p></li>`;
    case 'approval':
      return html`<li><p class="activity-head">${entry.name || i18n.t('approvals.approval')}: <span class="lozenge ${entry.decision === 'approved' ? 'done' : 'declined'}">${i18n.t(entry.decision === 'approved' ? 'request.decision.approved' : 'request.decision.declined')}</span> ${when(i18n, entry.at)}</p></li>`;
  }
}

/** The organizations the request is shared with, and the form to share it with another of the customer's. */
function organizationsShared(
  i18n: Translator,
  o: OrganizationSharingView,
  mayAct: boolean,
  csrf: string,
  action: (path: string) => string,
): SafeHtml {
  const { t } = i18n;
  return html`${
    o.shared.length > 0
      ? html`<ul class="organizations">${o.shared.map(
          (org) =>
            html`<li>${t('create.everyoneIn', { organization: org.name })} ${
              mayAct && o.mayStopSharing
                ? html`<form method="post" action="${action('organizations/remove')}" class="inline">${csrfField(csrf)}<input type="hidden" name="organizationId" value="${org.id}"><button class="secondary" aria-label="${t('request.stopSharingWith', { organization: org.name })}">${t('request.stopSharing')}</button></form>`
                : ''
            }</li>`,
        )}</ul>`
      : ''
  }${o.others > 0 ? html`<p class="muted">${t('request.otherOrganizations', { count: o.others })}</p>` : ''}${
    mayAct && o.offered.length > 0
      ? html`<form method="post" action="${action('organizations/add')}">${csrfField(csrf)}
      <label for="share-organization">${t('request.shareWithOrganizationLabel')}</label>
      <select id="share-organization" name="organizationId">${o.offered.map((org) => html`<option value="${org.id}">${t('create.everyoneIn', { organization: org.name })}</option>`)}</select>
      <button type="submit">${t('request.share')}</button></form>`
      : ''
  }`;
}

/** The comment form's file input: files sent with the comment (not offered to an approver-only reader). */
function commentFiles(i18n: Translator, v: DetailView): SafeHtml {
  const error = v.commentUploadError;
  return html`<label for="comment-files">${i18n.t('request.attachToComment', { max: MAX_COMMENT_FILES, size: i18n.fileSize(v.maxUploadBytes) })}</label>
          ${error ? html`<div id="comment-files-err" class="error" role="alert">${error}</div>` : ''}
          <input id="comment-files" type="file" name="attachment" multiple${fileInputLimits(i18n, v.maxUploadBytes, MAX_COMMENT_FILES)}${error ? html` aria-invalid="true" aria-describedby="comment-files-err"` : ''}>`;
}

export function requestDetailPage(ctx: PageContext, v: DetailView): SafeHtml {
  const key = v.summary.key;
  const action = (path: string) => `/requests/${seg(key)}/${path}`;
  const fields = (v.request.requestFieldValues ?? []).filter(
    (f) => f.fieldId !== 'summary' && fieldText(f.value) !== '',
  );
  const { t } = ctx.i18n;
  return layout(
    ctx,
    `${key} ${v.summary.summary}`,
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / ${key}</nav>
    ${v.notice ? html`<p class="notice" role="status" data-written>${v.notice}</p>` : ''}
    ${v.error ? html`<p class="alert" role="alert">${v.error}${v.reference ? html`<br>${referenceLine(ctx, v.reference)}` : ''}</p>` : ''}
    <h1>${v.summary.summary}</h1>
    <p class="muted">${key}${v.requestTypeName ? html` · ${v.requestTypeName}` : ''} · ${t('request.raisedBy', { name: v.summary.reporterName })} · ${when(ctx.i18n, v.summary.created)}</p>
    <div class="layout-2">
    <div>
      <section class="card" aria-labelledby="details-h"><h2 id="details-h">${t('request.details')}</h2>
        ${
          fields.length === 0
            ? html`<p class="muted empty">${t('request.noDetails')}</p>`
            : html`<dl>${fields.map(
                (f) =>
                  html`<dt><strong>${f.label ?? f.fieldId}</strong></dt><dd>${renderedOrValue(ctx.i18n, v, f)}</dd>`,
              )}</dl>`
        }
      </section>
      ${approvalsSection(ctx.i18n, v.approvals, v.customerAccountId)}
      <section class="card" aria-labelledby="act-h"><h2 id="act-h">${t('request.activity')}</h2>
        <ol class="activity">${v.timeline.map((entry) => timelineItem(ctx.i18n, entry))}</ol>
        ${v.timeline.every((e) => e.kind !== 'comment') ? html`<p class="muted empty">${t('request.noComments')}</p>` : ''}
        <form method="post" action="${action('comment')}" enctype="multipart/form-data" data-draft>${csrfField(v.csrf)}${writeKeyField(v.writeKeys.comment)}
          <label for="comment-body">${t('request.addComment')}</label>
          <textarea id="comment-body" name="body" required maxlength="${MAX_TYPED_TEXT}">${v.commentDraft ?? ''}</textarea>
          ${v.mayAct ? commentFiles(ctx.i18n, v) : ''}
          <p><button type="submit">${t('request.comment')}</button></p>
        </form>
      </section>
      <section class="card" aria-labelledby="att-h"><h2 id="att-h">${t('request.attachments')}</h2>
        ${v.files.length === 0 && !v.filesUnlisted ? html`<p class="muted empty">${t('request.noFiles')}</p>` : fileList(ctx.i18n, v.files)}
        ${v.filesUnlisted ? html`<p class="muted" role="status">${t('request.filesUnlisted')}</p>` : ''}
        ${
          v.mayAct
            ? html`<form method="post" action="${action('attachment')}" enctype="multipart/form-data">${csrfField(v.csrf)}${writeKeyField(v.writeKeys.attachment)}
          <label for="att-file">${t('request.attachFile', { size: ctx.i18n.fileSize(v.maxUploadBytes) })}</label>
          ${v.uploadError ? html`<div id="att-file-err" class="error" role="alert">${v.uploadError}${v.reference ? html`<br>${referenceLine(ctx, v.reference)}` : ''}</div>` : ''}
          <input id="att-file" type="file" name="attachment" required${fileInputLimits(ctx.i18n, v.maxUploadBytes, 1)}${v.uploadError ? html` aria-invalid="true" aria-describedby="att-file-err"` : ''}>
          <button type="submit">${t('request.upload')}</button>
        </form>`
            : ''
        }
      </section>
    </div>
    <aside aria-label="${t('request.statusAside')}">
      <section class="card" aria-labelledby="status-h"><h2 id="status-h">${t('request.status')}</h2><p>${statusLozenge(v.summary.status, v.summary.statusCategory)}</p>
        ${(v.mayAct ? v.transitions : []).map(
          (tr) =>
            html`<a class="button secondary" href="${action(`transition/${seg(tr.id)}`)}">${tr.name}</a> `,
        )}
      </section>
      <section class="card" aria-labelledby="notif-h"><h2 id="notif-h">${t('request.notifications')}</h2>
        <p class="muted">${t('request.notificationsExplain')}</p>
      </section>
      <section class="card" aria-labelledby="share-h"><h2 id="share-h">${t('request.sharedWith')}</h2>
        ${
          v.participants.length === 0 && !v.organizations?.shared.length && !v.organizations?.others
            ? html`<p class="muted empty">${t('request.notShared')}</p>`
            : ''
        }
        <ul>${v.participants.map(
          (p) =>
            html`<li>${p.displayName ?? ''} ${
              v.mayAct
                ? html`<form method="post" action="${action('participants/remove')}" class="inline">${csrfField(v.csrf)}<input type="hidden" name="accountId" value="${p.accountId}"><button class="secondary" aria-label="${t('request.removeParticipant', { name: p.displayName ?? '' })}">${t('request.remove')}</button></form>`
                : ''
            }</li>`,
        )}</ul>
        ${v.organizations ? organizationsShared(ctx.i18n, v.organizations, v.mayAct, v.csrf, action) : ''}
        ${
          // The people to share with are read on a page of their own, only when asked for: reading
          // every organization's members on each view cost a call per organization (ADR 0263).
          v.mayAct
            ? html`<p><a class="button secondary" href="${action('share')}">${t('request.shareWithLabel')}</a></p>`
            : ''
        }
      </section>
    </aside>
    </div>`,
  );
}
