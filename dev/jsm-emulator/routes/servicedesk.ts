// /rest/servicedeskapi/servicedesk/...: desks, request type groups and types, their fields,
// temporary attachments, and a desk's customers, organizations and knowledge base.
import busboy from 'busboy';
import { type Request, type Response, Router } from 'express';
import { organizationDTO, requestTypeDTO, requestTypeFieldsDTO, serviceDeskDTO, userDTO } from '../dto.js';
import {
  ApiError,
  badRequest,
  experimental,
  jsonBody,
  locals,
  multi,
  notFound,
  pageOf,
  requireAgent,
  single,
  stringList,
} from '../http.js';
import type { EmulatorState, ServiceDesk } from '../state.js';
import { canUseDesk } from '../visibility.js';
import { searchArticles } from './knowledgebase.js';

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export function deskFor(state: EmulatorState, req: Request, res: Response): ServiceDesk {
  const id = String(req.params['serviceDeskId']);
  const desk = state.serviceDeskByIdentifier(id);
  if (!desk || !canUseDesk(state, locals(res).caller, desk)) throw notFound('Service desk', id);
  return desk;
}

export function serviceDeskRoutes(state: EmulatorState): Router {
  const r = Router();

  r.get('/servicedesk', (req, res) => {
    const { caller, links } = locals(res);
    const desks = [...state.serviceDesks.values()].filter((d) => canUseDesk(state, caller, d));
    res.json(pageOf(req, res, '/servicedesk', desks, (d) => serviceDeskDTO(links, d)));
  });

  r.get('/requesttype', experimental, (req, res) => {
    const { caller, links } = locals(res);
    const search = single(req, 'searchQuery')?.toLowerCase();
    const types = [...state.requestTypes.values()].filter((t) => {
      const desk = state.serviceDesks.get(t.serviceDeskId);
      return (
        desk !== undefined &&
        canUseDesk(state, caller, desk) &&
        (search === undefined || t.name.toLowerCase().includes(search))
      );
    });
    res.json(
      pageOf(
        req,
        res,
        '/requesttype',
        types,
        (t) => requestTypeDTO(links, t, caller, new Set(multi(req, 'expand'))),
        100,
      ),
    );
  });

  r.get('/servicedesk/:serviceDeskId', (req, res) => {
    res.json(serviceDeskDTO(locals(res).links, deskFor(state, req, res)));
  });

  r.get('/servicedesk/:serviceDeskId/requesttypegroup', (req, res) => {
    const desk = deskFor(state, req, res);
    res.json(
      pageOf(req, res, `/servicedesk/${desk.id}/requesttypegroup`, desk.groups, (g) => ({
        id: g.id,
        name: g.name,
      })),
    );
  });

  r.get('/servicedesk/:serviceDeskId/requesttype', (req, res) => {
    const { caller, links } = locals(res);
    const desk = deskFor(state, req, res);
    const groupId = single(req, 'groupId');
    const search = single(req, 'searchQuery')?.toLowerCase();
    const types = [...state.requestTypes.values()].filter(
      (t) =>
        t.serviceDeskId === desk.id &&
        (groupId === undefined || t.groupIds.includes(groupId)) &&
        (search === undefined ||
          (t.groupIds.length > 0 &&
            (t.name.toLowerCase().includes(search) || t.description.toLowerCase().includes(search)))),
    );
    const expand = new Set(multi(req, 'expand'));
    res.json(
      pageOf(
        req,
        res,
        `/servicedesk/${desk.id}/requesttype`,
        types,
        (t) => requestTypeDTO(links, t, caller, expand),
        100,
      ),
    );
  });

  r.get('/servicedesk/:serviceDeskId/requesttype/:requestTypeId', (req, res) => {
    const { caller, links } = locals(res);
    const desk = deskFor(state, req, res);
    const rt = state.requestTypes.get(String(req.params['requestTypeId']));
    if (!rt || rt.serviceDeskId !== desk.id)
      throw notFound('Request type', String(req.params['requestTypeId']));
    res.json(requestTypeDTO(links, rt, caller, new Set(multi(req, 'expand'))));
  });

  r.get('/servicedesk/:serviceDeskId/requesttype/:requestTypeId/field', (req, res) => {
    const desk = deskFor(state, req, res);
    const rt = state.requestTypes.get(String(req.params['requestTypeId']));
    if (!rt || rt.serviceDeskId !== desk.id)
      throw notFound('Request type', String(req.params['requestTypeId']));
    res.json(requestTypeFieldsDTO(rt, locals(res).caller));
  });

  r.post('/servicedesk/:serviceDeskId/attachTemporaryFile', async (req, res) => {
    if (req.get('X-Atlassian-Token') !== 'no-check') {
      throw new ApiError(403, 'XSRF check failed', 'sd.emulator.error.xsrf');
    }
    const desk = deskFor(state, req, res);
    const files = await readMultipartFiles(req);
    if (files.length === 0)
      throw badRequest(
        "No file found in the 'file' part of the multipart request.",
        'sd.attachment.upload.no.file',
      );
    const { caller } = locals(res);
    const temporaryAttachments = files.map((f) => {
      const temporaryAttachmentId = `temp${state.nextId('temporaryAttachment', 8_186_986_881_700)}`;
      state.temporaryAttachments.set(temporaryAttachmentId, {
        temporaryAttachmentId,
        serviceDeskId: desk.id,
        filename: f.filename,
        mimeType: f.mimeType,
        content: f.content,
        authorId: caller.accountId,
        created: Date.now(),
      });
      return { temporaryAttachmentId, fileName: f.filename };
    });
    res.status(201).json({ temporaryAttachments });
  });

  r.get('/servicedesk/:serviceDeskId/customer', experimental, (req, res) => {
    requireAgent(res);
    const desk = deskFor(state, req, res);
    const { links } = locals(res);
    const query = single(req, 'query')?.toLowerCase();
    const customers = desk.customerIds
      .flatMap((id) => state.users.get(id) ?? [])
      .filter(
        (u) => !query || u.displayName.toLowerCase().includes(query) || u.email.toLowerCase().includes(query),
      );
    res.json(pageOf(req, res, `/servicedesk/${desk.id}/customer`, customers, (u) => userDTO(links, u)));
  });

  r.post('/servicedesk/:serviceDeskId/customer', (req, res) => {
    requireAgent(res);
    const desk = deskFor(state, req, res);
    const body = jsonBody(req);
    if (stringList(body, 'usernames').length > 0)
      throw badRequest(
        'usernames are not supported on Jira Cloud; use accountIds.',
        'sd.emulator.error.usernames',
      );
    for (const accountId of stringList(body, 'accountIds')) {
      if (!state.users.has(accountId))
        throw badRequest(`The user ${accountId} does not exist.`, 'sd.customers.error.user.does.not.exist', [
          accountId,
        ]);
      if (!desk.customerIds.includes(accountId)) desk.customerIds.push(accountId);
    }
    res.status(204).end();
  });

  r.get('/servicedesk/:serviceDeskId/organization', (req, res) => {
    const desk = deskFor(state, req, res);
    const { links } = locals(res);
    const orgs = desk.organizationIds.flatMap((id) => state.organizations.get(id) ?? []);
    res.json(
      pageOf(req, res, `/servicedesk/${desk.id}/organization`, orgs, (o) => organizationDTO(links, o)),
    );
  });

  const deskOrganization = (req: Request, res: Response) => {
    requireAgent(res);
    const desk = deskFor(state, req, res);
    const id = jsonBody(req)['organizationId'];
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw badRequest('organizationId must be an integer.', 'sd.emulator.error.body', ['organizationId']);
    const org = state.organizations.get(String(id));
    if (!org) throw notFound('Organization', String(id));
    return { desk, org };
  };
  r.post('/servicedesk/:serviceDeskId/organization', (req, res) => {
    const { desk, org } = deskOrganization(req, res);
    if (!desk.organizationIds.includes(org.id)) desk.organizationIds.push(org.id);
    res.status(204).end();
  });
  r.delete('/servicedesk/:serviceDeskId/organization', (req, res) => {
    const { desk, org } = deskOrganization(req, res);
    desk.organizationIds = desk.organizationIds.filter((id) => id !== org.id);
    res.status(204).end();
  });

  r.get('/servicedesk/:serviceDeskId/knowledgebase/article', experimental, (req, res) => {
    const desk = deskFor(state, req, res);
    searchArticles(state, req, res, `/servicedesk/${desk.id}/knowledgebase/article`, desk.id);
  });

  return r;
}

interface UploadedFile {
  filename: string;
  mimeType: string;
  content: Buffer;
}

/** The `file` parts of a multipart/form-data body (413 beyond the size limit). */
function readMultipartFiles(req: Request): Promise<UploadedFile[]> {
  if (!(req.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
    return Promise.reject(
      badRequest('The request must be multipart/form-data.', 'sd.attachment.upload.not.multipart'),
    );
  }
  return new Promise((resolve, reject) => {
    const files: UploadedFile[] = [];
    let parser: busboy.Busboy;
    try {
      // File names are UTF-8, as browsers and Atlassian send them (busboy's default is latin1).
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 20 },
      });
    } catch {
      reject(badRequest('Malformed multipart request.', 'sd.attachment.upload.malformed'));
      return;
    }
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () =>
        reject(new ApiError(413, 'The attachment is too large.', 'sd.attachment.upload.too.large')),
      );
      stream.on('close', () => {
        if (name === 'file')
          files.push({
            filename: info.filename || 'unnamed',
            mimeType: info.mimeType || 'application/octet-stream',
            content: Buffer.concat(chunks),
          });
      });
    });
    parser.on('error', () =>
      reject(badRequest('Malformed multipart request.', 'sd.attachment.upload.malformed')),
    );
    parser.on('close', () => resolve(files));
    req.pipe(parser);
  });
}
