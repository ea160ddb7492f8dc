// My requests and request details, and every action on a request. Each handler re-checks
// visibility through RequestService.visible before it reads or changes anything.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Express, NextFunction, Request, Response } from 'express';
import { type ErrorCode, JsmSsoError } from '../../common/errors.js';
import { attachmentId } from '../atlassian/client.js';
import { AtlassianError } from '../atlassian/errors.js';
import { type ListState, requestDetailPage, requestsPage, transitionConfirmPage } from '../pages/requests.js';
import { uploadRefusalText } from '../pages/uploads.js';
import { NotVisibleError } from '../requests.js';
import type { PortalServices } from '../services.js';
import type { Session } from '../session.js';
import { replaceControlCharacters } from '../text.js';
import type { Ownership, StatusFilter } from '../visibility.js';
import type { PortalWeb } from '../web.js';
import { newWriteKey, WRITE_KEY_FIELD, writeKeyFrom } from '../write-once.js';
import { readUploadForm } from './upload-form.js';

/** The refusals of a request action the detail page shows beside the form, keeping the draft. */
const ACTION_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'PORTAL_ACTION_INVALID',
  'PORTAL_ACTION_APPROVER_ONLY',
]);

export function mountRequestRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { logger, client, requests, colleagues, limits } = services;
  const { forms, pageContext, send, refuse, noteRefusal, signedIn, csrf, csrfOk, session } = web;
  const OWNERSHIPS: readonly Ownership[] = ['all', 'mine', 'shared', 'approvals'];
  /** The filter's value for one organization (the native portal lists each by name). */
  const ORGANIZATION_CHOICE = /^org-([0-9]{1,18})$/;
  const STATUSES: readonly StatusFilter[] = ['open', 'closed', 'all'];
  const pick = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T =>
    allowed.includes(value as T) ? (value as T) : fallback;

  app.get('/requests', signedIn, async (req, res, next) => {
    try {
      const { customer } = session(res);
      const organizationId = ORGANIZATION_CHOICE.exec(String(req.query['ownership']))?.[1];
      const state: ListState = {
        ownership: organizationId ? 'organization' : pick(req.query['ownership'], OWNERSHIPS, 'all'),
        organizationId,
        status: pick(req.query['status'], STATUSES, 'open'),
        search: typeof req.query['q'] === 'string' ? req.query['q'].slice(0, 100) : '',
      };
      const page =
        typeof req.query['page'] === 'string' && req.query['page'] !== '' ? req.query['page'] : undefined;
      const [result, organizations] = await Promise.all([
        requests.list(
          customer,
          {
            ownership: state.ownership,
            organizationId: state.organizationId,
            status: state.status,
            search: state.search,
          },
          page,
        ),
        colleagues.organizations(customer),
      ]);
      state.nextPageToken = result.nextPageToken;
      send(res, requestsPage(pageContext(res), result.requests, state, organizations));
    } catch (err) {
      next(err);
    }
  });

  const NOTICES: Record<string, string> = {
    created: 'Your request was sent.',
    unshared:
      'Your request was sent, but it could not be shared with your organization. Ask the help desk to share it, or share it with people below.',
    commented: 'Your comment was added.',
    uploaded: 'Your file was attached.',
    shared: 'Sharing was updated.',
    moved: 'The request was updated.',
  };

  const renderDetail = async (
    res: Response,
    key: string,
    extra: {
      notice?: string;
      error?: string;
      uploadError?: string;
      status?: number;
      /** After a failed comment: its text and key, so sending it again writes it once. */
      commentDraft?: { text: string; writeKey: string };
    } = {},
  ) => {
    const s = session(res);
    const { request, mayAct } = await requests.visible(s.customer, key);
    const [statusHistory, comments, attachments, approvals, transitions, sla] = await Promise.all([
      client.statusHistory(key),
      client.publicComments(key),
      client.customerAttachments(key),
      client.approvals(key),
      client.transitions(key),
      client.sla(key).catch(() => []),
    ]);
    const participants = request.participants?.values ?? [];
    const candidates = await colleagues.people(
      s.customer.organizationIds,
      new Set([s.customer.accountId, ...participants.map((p) => p.accountId)]),
    );
    const fieldSummary = request.requestFieldValues?.find((f) => f.fieldId === 'summary')?.value;
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
        request,
        statusHistory,
        // Belt and braces: only public comments, whatever the API returned.
        comments: comments.filter((c) => c.public === true),
        attachments,
        approvals,
        participants,
        candidates,
        transitions,
        sla,
        customerAccountId: s.customer.accountId,
        mayAct,
        csrf: s.csrf,
        writeKeys: { comment: extra.commentDraft?.writeKey ?? newWriteKey(), attachment: newWriteKey() },
        commentDraft: extra.commentDraft?.text,
        notice: extra.notice,
        error: extra.error,
        uploadError: extra.uploadError,
      }),
      extra.status ?? 200,
    );
  };

  app.get('/requests/:key', signedIn, async (req, res, next) => {
    try {
      const flag = Object.keys(NOTICES).find((k) => req.query[k] === '1');
      await renderDetail(res, String(req.params['key']), flag ? { notice: NOTICES[flag]! } : {});
    } catch (err) {
      next(err);
    }
  });

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
      ) => Promise<void>,
      {
        approvers = false,
        notDone = '',
      }: {
        approvers?: boolean;
        /** Said after a failed write: what did not happen and what to do. */
        notDone?: string;
      } = {},
    ) =>
    async (req: Request, res: Response, next: NextFunction) => {
      const key = String(req.params['key']);
      try {
        const { mayAct } = await requests.visible(session(res).customer, key);
        if (!mayAct && !approvers) throw approverOnly();
        await action(
          key,
          (req.body ?? {}) as Record<string, unknown>,
          session(res),
          req.params as Record<string, string>,
        );
        res.redirect(303, `/requests/${encodeURIComponent(key)}?${notice}=1`);
      } catch (err) {
        if (err instanceof AtlassianError || (err instanceof JsmSsoError && ACTION_REFUSALS.has(err.code))) {
          logger.warn({ event: 'portal.action_refused', reason: err.code }, 'action refused');
          try {
            const message = err instanceof AtlassianError ? `${err.friendly} ${notDone}`.trim() : err.message;
            const body = (req.body ?? {}) as Record<string, unknown>;
            const text = typeof body['body'] === 'string' ? body['body'] : undefined;
            await renderDetail(res, key, {
              error: message,
              status: err.status,
              ...(text === undefined
                ? {}
                : { commentDraft: { text, writeKey: writeKeyFrom(body[WRITE_KEY_FIELD]) } }),
            });
          } catch (inner) {
            next(inner);
          }
          return;
        }
        next(err);
      }
    };
  const actionError = (message: string) => new JsmSsoError('PORTAL_ACTION_INVALID', message, { status: 400 });
  const approverOnly = () =>
    new JsmSsoError(
      'PORTAL_ACTION_APPROVER_ONLY',
      'As an approver of this request you can read it and comment (your answer goes through Atlassian’s e-mail); changing it is up to the people it belongs to.',
      { status: 403 },
    );
  app.post(
    '/requests/:key/comment',
    signedIn,
    limits.limit('comments'),
    forms,
    csrf,
    requestAction(
      'commented',
      async (key, body, s) => {
        const text = typeof body['body'] === 'string' ? body['body'].trim() : '';
        if (!text || text.length > 32_000) throw actionError('Write a comment first.');
        // The service account writes the comment; the customer's name keeps the thread readable.
        await requests.comment(
          key,
          `${s.customer.displayName}: ${text}`,
          writeKeyFrom(body[WRITE_KEY_FIELD]),
        );
      },
      {
        approvers: true,
        notDone:
          'Your comment was not added. It is kept below: send it again when you are ready (it will not be added twice).',
      },
    ),
  );

  app.post(
    '/requests/:key/transition',
    forms,
    signedIn,
    csrf,
    requestAction('moved', async (key, body, s) => {
      const id = body['transition'];
      const allowed = await client.transitions(key);
      if (typeof id !== 'string' || !allowed.some((t) => t.id === id))
        throw actionError('That step is not available.');
      const text = typeof body['body'] === 'string' ? body['body'].trim() : '';
      if (text.length > 32_000) throw actionError('The comment is too long.');
      // The optional comment goes with the transition (one call), written as for a comment.
      await client.performTransition(key, id, text ? `${s.customer.displayName}: ${text}` : undefined);
    }),
  );

  // A transition is confirmed on a page of its own (the portal uses no script): the step's name,
  // what it does to the request, and an optional comment.
  app.get('/requests/:key/transition/:transitionId', signedIn, async (req, res, next) => {
    const key = String(req.params['key']);
    try {
      const s = session(res);
      const { request, mayAct } = await requests.visible(s.customer, key);
      if (!mayAct) {
        const err = approverOnly();
        refuse(res, err.status, err.code, 'Not available', err.message);
        return;
      }
      const transition = (await client.transitions(key)).find((t) => t.id === req.params['transitionId']);
      if (!transition) {
        refuse(
          res,
          404,
          'PORTAL_ACTION_INVALID',
          'Not available',
          'That step is not available for this request.',
        );
        return;
      }
      const summary = request.requestFieldValues?.find((f) => f.fieldId === 'summary')?.value;
      send(
        res,
        transitionConfirmPage(pageContext(res), {
          key,
          summary: typeof summary === 'string' ? summary : key,
          transition,
          csrf: s.csrf,
        }),
      );
    } catch (err) {
      next(err);
    }
  });

  app.post(
    '/requests/:key/participants/add',
    forms,
    signedIn,
    csrf,
    requestAction('shared', async (key, body, s) => {
      const accountId = body['accountId'];
      const candidates = await colleagues.people(s.customer.organizationIds, new Set([s.customer.accountId]));
      // Only people from the customer's own organizations: no probing the whole directory.
      if (typeof accountId !== 'string' || !candidates.some((c) => c.accountId === accountId)) {
        throw actionError('You can share requests with people from your organizations only.');
      }
      await client.addParticipants(key, [accountId]);
    }),
  );

  app.post(
    '/requests/:key/participants/remove',
    forms,
    signedIn,
    csrf,
    requestAction('shared', async (key, body) => {
      const accountId = body['accountId'];
      const participants = await client.participants(key);
      if (typeof accountId !== 'string' || !participants.some((p) => p.accountId === accountId)) {
        throw actionError('That person is not on this request.');
      }
      await client.removeParticipants(key, [accountId]);
    }),
  );

  app.post('/requests/:key/attachment', signedIn, limits.limit('uploads'), async (req, res, next) => {
    const key = String(req.params['key']);
    try {
      const s = session(res);
      const { desk, mayAct } = await requests.visible(s.customer, key);
      if (!mayAct) {
        req.resume();
        const err = approverOnly();
        refuse(res, err.status, err.code, 'Upload refused', err.message);
        return;
      }
      const form = await readUploadForm(web, services, req, res, 1);
      if (!form) return;
      if (!csrfOk(req, res, form.fields['_csrf'])) return;
      if (form.refused) {
        noteRefusal(form.refused.status, form.refused.code, 'Upload refused');
        await renderDetail(res, key, {
          uploadError: uploadRefusalText(form.refused),
          status: form.refused.status,
        });
        return;
      }
      const file = form.files[0];
      if (!file) {
        await renderDetail(res, key, { uploadError: 'Choose a file to attach.', status: 400 });
        return;
      }
      try {
        await requests.attach(
          key,
          desk.serviceDeskId,
          file,
          `${s.customer.displayName} attached ${file.filename}.`,
          writeKeyFrom(form.fields[WRITE_KEY_FIELD]),
        );
      } catch (err) {
        if (!(err instanceof AtlassianError)) throw err;
        logger.warn({ event: 'portal.action_refused', reason: err.code }, 'upload refused');
        await renderDetail(res, key, {
          uploadError: `${err.friendly} Your file was not attached; please choose it and upload it again.`,
          status: err.status,
        });
        return;
      }
      res.redirect(303, `/requests/${encodeURIComponent(key)}?uploaded=1`);
    } catch (err) {
      next(err);
    }
  });

  app.get('/requests/:key/attachment/:attachmentId', signedIn, async (req, res, next) => {
    try {
      const key = String(req.params['key']);
      const id = String(req.params['attachmentId']);
      await requests.visible(session(res).customer, key);
      // The id must be one of this request's attachments: no reading another request's files by id.
      const attachment = (await client.customerAttachments(key)).find((a) => attachmentId(a) === id);
      if (!attachment) throw new NotVisibleError();
      const upstream = await client.attachmentContent(key, id);
      const filename = replaceControlCharacters(attachment.filename, '_').replace(/["\\]/g, '_');
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      const length = upstream.headers.get('content-length');
      if (length && /^[0-9]{1,12}$/.test(length)) res.setHeader('Content-Length', length);
      // Streamed through, so a large file never sits whole in the portal's memory.
      if (upstream.body) await pipeline(Readable.fromWeb(upstream.body as WebReadableStream), res);
      else res.end();
    } catch (err) {
      // Cut off mid-file: the browser sees an incomplete download, not a page glued to it.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      next(err);
    }
  });
}
