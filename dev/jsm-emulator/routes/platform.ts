// The few Jira platform endpoints (/rest/api/3) a portal needs: who am I, user lookup (one, by
// search, in bulk), JQL search
// (the enhanced /search/jql; the old /search answers 410 as on Atlassian Cloud), issues by key
// (bulkfetch, which a held search index does not hide) and attachment bytes.
import { type Request, type Response, Router } from 'express';
import { avatarUrls, jiraDateTime, type LinkContext } from '../dto.js';
import { type FieldDef, jiraSchema } from '../fields.js';
import { locals, PlatformError } from '../http.js';
import { applyOrganizationChanges, organizationChanges } from '../issue-edit.js';
import { JqlError, type JqlIssue, matchesJql, parseJql } from '../jql.js';
import type { CustomerRequest, EmulatorState, User } from '../state.js';
import { canSeeAttachment, canView } from '../visibility.js';
import { platformCategory, statusNamed } from '../workflow.js';
import { sendAttachment } from './requests.js';

export function platformUser(ctx: LinkContext, user: User) {
  return {
    self: `${ctx.base}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
    accountId: user.accountId,
    accountType: user.kind === 'agent' ? 'atlassian' : 'customer',
    emailAddress: user.email,
    avatarUrls: avatarUrls(ctx, user.accountId),
    displayName: user.displayName,
    active: user.active,
    timeZone: user.timeZone,
    locale: 'en_US',
  };
}

/** A user as the platform names one inside another resource (`UserDetails`: no locale). */
function userDetails(ctx: LinkContext, user: User) {
  const { locale: _locale, ...details } = platformUser(ctx, user);
  return details;
}

/** JSM's Organizations field; its id differs per site, the portal finds it by type (GET /field). */
export const ORGANIZATIONS_FIELD_ID = 'customfield_10002';
/** JSM's Request Type field (type `vp-origin`), found the same way. */
export const REQUEST_TYPE_FIELD_ID = 'customfield_10010';

const systemField = (id: string, name: string, type: string) => ({
  id,
  key: id,
  name,
  custom: false,
  orderable: true,
  navigable: true,
  searchable: true,
  clauseNames: [id],
  schema: { type, system: id },
});

const SEARCH_MAX_RESULTS = 100;
const RECONCILE_MAX = 50;
const BULK_MAX_RESULTS = 200;
const BULK_FETCH_MAX = 100;
const NAVIGABLE = [
  'summary',
  'status',
  'created',
  'updated',
  'reporter',
  'project',
  'issuetype',
  'description',
  'labels',
  'duedate',
];

function adf(text: string) {
  return {
    type: 'doc',
    version: 1,
    content: text.split(/\n{2,}/).map((p) => ({ type: 'paragraph', content: [{ type: 'text', text: p }] })),
  };
}

function issueFields(
  ctx: LinkContext,
  state: EmulatorState,
  request: CustomerRequest,
  wanted: string[],
): Record<string, unknown> {
  const rt = state.requestTypes.get(request.requestTypeId);
  const desk = state.serviceDesks.get(request.serviceDeskId);
  const status = statusNamed(request.status);
  const reporter = state.users.get(request.reporterId);
  const all = wanted.includes('*all') || wanted.includes('*navigable');
  const names = all ? [...NAVIGABLE, ...(rt?.fields.map((f) => f.fieldId) ?? [])] : wanted;
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (name === 'summary') out[name] = request.fieldValues['summary'] ?? '';
    else if (name === 'description')
      out[name] =
        typeof request.fieldValues['description'] === 'string'
          ? adf(request.fieldValues['description'])
          : null;
    else if (name === 'status')
      out[name] = {
        self: `${ctx.base}/rest/api/3/status/${status.name}`,
        name: status.name,
        statusCategory: platformCategory(status.category),
      };
    else if (name === 'created') out[name] = jiraDateTime(request.created);
    else if (name === 'updated') out[name] = jiraDateTime(request.updated);
    else if (name === 'reporter') out[name] = reporter ? platformUser(ctx, reporter) : null;
    else if (name === 'project' && desk)
      out[name] = {
        self: `${ctx.base}/rest/api/3/project/${desk.projectId}`,
        id: desk.projectId,
        key: desk.projectKey,
        name: desk.projectName,
        projectTypeKey: 'service_desk',
      };
    else if (name === REQUEST_TYPE_FIELD_ID && rt)
      out[name] = {
        _links: { self: `${ctx.base}/rest/servicedeskapi/request/${request.id}` },
        requestType: {
          id: rt.id,
          name: rt.name,
          description: rt.description,
          serviceDeskId: rt.serviceDeskId,
        },
      };
    else if (name === ORGANIZATIONS_FIELD_ID)
      // As Jira renders JSM's Organizations field in issue fields: each organization with a numeric id.
      out[name] = request.organizationIds.flatMap((id) => {
        const org = state.organizations.get(id);
        return org
          ? [
              {
                id: Number(org.id),
                name: org.name,
                _links: { self: `${ctx.base}/rest/servicedeskapi/organization/${org.id}` },
              },
            ]
          : [];
      });
    else if (name === 'issuetype' && rt)
      out[name] = {
        self: `${ctx.base}/rest/api/3/issuetype/${rt.issueTypeId}`,
        id: rt.issueTypeId,
        name: rt.name,
        subtask: false,
      };
    else if (name !== '*all' && name !== '*navigable' && name !== 'id' && name !== 'key') {
      const field = rt?.fields.find((f) => f.fieldId === name);
      if (field) out[name] = request.fieldValues[name] ?? null;
      else if (name === 'labels') out[name] = [];
    }
  }
  return out;
}

export function jqlIssue(state: EmulatorState, request: CustomerRequest): JqlIssue {
  const desk = state.serviceDesks.get(request.serviceDeskId);
  const text = [
    request.fieldValues['summary'],
    request.fieldValues['description'],
    ...request.comments.map((c) => c.body),
  ]
    .filter((t) => typeof t === 'string')
    .join('\n');
  return {
    id: request.id,
    key: request.key,
    previousKeys: request.previousKeys ?? [],
    reporterId: request.reporterId,
    participantIds: request.participantIds,
    approverIds: request.approvals.flatMap((a) => a.approvers.map((x) => x.accountId)),
    approvals: request.approvals.map((a) => ({
      finalDecision: a.finalDecision,
      approvers: a.approvers.map((x) => ({ accountId: x.accountId, decision: x.decision })),
    })),
    organizations: request.organizationIds.flatMap((id) => state.organizations.get(id) ?? []),
    project: { id: desk?.projectId ?? '', key: desk?.projectKey ?? '' },
    statusCategory: platformCategory(statusNamed(request.status).category),
    requestType: {
      id: request.requestTypeId,
      name: state.requestTypes.get(request.requestTypeId)?.name ?? '',
    },
    summary: typeof request.fieldValues['summary'] === 'string' ? request.fieldValues['summary'] : '',
    text: text as string,
  };
}

function decodeToken(token: unknown): number {
  if (token === undefined || token === null) return 0;
  const offset =
    typeof token === 'string'
      ? Number(
          Buffer.from(token, 'base64url')
            .toString('utf8')
            .replace(/^offset:/, ''),
        )
      : Number.NaN;
  if (!Number.isInteger(offset) || offset < 0)
    throw new PlatformError(400, 'The provided next page token is invalid or expired.');
  return offset;
}

export function platformRoutes(state: EmulatorState): Router {
  const r = Router();

  // The fields Jira lists, each with its schema: the portal looks for JSM's Organizations field among
  // them by its type, and tells a date from a date and time by theirs. The request types' own fields
  // are listed as Jira lists every field of the site (the first request type naming one wins).
  r.get('/field', (_req, res) => {
    const typeFields = new Map<string, FieldDef>();
    for (const f of [...state.requestTypes.values()].flatMap((t) => t.fields))
      if (f.fieldId !== 'summary' && f.fieldId !== 'description' && !typeFields.has(f.fieldId))
        typeFields.set(f.fieldId, f);
    res.json([
      systemField('summary', 'Summary', 'string'),
      systemField('description', 'Description', 'string'),
      ...[...typeFields.values()].map((f) => {
        const schema = jiraSchema(f);
        return {
          id: f.fieldId,
          key: f.fieldId,
          name: f.name,
          custom: schema.custom !== undefined,
          orderable: true,
          navigable: true,
          searchable: true,
          clauseNames: schema.customId === undefined ? [f.fieldId] : [`cf[${schema.customId}]`, f.name],
          schema,
        };
      }),
      {
        id: REQUEST_TYPE_FIELD_ID,
        key: REQUEST_TYPE_FIELD_ID,
        name: 'Request Type',
        custom: true,
        orderable: true,
        navigable: true,
        searchable: true,
        clauseNames: ['Customer Request Type', 'Request Type', 'cf[10010]'],
        schema: {
          type: 'sd-customerrequesttype',
          custom: 'com.atlassian.servicedesk:vp-origin',
          customId: 10010,
        },
      },
      {
        id: ORGANIZATIONS_FIELD_ID,
        key: ORGANIZATIONS_FIELD_ID,
        name: 'Organizations',
        custom: true,
        orderable: true,
        navigable: true,
        searchable: true,
        clauseNames: ['Organizations', 'organizations', 'cf[10002]'],
        schema: {
          type: 'array',
          items: 'sd-customerorganization',
          custom: 'com.atlassian.servicedesk:sd-customer-organizations',
          customId: 10002,
        },
      },
    ]);
  });

  // Editing an issue, as far as a portal needs: JSM's Organizations field (organization ids), which
  // shares a request with those organizations, set whole (`fields`) or an organization at a time
  // (`update`, see issue-edit.ts). Agents only.
  r.put('/issue/:issueIdOrKey', (req, res) => {
    const { caller } = locals(res);
    const request = state.requestByIdOrKey(String(req.params['issueIdOrKey']));
    if (!request || !canView(state, caller, request))
      throw new PlatformError(404, 'Issue does not exist or you do not have permission to see it.');
    if (caller.kind !== 'agent')
      throw new PlatformError(403, 'You do not have permission to edit issues in this project.');
    const desk = state.serviceDesks.get(request.serviceDeskId);
    const changes = organizationChanges(req.body, ORGANIZATIONS_FIELD_ID, desk?.organizationIds ?? []);
    if (changes.length > 0) {
      request.organizationIds = applyOrganizationChanges(request.organizationIds, changes);
      request.updated = Date.now();
    }
    res.status(204).end();
  });

  // Issues by id or key (bulkfetch), read from the issues, never from the search index: a request
  // the held index does not show yet is here. Ascending id order; the missing and the unseen left out
  // (Atlassian's issueErrors lists only retriable failures).
  r.post('/issue/bulkfetch', (req, res) => {
    const { caller, links } = locals(res);
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new PlatformError(400, 'The request body must be a JSON object.');
    const { issueIdsOrKeys, fields = ['*navigable'] } = body as Record<string, unknown>;
    if (!Array.isArray(issueIdsOrKeys) || issueIdsOrKeys.some((k) => typeof k !== 'string'))
      throw new PlatformError(400, 'issueIdsOrKeys must be an array of issue ids or keys.');
    if (issueIdsOrKeys.length === 0 || issueIdsOrKeys.length > BULK_FETCH_MAX)
      throw new PlatformError(400, `Provide between 1 and ${BULK_FETCH_MAX} issue ids or keys.`);
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string'))
      throw new PlatformError(400, 'fields must be an array of field names.');
    const found = new Map<string, CustomerRequest>();
    for (const idOrKey of issueIdsOrKeys as string[]) {
      const request = state.requestByIdOrKey(idOrKey);
      if (request && canView(state, caller, request)) found.set(request.id, request);
    }
    res.json({
      issues: [...found.values()]
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((r) => ({
          id: r.id,
          key: r.key,
          self: `${links.base}/rest/api/3/issue/${r.id}`,
          fields: issueFields(links, state, r, fields as string[]),
        })),
      issueErrors: [],
    });
  });

  // An issue's comments (getComments), as an agent reads them: public and internal, `jsdPublic` saying
  // which, oldest first or, with `orderBy=-created`, newest first; a customer reads the public ones.
  r.get('/issue/:issueIdOrKey/comment', (req, res) => {
    const { caller, links } = locals(res);
    const request = state.requestByIdOrKey(String(req.params['issueIdOrKey']));
    if (!request || !canView(state, caller, request))
      throw new PlatformError(404, 'Issue does not exist or you do not have permission to see it.');
    const orderBy = req.query['orderBy'] ?? 'created';
    if (orderBy !== 'created' && orderBy !== '+created' && orderBy !== '-created')
      throw new PlatformError(400, `The orderBy value '${String(orderBy)}' is not supported.`);
    const startAt = Math.max(0, Number(req.query['startAt'] ?? 0) || 0);
    const maxResults = Math.min(5000, Math.max(1, Number(req.query['maxResults'] ?? 100) || 100));
    const visible = request.comments.filter((c) => c.public || caller.kind === 'agent');
    const ordered = orderBy === '-created' ? [...visible].reverse() : visible;
    const comment = (c: (typeof visible)[number]) => {
      const author = state.users.get(c.authorId);
      return {
        self: `${links.base}/rest/api/3/issue/${request.id}/comment/${c.id}`,
        id: c.id,
        ...(author ? { author: userDetails(links, author) } : {}),
        body: adf(c.body),
        created: jiraDateTime(c.created),
        updated: jiraDateTime(c.created),
        jsdPublic: c.public,
      };
    };
    res.json({
      startAt,
      maxResults,
      total: visible.length,
      comments: ordered.slice(startAt, startAt + maxResults).map(comment),
    });
  });

  r.get('/myself', (_req, res) => {
    res.json(platformUser(locals(res).links, locals(res).caller));
  });

  r.get('/user', (req, res) => {
    const accountId = req.query['accountId'];
    if (typeof accountId !== 'string' || accountId === '')
      throw new PlatformError(400, 'The accountId query parameter needs to be provided.');
    const user = state.users.get(accountId);
    if (!user || locals(res).caller.kind !== 'agent')
      throw new PlatformError(404, 'Specified user does not exist or you do not have required permissions');
    res.json(platformUser(locals(res).links, user));
  });

  r.get('/user/search', (req, res) => {
    const query = req.query['query'] ?? req.query['accountId'];
    if (typeof query !== 'string' || query === '')
      throw new PlatformError(400, "One of 'query' or 'accountId' parameters must be provided");
    if (locals(res).caller.kind !== 'agent') {
      res.json([]);
      return;
    }
    const q = query.toLowerCase();
    const startAt = Number(req.query['startAt'] ?? 0) || 0;
    const maxResults = Math.min(1000, Number(req.query['maxResults'] ?? 50) || 50);
    const found = [...state.users.values()].filter(
      (u) =>
        !state.userSearchIndex.behind.has(u.accountId) &&
        (u.accountId === query ||
          u.email.toLowerCase().startsWith(q) ||
          u.displayName
            .toLowerCase()
            .split(/\s+/)
            .some((w) => w.startsWith(q)) ||
          u.displayName.toLowerCase().startsWith(q)),
    );
    res.json(found.slice(startAt, startAt + maxResults).map((u) => platformUser(locals(res).links, u)));
  });

  // Users by accountId, a page at a time; ids Jira does not know are left out, not refused.
  r.get('/user/bulk', (req, res) => {
    // Read from the raw query: the extended parser turns more than 20 repeats into an object.
    const ids = new URLSearchParams(req.originalUrl.split('?')[1] ?? '')
      .getAll('accountId')
      .filter((id) => id !== '');
    if (ids.length === 0) throw new PlatformError(400, 'The accountId query parameter needs to be provided.');
    const { caller, links } = locals(res);
    const startAt = Math.max(0, Number(req.query['startAt'] ?? 0) || 0);
    const maxResults = Math.min(BULK_MAX_RESULTS, Number(req.query['maxResults'] ?? 10) || 10);
    // Customers have no Jira access: like the user search, they find nobody.
    const found = caller.kind === 'agent' ? ids.flatMap((id) => state.users.get(id) ?? []) : [];
    const page = found.slice(startAt, startAt + maxResults);
    res.json({
      self: `${links.base}${req.originalUrl}`,
      maxResults,
      startAt,
      total: found.length,
      isLast: startAt + page.length >= found.length,
      values: page.map((u) => platformUser(links, u)),
    });
  });

  const gone = (_req: Request, _res: Response) => {
    throw new PlatformError(
      410,
      'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046',
    );
  };
  r.get('/search', gone);
  r.post('/search', gone);

  /** `reconcileIssues`: "Strong consistency issue ids ... Accepts max 50 ids" (int64s). */
  const reconciledIn = (value: unknown): Set<string> => {
    if (!Array.isArray(value) || value.some((id) => !Number.isSafeInteger(id)))
      throw new PlatformError(400, 'reconcileIssues must be an array of issue ids.');
    if (value.length > RECONCILE_MAX)
      throw new PlatformError(400, `reconcileIssues accepts at most ${RECONCILE_MAX} issue ids.`);
    return new Set(value.map(String));
  };

  /**
   * The requests the caller may see that match a bounded JQL query, in its order. `reconciled` only
   * makes the index current for those ids; the query and the caller's permissions still decide.
   */
  const search = (caller: User, jql: unknown, reconciled: ReadonlySet<string> = new Set()) => {
    if (typeof jql !== 'string' || jql.trim() === '')
      throw new PlatformError(
        400,
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      );
    let query: ReturnType<typeof parseJql>;
    try {
      query = parseJql(jql, {
        issueExists: (v) =>
          [...state.requests.values()].some(
            (r) =>
              (r.key.toLowerCase() === v.toLowerCase() ||
                r.id === v ||
                (r.previousKeys ?? []).some((k) => k.toLowerCase() === v.toLowerCase())) &&
              canView(state, caller, r),
          ),
      });
    } catch (err) {
      if (err instanceof JqlError) throw new PlatformError(400, err.message);
      throw err;
    }
    if (!query.where)
      throw new PlatformError(
        400,
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      );
    const where = query.where;
    const { field, direction } = query.orderBy;
    const sign = direction === 'ASC' ? 1 : -1;
    // A request as the index has it: as it is, unless the index is held and the search does not
    // reconcile it (then as it was when held; not at all if created since).
    const { held, seen } = state.searchIndex;
    const indexed = (r: CustomerRequest) => (!held || reconciled.has(r.id) ? r : seen.get(r.id));
    return [...state.requests.values()]
      .flatMap((live) => {
        const r = indexed(live);
        return r && canView(state, caller, r) && matchesJql(where, jqlIssue(state, r)) ? [r] : [];
      })
      .sort((a, b) => sign * (a[field] - b[field]) || sign * (Number(a.id) - Number(b.id)));
  };

  // Atlassian's estimate of a search's size (exact here: the emulator indexes at once).
  r.post('/search/approximate-count', (req, res) => {
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new PlatformError(400, 'The request body must be a JSON object.');
    res.json({ count: search(locals(res).caller, (body as Record<string, unknown>)['jql']).length });
  });

  r.post('/search/jql', (req, res) => {
    const { caller, links } = locals(res);
    const body: unknown = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new PlatformError(400, 'The request body must be a JSON object.');
    const {
      jql,
      fields = ['id'],
      maxResults = 50,
      nextPageToken,
      reconcileIssues = [],
    } = body as Record<string, unknown>;
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string'))
      throw new PlatformError(400, 'fields must be an array of field names.');
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 0)
      throw new PlatformError(400, 'maxResults must be a non-negative integer.');
    const hits = search(caller, jql, reconciledIn(reconcileIssues));
    const offset = decodeToken(nextPageToken);
    const limit = Math.min(SEARCH_MAX_RESULTS, maxResults);
    const slice = hits.slice(offset, offset + limit);
    const isLast = offset + slice.length >= hits.length;
    const wanted = fields as string[];
    res.json({
      issues: slice.map((r) => ({
        id: r.id,
        key: r.key,
        self: `${links.base}/rest/api/3/issue/${r.id}`,
        fields: issueFields(links, state, r, wanted),
      })),
      ...(isLast
        ? {}
        : { nextPageToken: Buffer.from(`offset:${offset + slice.length}`).toString('base64url') }),
      isLast,
    });
  });

  const attachmentById = (req: Request, res: Response) => {
    const id = String(req.params['id']);
    for (const request of state.requests.values()) {
      const caller = locals(res).caller;
      const a = request.attachments.find((x) => x.id === id);
      if (a && canView(state, caller, request) && canSeeAttachment(caller, request, a.id)) return a;
    }
    throw new PlatformError(
      404,
      'The attachment with the provided ID does not exist or you do not have permission to view it.',
    );
  };
  // Jira answers 303 to a media URL unless `redirect=false`; the emulator redirects to itself.
  const content = (thumbnail: boolean) => (req: Request, res: Response) => {
    const attachment = attachmentById(req, res);
    if (req.query['redirect'] !== 'false') {
      res.redirect(303, `${locals(res).links.base}${req.baseUrl}${req.path}?redirect=false`);
      return;
    }
    try {
      sendAttachment(res, attachment, thumbnail);
    } catch {
      throw new PlatformError(404, 'No thumbnail exists for this attachment.');
    }
  };
  r.get('/attachment/content/:id', content(false));
  r.get('/attachment/thumbnail/:id', content(true));

  return r;
}
