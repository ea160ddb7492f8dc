// /rest/servicedeskapi/request/...: customer requests and everything hanging off one.
import { type Request, type Response, Router } from 'express';
import {
  approvalDTO,
  attachmentDTO,
  commentAttachmentsPage,
  commentDTO,
  customerRequestDTO,
  page,
  slaDTOs,
  statusDTO,
  transitionDTO,
  userDTO,
} from '../dto.js';
import { FieldValueError, isEmptyValue, parseFieldValue, type StoredValue } from '../fields.js';
import {
  ApiError,
  badRequest,
  experimental,
  forbidden,
  jsonBody,
  locals,
  multi,
  notFound,
  pageOf,
  paging,
  queryOf,
  single,
  stringList,
} from '../http.js';
import { type Attachment, type CustomerRequest, decide, type EmulatorState, type User } from '../state.js';
import {
  canSeeAttachment,
  canSeeComment,
  canUseDesk,
  canView,
  DEFAULT_OWNERSHIP,
  matchesOwnership,
  OWNERSHIPS,
  type Ownership,
} from '../visibility.js';
import { statusNamed, transitionsFrom } from '../workflow.js';

/**
 * The request named in the path, if the caller may see it (404 either way, like Atlassian). An issue
 * raised inside Jira (no request type) is no customer request: the servicedeskapi does not serve it.
 */
export function visibleRequest(state: EmulatorState, req: Request, res: Response): CustomerRequest {
  const idOrKey = String(req.params['issueIdOrKey']);
  const request = state.requestByIdOrKey(idOrKey);
  if (!request || request.requestTypeId === '' || !canView(state, locals(res).caller, request))
    throw notFound('Request', idOrKey);
  return request;
}

function touch(request: CustomerRequest): void {
  request.updated = Math.max(Date.now(), request.updated + 1);
}

function moveTo(request: CustomerRequest, status: string): void {
  request.status = status;
  touch(request);
  request.statusHistory.push({ status, date: request.updated });
}

function addComment(
  state: EmulatorState,
  request: CustomerRequest,
  author: User,
  body: string,
  isPublic: boolean,
  attachmentIds: string[] = [],
) {
  const comment = {
    id: state.nextId('comment', 10000),
    authorId: author.accountId,
    body,
    public: isPublic,
    created: Date.now(),
    attachmentIds,
  };
  request.comments.push(comment);
  touch(request);
  state.notifyMentions(request.key, body, author.accountId);
  return comment;
}

function accountIds(state: EmulatorState, ids: string[]): string[] {
  for (const id of ids) {
    if (!state.users.has(id))
      throw badRequest(
        `The user '${id}' does not exist.`,
        'sd.request.participants.error.user.does.not.exist',
        [id],
      );
  }
  return ids;
}

function takeTemporaryAttachments(state: EmulatorState, ids: string[], serviceDeskId: string): Attachment[] {
  const temporary = ids.map((id) => {
    const t = state.temporaryAttachments.get(id);
    if (!t || t.serviceDeskId !== serviceDeskId)
      throw badRequest(
        `The temporary attachment '${id}' does not exist or has expired.`,
        'sd.attachment.temporary.not.found',
        [id],
      );
    return t;
  });
  return temporary.map((t) => {
    state.temporaryAttachments.delete(t.temporaryAttachmentId);
    return {
      id: state.nextId('attachment', 10000),
      filename: t.filename,
      mimeType: t.mimeType,
      content: t.content,
      authorId: t.authorId,
      created: Date.now(),
    };
  });
}

const requestStatuses = ['OPEN_REQUESTS', 'CLOSED_REQUESTS', 'ALL_REQUESTS'];

export function requestRoutes(state: EmulatorState): Router {
  const r = Router();
  const dto = (res: Response, request: CustomerRequest, expand: Set<string>) =>
    customerRequestDTO(locals(res).links, state, request, locals(res).caller, expand, Date.now());

  r.post('/request', (req, res) => {
    const { caller } = locals(res);
    const body = jsonBody(req);
    const { serviceDeskId, requestTypeId, raiseOnBehalfOf, requestFieldValues = {} } = body;
    if (typeof serviceDeskId !== 'string' || serviceDeskId === '')
      throw badRequest('The service desk ID is required.', 'sd.request.create.servicedesk.required');
    if (typeof requestTypeId !== 'string' || requestTypeId === '')
      throw badRequest('The request type ID is required.', 'sd.request.create.requesttype.required');
    const desk = state.serviceDeskByIdentifier(serviceDeskId);
    if (!desk || !canUseDesk(state, caller, desk))
      throw badRequest(
        `The service desk '${serviceDeskId}' does not exist or you do not have permission to raise requests in it.`,
        'sd.request.create.servicedesk.invalid',
        [serviceDeskId],
      );
    const rt = state.requestTypes.get(requestTypeId);
    if (!rt || rt.serviceDeskId !== desk.id)
      throw badRequest(
        `The request type '${requestTypeId}' does not exist in service desk ${desk.id}.`,
        'sd.request.create.requesttype.invalid',
        [requestTypeId],
      );
    let reporter = caller;
    if (raiseOnBehalfOf !== undefined) {
      if (caller.kind !== 'agent')
        throw forbidden('Customers cannot raise requests on behalf of other people.');
      const target =
        typeof raiseOnBehalfOf === 'string'
          ? (state.users.get(raiseOnBehalfOf) ?? state.userByEmail(raiseOnBehalfOf))
          : undefined;
      if (!target)
        throw badRequest(
          `The user '${String(raiseOnBehalfOf)}' does not exist.`,
          'sd.request.create.raise.on.behalf.invalid',
          [String(raiseOnBehalfOf)],
        );
      reporter = target;
    }
    const participants = accountIds(state, stringList(body, 'requestParticipants'));
    if (
      typeof requestFieldValues !== 'object' ||
      requestFieldValues === null ||
      Array.isArray(requestFieldValues)
    )
      throw badRequest('requestFieldValues must be an object.', 'sd.request.create.fields.invalid');
    const submitted = requestFieldValues as Record<string, unknown>;
    const fieldValues: Record<string, StoredValue> = {};
    for (const fieldId of Object.keys(submitted)) {
      if (!rt.fields.some((f) => f.fieldId === fieldId))
        throw badRequest(
          `Field '${fieldId}' cannot be set. It is not on the appropriate screen, or unknown.`,
          'sd.request.create.field.unknown',
          [fieldId],
        );
    }
    for (const field of rt.fields) {
      const raw = submitted[field.fieldId];
      if (isEmptyValue(raw)) {
        if (field.required)
          throw badRequest(`${field.name}: ${field.name} is required.`, 'sd.request.create.field.required', [
            field.fieldId,
          ]);
        continue;
      }
      try {
        fieldValues[field.fieldId] = parseFieldValue(field, raw);
      } catch (err) {
        if (err instanceof FieldValueError)
          throw badRequest(err.message, 'sd.request.create.field.invalid', [field.fieldId]);
        throw err;
      }
    }
    const attachmentField = rt.fields.find((f) => f.kind === 'attachment');
    const attachments = attachmentField
      ? takeTemporaryAttachments(
          state,
          (fieldValues[attachmentField.fieldId] as string[] | undefined) ?? [],
          desk.id,
        )
      : [];
    const { id, key } = state.newIssue(desk);
    const now = Date.now();
    const request: CustomerRequest = {
      id,
      key,
      serviceDeskId: desk.id,
      requestTypeId: rt.id,
      reporterId: reporter.accountId,
      creatorId: caller.accountId,
      participantIds: [...new Set(participants)],
      organizationIds: [],
      status: 'Waiting for support',
      statusHistory: [{ status: 'Waiting for support', date: now }],
      created: now,
      updated: now,
      fieldValues,
      comments: [],
      attachments,
      approvals: [],
      subscriptions: new Map(),
    };
    if (rt.approverIds.length > 0) {
      request.approvals.push({
        id: state.nextId('approval', 0),
        name: 'Approval',
        approvers: rt.approverIds.map((accountId) => ({ accountId, decision: 'pending' })),
        finalDecision: 'pending',
        created: now,
      });
      request.status = 'Waiting for approval';
      request.statusHistory.push({ status: 'Waiting for approval', date: now });
    }
    state.requests.set(id, request);
    if (state.searchIndex.held) state.searchIndex.behind.add(id);
    for (const field of rt.fields) {
      const value = fieldValues[field.fieldId];
      if (field.kind === 'paragraph' && typeof value === 'string')
        state.notifyMentions(key, value, caller.accountId);
    }
    res.status(201).json(dto(res, request, new Set(multi(req, 'expand'))));
  });

  r.get('/request', (req, res) => {
    const { caller } = locals(res);
    // The spec documents no 400 here: unknown filter values are ignored rather than refused.
    const ownership = multi(req, 'requestOwnership').filter((o): o is Ownership =>
      OWNERSHIPS.includes(o as Ownership),
    );
    const requested = single(req, 'requestStatus') ?? 'ALL_REQUESTS';
    const status = requestStatuses.includes(requested) ? requested : 'ALL_REQUESTS';
    const organizationId = single(req, 'organizationId');
    const serviceDeskId = single(req, 'serviceDeskId');
    const requestTypeId = single(req, 'requestTypeId');
    const approvalStatus = single(req, 'approvalStatus');
    const term = single(req, 'searchTerm')?.replace(/[*?]/g, '').trim().toLowerCase();
    const wanted = ownership.length > 0 ? ownership : DEFAULT_OWNERSHIP;
    const found = [...state.requests.values()]
      .filter((request) => {
        if (
          request.requestTypeId === '' ||
          !canView(state, caller, request) ||
          !matchesOwnership(state, caller, request, wanted, organizationId)
        )
          return false;
        const category = statusNamed(request.status).category;
        if (status === 'OPEN_REQUESTS' && category === 'DONE') return false;
        if (status === 'CLOSED_REQUESTS' && category !== 'DONE') return false;
        if (serviceDeskId !== undefined && request.serviceDeskId !== serviceDeskId) return false;
        if (requestTypeId !== undefined && request.requestTypeId !== requestTypeId) return false;
        if (
          term &&
          !String(request.fieldValues['summary'] ?? '')
            .toLowerCase()
            .includes(term)
        )
          return false;
        if (approvalStatus !== undefined) {
          const mine = request.approvals.flatMap((a) =>
            a.approvers.filter((x) => x.accountId === caller.accountId).map((x) => ({ a, x })),
          );
          const pending = mine.some(({ a, x }) => a.finalDecision === 'pending' && x.decision === 'pending');
          if (
            approvalStatus === 'MY_PENDING_APPROVAL'
              ? !pending
              : approvalStatus === 'MY_HISTORY_APPROVAL' && mine.length === 0
          )
            return false;
        }
        return true;
      })
      .sort((a, b) => b.updated - a.updated);
    const expand = new Set(multi(req, 'expand'));
    res.json({ ...pageOf(req, res, '/request', found, (x) => dto(res, x, expand)) });
  });

  r.get('/request/:issueIdOrKey', (req, res) => {
    res.json(dto(res, visibleRequest(state, req, res), new Set(multi(req, 'expand'))));
  });

  r.get('/request/:issueIdOrKey/status', (req, res) => {
    const request = visibleRequest(state, req, res);
    res.json(
      pageOf(req, res, `/request/${request.id}/status`, [...request.statusHistory].reverse(), (s) =>
        statusDTO(s.status, s.date, state.requestTypes.get(request.requestTypeId)),
      ),
    );
  });

  r.get('/request/:issueIdOrKey/transition', (req, res) => {
    const request = visibleRequest(state, req, res);
    res.json(
      pageOf(
        req,
        res,
        `/request/${request.id}/transition`,
        transitionsFrom(request.status, state.workflow),
        transitionDTO,
      ),
    );
  });

  r.post('/request/:issueIdOrKey/transition', (req, res) => {
    const request = visibleRequest(state, req, res);
    const body = jsonBody(req);
    const transition = transitionsFrom(request.status, state.workflow).find((t) => t.id === body['id']);
    if (!transition)
      throw badRequest(
        `The transition '${String(body['id'])}' is not valid for this request.`,
        'sd.customer.transitions.invalid.transition',
        [String(body['id'])],
      );
    const comment = (body['additionalComment'] as { body?: unknown } | undefined)?.body;
    if (typeof comment === 'string' && comment.trim() !== '')
      addComment(state, request, locals(res).caller, comment, true);
    moveTo(request, transition.to);
    res.status(204).end();
  });

  r.get('/request/:issueIdOrKey/comment', (req, res) => {
    const { caller, links } = locals(res);
    const request = visibleRequest(state, req, res);
    const onlyPublic = single(req, 'public');
    const onlyInternal = single(req, 'internal');
    const comments = state.listedComments(
      request.comments.filter(
        (c) =>
          canSeeComment(caller, c) &&
          (onlyPublic !== 'false' || !c.public) &&
          (onlyInternal !== 'false' || c.public),
      ),
    );
    const expand = new Set(multi(req, 'expand'));
    res.json(
      pageOf(
        req,
        res,
        `/request/${request.id}/comment`,
        comments,
        (c) => commentDTO(links, state, request, c, expand),
        state.pageLimits.comment,
      ),
    );
  });

  r.post('/request/:issueIdOrKey/comment', (req, res) => {
    const { caller, links } = locals(res);
    const request = visibleRequest(state, req, res);
    const body = jsonBody(req);
    if (typeof body['body'] !== 'string' || body['body'].trim() === '')
      throw badRequest('The comment body is required.', 'sd.comment.body.required');
    const isPublic = body['public'] === undefined ? true : body['public'];
    if (typeof isPublic !== 'boolean')
      throw badRequest('public must be a boolean.', 'sd.emulator.error.body', ['public']);
    if (!isPublic && caller.kind !== 'agent') throw forbidden('Customers can only add public comments.');
    const comment = addComment(state, request, caller, body['body'], isPublic);
    res.status(201).json(commentDTO(links, state, request, comment, new Set()));
  });

  const commentOf = (req: Request, res: Response) => {
    const request = visibleRequest(state, req, res);
    const comment = request.comments.find((c) => c.id === req.params['commentId']);
    if (!comment || !canSeeComment(locals(res).caller, comment))
      throw notFound('Comment', String(req.params['commentId']));
    return { request, comment };
  };
  r.get('/request/:issueIdOrKey/comment/:commentId', (req, res) => {
    const { request, comment } = commentOf(req, res);
    res.json(commentDTO(locals(res).links, state, request, comment, new Set(multi(req, 'expand'))));
  });
  r.get('/request/:issueIdOrKey/comment/:commentId/attachment', experimental, (req, res) => {
    const { request, comment } = commentOf(req, res);
    res.json(commentAttachmentsPage(locals(res).links, state, request, comment, queryOf(req), paging(req)));
  });

  r.get('/request/:issueIdOrKey/attachment', (req, res) => {
    const { caller, links } = locals(res);
    const request = visibleRequest(state, req, res);
    res.json(
      pageOf(
        req,
        res,
        `/request/${request.id}/attachment`,
        request.attachments.filter((a) => canSeeAttachment(caller, request, a.id)),
        (a) => attachmentDTO(links, state, a),
        state.pageLimits.attachment,
      ),
    );
  });

  r.post('/request/:issueIdOrKey/attachment', (req, res) => {
    const { caller, links } = locals(res);
    const request = visibleRequest(state, req, res);
    const body = jsonBody(req);
    const ids = stringList(body, 'temporaryAttachmentIds');
    if (ids.length === 0)
      throw badRequest('temporaryAttachmentIds is required.', 'sd.attachment.temporary.ids.required');
    const isPublic = body['public'] ?? true;
    if (typeof isPublic !== 'boolean')
      throw badRequest('public must be a boolean.', 'sd.emulator.error.body', ['public']);
    if (!isPublic && caller.kind !== 'agent') throw forbidden('Customers can only add public attachments.');
    const attachments = takeTemporaryAttachments(state, ids, request.serviceDeskId);
    request.attachments.push(...attachments);
    const text = (body['additionalComment'] as { body?: unknown } | undefined)?.body;
    const names = attachments.map((a) => `[^${a.filename}]`).join(' ');
    const comment = addComment(
      state,
      request,
      caller,
      typeof text === 'string' && text !== '' ? `${text}\n\n${names}` : names,
      isPublic,
      attachments.map((a) => a.id),
    );
    const q = new URLSearchParams();
    res.status(201).json({
      attachments: page(
        links,
        `/request/${request.id}/attachment`,
        q,
        attachments,
        { start: 0, limit: 100 },
        (a) => attachmentDTO(links, state, a),
      ),
      comment: commentDTO(links, state, request, comment, new Set()),
    });
  });

  const attachmentOf = (req: Request, res: Response) => {
    const request = visibleRequest(state, req, res);
    const attachment = request.attachments.find(
      (a) => a.id === req.params['attachmentId'] && canSeeAttachment(locals(res).caller, request, a.id),
    );
    if (!attachment) throw notFound('Attachment', String(req.params['attachmentId']));
    return attachment;
  };
  r.get('/request/:issueIdOrKey/attachment/:attachmentId', (req, res) => {
    sendAttachment(res, attachmentOf(req, res), false);
  });
  r.get('/request/:issueIdOrKey/attachment/:attachmentId/thumbnail', (req, res) => {
    sendAttachment(res, attachmentOf(req, res), true);
  });

  r.get('/request/:issueIdOrKey/approval', (req, res) => {
    const { caller, links } = locals(res);
    const request = visibleRequest(state, req, res);
    res.json(
      pageOf(req, res, `/request/${request.id}/approval`, request.approvals, (a) =>
        approvalDTO(links, state, request, a, caller),
      ),
    );
  });

  const approvalOf = (req: Request, res: Response) => {
    const request = visibleRequest(state, req, res);
    const approval = request.approvals.find((a) => a.id === req.params['approvalId']);
    if (!approval) throw notFound('Approval', String(req.params['approvalId']));
    return { request, approval };
  };
  r.get('/request/:issueIdOrKey/approval/:approvalId', (req, res) => {
    const { request, approval } = approvalOf(req, res);
    res.json(approvalDTO(locals(res).links, state, request, approval, locals(res).caller));
  });
  r.post('/request/:issueIdOrKey/approval/:approvalId', (req, res) => {
    const { caller, links } = locals(res);
    const { request, approval } = approvalOf(req, res);
    const decision = jsonBody(req)['decision'];
    if (decision !== 'approve' && decision !== 'decline')
      throw badRequest("decision must be 'approve' or 'decline'.", 'sd.approval.decision.invalid');
    const mine = approval.approvers.find((a) => a.accountId === caller.accountId);
    if (!mine) throw forbidden('You are not an approver of this request.');
    if (approval.finalDecision !== 'pending' || mine.decision !== 'pending')
      throw new ApiError(409, 'This approval has already been decided.', 'sd.approval.already.decided', [
        approval.id,
      ]);
    mine.decision = decision === 'approve' ? 'approved' : 'declined';
    approval.finalDecision = decide(approval.approvers);
    if (approval.finalDecision !== 'pending') {
      approval.completed = Date.now();
      if (request.status === 'Waiting for approval')
        moveTo(request, approval.finalDecision === 'approved' ? 'Waiting for support' : 'Declined');
    }
    touch(request);
    res.json(approvalDTO(links, state, request, approval, caller));
  });

  const participantsPage = (req: Request, res: Response, request: CustomerRequest) => {
    const { links } = locals(res);
    const users = request.participantIds.flatMap((id) => state.users.get(id) ?? []);
    return pageOf(req, res, `/request/${request.id}/participant`, users, (u) => userDTO(links, u));
  };
  r.get('/request/:issueIdOrKey/participant', (req, res) => {
    res.json(participantsPage(req, res, visibleRequest(state, req, res)));
  });
  r.post('/request/:issueIdOrKey/participant', (req, res) => {
    const request = visibleRequest(state, req, res);
    const body = jsonBody(req);
    if (stringList(body, 'usernames').length > 0)
      throw badRequest(
        'usernames are not supported on Jira Cloud; use accountIds.',
        'sd.emulator.error.usernames',
      );
    for (const id of accountIds(state, stringList(body, 'accountIds')))
      if (!request.participantIds.includes(id)) request.participantIds.push(id);
    touch(request);
    res.json(participantsPage(req, res, request));
  });
  r.delete('/request/:issueIdOrKey/participant', (req, res) => {
    const request = visibleRequest(state, req, res);
    const remove = new Set(accountIds(state, stringList(jsonBody(req), 'accountIds')));
    request.participantIds = request.participantIds.filter((id) => !remove.has(id));
    touch(request);
    res.json(participantsPage(req, res, request));
  });

  r.get('/request/:issueIdOrKey/notification', (req, res) => {
    const { caller } = locals(res);
    const request = visibleRequest(state, req, res);
    const involved =
      request.reporterId === caller.accountId || request.participantIds.includes(caller.accountId);
    res.json({ subscribed: request.subscriptions.get(caller.accountId) ?? involved });
  });
  r.put('/request/:issueIdOrKey/notification', (req, res) => {
    visibleRequest(state, req, res).subscriptions.set(locals(res).caller.accountId, true);
    res.status(204).end();
  });
  r.delete('/request/:issueIdOrKey/notification', (req, res) => {
    visibleRequest(state, req, res).subscriptions.set(locals(res).caller.accountId, false);
    res.status(204).end();
  });

  const slas = (req: Request, res: Response) => {
    const request = visibleRequest(state, req, res);
    if (locals(res).caller.kind !== 'agent') throw forbidden('Customers cannot see SLA information.');
    return { request, slas: slaDTOs(locals(res).links, request, Date.now()) };
  };
  r.get('/request/:issueIdOrKey/sla', (req, res) => {
    const { request, slas: all } = slas(req, res);
    res.json(pageOf(req, res, `/request/${request.id}/sla`, all, (s) => s));
  });
  r.get('/request/:issueIdOrKey/sla/:slaMetricId', (req, res) => {
    const sla = slas(req, res).slas.find((s) => s.id === req.params['slaMetricId']);
    if (!sla) throw notFound('SLA metric', String(req.params['slaMetricId']));
    res.json(sla);
  });

  return r;
}

/** Attachment bytes; a thumbnail exists only for images (served as the image itself). */
export function sendAttachment(res: Response, attachment: Attachment, thumbnail: boolean): void {
  if (thumbnail && !attachment.mimeType.startsWith('image/'))
    throw notFound('Thumbnail for attachment', attachment.id);
  res.setHeader('Content-Type', attachment.mimeType);
  res.setHeader(
    'Content-Disposition',
    // Through a Buffer: half a UTF-16 pair becomes U+FFFD (encodeURIComponent would throw on it).
    `attachment; filename*=UTF-8''${encodeURIComponent(Buffer.from(attachment.filename).toString())}`,
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.status(200).send(attachment.content);
}
