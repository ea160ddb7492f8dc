import { html, type SafeHtml, seg } from '../../common/http/html.js';
import type { PageReference } from '../reference.js';
import { MAX_TYPED_TEXT } from '../typed-text.js';
import { csrfField, layout, type PageContext, writeKeyField } from './layout.js';
import { referenceLine } from './reference.js';
import { fileInputLimits, MAX_COMMENT_FILES } from './uploads.js';

/**
 * The form of a post whose write failed, as the customer sent it: kept on its answer when the request's
 * own page cannot be read (ADR 0400), so that nothing typed is lost and, sent again, it is the same write.
 */
export interface KeptForm {
  /** Where it posts, under the request's path. */
  action: 'comment' | 'attachment' | 'transition' | ShareAction;
  /** The write's key; none for a share, which changes the request once however often it is sent. */
  writeKey?: string;
  /** Whom a share action chose: the person or the organization, sent again as chosen (ADR 0407). */
  choice?: { field: 'accountId' | 'organizationId'; value: string };
  /** What was typed: a comment, a step's comment. */
  text?: string;
  /** The step chosen. */
  transitionId?: string;
  /** Its file input: one file (the upload form) or several (a comment's); no browser keeps one. */
  files?: 'one' | 'many';
}

/** The one-click actions on a request's people and organizations. */
export type ShareAction =
  | 'participants/add'
  | 'participants/remove'
  | 'organizations/add'
  | 'organizations/remove';

/**
 * The answer to a failed post when the request's page cannot be read: why the post failed (`error`, its
 * `reference`), that the request cannot be shown now, and the form again. Nothing of the request is on
 * it, none was read: for a post that could not read whether she may see the request, it is the same
 * page for a key nobody has as for another's request (ADR 0401).
 */
export function requestUnreadablePage(
  ctx: PageContext,
  v: {
    key: string;
    csrf: string;
    form: KeptForm;
    error?: string;
    reference?: PageReference;
    maxUploadBytes: number;
  },
): SafeHtml {
  const { t } = ctx.i18n;
  const page = `/requests/${seg(v.key)}`;
  const { form } = v;
  // What sending it again does: a share changes the request once however often it is sent; a write with
  // a key is looked for first, and one Atlassian commits later than that look is made twice (ADR 0442).
  const size = ctx.i18n.fileSize(v.maxUploadBytes);
  const files =
    form.files === undefined
      ? ''
      : html`<label for="kept-files">${form.files === 'one' ? t('request.attachFile', { size }) : t('request.attachToComment', { max: MAX_COMMENT_FILES, size })}</label>
      <input id="kept-files" type="file" name="attachment"${form.files === 'many' ? html` multiple=""` : ''}${form.files === 'one' ? html` required=""` : ''}${fileInputLimits(ctx.i18n, v.maxUploadBytes, form.files === 'one' ? 1 : MAX_COMMENT_FILES)}>`;
  return layout(
    ctx,
    t('request.unreadable.title'),
    html`<nav aria-label="${t('layout.breadcrumb')}"><a href="/requests">${t('requests.title')}</a> / <a href="${page}">${v.key}</a></nav>
    <h1>${t('request.unreadable.title')}</h1>
    ${v.error ? html`<p class="alert" role="alert">${v.error}${v.reference ? html`<br>${referenceLine(ctx, v.reference)}` : ''}</p>` : ''}
    <p>${t(form.writeKey === undefined ? 'request.unreadable.share' : 'request.unreadable')}</p>
    <form class="card" method="post" action="${page}/${form.action}"${form.files === undefined ? '' : html` enctype="multipart/form-data"`}>${csrfField(v.csrf)}${form.writeKey === undefined ? '' : writeKeyField(form.writeKey)}
      ${form.transitionId === undefined ? '' : html`<input type="hidden" name="transition" value="${form.transitionId}">`}
      ${form.choice === undefined ? '' : html`<input type="hidden" name="${form.choice.field}" value="${form.choice.value}">`}
      ${
        form.text === undefined
          ? ''
          : html`<label for="kept-text">${form.action === 'transition' ? t('transition.comment') : t('request.addComment')}</label>
      <textarea id="kept-text" name="body"${form.action === 'comment' ? html` required=""` : ''} maxlength="${MAX_TYPED_TEXT}">${form.text}</textarea>`
      }
      ${files}
      <p><button type="submit">${t('request.unreadable.send')}</button> <a href="${page}">${t('request.unreadable.open')}</a></p>
    </form>`,
  );
}
