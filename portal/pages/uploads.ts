// What the file inputs accept and how a refused file is explained next to them: one list of types
// (the server's allow-list, portal/http/multipart.ts) for the browser's filter and for the check.
import { html, type SafeHtml } from '../../common/http/html.js';
import type { Translator } from '../../common/i18n/index.js';
import { MAX_FILES_PER_FORM } from '../../common/upload-spool-size.js';
import { UPLOAD_TYPES } from '../upload-types.js';
import { type Problem, problemText } from './refusals.js';

/** The `accept` attribute of every file input: the extensions the server takes. */
export const ACCEPTED_UPLOADS = Object.keys(UPLOAD_TYPES)
  .map((ext) => `.${ext}`)
  .join(',');

/** Files a customer may attach to a new request at once (the operator sizes /tmp by it). */
export const MAX_CREATE_FILES = MAX_FILES_PER_FORM;

/** Files a customer may attach with one comment: as many as with a new request. */
export const MAX_COMMENT_FILES = MAX_CREATE_FILES;

/** The accepted types as a customer reads them (PNG, PDF, …). */
export const ACCEPTED_LIST = Object.keys(UPLOAD_TYPES)
  .map((ext) => ext.toUpperCase())
  .join(', ');

/**
 * A file input's `accept` and the limits the page's script checks at selection (pages/upload-limits.ts):
 * the largest file, the most files, and what she is told for each, `{file}` standing for the name.
 */
export function fileInputLimits(i18n: Translator, maxBytes: number, maxFiles: number): SafeHtml {
  const tooLarge = problemText(i18n, {
    code: 'PORTAL_UPLOAD_TOO_LARGE',
    params: { filename: '{file}', maxBytes },
  });
  const tooMany = problemText(i18n, { code: 'PORTAL_UPLOAD_TOO_MANY', params: { max: maxFiles } });
  return html` accept="${ACCEPTED_UPLOADS}" data-max-bytes="${maxBytes}" data-max-files="${maxFiles}" data-too-large="${tooLarge}" data-too-many="${tooMany}"`;
}

/** The inline error for a refused file; the rest of the form is kept, the files must be chosen again. */
export function uploadRefusalText(i18n: Translator, refused: Problem): string {
  return [
    problemText(i18n, refused),
    refused.code === 'PORTAL_UPLOAD_TYPE' ? i18n.t('upload.acceptedTypes', { types: ACCEPTED_LIST }) : '',
    i18n.t('upload.chooseAgain'),
  ]
    .filter(Boolean)
    .join(' ');
}
