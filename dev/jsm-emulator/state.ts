// The in-memory Atlassian site: users, organizations, service desks, requests. Built from a seed
// (cross references checked here, with YAML paths) and mutated by the API handlers.
import { createHash } from 'node:crypto';
import { ConfigError, type ConfigProblem } from '../../common/errors.js';
import { mentionsIn, type WikiContext } from '../../common/wiki-render.js';
import {
  type FieldDef,
  type FieldOption,
  FieldValueError,
  isEmptyValue,
  isOptionKind,
  parseFieldValue,
  type StoredValue,
} from './fields.js';
import { SEED_SUBJECT, type Seed, type SeedAttachment, type SeedField, type SeedOption } from './seed.js';
import { statusNamed, TRANSITIONS, type Transition } from './workflow.js';

export interface User {
  accountId: string;
  kind: 'agent' | 'customer';
  email: string;
  displayName: string;
  apiToken?: string;
  active: boolean;
  timeZone: string;
}
export interface Organization {
  id: string;
  name: string;
  created: number;
  memberIds: string[];
}
export interface RequestTypeGroup {
  id: string;
  name: string;
}
export interface RequestType {
  id: string;
  serviceDeskId: string;
  name: string;
  description: string;
  helpText: string;
  issueTypeId: string;
  groupIds: string[];
  fields: FieldDef[];
  approverIds: string[];
  /**
   * Customer-visible status names (JSM's request type "Workflow statuses" setting): a workflow status
   * named here is shown to customers under this name by the servicedeskapi; agents and the Jira
   * platform API keep the workflow's name. Absent: customers see the workflow's names.
   */
  customerStatusNames?: Readonly<Record<string, string>>;
}
export interface ServiceDesk {
  id: string;
  projectId: string;
  projectKey: string;
  projectName: string;
  organizationIds: string[];
  customerIds: string[];
  groups: RequestTypeGroup[];
}
export interface Comment {
  id: string;
  authorId: string;
  body: string;
  public: boolean;
  created: number;
  /** Attachments added with this comment (also in the request's attachments). */
  attachmentIds: string[];
  /** What the renderer answers instead of rendering `body` (set by tests: hostile rendered HTML). */
  renderedHtml?: string;
}
export interface Attachment {
  id: string;
  filename: string;
  mimeType: string;
  content: Buffer;
  authorId: string;
  created: number;
  /**
   * False: an agent added it as internal, with no comment (Jira's issue view). Atlassian keeps a
   * file's visibility on the file and shows it to no caller: customers are listed public files only,
   * an agent (the portal's service account) every file alike (ADR 0375).
   */
  public?: boolean;
}
export interface TemporaryAttachment extends Omit<Attachment, 'id' | 'public'> {
  temporaryAttachmentId: string;
  serviceDeskId: string;
}
export type Decision = 'approved' | 'declined' | 'pending';
export interface Approval {
  id: string;
  name: string;
  approvers: { accountId: string; decision: Decision }[];
  finalDecision: Decision;
  created: number;
  completed?: number;
}
export interface CustomerRequest {
  id: string;
  key: string;
  serviceDeskId: string;
  /** '' for an issue raised inside Jira, not through a request type (tests make such issues). */
  requestTypeId: string;
  reporterId: string;
  creatorId: string;
  participantIds: string[];
  organizationIds: string[];
  status: string;
  statusHistory: { status: string; date: number }[];
  created: number;
  updated: number;
  fieldValues: Record<string, StoredValue>;
  comments: Comment[];
  attachments: Attachment[];
  approvals: Approval[];
  /** Explicit notification choices; absent means the default (subscribed if involved). */
  subscriptions: Map<string, boolean>;
  /**
   * The keys it had before it was moved to another project (or its project was renamed): Jira keeps
   * them, so the REST API and JQL still find the issue by them ("the old link … redirects"). Tests
   * move a request by setting its desk, type and key and keeping the old key here.
   */
  previousKeys?: string[];
}
export interface Article {
  id: string;
  title: string;
  excerpt: string;
  body: string;
  serviceDeskId: string;
}

const hex = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** Atlassian-looking account ids, stable for a given e-mail: agents `5b10…`, portal-only customers `qm:…`. */
export function accountIdFor(kind: 'agent' | 'customer', email: string): string {
  if (kind === 'agent') return `5b10${hex(`agent:${email}`, 20)}`;
  const h = hex(`customer:${email}`, 56);
  return `qm:${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}:${h.slice(32, 56)}`;
}

export class EmulatorState {
  readonly users = new Map<string, User>();
  readonly organizations = new Map<string, Organization>();
  readonly serviceDesks = new Map<string, ServiceDesk>();
  readonly requestTypes = new Map<string, RequestType>();
  readonly requests = new Map<string, CustomerRequest>();
  readonly temporaryAttachments = new Map<string, TemporaryAttachment>();
  readonly articles: Article[] = [];
  /**
   * Jira's search (/search/jql, approximate-count) is eventually consistent: a new issue, or a change
   * to one, may take seconds to minutes to be found ("search and reconcile" in Atlassian's docs). The
   * emulator's index follows every write at once, unless a test holds it: then a search finds each
   * request as it was when the index was held (its `updated`, status, people, organizations), and
   * requests created meanwhile not at all, until the index catches up; a search that names a request
   * in `reconcileIssues` finds it as it is.
   */
  readonly searchIndex = {
    held: false,
    /** Ids of requests created while held, not yet searchable. */
    behind: new Set<string>(),
    /** While held: each request as the index last saw it. */
    seen: new Map<string, CustomerRequest>(),
    hold: (): void => {
      this.searchIndex.held = true;
      this.searchIndex.seen = new Map([...this.requests.values()].map((r) => [r.id, structuredClone(r)]));
    },
    catchUp: (): void => {
      this.searchIndex.held = false;
      this.searchIndex.behind.clear();
      this.searchIndex.seen.clear();
    },
  };
  /**
   * The platform user search (/rest/api/3/user/search) is eventually consistent as well: an account
   * just created may not be found by it for a while. It follows every create at once, unless a test
   * holds it: then accounts created meanwhile are not found by it until it catches up (looked up by
   * accountId, and among a desk's customers, they are found at once).
   */
  readonly userSearchIndex = {
    held: false,
    /** Ids of accounts created while held, not yet found by the user search. */
    behind: new Set<string>(),
    hold: (): void => {
      this.userSearchIndex.held = true;
    },
    catchUp: (): void => {
      this.userSearchIndex.held = false;
      this.userSearchIndex.behind.clear();
    },
  };
  /**
   * The server-enforced maximum `limit` of a request's comments and files, each read from its own
   * resource (servicedeskapi "Pagination": "Each resource or method has a unique limit on the maximum
   * number of items returned, which cannot be exceeded"; a page asked for more holds that many, its
   * `size` below the `limit` it echoes and `isLastPage` false). Comments are capped below the 50 a
   * client asks by default, so a client that reads the next page at `start + limit` skips some.
   * Tests may change either.
   */
  readonly pageLimits = { comment: 25, attachment: 100 };
  /**
   * The order the servicedeskapi lists a request's comments in (getRequestComments and the request's
   * `comment` expansion): oldest first, as Atlassian answers today. The spec promises none (the
   * method takes no order), so tests may turn it (ADR 0384).
   */
  commentOrder: 'oldestFirst' | 'newestFirst' = 'oldestFirst';
  /** A request's comments (kept oldest first) as the servicedeskapi lists them: `commentOrder`. */
  listedComments<T>(comments: readonly T[]): T[] {
    return this.commentOrder === 'newestFirst' ? [...comments].reverse() : [...comments];
  }
  /**
   * The customer transitions of the requests' workflow: the default one; tests may add a step (a
   * workflow may offer a step again from where it leads, e.g. one that keeps the status).
   */
  readonly workflow: Transition[] = [...TRANSITIONS];
  /**
   * The mentions Jira notified (by e-mail and in the bell), as the account that wrote the text: a
   * comment's or a rich-text field's `[~accountid:id]` of an active account (`mentionsIn`).
   */
  readonly mentions: { issueKey: string; accountId: string; byAccountId: string }[] = [];
  private counters = new Map<string, number>();

  /** Records the notifications of the mentions in `text`, written by `by` on the issue `issueKey`. */
  notifyMentions(issueKey: string, text: string, by: string): void {
    for (const accountId of new Set(mentionsIn(text)))
      if (this.users.get(accountId)?.active) this.mentions.push({ issueKey, accountId, byAccountId: by });
  }

  /** What Jira's renderer resolves in a request's wiki markup: its files, accounts and issues. */
  wikiContext(base: string, request: CustomerRequest): WikiContext {
    return {
      base,
      issueKey: request.key,
      attachments: request.attachments,
      user: (accountId) => this.users.get(accountId),
      issue: (key) => {
        const issue = [...this.requests.values()].find((r) => r.key === key);
        return (
          issue && {
            summary: String(issue.fieldValues['summary'] ?? ''),
            done: statusNamed(issue.status).category === 'DONE',
          }
        );
      },
    };
  }

  /** Next numeric id (as a string) in a sequence; `floor` keeps generated ids above seeded ones. */
  nextId(sequence: string, start: number): string {
    const next = (this.counters.get(sequence) ?? start) + 1;
    this.counters.set(sequence, next);
    return String(next);
  }

  reserveId(sequence: string, id: string, start: number): void {
    this.counters.set(sequence, Math.max(this.counters.get(sequence) ?? start, Number(id)));
  }

  userByEmail(email: string): User | undefined {
    const wanted = email.toLowerCase();
    for (const user of this.users.values()) if (user.email.toLowerCase() === wanted) return user;
    return undefined;
  }

  organizationsOf(accountId: string): Organization[] {
    return [...this.organizations.values()].filter((o) => o.memberIds.includes(accountId));
  }

  requestByIdOrKey(idOrKey: string): CustomerRequest | undefined {
    const upper = idOrKey.toUpperCase();
    for (const r of this.requests.values()) if (r.id === idOrKey || r.key === upper) return r;
    // A current key wins over a historical one, as Jira resolves a clash.
    for (const r of this.requests.values()) if (r.previousKeys?.includes(upper)) return r;
    return undefined;
  }

  /** `15`, `IT`, `projectKey:IT`, `projectId:10001`, `serviceDeskId:15` (see "Using project identifiers"). */
  serviceDeskByIdentifier(identifier: string): ServiceDesk | undefined {
    const [prefix, rest] = identifier.includes(':') ? identifier.split(/:(.*)/s) : [undefined, identifier];
    for (const desk of this.serviceDesks.values()) {
      if (prefix === undefined && (desk.id === rest || desk.projectKey === rest)) return desk;
      if (prefix === 'projectKey' && desk.projectKey === rest) return desk;
      if (prefix === 'projectId' && desk.projectId === rest) return desk;
      if (prefix === 'serviceDeskId' && desk.id === rest) return desk;
    }
    return undefined;
  }

  newIssue(serviceDesk: ServiceDesk): { id: string; key: string } {
    return {
      id: this.nextId('issue', 10000),
      key: `${serviceDesk.projectKey}-${this.nextId(`key:${serviceDesk.projectKey}`, 0)}`,
    };
  }
}

/** Builds the state from a checked seed; cross-reference problems throw one ConfigError. */
export function buildState(seed: Seed, now = Date.now()): EmulatorState {
  const state = new EmulatorState();
  const problems: ConfigProblem[] = [];
  const userKeys = new Map<string, string>();
  const orgKeys = new Map<string, string>();
  const deskKeys = new Map<string, ServiceDesk>();
  const user = (key: string, path: string): string | undefined => {
    const id = userKeys.get(key);
    if (!id) problems.push({ path, message: `unknown user ${JSON.stringify(key)}` });
    return id;
  };
  const org = (key: string, path: string): string | undefined => {
    const id = orgKeys.get(key);
    if (!id) problems.push({ path, message: `unknown organization ${JSON.stringify(key)}` });
    return id;
  };

  for (const [i, o] of (seed.organizations ?? []).entries()) {
    if (orgKeys.has(o.key))
      problems.push({
        path: `organizations[${i}].key`,
        message: `duplicate organization ${JSON.stringify(o.key)}`,
      });
    const id = o.id ?? state.nextId('organization', 0);
    state.reserveId('organization', id, 0);
    orgKeys.set(o.key, id);
    state.organizations.set(id, { id, name: o.name, created: now - 400 * 86_400_000, memberIds: [] });
  }
  for (const [i, u] of seed.users.entries()) {
    const path = `users[${i}]`;
    if (userKeys.has(u.key))
      problems.push({ path: `${path}.key`, message: `duplicate user ${JSON.stringify(u.key)}` });
    if (state.userByEmail(u.email))
      problems.push({ path: `${path}.email`, message: `duplicate e-mail ${JSON.stringify(u.email)}` });
    const accountId = u.accountId ?? accountIdFor(u.kind, u.email);
    userKeys.set(u.key, accountId);
    state.users.set(accountId, {
      accountId,
      kind: u.kind,
      email: u.email,
      displayName: u.displayName,
      ...(u.apiToken ? { apiToken: u.apiToken } : {}),
      active: u.active ?? true,
      timeZone: u.timeZone ?? 'Etc/UTC',
    });
    for (const [j, key] of (u.organizations ?? []).entries()) {
      const id = org(key, `${path}.organizations[${j}]`);
      if (id) state.organizations.get(id)?.memberIds.push(accountId);
    }
  }
  for (const [i, d] of seed.serviceDesks.entries()) {
    const path = `serviceDesks[${i}]`;
    if (deskKeys.has(d.projectKey))
      problems.push({
        path: `${path}.projectKey`,
        message: `duplicate project key ${JSON.stringify(d.projectKey)}`,
      });
    const id = d.id ?? state.nextId('serviceDesk', 0);
    state.reserveId('serviceDesk', id, 0);
    const projectId = d.projectId ?? state.nextId('project', 10000);
    state.reserveId('project', projectId, 10000);
    const groups = d.requestTypeGroups.map((name) => ({ id: state.nextId('group', 0), name }));
    const desk: ServiceDesk = {
      id,
      projectId,
      projectKey: d.projectKey,
      projectName: d.name,
      organizationIds: (d.organizations ?? []).flatMap((k, j) => org(k, `${path}.organizations[${j}]`) ?? []),
      customerIds: (d.customers ?? []).flatMap((k, j) => user(k, `${path}.customers[${j}]`) ?? []),
      groups,
    };
    deskKeys.set(d.projectKey, desk);
    state.serviceDesks.set(id, desk);
    for (const [t, rt] of d.requestTypes.entries()) {
      const rtPath = `${path}.requestTypes[${t}]`;
      const rtId = rt.id ?? state.nextId('requestType', 0);
      state.reserveId('requestType', rtId, 0);
      const groupIds = (rt.groups ?? []).flatMap((name, g) => {
        const group = groups.find((x) => x.name === name);
        if (!group)
          problems.push({
            path: `${rtPath}.groups[${g}]`,
            message: `unknown request type group ${JSON.stringify(name)}`,
          });
        return group ? [group.id] : [];
      });
      const fields = rt.fields.map((f, k) => fieldFrom(state, f, `${rtPath}.fields[${k}]`, problems));
      if (!fields.some((f) => f.fieldId === 'summary'))
        problems.push({ path: `${rtPath}.fields`, message: 'a request type needs a summary field' });
      state.requestTypes.set(rtId, {
        id: rtId,
        serviceDeskId: id,
        name: rt.name,
        description: rt.description ?? '',
        helpText: rt.helpText ?? '',
        issueTypeId: String(10100 + Number(rtId)),
        groupIds,
        fields,
        approverIds: (rt.approvers ?? []).flatMap((k, j) => user(k, `${rtPath}.approvers[${j}]`) ?? []),
      });
    }
  }
  const seededRequests = seed.requests ?? [];
  for (const [i, r] of seededRequests.entries()) {
    const path = `requests[${i}]`;
    const desk = deskKeys.get(r.serviceDesk);
    if (!desk) {
      problems.push({
        path: `${path}.serviceDesk`,
        message: `unknown service desk ${JSON.stringify(r.serviceDesk)}`,
      });
      continue;
    }
    const rt = [...state.requestTypes.values()].find(
      (t) => t.serviceDeskId === desk.id && (t.name === r.requestType || t.id === r.requestType),
    );
    if (!rt) {
      problems.push({
        path: `${path}.requestType`,
        message: `unknown request type ${JSON.stringify(r.requestType)} in ${desk.projectKey}`,
      });
      continue;
    }
    const reporterId = user(r.reporter, `${path}.reporter`);
    if (!reporterId) continue;
    const created = r.created
      ? Date.parse(r.created)
      : now - (seededRequests.length - i) * 86_400_000 - 3_600_000 * (i % 7);
    const fieldValues: Record<string, StoredValue> = { summary: r.summary };
    if (r.description !== undefined) fieldValues['description'] = r.description;
    for (const [fieldId, raw] of Object.entries(r.fields ?? {})) {
      const field = rt.fields.find((f) => f.fieldId === fieldId || f.name === fieldId);
      if (!field) {
        problems.push({
          path: `${path}.fields.${fieldId}`,
          message: `request type ${JSON.stringify(rt.name)} has no such field`,
        });
        continue;
      }
      try {
        if (!isEmptyValue(raw)) fieldValues[field.fieldId] = parseFieldValue(field, raw);
      } catch (err) {
        if (!(err instanceof FieldValueError)) throw err;
        problems.push({ path: `${path}.fields.${fieldId}`, message: err.message });
      }
    }
    const { id, key } = state.newIssue(desk);
    const status =
      r.status ??
      (rt.approverIds.length > 0 || (r.approvals ?? []).length > 0
        ? 'Waiting for approval'
        : 'Waiting for support');
    let clock = created;
    const tick = () => {
      clock += 3_600_000;
      return clock;
    };
    const request: CustomerRequest = {
      id,
      key,
      serviceDeskId: desk.id,
      requestTypeId: rt.id,
      reporterId,
      creatorId: reporterId,
      participantIds: (r.participants ?? []).flatMap((k, j) => user(k, `${path}.participants[${j}]`) ?? []),
      organizationIds: (r.organizations ?? []).flatMap((k, j) => org(k, `${path}.organizations[${j}]`) ?? []),
      status,
      statusHistory: [{ status: 'Waiting for support', date: created }],
      created,
      updated: created,
      fieldValues,
      comments: [],
      attachments: [],
      approvals: [],
      subscriptions: new Map(),
    };
    const attach = (a: SeedAttachment, authorId: string, created: number) => {
      const attachment = {
        id: state.nextId('attachment', 10000),
        filename: a.filename,
        mimeType: a.mimeType ?? 'text/plain',
        content: Buffer.from(a.content, a.mimeType?.startsWith('text/') === false ? 'base64' : 'utf8'),
        authorId,
        created,
        ...(a.public === undefined ? {} : { public: a.public }),
      };
      request.attachments.push(attachment);
      return attachment.id;
    };
    for (const [j, a] of (r.attachments ?? []).entries()) {
      const authorId = a.author ? user(a.author, `${path}.attachments[${j}].author`) : reporterId;
      attach(a, authorId ?? reporterId, tick());
    }
    for (const [j, a] of (r.approvals ?? []).entries()) {
      const approvers = a.approvers.flatMap((k, n) => {
        const accountId = user(k, `${path}.approvals[${j}].approvers[${n}]`);
        return accountId ? [{ accountId, decision: (a.decisions?.[k] ?? 'pending') as Decision }] : [];
      });
      for (const k of Object.keys(a.decisions ?? {})) {
        if (!a.approvers.includes(k))
          problems.push({
            path: `${path}.approvals[${j}].decisions.${k}`,
            message: 'not one of the approvers',
          });
      }
      const finalDecision = decide(approvers);
      request.approvals.push({
        id: state.nextId('approval', 0),
        name: a.name ?? 'Approval',
        approvers,
        finalDecision,
        created: tick(),
        ...(finalDecision === 'pending' ? {} : { completed: tick() }),
      });
    }
    for (const [j, c] of (r.comments ?? []).entries()) {
      const authorId = user(c.author, `${path}.comments[${j}].author`);
      if (authorId) {
        const created = c.created ? Date.parse(c.created) : tick();
        request.comments.push({
          id: state.nextId('comment', 10000),
          authorId,
          body: c.body,
          public: c.public ?? true,
          created,
          attachmentIds: (c.attachments ?? []).map((a) => attach(a, authorId, created)),
        });
      }
    }
    if (status !== 'Waiting for support') request.statusHistory.push({ status, date: tick() });
    request.updated = Math.max(clock, ...request.comments.map((c) => c.created));
    state.requests.set(id, request);
  }
  for (const [i, a] of (seed.articles ?? []).entries()) {
    const desk = deskKeys.get(a.serviceDesk);
    if (!desk)
      problems.push({
        path: `articles[${i}].serviceDesk`,
        message: `unknown service desk ${JSON.stringify(a.serviceDesk)}`,
      });
    else
      state.articles.push({
        id: state.nextId('article', 30000),
        title: a.title,
        excerpt: a.excerpt,
        body: a.body ?? a.excerpt,
        serviceDeskId: desk.id,
      });
  }
  if (problems.length > 0) throw new ConfigError(problems, SEED_SUBJECT);
  return state;
}

/** One decline declines; all approvals approve (JSM's default "all approvers" rule). */
export function decide(approvers: { decision: Decision }[]): Decision {
  if (approvers.some((a) => a.decision === 'declined')) return 'declined';
  if (approvers.every((a) => a.decision === 'approved')) return 'approved';
  return 'pending';
}

const SYSTEM_FIELD_IDS: Partial<Record<SeedField['kind'], string>> = { attachment: 'attachment' };

function fieldFrom(state: EmulatorState, f: SeedField, path: string, problems: ConfigProblem[]): FieldDef {
  const fieldId =
    f.fieldId ?? SYSTEM_FIELD_IDS[f.kind] ?? `customfield_${state.nextId('customfield', 10100)}`;
  const options = (f.options ?? []).map((o) => optionFrom(state, o));
  const takesOptions = isOptionKind(f.kind);
  if (takesOptions && options.length === 0)
    problems.push({ path: `${path}.options`, message: `a ${f.kind} field needs options` });
  if (!takesOptions && f.options)
    problems.push({ path: `${path}.options`, message: `a ${f.kind} field takes no options` });
  return {
    fieldId,
    name: f.name,
    kind: f.kind,
    required: f.required ?? false,
    description: f.description ?? '',
    options,
  };
}

function optionFrom(state: EmulatorState, o: SeedOption): FieldOption {
  const id = o.id ?? state.nextId('option', 10000);
  state.reserveId('option', id, 10000);
  return { id, value: o.value, children: (o.children ?? []).map((c) => optionFrom(state, c)) };
}
