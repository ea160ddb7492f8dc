// State -> the JSON shapes of Atlassian's servicedeskapi (component schemas of the OpenAPI spec).

import { renderWiki } from '../../common/wiki-render.js';
import { jiraSchema, presentFieldValue } from './fields.js';
import { REQUEST_TYPE_ICON_IDS } from './routes/avatars.js';
import type {
  Approval,
  Attachment,
  Comment,
  CustomerRequest,
  EmulatorState,
  Organization,
  RequestType,
  ServiceDesk,
  User,
} from './state.js';
import { canSeeAttachment, canSeeComment } from './visibility.js';
import { statusNamed } from './workflow.js';

/** Where links point: the site's base URL (`http://127.0.0.1:PORT`). */
export interface LinkContext {
  base: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Jira's date-time text, always UTC here: `2015-10-08T14:42:00.000+0000`. */
export function jiraDateTime(epochMillis: number): string {
  return new Date(epochMillis).toISOString().replace('Z', '+0000');
}

export function dateDTO(epochMillis: number) {
  const d = new Date(epochMillis);
  const hour = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
  return {
    iso8601: jiraDateTime(epochMillis).replace(/\.\d{3}/, ''),
    jira: jiraDateTime(epochMillis),
    friendly: `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${pad(d.getUTCFullYear() % 100)} ${hour}:${pad(d.getUTCMinutes())} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`,
    epochMillis,
  };
}

export function avatarUrls(ctx: LinkContext, accountId: string): Record<string, string> {
  const url = (size: number) =>
    `${ctx.base}/secure/useravatar?size=${size}&accountId=${encodeURIComponent(accountId)}`;
  return { '48x48': url(48), '24x24': url(24), '16x16': url(16), '32x32': url(32) };
}

export function userDTO(ctx: LinkContext, user: User) {
  return {
    accountId: user.accountId,
    emailAddress: user.email,
    displayName: user.displayName,
    active: user.active,
    timeZone: user.timeZone,
    _links: {
      jiraRest: `${ctx.base}/rest/api/2/user?accountId=${encodeURIComponent(user.accountId)}`,
      avatarUrls: avatarUrls(ctx, user.accountId),
      self: `${ctx.base}/rest/api/2/user?accountId=${encodeURIComponent(user.accountId)}`,
    },
  };
}

export interface PageRequest {
  start: number;
  /** The `limit` asked for (echoed in the page). */
  limit: number;
  /** The method's server-enforced maximum: a page holds at most this many, whatever `limit` says. */
  cap?: number;
}

/** The paging envelope (`size/start/limit/isLastPage/values/_links`) over an already filtered list. */
export function page<T, R>(
  ctx: LinkContext,
  path: string,
  query: URLSearchParams,
  items: readonly T[],
  paging: PageRequest,
  map: (item: T) => R,
) {
  const { start, limit } = paging;
  const values = items.slice(start, start + Math.min(limit, paging.cap ?? limit)).map(map);
  const isLastPage = start + values.length >= items.length;
  const link = (s: number) => {
    const q = new URLSearchParams(query);
    q.set('start', String(s));
    q.set('limit', String(limit));
    return `${ctx.base}/rest/servicedeskapi${path}?${q.toString()}`;
  };
  const self =
    query.size > 0
      ? `${ctx.base}/rest/servicedeskapi${path}?${query.toString()}`
      : `${ctx.base}/rest/servicedeskapi${path}`;
  return {
    _expands: [] as string[],
    size: values.length,
    start,
    limit,
    isLastPage,
    _links: {
      base: `${ctx.base}/rest/servicedeskapi`,
      context: '',
      self,
      ...(isLastPage ? {} : { next: link(start + values.length) }),
      ...(start > 0 ? { prev: link(Math.max(0, start - limit)) } : {}),
    },
    values,
  };
}

const everything = (): PageRequest => ({ start: 0, limit: 100 });

export function serviceDeskDTO(ctx: LinkContext, desk: ServiceDesk) {
  return {
    id: desk.id,
    projectId: desk.projectId,
    projectName: desk.projectName,
    projectKey: desk.projectKey,
    _links: { self: `${ctx.base}/rest/servicedeskapi/servicedesk/${desk.id}` },
  };
}

export function requestTypeFieldsDTO(requestType: RequestType, caller: User) {
  return {
    requestTypeFields: requestType.fields.map((f) => ({
      fieldId: f.fieldId,
      name: f.name,
      description: f.description,
      required: f.required,
      defaultValues: [],
      validValues: f.options.map(function option(o): { value: string; label: string; children: unknown[] } {
        return { value: o.id, label: o.value, children: o.children.map(option) };
      }),
      presetValues: [],
      jiraSchema: jiraSchema(f),
      visible: true,
    })),
    canRaiseOnBehalfOf: caller.kind === 'agent',
    canAddRequestParticipants: true,
  };
}

/** A request type's icon links, served by routes/avatars.ts. */
function requestTypeIcon(ctx: LinkContext, iconId: number) {
  return {
    id: String(iconId),
    _links: {
      iconUrls: Object.fromEntries(
        ['48x48', '24x24', '16x16', '32x32'].map((s) => [
          s,
          `${ctx.base}/rest/api/2/universal_avatar/view/type/SD_REQTYPE/avatar/${iconId}?size=${s}`,
        ]),
      ),
    },
  };
}

export function requestTypeDTO(ctx: LinkContext, rt: RequestType, caller: User, expand: Set<string>) {
  return {
    _expands: ['field'],
    id: rt.id,
    _links: { self: `${ctx.base}/rest/servicedeskapi/servicedesk/${rt.serviceDeskId}/requesttype/${rt.id}` },
    name: rt.name,
    description: rt.description,
    helpText: rt.helpText,
    issueTypeId: rt.issueTypeId,
    serviceDeskId: rt.serviceDeskId,
    portalId: rt.serviceDeskId,
    groupIds: rt.groupIds,
    icon: requestTypeIcon(ctx, REQUEST_TYPE_ICON_IDS.first + (Number(rt.id) % REQUEST_TYPE_ICON_IDS.count)),
    ...(expand.has('field') ? { fields: requestTypeFieldsDTO(rt, caller) } : {}),
  };
}

export function organizationDTO(ctx: LinkContext, org: Organization) {
  return {
    id: org.id,
    name: org.name,
    created: dateDTO(org.created),
    _links: { self: `${ctx.base}/rest/servicedeskapi/organization/${org.id}` },
  };
}

export function commentDTO(
  ctx: LinkContext,
  state: EmulatorState,
  request: CustomerRequest,
  comment: Comment,
  expand: Set<string>,
) {
  const author = state.users.get(comment.authorId);
  return {
    _expands: ['attachment', 'renderedBody'],
    id: comment.id,
    body: comment.body,
    public: comment.public,
    ...(author ? { author: userDTO(ctx, author) } : {}),
    created: dateDTO(comment.created),
    ...(expand.has('attachment')
      ? { attachments: commentAttachmentsPage(ctx, state, request, comment, new URLSearchParams()) }
      : {}),
    ...(expand.has('renderedBody')
      ? {
          renderedBody: {
            html: comment.renderedHtml ?? renderWiki(comment.body, state.wikiContext(ctx.base, request)),
          },
        }
      : {}),
    _links: { self: `${ctx.base}/rest/servicedeskapi/request/${request.id}/comment/${comment.id}` },
  };
}

/** The files added with one comment, as a page (the comment's `attachment` expansion and its own resource). */
export function commentAttachmentsPage(
  ctx: LinkContext,
  state: EmulatorState,
  request: CustomerRequest,
  comment: Comment,
  query: URLSearchParams,
  paging: PageRequest = { start: 0, limit: 50 },
) {
  return page(
    ctx,
    `/request/${request.id}/comment/${comment.id}/attachment`,
    query,
    request.attachments.filter((a) => comment.attachmentIds.includes(a.id)),
    paging,
    (a) => attachmentDTO(ctx, state, a),
  );
}

export function attachmentDTO(ctx: LinkContext, state: EmulatorState, attachment: Attachment) {
  const author = state.users.get(attachment.authorId);
  return {
    filename: attachment.filename,
    ...(author ? { author: userDTO(ctx, author) } : {}),
    created: dateDTO(attachment.created),
    size: attachment.content.length,
    mimeType: attachment.mimeType,
    _links: {
      self: `${ctx.base}/rest/api/3/attachment/${attachment.id}`,
      jiraRest: `${ctx.base}/rest/api/3/attachment/${attachment.id}`,
      content: `${ctx.base}/rest/api/3/attachment/content/${attachment.id}`,
      ...(attachment.mimeType.startsWith('image/')
        ? { thumbnail: `${ctx.base}/rest/api/3/attachment/thumbnail/${attachment.id}` }
        : {}),
    },
  };
}

export function approvalDTO(
  ctx: LinkContext,
  state: EmulatorState,
  request: CustomerRequest,
  approval: Approval,
  caller: User,
) {
  return {
    id: approval.id,
    name: approval.name,
    finalDecision: approval.finalDecision,
    canAnswerApproval:
      approval.finalDecision === 'pending' &&
      approval.approvers.some((a) => a.accountId === caller.accountId && a.decision === 'pending'),
    approvers: approval.approvers.flatMap((a) => {
      const user = state.users.get(a.accountId);
      return user ? [{ approver: userDTO(ctx, user), approverDecision: a.decision }] : [];
    }),
    createdDate: dateDTO(approval.created),
    ...(approval.completed === undefined ? {} : { completedDate: dateDTO(approval.completed) }),
    _links: { self: `${ctx.base}/rest/servicedeskapi/request/${request.id}/approval/${approval.id}` },
  };
}

/** A status as the servicedeskapi answers it: under the request type's customer-visible name. */
export function statusDTO(status: string, date: number, rt: RequestType | undefined) {
  return {
    status: rt?.customerStatusNames?.[status] ?? status,
    statusCategory: statusNamed(status).category,
    statusDate: dateDTO(date),
  };
}

export function transitionDTO(t: { id: string; name: string }) {
  return { id: t.id, name: t.name };
}

/** SLAs computed from the request's dates: "Time to first response" (8h) and "Time to resolution" (40h). */
export function slaDTOs(ctx: LinkContext, request: CustomerRequest, now: number) {
  const goals = [
    {
      id: '1',
      name: 'Time to first response',
      hours: 8,
      stop: request.comments.find((c) => c.public && c.authorId !== request.reporterId)?.created,
    },
    {
      id: '2',
      name: 'Time to resolution',
      hours: 40,
      stop: statusNamed(request.status).category === 'DONE' ? request.statusHistory.at(-1)?.date : undefined,
    },
  ];
  const duration = (millis: number) => ({
    millis,
    friendly: `${Math.trunc(millis / 3_600_000)}h ${Math.trunc((Math.abs(millis) % 3_600_000) / 60_000)}m`,
  });
  return goals.map((g) => {
    const goal = g.hours * 3_600_000;
    const breachTime = request.created + goal;
    const end = g.stop ?? now;
    const elapsed = end - request.created;
    const cycle = {
      startTime: dateDTO(request.created),
      breachTime: dateDTO(breachTime),
      breached: elapsed > goal,
      goalDuration: duration(goal),
      elapsedTime: duration(elapsed),
      remainingTime: duration(goal - elapsed),
    };
    return {
      id: g.id,
      name: g.name,
      _links: { self: `${ctx.base}/rest/servicedeskapi/request/${request.id}/sla/${g.id}` },
      completedCycles: g.stop === undefined ? [] : [{ ...cycle, stopTime: dateDTO(g.stop) }],
      ...(g.stop === undefined
        ? { ongoingCycle: { ...cycle, paused: false, withinCalendarHours: true } }
        : {}),
      slaDisplayFormat: 'NEW_SLA_FORMAT',
    };
  });
}

export const REQUEST_EXPANDS = [
  'participant',
  'status',
  'sla',
  'requestType',
  'serviceDesk',
  'attachment',
  'action',
  'comment',
];

export function customerRequestDTO(
  ctx: LinkContext,
  state: EmulatorState,
  request: CustomerRequest,
  caller: User,
  expand: Set<string>,
  now: number,
) {
  const rt = state.requestTypes.get(request.requestTypeId);
  const desk = state.serviceDesks.get(request.serviceDeskId);
  const reporter = state.users.get(request.reporterId);
  const q = new URLSearchParams();
  const users = (ids: string[]) => ids.flatMap((id) => state.users.get(id) ?? []);
  const comments = state.listedComments(request.comments.filter((c) => canSeeComment(caller, c)));
  const lastStatus = request.statusHistory.at(-1);
  // `comment.attachment` and `comment.renderedBody` expand each comment of the `comment` expansion.
  const commentExpands = new Set(
    [...expand].flatMap((e) => (e.startsWith('comment.') ? [e.slice('comment.'.length)] : [])),
  );
  return {
    _expands: REQUEST_EXPANDS,
    issueId: request.id,
    issueKey: request.key,
    requestTypeId: request.requestTypeId,
    serviceDeskId: request.serviceDeskId,
    createdDate: dateDTO(request.created),
    ...(reporter ? { reporter: userDTO(ctx, reporter) } : {}),
    requestFieldValues: (rt?.fields ?? []).flatMap((f) => {
      const stored = request.fieldValues[f.fieldId];
      if (stored === undefined || f.kind === 'attachment') return [];
      return [
        {
          fieldId: f.fieldId,
          label: f.name,
          ...presentFieldValue(f, stored, state.wikiContext(ctx.base, request)),
        },
      ];
    }),
    currentStatus: statusDTO(request.status, lastStatus?.date ?? request.created, rt),
    ...(expand.has('serviceDesk') && desk ? { serviceDesk: serviceDeskDTO(ctx, desk) } : {}),
    ...(expand.has('requestType') && rt ? { requestType: requestTypeDTO(ctx, rt, caller, new Set()) } : {}),
    ...(expand.has('participant')
      ? {
          participants: page(
            ctx,
            `/request/${request.id}/participant`,
            q,
            users(request.participantIds),
            everything(),
            (u) => userDTO(ctx, u),
          ),
        }
      : {}),
    ...(expand.has('status')
      ? {
          status: page(
            ctx,
            `/request/${request.id}/status`,
            q,
            [...request.statusHistory].reverse(),
            everything(),
            (s) => statusDTO(s.status, s.date, rt),
          ),
        }
      : {}),
    ...(expand.has('sla')
      ? {
          sla: page(
            ctx,
            `/request/${request.id}/sla`,
            q,
            caller.kind === 'agent' ? slaDTOs(ctx, request, now) : [],
            everything(),
            (s) => s,
          ),
        }
      : {}),
    ...(expand.has('attachment')
      ? {
          attachments: page(
            ctx,
            `/request/${request.id}/attachment`,
            q,
            request.attachments.filter((a) => canSeeAttachment(caller, request, a.id)),
            everything(),
            (a) => attachmentDTO(ctx, state, a),
          ),
        }
      : {}),
    ...(expand.has('comment')
      ? {
          comments: page(ctx, `/request/${request.id}/comment`, q, comments, everything(), (c) =>
            commentDTO(ctx, state, request, c, commentExpands),
          ),
        }
      : {}),
    ...(expand.has('action')
      ? {
          actions: {
            addAttachment: { allowed: true },
            addComment: { allowed: true },
            addParticipant: { allowed: true },
            removeParticipant: { allowed: true },
          },
        }
      : {}),
    _links: {
      jiraRest: `${ctx.base}/rest/api/2/issue/${request.id}`,
      web: `${ctx.base}/servicedesk/customer/portal/${request.serviceDeskId}/${request.key}`,
      agent: `${ctx.base}/browse/${request.key}`,
      self: `${ctx.base}/rest/servicedeskapi/request/${request.id}`,
    },
  };
}
