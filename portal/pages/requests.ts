import { attachmentId } from '../atlassian/client.js';
import type {
  ApprovalDTO,
  AttachmentDTO,
  CommentDTO,
  CustomerRequestDTO,
  OrganizationDTO,
  SlaDTO,
  StatusDTO,
  TransitionDTO,
  UserDTO,
} from '../atlassian/types.js';
import { type HtmlValue, html, type SafeHtml, seg } from '../html.js';
import type { RequestSummary } from '../requests.js';
import type { Ownership, StatusFilter } from '../visibility.js';
import { withoutWriteKey } from '../write-once.js';
import { approvalsSection } from './approvals.js';
import { csrfField, formatDate, layout, type PageContext, statusLozenge, writeKeyField } from './layout.js';
import { ACCEPTED_UPLOADS } from './uploads.js';

const OWNERSHIP_LABELS: Record<Exclude<Ownership, 'organization'>, string> = {
  all: 'Any',
  mine: 'Created by me',
  shared: 'Shared with me',
  approvals: 'Approvals (I am an approver)',
};
const STATUS_LABELS: Record<StatusFilter, string> = {
  open: 'Open requests',
  closed: 'Closed requests',
  all: 'All requests',
};

export interface ListState {
  ownership: Ownership;
  /** With `organization`: which one. */
  organizationId?: string | undefined;
  status: StatusFilter;
  search: string;
  nextPageToken?: string | undefined;
}

/** The filter's value: one of the ownership choices, or `org-<id>` for one organization. */
function ownershipValue(state: Pick<ListState, 'ownership' | 'organizationId'>): string {
  return state.ownership === 'organization' && state.organizationId
    ? `org-${state.organizationId}`
    : state.ownership;
}

function listQuery(state: ListState, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    status: state.status,
    ownership: ownershipValue(state),
    ...(state.search ? { q: state.search } : {}),
    ...extra,
  });
  return `/requests?${params.toString()}`;
}

export function requestsPage(
  ctx: PageContext,
  requests: RequestSummary[],
  state: ListState,
  organizations: readonly OrganizationDTO[],
): SafeHtml {
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const ownership = ownershipValue(state);
  const cell = (label: string, content: HtmlValue) => html`<td data-label="${label}">${content}</td>`;
  return layout(
    ctx,
    'Requests',
    html`<h1>Requests</h1>
    <form class="filters card" method="get" action="/requests" role="search" aria-label="Filter requests">
      <div><label for="flt-status">Status</label><select id="flt-status" name="status">${(
        Object.keys(STATUS_LABELS) as StatusFilter[]
      ).map((k) => option(k, STATUS_LABELS[k], state.status))}</select></div>
      <div><label for="flt-ownership">Requests</label><select id="flt-ownership" name="ownership">${Object.entries(
        OWNERSHIP_LABELS,
      ).map(([k, label]) => option(k, label, ownership))}${
        organizations.length > 0
          ? html`<optgroup label="Shared with my organization">${organizations.map((o) =>
              option(`org-${o.id}`, o.name, ownership),
            )}</optgroup>`
          : ''
      }</select></div>
      <div><label for="flt-q">Search</label><input id="flt-q" type="search" name="q" value="${state.search}" maxlength="100"></div>
      <div><button type="submit">Filter</button></div>
    </form>
    ${
      requests.length === 0
        ? html`<p class="empty">No requests found.</p>`
        : html`<table class="cards"><caption class="muted">${STATUS_LABELS[state.status]}</caption>
      <thead><tr><th scope="col">Reference</th><th scope="col">Summary</th><th scope="col">Status</th><th scope="col">Requester</th><th scope="col">Created</th></tr></thead>
      <tbody>${requests.map(
        (r) =>
          html`<tr>${cell('Reference', html`<a href="/requests/${seg(r.key)}">${r.key}</a>`)}${cell('Summary', html`<a href="/requests/${seg(r.key)}">${r.summary}</a>`)}${cell('Status', statusLozenge(r.status, r.statusCategory))}${cell('Requester', r.reporterName)}${cell('Created', formatDate(r.created))}</tr>`,
      )}</tbody></table>`
    }
    <nav aria-label="Pages">${state.nextPageToken ? html`<a class="button" href="${listQuery(state, { page: state.nextPageToken })}">Next page</a>` : ''}
    ${state.nextPageToken !== undefined || requests.length > 0 ? html` <a href="${listQuery(state)}">First page</a>` : ''}</nav>`,
  );
}

export interface DetailView {
  summary: RequestSummary;
  request: CustomerRequestDTO;
  statusHistory: StatusDTO[];
  comments: CommentDTO[];
  attachments: AttachmentDTO[];
  approvals: ApprovalDTO[];
  participants: UserDTO[];
  candidates: UserDTO[];
  transitions: TransitionDTO[];
  sla: SlaDTO[];
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

export function requestDetailPage(ctx: PageContext, v: DetailView): SafeHtml {
  const key = v.summary.key;
  const action = (path: string) => `/requests/${seg(key)}/${path}`;
  return layout(
    ctx,
    `${key} ${v.summary.summary}`,
    html`<nav aria-label="Breadcrumb"><a href="/requests">Requests</a> / ${key}</nav>
    ${v.notice ? html`<p class="notice" role="status" data-written>${v.notice}</p>` : ''}
    ${v.error ? html`<p class="alert" role="alert">${v.error}</p>` : ''}
    <h1>${v.summary.summary}</h1>
    <p class="muted">${key} · raised by ${v.summary.reporterName} · ${formatDate(v.summary.created)}</p>
    <div class="layout-2">
    <div>
      <section class="card" aria-labelledby="details-h"><h2 id="details-h">Details</h2><dl>
        ${(v.request.requestFieldValues ?? [])
          .filter((f) => f.fieldId !== 'summary' && fieldText(f.value) !== '')
          .map(
            (f) =>
              html`<dt><strong>${f.label ?? f.fieldId}</strong></dt><dd>${withoutWriteKey(fieldText(f.value))}</dd>`,
          )}
      </dl></section>
      ${approvalsSection(v.approvals, v.customerAccountId)}
      <section class="card" aria-labelledby="act-h"><h2 id="act-h">Activity</h2>
        ${v.comments.length === 0 ? html`<p class="muted empty">No comments yet. Add one below; the help desk sees it.</p>` : ''}
        ${v.comments.map(
          (c) =>
            html`<article class="comment"><strong>${c.author?.displayName ?? ''}</strong> <span class="muted">${c.created?.friendly ?? formatDate(c.created?.iso8601)}</span><p>${withoutWriteKey(c.body ?? '')}</p></article>`,
        )}
        <form method="post" action="${action('comment')}" data-draft>${csrfField(v.csrf)}${writeKeyField(v.writeKeys.comment)}
          <label for="comment-body">Add a comment</label>
          <textarea id="comment-body" name="body" required maxlength="32000">${v.commentDraft ?? ''}</textarea>
          <p><button type="submit">Comment</button></p>
        </form>
      </section>
      <section class="card" aria-labelledby="att-h"><h2 id="att-h">Attachments</h2>
        ${v.attachments.length === 0 ? html`<p class="muted empty">No files attached.</p>` : ''}
        <ul>${v.attachments.map((a) => {
          const id = attachmentId(a);
          return id
            ? html`<li><a href="${action(`attachment/${seg(id)}`)}">${a.filename}</a> <span class="muted">${a.size ?? ''} bytes</span></li>`
            : '';
        })}</ul>
        ${
          v.mayAct
            ? html`<form method="post" action="${action('attachment')}" enctype="multipart/form-data">${csrfField(v.csrf)}${writeKeyField(v.writeKeys.attachment)}
          <label for="att-file">Attach a file (up to 10 MB)</label>
          ${v.uploadError ? html`<div id="att-file-err" class="error" role="alert">${v.uploadError}</div>` : ''}
          <input id="att-file" type="file" name="attachment" required accept="${ACCEPTED_UPLOADS}"${v.uploadError ? html` aria-invalid="true" aria-describedby="att-file-err"` : ''}>
          <button type="submit">Upload</button>
        </form>`
            : ''
        }
      </section>
    </div>
    <aside aria-label="Request status">
      <section class="card"><h2>Status</h2><p>${statusLozenge(v.summary.status, v.summary.statusCategory)}</p>
        ${(v.mayAct ? v.transitions : []).map(
          (t) => html`<a class="button secondary" href="${action(`transition/${seg(t.id)}`)}">${t.name}</a> `,
        )}
        <h3>History</h3><ol>${v.statusHistory.map((s) => html`<li>${s.status} <span class="muted">${s.statusDate?.friendly ?? formatDate(s.statusDate?.iso8601)}</span></li>`)}</ol>
      </section>
      ${
        v.sla.length > 0
          ? html`<section class="card"><h2>Service level</h2><ul>${v.sla.map(
              (s) =>
                html`<li>${s.name}: ${s.ongoingCycle ? html`${s.ongoingCycle.breached ? 'breached' : `${s.ongoingCycle.remainingTime?.friendly ?? ''} left`}` : 'met'}</li>`,
            )}</ul></section>`
          : ''
      }
      <section class="card" aria-labelledby="notif-h"><h2 id="notif-h">Notifications</h2>
        <p class="muted">Atlassian e-mails you about this request. To stop them, use the unsubscribe link in those e-mails. There is no switch here because this help center works through a shared service account: a switch would change that account’s notifications, not yours.</p>
      </section>
      <section class="card" aria-labelledby="share-h"><h2 id="share-h">Shared with</h2>
        ${v.participants.length === 0 ? html`<p class="muted empty">Not shared with anyone yet.</p>` : ''}
        <ul>${v.participants.map(
          (p) =>
            html`<li>${p.displayName ?? ''} ${
              v.mayAct
                ? html`<form method="post" action="${action('participants/remove')}" class="inline">${csrfField(v.csrf)}<input type="hidden" name="accountId" value="${p.accountId}"><button class="secondary" aria-label="Remove ${p.displayName ?? ''}">Remove</button></form>`
                : ''
            }</li>`,
        )}</ul>
        ${
          v.mayAct && v.candidates.length > 0
            ? html`<form method="post" action="${action('participants/add')}">${csrfField(v.csrf)}
              <label for="share-with">Share with someone from your organization</label>
              <select id="share-with" name="accountId">${v.candidates.map((c) => html`<option value="${c.accountId}">${c.displayName ?? ''}</option>`)}</select>
              <button type="submit">Share</button></form>`
            : ''
        }
      </section>
    </aside>
    </div>`,
  );
}

/** Asks before a transition (Resolve, Cancel request, ...), with an optional comment sent along. */
export function transitionConfirmPage(
  ctx: PageContext,
  v: { key: string; summary: string; transition: TransitionDTO; csrf: string },
): SafeHtml {
  const back = `/requests/${seg(v.key)}`;
  return layout(
    ctx,
    `${v.transition.name}: ${v.key}`,
    html`<nav aria-label="Breadcrumb"><a href="/requests">Requests</a> / <a href="${back}">${v.key}</a></nav>
    <h1>${v.transition.name}?</h1>
    <form class="card" method="post" action="${back}/transition">${csrfField(v.csrf)}
      <input type="hidden" name="transition" value="${v.transition.id}">
      <p><strong>${v.key}</strong> ${v.summary} will be updated with “${v.transition.name}”. The help desk sees this change.</p>
      <label for="transition-comment">Add a comment (optional)</label>
      <textarea id="transition-comment" name="body" maxlength="32000"></textarea>
      <p><button type="submit">${v.transition.name}</button> <a href="${back}">Keep the request as it is</a></p>
    </form>`,
  );
}
