// Customers, organizations and the site-wide knowledge base search.
import { type Request, type Response, Router } from 'express';
import { organizationDTO, userDTO } from '../dto.js';
import {
  ApiError,
  badRequest,
  experimental,
  jsonBody,
  locals,
  notFound,
  pageOf,
  requireAgent,
  single,
  stringList,
} from '../http.js';
import { accountIdFor, type EmulatorState } from '../state.js';
import { articleView, searchArticles } from './knowledgebase.js';

export function directoryRoutes(state: EmulatorState): Router {
  const r = Router();

  r.post('/customer', (req, res) => {
    requireAgent(res);
    const body = jsonBody(req);
    const email = body['email'];
    const displayName = body['displayName'] ?? body['fullName'];
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw badRequest('A valid email address is required.', 'sd.customer.create.email.invalid');
    if (typeof displayName !== 'string' || displayName.trim() === '')
      throw badRequest('A display name is required.', 'sd.customer.create.displayname.required');
    if (state.userByEmail(email)) {
      const strict = single(req, 'strictConflictStatusCode') === 'true';
      throw new ApiError(
        strict ? 409 : 400,
        `An account already exists for this email: ${email}`,
        'sd.customer.create.email.exists',
        [email],
      );
    }
    const accountId = accountIdFor('customer', email);
    const user = {
      accountId,
      kind: 'customer' as const,
      email,
      displayName,
      active: true,
      timeZone: 'Etc/UTC',
    };
    state.users.set(accountId, user);
    if (state.userSearchIndex.held) state.userSearchIndex.behind.add(accountId);
    res.status(201).json(userDTO(locals(res).links, user));
  });

  r.get('/organization', (req, res) => {
    const { caller, links } = locals(res);
    const accountId = single(req, 'accountId');
    const member = caller.kind === 'agent' ? accountId : caller.accountId;
    const orgs = [...state.organizations.values()].filter(
      (o) => member === undefined || o.memberIds.includes(member),
    );
    res.json(pageOf(req, res, '/organization', orgs, (o) => organizationDTO(links, o)));
  });

  r.post('/organization', (req, res) => {
    requireAgent(res);
    const name = jsonBody(req)['name'];
    if (typeof name !== 'string' || name.trim() === '')
      throw badRequest('The organization name is required.', 'sd.organization.create.name.required');
    if ([...state.organizations.values()].some((o) => o.name.toLowerCase() === name.trim().toLowerCase())) {
      throw badRequest(
        `An organization with this name already exists: ${name}`,
        'sd.organization.create.name.exists',
        [name],
      );
    }
    const org = {
      id: state.nextId('organization', 0),
      name: name.trim(),
      created: Date.now(),
      memberIds: [],
    };
    state.organizations.set(org.id, org);
    res.status(201).json(organizationDTO(locals(res).links, org));
  });

  const orgFor = (req: Request, res: Response) => {
    const id = String(req.params['organizationId']);
    const org = state.organizations.get(id);
    const { caller } = locals(res);
    if (!org || (caller.kind !== 'agent' && !org.memberIds.includes(caller.accountId)))
      throw notFound('Organization', id);
    return org;
  };
  r.get('/organization/:organizationId', (req, res) => {
    res.json(organizationDTO(locals(res).links, orgFor(req, res)));
  });
  r.delete('/organization/:organizationId', (req, res) => {
    requireAgent(res);
    const org = orgFor(req, res);
    state.organizations.delete(org.id);
    for (const desk of state.serviceDesks.values())
      desk.organizationIds = desk.organizationIds.filter((id) => id !== org.id);
    res.status(204).end();
  });
  r.get('/organization/:organizationId/user', (req, res) => {
    requireAgent(res);
    const { links } = locals(res);
    const org = orgFor(req, res);
    const members = org.memberIds.flatMap((id) => state.users.get(id) ?? []);
    res.json(pageOf(req, res, `/organization/${org.id}/user`, members, (u) => userDTO(links, u)));
  });
  const members = (req: Request, res: Response) => {
    requireAgent(res);
    const org = orgFor(req, res);
    const body = jsonBody(req);
    if (stringList(body, 'usernames').length > 0)
      throw badRequest(
        'usernames are not supported on Jira Cloud; use accountIds.',
        'sd.emulator.error.usernames',
      );
    const ids = stringList(body, 'accountIds');
    for (const id of ids)
      if (!state.users.has(id))
        throw badRequest(`The user '${id}' does not exist.`, 'sd.organization.user.does.not.exist', [id]);
    return { org, ids };
  };
  r.post('/organization/:organizationId/user', (req, res) => {
    const { org, ids } = members(req, res);
    for (const id of ids) if (!org.memberIds.includes(id)) org.memberIds.push(id);
    res.status(204).end();
  });
  r.delete('/organization/:organizationId/user', (req, res) => {
    const { org, ids } = members(req, res);
    org.memberIds = org.memberIds.filter((id) => !ids.includes(id));
    res.status(204).end();
  });

  r.get('/knowledgebase/article', experimental, (req, res) => {
    searchArticles(state, req, res, '/knowledgebase/article');
  });
  r.get('/knowledgebase/article/view/:articleId', (req, res) => {
    articleView(state, req, res);
  });

  return r;
}
