// Request details and every action on a request (My requests: routes/my-requests.ts). Each handler re-checks
// visibility through RequestService.visible before it reads or changes anything.
import type { Express, NextFunction, Request, Response } from 'express';
import { type ErrorCode, JsmSsoError } from '../../common/errors.js';
import { FlowStoreClaimsUncertainError } from '../../common/flowstore/flow-store.js';
import type { MessageKey, Translator } from '../../common/i18n/index.js';
import { en } from '../../common/i18n/messages/en.js';
import { AtlassianError } from '../atlassian/errors.js';
import type { OrganizationDTO } from '../atlassian/types.js';
import { noteClientAborted } from '../client-aborted.js';
import { authoredBody } from '../comment-author.js';
import { CustomerAccounts } from '../customer-accounts.js';
import { filesById, fileView, THUMBNAIL_TYPES } from '../files.js';
import { contentDisposition } from '../http/content-disposition.js';
import { CLIENT_IDLE_MS, streamThrough } from '../http/stream-through.js';
import { translatorOf } from '../i18n.js';
import { messagePage } from '../pages/account.js';
import { problemText } from '../pages/refusals.js';
import { type OrganizationSharingView, requestDetailPage } from '../pages/request-detail.js';
import { type KeptForm, requestUnreadablePage, type ShareAction } from '../pages/request-unreadable.js';
import { sharePersonPage, transitionConfirmPage } from '../pages/requests.js';
import { MAX_COMMENT_FILES, uploadRefusalText } from '../pages/uploads.js';
import type { ShareChange } from '../recent-shares.js';
import { type PageReference, referenceOf } from '../reference.js';
import { FileVisibilityUnknownError, RequestDetails } from '../request-detail.js';
import { renderedFieldHtml, requestTimeline } from '../request-timeline.js';
import { NotVisibleError, type VisibleRequest } from '../requests.js';
import type { PortalServices } from '../services.js';
import type { Session } from '../session.js';
import { asTyped, MAX_TYPED_TEXT } from '../typed-text.js';
import { uploadWriteKey } from '../upload-write-key.js';
import { type RequestFacts, sharingOrganizations } from '../visibility.js';
import type { PortalWeb } from '../web.js';
import { namesFiles } from '../wiki-files.js';
import { heldForSeconds, WriteInProgressError, WriteUnconfirmedError } from '../write-claims.js';
import {
  newWriteKey,
  outcomeUnknown,
  readBeforeWrite,
  WRITE_KEY_FIELD,
  writeKeyFrom,
} from '../write-once.js';
import { keepRecentShare, keepRecentWrite } from './recent-write.js';
import { readUploadForm, uploadRoute } from './upload-form.js';

/**
 * A refused request action, said to the customer in their language: the message is a catalogue
 * key (the English text is the error's message, for code that reads it).
 */
class ActionRefusal extends JsmSsoError {
  constructor(
    code: ErrorCode,
    readonly messageKey: MessageKey,
    status: number,
  ) {
    super(code, en[messageKey], { status });
  }
}

/** The refusals of a request action the detail page shows beside the form, keeping the draft. */
const ACTION_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'PORTAL_ACTION_INVALID',
  'PORTAL_ACTION_APPROVER_ONLY',
]);

/**
 * What a page says after Atlassian failed a write, besides the failure itself: `refused` when it did
 * nothing (a 4xx, a 429 past the budget, or a read before the write failed and nothing was sent: ADR
 * 0389), `unknown` when it may have done it (a 5xx, a timeout, a lost
 * answer: outcomeUnknown), so the customer looks before sending it again, rather than being told it
 * was not done or to try again (ADR 0377). `unknown` alone when an earlier post of the same form gave
 * up so and this one sent nothing (WriteUnconfirmedError, ADR 0378). `inProgress` alone when an
 * earlier post of the same form is still writing and this one, past its wait, sent nothing
 * (WriteInProgressError, ADR 0385); without it, that goes to the error page. When the write's claim
 * holds its form for a time (write-claims.ts `heldForSeconds`), `unknownHeld` says so instead of
 * `unknown`, and `stillChecked` to a post of the same form refused within it, with the seconds left
 * (ADR 0399): before, that post was told what the first was, without why nothing happened or when it
 * would.
 */
interface NotDone {
  refused?: MessageKey;
  unknown?: MessageKey;
  unknownHeld?: MessageKey;
  stillChecked?: MessageKey;
  inProgress?: MessageKey;
}

const COMMENT_NOT_DONE: NotDone = {
  refused: 'request.refused.commentNotAdded',
  unknown: 'request.refused.commentUnconfirmed',
  unknownHeld: 'request.refused.commentUnconfirmedHeld',
  stillChecked: 'request.refused.commentStillChecked',
  inProgress: 'request.refused.commentInProgress',
};
const FILE_NOT_DONE: NotDone = {
  refused: 'request.refused.fileNotAttached',
  unknown: 'request.refused.fileUnconfirmed',
  unknownHeld: 'request.refused.fileUnconfirmedHeld',
  stillChecked: 'request.refused.fileStillChecked',
  inProgress: 'request.refused.fileInProgress',
};

const STEP_NOT_DONE: NotDone = {
  refused: 'request.refused.stepNotSent',
  unknown: 'request.refused.stepUnconfirmed',
  // Only a step with a comment is held for a time, and its comment is what is sent again (ADR 0393).
  unknownHeld: 'request.refused.stepUnconfirmedHeld',
  stillChecked: 'request.refused.stepStillChecked',
  inProgress: 'request.refused.stepInProgress',
};
/**
 * A share's page shows whom the request is shared with as Atlassian holds it (ADR 0378) when it can be read,
 * and says whether the change may have been made all the same: it may not be readable (ADR 0407). No hold: a
 * share sent again changes the request once (a person or an organization is added or taken off as a set).
 */
const SHARE_NOT_DONE: NotDone = {
  refused: 'request.refused.shareNotSent',
  unknown: 'request.refused.shareUnconfirmed',
};

/** One of ACTION_REFUSALS in the customer's words; undefined for any other error. */
function actionRefusalText(i18n: Translator, err: unknown): string | undefined {
  if (!(err instanceof JsmSsoError && ACTION_REFUSALS.has(err.code))) return undefined;
  return err instanceof ActionRefusal ? i18n.t(err.messageKey) : problemText(i18n, err);
}

/** The failure in the customer's words, and what `notDone` says of it. */
function failureText(i18n: Translator, err: AtlassianError, notDone: NotDone | undefined): string {
  const more =
    notDone &&
    (outcomeUnknown(err)
      ? unconfirmedText(i18n, err, notDone.unknown, notDone.unknownHeld)
      : notDone.refused && i18n.t(notDone.refused));
  return more ? `${problemText(i18n, err)} ${more}` : problemText(i18n, err);
}

/**
 * Words for a write that may have been made: `timed`, with when its form can be sent again, when its
 * claim holds it for a time (ADR 0399); else `untimed`.
 */
function unconfirmedText(
  i18n: Translator,
  err: unknown,
  untimed: MessageKey | undefined,
  timed: MessageKey | undefined,
): string | undefined {
  const seconds = heldForSeconds(err);
  if (seconds !== undefined && timed) return i18n.t(timed, { seconds });
  return untimed && i18n.t(untimed);
}

/**
 * What the request's page says of a write that failed, or that this post did not send because of an
 * earlier post of the same form (the words `notDone` has for it); undefined for any other error.
 */
function writeFailureText(i18n: Translator, err: unknown, notDone: NotDone | undefined): string | undefined {
  if (err instanceof AtlassianError) return failureText(i18n, err, notDone);
  if (err instanceof FlowStoreClaimsUncertainError)
    return i18n.t('error.writeUncertain', { seconds: err.retryAfterSeconds });
  // Nothing was sent: the text names a file the portal cannot decide now (ADR 0388).
  if (err instanceof FileVisibilityUnknownError) return i18n.t('request.refused.namedFileUndecided');
  if (notDone === undefined) return undefined;
  if (err instanceof WriteUnconfirmedError)
    return unconfirmedText(i18n, err, notDone.unknown, notDone.stillChecked);
  if (err instanceof WriteInProgressError && notDone.inProgress)
    return i18n.t(notDone.inProgress, { seconds: err.retryAfterSeconds });
  return undefined;
}

export function mountRequestRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { logger, client, requests, catalogue, colleagues, limits, downloads } = services;
  const { forms, pageContext, send, refuse, noteRefusal, signedIn, csrf, csrfOk, session } = web;
  const NOTICES: Record<string, MessageKey> = {
    created: 'request.notice.created',
    unshared: 'request.notice.unshared',
    commented: 'request.notice.commented',
    uploaded: 'request.notice.uploaded',
    shared: 'request.notice.shared',
    moved: 'request.notice.moved',
  };

  const details = new RequestDetails(client, requests, new CustomerAccounts(client, services.cacheTtlMs));
  /** A failed account-type lookup left some files undecided: why, never whose (ADR 0388). */
  const noteFilesUndecided = (because: AtlassianError) =>
    logger.warn(
      { event: 'portal.file_visibility_unknown', reason: because.code },
      'files left undecided: the account-type lookup failed',
    );
  const siteOrigin = new URL(services.spec.atlassian.siteUrl).origin;

  const renderRequestPage = async (
    res: Response,
    key: string,
    extra: {
      notice?: string;
      error?: string;
      uploadError?: string;
      /** The reference of the failure `error` or `uploadError` says (ADR 0316). */
      reference?: PageReference;
      /**
       * The request's id when a write to it failed with its outcome unknown: its searches reconcile
       * it, so the page shows what Atlassian holds, not what its lagging index had (ADR 0378).
       */
      maybeChanged?: string;
      /** Shown beside the comment form's file input (a refused file). */
      commentUploadError?: string;
      status?: number;
      /** After a failed comment: its text and key, so sending it again writes it once. */
      commentDraft?: { text: string; writeKey: string };
      /**
       * After a failed upload: its form's key, so the file chosen and sent again is looked for first
       * and attached once, also when Atlassian attached it and its answer was lost (ADR 0377).
       */
      attachmentWriteKey?: string;
    } = {},
  ) => {
    const s = session(res);
    const { maybeChanged } = extra;
    const detail = await details.read(
      maybeChanged === undefined ? s : { ...s, recentIssueIds: [maybeChanged, ...s.recentIssueIds] },
      key,
    );
    const { request, participants, unlistedFiles } = detail;
    if (unlistedFiles) noteFilesUndecided(unlistedFiles.because);
    const [requestTypes, organizations, timeFields] = await Promise.all([
      // The type's name is a nicety: the page does without it.
      catalogue.requestTypes(request.serviceDeskId).catch(() => []),
      detail.sharedOrganizationIds === undefined
        ? []
        : // Those the request's desk has: a share through another reaches nobody there (ADR 0312).
          colleagues
            .organizations(s.customer)
            .then((mine) =>
              mine.filter((o) => sharingOrganizations(s.customer, request.serviceDeskId).includes(o.id)),
            ),
      // Which values are dates, also a nicety: without it they show as Jira's text.
      catalogue.timeFields().catch(() => new Map<string, 'date' | 'datetime'>()),
    ]);
    const fieldSummary = request.requestFieldValues?.find((f) => f.fieldId === 'summary')?.value;
    const files = filesById(key, detail.attachments);
    const renderedFields = new Map(
      (request.requestFieldValues ?? []).flatMap((f) => {
        const rendered = (f.renderedValue as { html?: unknown } | undefined)?.html;
        return typeof rendered === 'string'
          ? [[f.fieldId, renderedFieldHtml(rendered, files, siteOrigin)] as const]
          : [];
      }),
    );
    const category = (request.currentStatus?.statusCategory ?? '').toUpperCase();
    send(
      res,
      requestDetailPage(pageContext(res), {
        summary: {
          key,
          summary: typeof fieldSummary === 'string' ? fieldSummary : key,
          status: request.currentStatus?.status ?? '',
          statusCategory: category === 'DONE' ? 'done' : category === 'NEW' ? 'new' : 'indeterminate',
          created: request.createdDate?.iso8601 ?? '',
          reporterName: request.reporter?.displayName ?? '',
          projectId: '',
        },
        requestTypeName: requestTypes.find((t) => t.id === request.requestTypeId)?.name,
        request,
        timeFields,
        renderedFields,
        timeline: requestTimeline(detail, { siteOrigin }),
        files: detail.attachments.flatMap((a) => fileView(key, a) ?? []),
        filesUnlisted: unlistedFiles !== undefined,
        approvals: detail.approvals,
        participants,
        organizations:
          detail.sharedOrganizationIds &&
          organizationSharing(
            detail.sharedOrganizationIds,
            detail.facts,
            organizations,
            s.customer.accountId,
          ),
        transitions: detail.transitions,
        customerAccountId: s.customer.accountId,
        mayAct: detail.mayAct,
        csrf: s.csrf,
        writeKeys: {
          comment: extra.commentDraft?.writeKey ?? newWriteKey(),
          attachment: extra.attachmentWriteKey ?? newWriteKey(),
        },
        commentDraft: extra.commentDraft?.text,
        notice: extra.notice,
        error: extra.error,
        uploadError: extra.uploadError,
        reference: extra.reference,
        commentUploadError: extra.commentUploadError,
        maxUploadBytes: services.maxUploadBytes,
      }),
      extra.status ?? 200,
    );
  };

  /**
   * Answers a failed post with its form (`kept`) when the request's page could not be read: the request
   * cannot be shown, what was typed is (ADR 0400). For a customer the post read may see the request, or
   * whose post could not read it (ADR 0401): the page holds what she sent and the failure, nothing read,
   * so it is the same for any key while Atlassian fails. One the post's read refused got 404 before.
   */
  const showUnreadable = (
    res: Response,
    key: string,
    because: AtlassianError,
    kept: KeptForm,
    said: { error?: string; reference?: PageReference; status?: number },
  ) => {
    logger.warn(
      { event: 'portal.request_unreadable', reason: because.code },
      'the request’s page could not be read after a failed post: its form kept',
    );
    send(
      res,
      requestUnreadablePage(pageContext(res), {
        key,
        csrf: session(res).csrf,
        form: kept,
        ...said,
        maxUploadBytes: services.maxUploadBytes,
      }),
      said.status ?? because.status,
    );
  };

  /**
   * The request's page (renderRequestPage); with `kept`, the form of a failed post, kept on its own
   * page should the request's be unreadable (showUnreadable).
   */
  const renderDetail = async (
    res: Response,
    key: string,
    extra: Parameters<typeof renderRequestPage>[2] & { kept?: KeptForm } = {},
  ) => {
    const { kept, ...page } = extra;
    try {
      await renderRequestPage(res, key, page);
    } catch (err) {
      if (kept === undefined || !(err instanceof AtlassianError)) throw err;
      showUnreadable(res, key, err, kept, {
        error: extra.error ?? extra.uploadError ?? extra.commentUploadError,
        reference: extra.reference,
        status: extra.status,
      });
    }
  };

  app.get('/requests/:key', signedIn, async (req, res) => {
    const flag = Object.keys(NOTICES).find((k) => req.query[k] === '1');
    const { t } = translatorOf(res);
    await renderDetail(res, String(req.params['key']), flag ? { notice: t(NOTICES[flag]!) } : {});
  });

  /**
   * Logs why an action wrote nothing, under the reference its page shows; for a store that cannot
   * vouch for claims yet, a named file not decided yet, a form held after a write that may have
   * been made (ADR 0399) or still being written by an earlier post (ADR 0401), tells the browser when
   * to send it again, as the page does.
   */
  const noteActionRefused = (res: Response, err: JsmSsoError, msg: string): PageReference => {
    const reference = referenceOf(res, err.code);
    logger.warn({ event: 'portal.action_refused', reason: err.code, reference: reference.id }, msg);
    const retryAfter =
      err instanceof FlowStoreClaimsUncertainError ||
      err instanceof FileVisibilityUnknownError ||
      err instanceof WriteInProgressError
        ? err.retryAfterSeconds
        : heldForSeconds(err);
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    return reference;
  };

  /** The form `body` was posted with to `action` under the request, as showUnreadable keeps it. */
  const keptForm = (
    action: KeptForm['action'],
    body: Record<string, unknown>,
    files?: KeptForm['files'],
  ): KeptForm => ({
    action,
    writeKey: isShareAction(action) ? undefined : writeKeyFrom(body[WRITE_KEY_FIELD]),
    text: typeof body['body'] === 'string' ? body['body'] : undefined,
    transitionId: typeof body['transition'] === 'string' ? body['transition'] : undefined,
    choice: choiceOf(body),
    files,
  });

  /**
   * Shows the request's page again with an action's refusal (an Atlassian error, or one of
   * ACTION_REFUSALS) and the comment the form carried, so nothing typed is lost. False for any other
   * error, which the caller lets go to the error handler. `issueId`: the request's, once the action
   * was sent to it. `kept`: the form posted, kept should the request's page be unreadable (ADR 0400,
   * 0401).
   */
  const showRefusal = async (
    res: Response,
    key: string,
    err: unknown,
    body: Record<string, unknown>,
    {
      notDone,
      issueId,
      commentUploadError,
      kept,
    }: { notDone?: NotDone; issueId?: string; commentUploadError?: string; kept?: KeptForm } = {},
  ): Promise<boolean> => {
    const i18n = translatorOf(res);
    // An earlier post of the same form gave up on a write that may have been made, or is still
    // writing: this one sent nothing, and says so, keeping what was typed (ADR 0378, 0385).
    const message = writeFailureText(i18n, err, notDone) ?? actionRefusalText(i18n, err);
    if (message === undefined || !(err instanceof JsmSsoError)) return false;
    const reference = noteActionRefused(res, err, 'action refused');
    const text = typeof body['body'] === 'string' ? body['body'] : undefined;
    // A write that may have been made changed the request as a made one does: its page, and the
    // customer's next searches, reconcile it (what the index shows of its shares may be from before).
    const maybeChanged =
      issueId !== undefined && err instanceof AtlassianError && outcomeUnknown(err) ? issueId : undefined;
    if (maybeChanged !== undefined) await keepRecentWrite(services, session(res), maybeChanged);
    await renderDetail(res, key, {
      error: message,
      reference,
      status: err.status,
      ...(maybeChanged === undefined ? {} : { maybeChanged }),
      ...(commentUploadError === undefined ? {} : { commentUploadError }),
      ...(kept === undefined ? {} : { kept }),
      ...(text === undefined
        ? {}
        : { commentDraft: { text, writeKey: writeKeyFrom(body[WRITE_KEY_FIELD]) } }),
    });
    return true;
  };

  /**
   * An action that may have taken the request from the customer (she took herself off it) failed with
   * its outcome unknown: its page may no longer be hers to see, and "no such request" would answer the
   * change she asked for. So a page that says it could not be confirmed and leads to My requests,
   * which reconciles the request (a recent write), naming nothing of it (ADR 0385).
   */
  const showUnconfirmedElsewhere = async (res: Response, err: AtlassianError, issueId: string) => {
    const reference = noteActionRefused(res, err, 'action refused, its request perhaps no longer visible');
    await keepRecentWrite(services, session(res), issueId);
    const { t } = translatorOf(res);
    send(
      res,
      // The language links, too, lead to My requests: not back to the page that may be gone.
      messagePage(
        { ...pageContext(res), returnPath: '/requests' },
        t('request.leftUnconfirmed.title'),
        t('request.leftUnconfirmed'),
        { reference, next: { href: '/requests', label: t('create.myRequests') } },
      ),
      err.status,
    );
  };

  /**
   * A state-changing action on a request: visibility first (and, unless `approvers` allows it, the
   * right to change the request: canAct), then the action, then back to the page.
   */
  const requestAction =
    (
      notice: string,
      action: (
        key: string,
        body: Record<string, unknown>,
        s: Session,
        params: Record<string, string>,
        visible: VisibleRequest,
      ) => Promise<void>,
      {
        approvers = false,
        notDone,
        elsewhere,
        whileWriting,
        keeps,
        shares,
      }: {
        approvers?: boolean;
        /**
         * Whom the action shares the request with or stops sharing it with, from its form: once it is
         * done or may be, their My requests reconcile the request (ADR 0419).
         */
        shares?: (body: Record<string, unknown>) => ShareChange | undefined;
        /** The form posted, kept should the request's page be unreadable after a failure (ADR 0400, 0407). */
        keeps?: Exclude<KeptForm['action'], 'attachment'>;
        /**
         * Shows the page a post is answered with when an earlier post of the same form is still writing
         * (WriteInProgressError), if not the request's page; false to leave it to the request's page.
         */
        whileWriting?: (
          res: Response,
          key: string,
          body: Record<string, unknown>,
          err: WriteInProgressError,
        ) => Promise<boolean>;
        /**
         * Where to go once it is done instead of the request's page, when it took the request from the
         * customer; when it failed with its outcome unknown, showUnconfirmedElsewhere.
         */
        elsewhere?: (body: Record<string, unknown>, s: Session) => string | undefined;
        /**
         * Said after a failed write: what did not happen, or may have, and what to do; `unknown` also
         * when an earlier post of the same form gave up on a write that may have been made
         * (WriteUnconfirmedError), this one sending nothing.
         */
        notDone?: NotDone;
      } = {},
    ) =>
    async (req: Request, res: Response) => {
      const key = String(req.params['key']);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const keepShare = async (changed: string) => {
        const change = shares?.(body);
        if (change !== undefined) await keepRecentShare(services, change, changed);
      };
      let issueId: string | undefined;
      try {
        const s = session(res);
        // Nothing is sent when this fails: its page says so, not that it may have been (ADR 0389).
        const visible = await readBeforeWrite(() => requests.visible(s, key));
        issueId = visible.request.issueId;
        if (!visible.mayAct && !approvers) throw approverOnly();
        await action(key, body, s, req.params as Record<string, string>, visible);
        await Promise.all([keepRecentWrite(services, s, issueId), keepShare(issueId)]);
        res.redirect(303, elsewhere?.(body, s) ?? `/requests/${encodeURIComponent(key)}?${notice}=1`);
      } catch (err) {
        const mayBeMade = issueId !== undefined && err instanceof AtlassianError && outcomeUnknown(err);
        // A share that may have been made changed whom it reaches as a made one does.
        if (mayBeMade) await keepShare(issueId!);
        // One that may have taken the request from the customer shows nothing of it (ADR 0385).
        const away = mayBeMade ? elsewhere?.(body, session(res)) : undefined;
        if (away !== undefined) await showUnconfirmedElsewhere(res, err as AtlassianError, issueId!);
        else if (err instanceof WriteInProgressError && (await whileWriting?.(res, key, body, err))) return;
        else if (
          !(await showRefusal(res, key, err, body, {
            notDone,
            issueId,
            // Also when the visibility read failed: what she sent alone, the same for any key (ADR 0401).
            kept: keeps ? keptForm(keeps, body) : undefined,
          }))
        )
          throw err;
      }
    };
  /** A plain action form (signed in, CSRF-checked) posted to `path`; see requestAction. */
  // Each may have Atlassian e-mail the people on the request (a participant added, a status changed):
  // limited like comments, so nobody can have the portal mail a colleague a thousand times.
  const postRequestAction = (
    path: string,
    notice: string,
    action: Parameters<typeof requestAction>[1],
    options?: Parameters<typeof requestAction>[2],
  ) =>
    app.post(
      path,
      signedIn,
      limits.limit('requestChanges'),
      forms,
      csrf,
      requestAction(notice, action, options),
    );
  const actionError = (messageKey: MessageKey) => new ActionRefusal('PORTAL_ACTION_INVALID', messageKey, 400);
  const approverOnly = () =>
    new ActionRefusal('PORTAL_ACTION_APPROVER_ONLY', 'request.refused.approverOnly', 403);
  /**
   * What the service account writes for the text a customer typed on a request: opened by their
   * name (comment-author.ts), naming none of the request's files she may not open. Which those are
   * is read only when the text names a file at all (wiki-files.ts).
   */
  const customerBody = async (s: Session, key: string, text: string) =>
    authoredBody(
      s.customer.displayName,
      text,
      namesFiles(text) ? await readBeforeWrite(() => details.shownFileName(s, key)) : undefined,
    );
  /** The comment the customer typed (customerBody). */
  const commentNote = (body: Record<string, unknown>, s: Session, key: string) => {
    const text = typeof body['body'] === 'string' ? asTyped(body['body']).trim() : '';
    if (!text) throw actionError('request.refused.commentEmpty');
    if (text.length > MAX_TYPED_TEXT) throw actionError('request.refused.commentTooLong');
    return customerBody(s, key, text);
  };

  /**
   * The request's visibility for a form with files, read before its body: a customer who may not see
   * the request is answered as for one that does not exist before anything of the form is read. When
   * the read fails (Atlassian's failure: nothing decided, nothing sent), that failure instead: the form
   * is read all the same, within the limits every upload has, so that its page keeps what was typed
   * (ADR 0392). Its page is the request's, which reads its visibility again.
   */
  const visibleBeforeUpload = async (s: Session, key: string): Promise<VisibleRequest | AtlassianError> => {
    try {
      return await readBeforeWrite(() => requests.visible(s, key));
    } catch (err) {
      if (err instanceof AtlassianError) return err;
      throw err;
    }
  };

  /**
   * The request's visibility for a form with files once its body is read, the one its write goes by:
   * read again, as the body may have taken minutes, in which its reporter may have taken the customer
   * off the request or an agent her organization. Read once only when the first read failed (nothing
   * is written then). A customer who may no longer see it is answered as for one that does not exist,
   * nothing written (ADR 0447).
   */
  const visibleAfterUpload = (
    s: Session,
    key: string,
    before: VisibleRequest | AtlassianError,
  ): Promise<VisibleRequest | AtlassianError> =>
    before instanceof AtlassianError ? Promise.resolve(before) : visibleBeforeUpload(s, key);

  /**
   * The page's comment form, multipart because it takes files as the native portal's comment editor
   * does: the files are attached with the comment as the note Atlassian adds with them, in one write
   * under the form's key. Visibility comes first (visibleBeforeUpload), and an approver-only reader
   * may comment but not attach. Files count as uploads too.
   * A url-encoded comment (no files) goes on to the plain comment action.
   */
  const commentWithFiles = uploadRoute(async (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) {
      next();
      return;
    }
    const key = String(req.params['key']);
    const s = session(res);
    const before = await visibleBeforeUpload(s, key);
    const form = await readUploadForm(web, services, req, res, MAX_COMMENT_FILES);
    if (!form) return;
    if (!csrfOk(res, form.fields['_csrf'])) return;
    const seen = await visibleAfterUpload(s, key, before);
    const body = form.fields as Record<string, unknown>;
    const writeKey = writeKeyFrom(body[WRITE_KEY_FIELD]);
    if (seen instanceof AtlassianError) {
      const i18n = translatorOf(res);
      // No browser keeps a chosen file across a page: the customer is asked to choose it again.
      const filesAgain = form.refused
        ? uploadRefusalText(i18n, form.refused)
        : form.files.length > 0
          ? i18n.t('upload.chooseAgain')
          : undefined;
      // Whether she may see the request is unknown: the form kept past an unreadable page is what she
      // sent alone, its file input where she sent files, the same for any key (ADR 0401).
      await showRefusal(res, key, seen, body, {
        notDone: COMMENT_NOT_DONE,
        commentUploadError: filesAgain,
        kept: keptForm('comment', body, filesAgain === undefined ? undefined : 'many'),
      });
      return;
    }
    const { desk, mayAct, request } = seen;
    const kept = keptForm('comment', body, mayAct ? 'many' : undefined);
    if (form.refused) {
      noteRefusal(form.refused.status, form.refused.code, 'upload refused');
      await renderDetail(res, key, {
        commentDraft: { text: typeof body['body'] === 'string' ? body['body'] : '', writeKey },
        commentUploadError: uploadRefusalText(translatorOf(res), form.refused),
        status: form.refused.status,
        kept,
      });
      return;
    }
    try {
      const note = await commentNote(body, s, key);
      if (form.files.length === 0) {
        await requests.comment(key, note, writeKey);
      } else {
        if (!mayAct) throw approverOnly();
        await limits.consume('uploads', 'ip', req.ip ?? '');
        await limits.consume('uploads', 'account', s.customer.accountId);
        await requests.attach(key, desk.serviceDeskId, form.files, note, writeKey);
      }
    } catch (err) {
      if (!(await showRefusal(res, key, err, body, { notDone: COMMENT_NOT_DONE, kept }))) throw err;
      return;
    }
    await keepRecentWrite(services, s, request.issueId);
    res.redirect(303, `/requests/${encodeURIComponent(key)}?commented=1`);
  });

  app.post(
    '/requests/:key/comment',
    signedIn,
    limits.limit('comments'),
    commentWithFiles,
    forms,
    csrf,
    requestAction(
      'commented',
      async (key, body, s) => {
        await requests.comment(key, await commentNote(body, s, key), writeKeyFrom(body[WRITE_KEY_FIELD]));
      },
      {
        approvers: true,
        notDone: COMMENT_NOT_DONE,
        keeps: 'comment',
      },
    ),
  );

  /**
   * The request and its summary for a page that prepares a change (a step, a share), or undefined
   * once the customer is refused: only someone who may act on it (not an approver-only reader).
   */
  const visibleToAct = async (res: Response, key: string) => {
    const { request, mayAct, desk } = await requests.visible(session(res), key);
    if (!mayAct) {
      const { t } = translatorOf(res);
      const err = approverOnly();
      refuse(res, err.status, err.code, t('request.refused.notAvailable'), t(err.messageKey));
      return undefined;
    }
    const summary = request.requestFieldValues?.find((f) => f.fieldId === 'summary')?.value;
    return { request, desk, summary: typeof summary === 'string' ? summary : key };
  };

  /**
   * A step's confirmation page, its form as `form` says (called once the step is found offered); false,
   * sending nothing, when Atlassian does not offer the step now.
   */
  const sendStepPage = async (
    res: Response,
    key: string,
    transitionId: unknown,
    form: () => { writeKey: string; comment?: string; error?: string; reference?: PageReference },
    status = 200,
  ): Promise<boolean> => {
    const seen = await visibleToAct(res, key);
    if (!seen) return true;
    const transition = (await client.transitions(key)).find((t) => t.id === transitionId);
    if (!transition) return false;
    send(
      res,
      transitionConfirmPage(pageContext(res), {
        key,
        summary: seen.summary,
        transition,
        csrf: session(res).csrf,
        ...form(),
      }),
      status,
    );
    return true;
  };

  /**
   * A step sent with a comment while an earlier post of the same form is still writing: its own page
   * again, the comment in its form under the same key, so that sent again it waits for the first post
   * and lands on its outcome, taking the step and writing the comment once (ADR 0386). In the request's
   * comment form it would be written under another claim, beside the step's comment still on its way.
   * False without a comment, or once the step is no longer offered: the request's page says it then.
   */
  const showStepStillWriting = async (
    res: Response,
    key: string,
    body: Record<string, unknown>,
    err: WriteInProgressError,
  ): Promise<boolean> => {
    const comment = typeof body['body'] === 'string' ? body['body'] : '';
    if (comment.trim() === '') return false;
    // Said only on the page answered (logged once): the request's page says it when the step is gone.
    const said = () => ({
      error: translatorOf(res).t('request.refused.stepCommentInProgress', { seconds: err.retryAfterSeconds }),
      reference: noteActionRefused(res, err, 'action refused'),
    });
    try {
      return await sendStepPage(
        res,
        key,
        body['transition'],
        () => ({ writeKey: writeKeyFrom(body[WRITE_KEY_FIELD]), comment, ...said() }),
        err.status,
      );
    } catch (unread) {
      // The step's page cannot be read: its form kept all the same, since the post, claiming the
      // write, had read that she may see the request (ADR 0400).
      if (!(unread instanceof AtlassianError)) throw unread;
      showUnreadable(res, key, unread, keptForm('transition', body), { ...said(), status: err.status });
      return true;
    }
  };

  postRequestAction(
    '/requests/:key/transition',
    'moved',
    async (key, body, s) => {
      const id = body['transition'];
      if (typeof id !== 'string') throw actionError('request.refused.stepUnavailable');
      const text = typeof body['body'] === 'string' ? asTyped(body['body']).trim() : '';
      if (text.length > MAX_TYPED_TEXT) throw actionError('request.refused.commentTooLong');
      // The optional comment goes with the transition (one call), written as for a comment.
      const { value: moved } = await requests.transition(
        key,
        id,
        text ? await customerBody(s, key, text) : undefined,
        writeKeyFrom(body[WRITE_KEY_FIELD]),
      );
      if (!moved) throw actionError('request.refused.stepUnavailable');
    },
    { notDone: STEP_NOT_DONE, whileWriting: showStepStillWriting, keeps: 'transition' },
  );

  // Whom to share with is chosen on a page of its own, the only page that reads the people of the
  // customer's organizations (ADR 0263): a view of the request costs no call per organization.
  app.get('/requests/:key/share', signedIn, async (req, res) => {
    const key = String(req.params['key']);
    const s = session(res);
    const seen = await visibleToAct(res, key);
    if (!seen) return;
    const { request, desk, summary } = seen;
    // The participants the request's own answer names (its first page): the rest are offered, and
    // adding one again changes nothing.
    const participants = request.participants?.values ?? [];
    const { people, allListed } = await colleagues.onDesk(
      s.customer,
      desk.serviceDeskId,
      participants.map((p) => p.accountId),
    );
    send(
      res,
      sharePersonPage(pageContext(res), {
        key,
        summary,
        candidates: people,
        everyoneListed: allListed,
        csrf: s.csrf,
      }),
    );
  });

  // A transition is confirmed on a page of its own (the portal uses no script): the step's name,
  // what it does to the request, and an optional comment.
  app.get('/requests/:key/transition/:transitionId', signedIn, async (req, res) => {
    const key = String(req.params['key']);
    if (await sendStepPage(res, key, req.params['transitionId'], () => ({ writeKey: newWriteKey() }))) return;
    const { t } = translatorOf(res);
    refuse(
      res,
      404,
      'PORTAL_ACTION_INVALID',
      t('request.refused.notAvailable'),
      t('request.refused.stepUnavailableHere'),
    );
  });

  postRequestAction(
    '/requests/:key/participants/add',
    'shared',
    async (key, body, s, _params, { desk }) => {
      const accountId = body['accountId'];
      const { people } = await readBeforeWrite(() => colleagues.onDesk(s.customer, desk.serviceDeskId));
      // Only people from the customer's own organizations the request's desk has: no probing the whole
      // directory, and nobody the desk would not take (ADR 0329).
      if (typeof accountId !== 'string' || !people.some((c) => c.accountId === accountId)) {
        throw actionError('request.refused.shareOrganizationsOnly');
      }
      await client.addParticipants(key, [accountId]);
    },
    { notDone: SHARE_NOT_DONE, keeps: 'participants/add', shares: personShared },
  );

  postRequestAction(
    '/requests/:key/participants/remove',
    'shared',
    async (key, body) => {
      const accountId = body['accountId'];
      const participants = await readBeforeWrite(() => client.participants(key));
      if (typeof accountId !== 'string' || !participants.some((p) => p.accountId === accountId)) {
        throw actionError('request.refused.notParticipant');
      }
      await client.removeParticipants(key, [accountId]);
    },
    {
      notDone: SHARE_NOT_DONE,
      keeps: 'participants/remove',
      shares: personShared,
      // Someone who takes themselves off may no longer see the request: its page would answer
      // "no such request" to the write just done. My requests says what happened instead, and still
      // lists the request if an organization share or an approval keeps it theirs (ADR 0284).
      elsewhere: (body, s) => (body['accountId'] === s.customer.accountId ? '/requests?left=1' : undefined),
    },
  );

  /**
   * Shares the request with one of the customer's own organizations, or stops sharing it with one,
   * as the native portal's Share does. Only that one organization is added or removed (ADR 0154):
   * every other organization it is shared with (the customer's or not) stays as Atlassian holds it,
   * whatever else changes it at the same instant.
   */
  const changeOrganizationShare =
    (change: 'add' | 'remove'): Parameters<typeof postRequestAction>[2] =>
    async (key, body, s, _params, { sharedOrganizationIds: shared, facts, desk }) => {
      if (shared === undefined) throw actionError('request.refused.organizationSharingUnavailable');
      const id = body['organizationId'];
      // Never an organization the customer is not in: no handing a request to strangers, no taking
      // it from them, and nothing learnt about which organizations exist.
      if (typeof id !== 'string' || !s.customer.organizationIds.includes(id))
        throw actionError('request.refused.shareOwnOrganizationsOnly');
      // Nor one the request's desk does not have: its members would not see it there (ADR 0312).
      if (change === 'add' && !sharingOrganizations(s.customer, desk.serviceDeskId).includes(id))
        throw actionError('request.refused.shareDeskOrganizationsOnly');
      if (change === 'remove') {
        // Whoever raised it decided to share it; a colleague who reads it through that share may not
        // take it from the rest of the organization (and from themselves).
        if (facts.reporterAccountId !== s.customer.accountId)
          throw actionError('request.refused.unshareReporterOnly');
        if (!shared.includes(id)) throw actionError('request.refused.notSharedWithOrganization');
      }
      if (!(await requests.changeSharedOrganizations(key, { [change]: [id] })))
        throw actionError('request.refused.organizationSharingUnavailable');
    };
  postRequestAction('/requests/:key/organizations/add', 'shared', changeOrganizationShare('add'), {
    notDone: SHARE_NOT_DONE,
    keeps: 'organizations/add',
    shares: organizationShared,
  });
  postRequestAction('/requests/:key/organizations/remove', 'shared', changeOrganizationShare('remove'), {
    notDone: SHARE_NOT_DONE,
    keeps: 'organizations/remove',
    shares: organizationShared,
  });

  const refuseApproverOnlyUpload = (res: Response) => {
    const { t } = translatorOf(res);
    const err = approverOnly();
    refuse(res, err.status, err.code, t('error.uploadRefused.title'), t(err.messageKey));
  };
  const attachFile = async (req: Request, res: Response) => {
    const key = String(req.params['key']);
    const s = session(res);
    const before = await visibleBeforeUpload(s, key);
    if (!(before instanceof AtlassianError) && !before.mayAct) {
      req.resume();
      refuseApproverOnlyUpload(res);
      return;
    }
    const form = await readUploadForm(web, services, req, res, 1);
    if (!form) return;
    if (!csrfOk(res, form.fields['_csrf'])) return;
    const seen = await visibleAfterUpload(s, key, before);
    // Taken off meanwhile as a participant, yet still asked to approve it: an approver-only reader now.
    if (!(seen instanceof AtlassianError) && !seen.mayAct) {
      refuseApproverOnlyUpload(res);
      return;
    }
    if (form.refused) {
      noteRefusal(form.refused.status, form.refused.code, 'upload refused');
      await renderDetail(res, key, {
        uploadError: uploadRefusalText(translatorOf(res), form.refused),
        status: form.refused.status,
      });
      return;
    }
    const file = form.files[0];
    if (!file) {
      await renderDetail(res, key, {
        uploadError: translatorOf(res).t('request.refused.noFile'),
        status: 400,
      });
      return;
    }
    const formKey = writeKeyFrom(form.fields[WRITE_KEY_FIELD]);
    try {
      // Its visibility unread: nothing is sent, and the page says so as of any failed upload.
      if (seen instanceof AtlassianError) throw seen;
      const { desk } = seen;
      await requests.attach(
        key,
        desk.serviceDeskId,
        [file],
        // Atlassian adds a link to the file below the note: agents read who attached it.
        authoredBody(s.customer.displayName, ''),
        uploadWriteKey(formKey, file),
      );
    } catch (err) {
      // Also when nothing was sent this time: an earlier post of the same form gave up on an upload
      // that may have been made, or is still sending it (ADR 0378), or the store cannot vouch for
      // the claims that keep it to one (ADR 0385).
      const uploadError = writeFailureText(translatorOf(res), err, FILE_NOT_DONE);
      if (uploadError === undefined || !(err instanceof JsmSsoError)) throw err;
      await renderDetail(res, key, {
        uploadError,
        reference: noteActionRefused(res, err, 'upload refused'),
        status: err.status,
        // The same key: the file chosen again is looked for first (a new key attached it twice), another
        // file is its own write (uploadWriteKey).
        attachmentWriteKey: formKey,
        // Kept past an unreadable page (ADR 0400), also when her visibility was unread: a key and a file
        // input, nothing of the request, the same for any key (ADR 0401).
        kept: { action: 'attachment', writeKey: formKey, files: 'one' },
      });
      return;
    }
    await keepRecentWrite(services, s, seen.request.issueId);
    res.redirect(303, `/requests/${encodeURIComponent(key)}?uploaded=1`);
  };
  app.post('/requests/:key/attachment', signedIn, limits.limit('uploads'), uploadRoute(attachFile));

  /**
   * A file of the request, streamed through: the id must be one of the files this customer may
   * open on this request. Downloads are always attachments; a thumbnail is served inline only as
   * a raster image type (never SVG, which can carry script), in a sandbox.
   */
  const serveFile = (thumbnail: boolean) => async (req: Request, res: Response) => {
    let release: (() => void) | undefined;
    try {
      const key = String(req.params['key']);
      const id = String(req.params['attachmentId']);
      const s = session(res);
      const attachment = await details.file(s, key, id);
      if (thumbnail && !fileView(key, attachment)?.thumbnail) throw new NotVisibleError();
      if (req.method === 'HEAD') {
        // What GET would answer, from the file's listing, without reading the file or its thumbnail
        // from Atlassian only to drop it (RFC 9110 9.3.2: a HEAD need not send what only the content
        // tells): a HEAD flood would otherwise cost the site a read each (ADR 0221, ADR 0287). A
        // thumbnail's image type and length are Atlassian's rendering's, so its HEAD has neither.
        if (thumbnail) setFileHeaders(res, undefined, 'inline', attachment.filename);
        else {
          setFileHeaders(res, 'application/octet-stream', 'attachment', attachment.filename);
          if (Number.isSafeInteger(attachment.size)) res.setHeader('Content-Length', String(attachment.size));
        }
        res.end();
        return;
      }
      // A file streams at the customer's pace, holding its Atlassian connection: bounded per account
      // and per tenant (ADR 0221). A thumbnail is a few KiB, written at once.
      release = thumbnail ? undefined : downloads.take(s.customer.accountId);
      const upstream = await (thumbnail
        ? client.attachmentThumbnail(key, id, MAX_THUMBNAIL_BYTES)
        : client.attachmentContent(key, id, listedSize(attachment.size)));
      const imageType = upstream.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
      if (thumbnail && !THUMBNAIL_TYPES.has(imageType)) {
        await upstream.body?.cancel();
        throw new NotVisibleError();
      }
      // The length on the wire is of the encoded body when Atlassian compressed it; fetch decodes.
      const length = upstream.headers.get('content-length');
      const encoded =
        (upstream.headers.get('content-encoding') ?? 'identity').trim().toLowerCase() !== 'identity';
      // Streamed through, so a large file never sits whole in the portal's memory. The file's headers
      // go with its first byte: when Atlassian breaks off before it, the error page below is a page
      // (ADR 0326), not a download named as the file.
      const end = await streamThrough(upstream.body, res, {
        beforeFirstByte: () => {
          setFileHeaders(
            res,
            thumbnail ? imageType : 'application/octet-stream',
            thumbnail ? 'inline' : 'attachment',
            attachment.filename,
          );
          if (length && !encoded && /^[0-9]{1,12}$/.test(length)) res.setHeader('Content-Length', length);
        },
      });
      if (end.outcome === 'client-aborted') {
        // The browser moved on (or the customer cancelled).
        noteClientAborted(services, 'download abandoned by the client');
      } else if (end.outcome === 'client-stalled') {
        noteClientAborted(services, `download cut: the client took nothing for ${CLIENT_IDLE_MS / 1000} s`);
      } else if (end.outcome === 'upstream-failed') {
        const failure = upstreamBodyFailure(end.cause);
        // Before any byte went out the customer still gets the error page; after, the download is cut.
        if (!res.headersSent) throw failure;
        logger.warn(
          { event: 'portal.atlassian_error', reason: failure.code },
          'download broken off by Atlassian',
        );
        res.destroy();
      }
    } catch (err) {
      // Cut off mid-file: the browser sees an incomplete download, not a page glued to it.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof FileVisibilityUnknownError) {
        noteFilesUndecided(err.lookup);
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        const i18n = translatorOf(res);
        refuse(res, 503, err.code, i18n.t('error.failed.title'), problemText(i18n, err));
        return;
      }
      throw err;
    } finally {
      release?.();
    }
  };
  app.get('/requests/:key/attachment/:attachmentId', signedIn, serveFile(false));
  app.get('/requests/:key/attachment/:attachmentId/thumbnail', signedIn, serveFile(true));
}

/**
 * What the request's page says about its organizations: the customer's own it is shared with (the
 * others are counted, not named: which organizations a request reaches beyond the customer's is not
 * theirs to browse), and the customer's others it could be shared with.
 */
function organizationSharing(
  sharedOrganizationIds: readonly string[],
  facts: RequestFacts,
  mine: readonly OrganizationDTO[],
  accountId: string,
): OrganizationSharingView {
  const shared = new Set(sharedOrganizationIds);
  return {
    shared: mine.filter((o) => shared.has(o.id)),
    offered: mine.filter((o) => !shared.has(o.id)),
    others: [...shared].filter((id) => !mine.some((o) => o.id === id)).length,
    mayStopSharing: facts.reporterAccountId === accountId,
  };
}

function isShareAction(action: KeptForm['action']): action is ShareAction {
  return action.startsWith('participants/') || action.startsWith('organizations/');
}

/** The person a participant action changed the request for (checked by the action before it wrote). */
const personShared = (body: Record<string, unknown>): ShareChange | undefined =>
  typeof body['accountId'] === 'string' ? { accountId: body['accountId'] } : undefined;

/** The organization an organization share action changed the request for (checked likewise). */
const organizationShared = (body: Record<string, unknown>): ShareChange | undefined =>
  typeof body['organizationId'] === 'string' ? { organizationId: body['organizationId'] } : undefined;

/** Whom a share action's form chose, as posted: kept so that one click sends it again (ADR 0407). */
function choiceOf(body: Record<string, unknown>): KeptForm['choice'] {
  const accountId = body['accountId'];
  if (typeof accountId === 'string') return { field: 'accountId', value: accountId };
  const organizationId = body['organizationId'];
  return typeof organizationId === 'string' ? { field: 'organizationId', value: organizationId } : undefined;
}

/** The most bytes of a thumbnail read: Atlassian's are small previews, a few KiB. */
const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;
/** The bound of a file Atlassian lists no size for (we have seen none): generous, yet an end. */
const UNLISTED_FILE_MAX_BYTES = 2 * 1024 * 1024 * 1024;

/** The most bytes of a file read: the size Atlassian lists for it, never more. */
/** A file's headers: a download never rendered, a thumbnail inline in a sandbox, whole files only. */
function setFileHeaders(
  res: Response,
  type: string | undefined,
  disposition: 'inline' | 'attachment',
  filename: string,
): void {
  if (type) res.setHeader('Content-Type', type);
  res.setHeader('Content-Disposition', contentDisposition(disposition, filename));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  // Whole files only: a Range is answered with the whole file (RFC 9110 14.2 lets a server).
  res.setHeader('Accept-Ranges', 'none');
}

function listedSize(size: number | undefined): number {
  return Number.isSafeInteger(size) && size! >= 0 ? size! : UNLISTED_FILE_MAX_BYTES;
}

/**
 * Atlassian's body broke off: longer than the file's listed size (the bound's own error), timed
 * out (the transport's deadline covers the body) or lost.
 */
function upstreamBodyFailure(cause: unknown): JsmSsoError {
  if (cause instanceof JsmSsoError && cause.code === 'UPSTREAM_RESPONSE_TOO_LARGE') return cause;
  const timedOut = (cause as Error | undefined)?.name === 'TimeoutError';
  return new AtlassianError(timedOut ? 'ATLASSIAN_TIMEOUT' : 'ATLASSIAN_UNREACHABLE', 0, { cause });
}
