// What a customer reads about a refusal: the catalogue's text for its stable code, filled with the
// error's parameters, in the customer's language (ADR 0095). Errors never carry that text: their
// English message is for the log.
import type { PortalErrorCode } from '../../common/error-codes.js';
import type { MessageKey, MessageValues, Translator } from '../../common/i18n/index.js';
import type { FieldProblemCode } from '../form.js';

/** A refusal as errors and form checks give it: a code and the values its message needs. */
export interface Problem {
  readonly code: string;
  readonly params: Readonly<Record<string, string | number>>;
}

/**
 * Every code a customer can meet, with its message. Total: a new reason code or field problem
 * fails `tsc` until it has text in the catalogue. Codes of other parts (a flow store outage, SAML)
 * get the general "try again later".
 */
export const PROBLEM_TEXT: Readonly<Record<PortalErrorCode | FieldProblemCode, MessageKey>> = {
  FIELD_REQUIRED: 'create.problem.required',
  FIELD_TOO_LONG: 'create.problem.tooLong',
  FIELD_CHOICE_INVALID: 'create.problem.choiceInvalid',
  FIELD_CHOICES_INVALID: 'create.problem.choicesInvalid',
  FIELD_DATE_INVALID: 'create.problem.dateInvalid',
  FIELD_DATE_TIME_INVALID: 'create.problem.dateTimeInvalid',
  FIELD_NUMBER_INVALID: 'create.problem.numberInvalid',
  FIELD_URL_INVALID: 'create.problem.urlInvalid',
  FIELD_LABEL_TOO_LONG: 'create.problem.labelTooLong',
  FIELD_UNSUPPORTED: 'create.problem.unsupported',
  FIELD_REFUSED_BY_ATLASSIAN: 'create.problem.refusedByDesk',
  FORM_REFUSED_BY_ATLASSIAN: 'create.problem.requestRefusedByDesk',
  FIELD_NOT_A_COLLEAGUE: 'create.problem.notAColleague',
  FIELD_SHARE_OUTSIDE_ORGANIZATIONS: 'create.problem.shareOutside',

  PORTAL_ACCESS_DENIED: 'refusal.accessDenied',
  PORTAL_ACCOUNT_INVALID: 'refusal.accountUnchecked',
  PORTAL_ACCOUNT_SERVICE: 'refusal.accountService',
  PORTAL_ACCOUNT_LICENSED: 'refusal.accountLicensed',
  PORTAL_ACCOUNT_INACTIVE: 'refusal.accountInactive',
  PORTAL_ACCOUNT_TYPE: 'refusal.accountType',
  PORTAL_ACTION_APPROVER_ONLY: 'request.refused.approverOnly',
  PORTAL_ACTION_INVALID: 'refusal.actionInvalid',
  PORTAL_ARTICLE_NOT_FOUND: 'error.articleNotFound',
  PORTAL_BODY_ENCODING: 'refusal.formEncoding',
  PORTAL_BODY_INVALID: 'refusal.formUnreadable',
  PORTAL_BODY_TOO_LARGE: 'refusal.bodyTooLarge',
  PORTAL_BODY_TOO_MANY_PARAMETERS: 'refusal.formTooManyFields',
  // Never shown: the client that would read it is gone.
  PORTAL_CLIENT_ABORTED: 'error.tryLater',
  PORTAL_COLLEAGUE_INVALID: 'request.refused.shareOrganizationsOnly',
  PORTAL_CSRF: 'error.formExpired',
  PORTAL_CUSTOMER_UNKNOWN: 'refusal.customerUnknown',
  PORTAL_CUSTOMER_NOT_SEARCHABLE: 'refusal.customerNotSearchable',
  PORTAL_DESK_NOT_FOUND: 'error.deskNotFound',
  PORTAL_EMAIL_MISSING: 'refusal.emailMissing',
  // Never shown: an image or a frame of another origin's page, answered with no page (ADR 0271).
  PORTAL_EMBEDDED_ELSEWHERE: 'error.tryLater',
  PORTAL_FILE_VISIBILITY_UNKNOWN: 'refusal.fileVisibilityUnknown',
  PORTAL_FORM_INVALID: 'refusal.formUnreadable',
  PORTAL_FORM_TOO_LARGE: 'refusal.formTooLarge',
  PORTAL_IDP_UNKNOWN: 'refusal.idpUnknown',
  PORTAL_INTERNAL: 'error.tryLater',
  PORTAL_INVALID_IDENTIFIER: 'error.tryLater',
  PORTAL_LOCALE_UNKNOWN: 'error.localeUnknown.message',
  PORTAL_LOGIN_FLOW_MISSING: 'signIn.expired',
  PORTAL_NOT_ADMIN: 'error.notFound.page',
  PORTAL_NOT_FOUND: 'error.notFound.page',
  PORTAL_PAGE_TOKEN_INVALID: 'refusal.pageLinkExpired',
  PORTAL_RATE_LIMITED: 'error.slowDown',
  PORTAL_REQUEST_MOVED: 'error.requestMoved',
  PORTAL_REQUEST_NOT_FOUND: 'error.requestNotFound',
  PORTAL_REQUEST_TYPE_NOT_FOUND: 'error.requestTypeNotFound',
  // Never a page of its own: the person lands on the home page.
  PORTAL_RETURN_PATH_UNSAFE: 'error.tryLater',
  PORTAL_SESSION_MISSING: 'error.sessionEnded',
  PORTAL_SIGN_IN_ENDED_AT_IDP: 'signIn.endedAtIdp',
  PORTAL_SIGN_IN_STARTS_FULL: 'error.storeFull',
  PORTAL_UPLOADS_BUSY: 'error.uploadsBusy',
  PORTAL_DOWNLOADS_BUSY: 'error.atlassianBusy',
  PORTAL_ACCOUNT_DOWNLOADS_BUSY: 'error.atlassianBusy',
  // The customer is told the same as for the tenant's own limit: which limit was reached is the operator's.
  PORTAL_POOL_UPLOADS_BUSY: 'error.uploadsBusy',
  PORTAL_POOL_SHARE_UPLOADS_BUSY: 'error.uploadsBusy',
  PORTAL_UPLOAD_REMOVALS_BEHIND: 'error.uploadsBusy',
  PORTAL_UPLOAD_TOO_LARGE: 'refusal.uploadTooLarge',
  PORTAL_UPLOAD_TOO_MANY: 'refusal.uploadTooMany',
  PORTAL_UPLOAD_TYPE: 'refusal.uploadType',
  PORTAL_UPLOAD_CONTENT: 'refusal.uploadContent',
  PORTAL_UPLOAD_EMPTY: 'refusal.uploadEmpty',
  PORTAL_WRITE_IN_PROGRESS: 'error.writeInProgress',
  PORTAL_WRITE_KEY_FOREIGN: 'create.writeKeyForeign',
  PORTAL_WRITE_UNCONFIRMED: 'create.outcomeUnknown',

  ATLASSIAN_VALIDATION: 'create.needsAttention',
  ATLASSIAN_UNAUTHORIZED: 'refusal.atlassianMisconfigured',
  ATLASSIAN_FORBIDDEN: 'refusal.atlassianForbidden',
  ATLASSIAN_NOT_FOUND: 'refusal.atlassianNotFound',
  ATLASSIAN_CONFLICT: 'refusal.atlassianConflict',
  ATLASSIAN_RATE_LIMITED: 'refusal.atlassianBusy',
  ATLASSIAN_BUSY: 'refusal.atlassianBusyShortly',
  ATLASSIAN_UNAVAILABLE: 'refusal.atlassianUnavailable',
  ATLASSIAN_TIMEOUT: 'refusal.atlassianTimeout',
  ATLASSIAN_PAGE_TIMEOUT: 'refusal.atlassianTimeout',
  ATLASSIAN_UNREACHABLE: 'refusal.atlassianUnreachable',
  ATLASSIAN_ERROR: 'refusal.atlassianError',
  ATLASSIAN_LIST_TOO_LONG: 'refusal.atlassianListTooLong',
};

/** The message key a code is shown with. */
export function problemKey(code: string): MessageKey {
  return Object.hasOwn(PROBLEM_TEXT, code)
    ? PROBLEM_TEXT[code as keyof typeof PROBLEM_TEXT]
    : 'error.tryLater';
}

/** The refusal in the customer's words. A `maxBytes` parameter is shown as a size (`{size}`: 10 MB). */
export function problemText(i18n: Translator, problem: Problem): string {
  const { maxBytes, ...values } = problem.params;
  const filled: MessageValues =
    typeof maxBytes === 'number' ? { ...values, size: i18n.fileSize(maxBytes) } : values;
  return i18n.t(problemKey(problem.code), filled);
}
