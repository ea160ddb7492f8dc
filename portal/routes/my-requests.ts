// My requests: the list of requests this customer may see, filtered, sorted and paged.
import type { Express } from 'express';
import { translatorOf } from '../i18n.js';
import { type DeskChoice, type ListState, requestsPage } from '../pages/my-requests.js';
import { pagePosition } from '../requests.js';
import type { PortalServices } from '../services.js';
import { type Ownership, REQUEST_SORTS, type StatusFilter } from '../visibility.js';
import type { PortalWeb } from '../web.js';
import { listReader } from './recent-write.js';

const OWNERSHIPS: readonly Ownership[] = [
  'all',
  'mine',
  'shared',
  'approvals',
  'approvals-pending',
  'approvals-done',
];
/** The filter's value for one organization (the native portal lists each by name). */
const ORGANIZATION_CHOICE = /^org-([0-9]{1,18})$/;
const STATUSES: readonly StatusFilter[] = ['open', 'closed', 'all'];
const pick = <T extends string>(value: unknown, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;

export function mountMyRequestsRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { requests, colleagues, catalogue } = services;
  const { pageContext, send, signedIn, session } = web;

  app.get('/requests', signedIn, async (req, res) => {
    const { customer } = session(res);
    const position = pagePosition(req.query['page'], req.query['start']);
    // Read beside the desks: the requests lately shared with her cost the page no extra wait (ADR 0419).
    const [reader, mine, all] = await Promise.all([
      listReader(services, session(res)),
      catalogue.desksFor(customer),
      catalogue.desks(),
    ]);
    // The types the portal offers (in a request type group): an agents-only type is not named to
    // customers here either (ADR 0147, 0180).
    const desks: DeskChoice[] = await Promise.all(
      mine.map(async (desk) => ({ desk, types: await catalogue.portalRequestTypes(desk.id) })),
    );
    // Only the customer's desks and their request types: anything else in the URL means "any".
    const desk = desks.find((d) => d.desk.id === req.query['desk']);
    const [typeDeskId, typeId] = String(req.query['type'] ?? '').split(':');
    const typeDesk = desks.find((d) => d.desk.id === typeDeskId);
    const type = typeDesk?.types.find((t) => t.id === typeId);
    const organizationId = ORGANIZATION_CHOICE.exec(String(req.query['ownership']))?.[1];
    const state: ListState = {
      ownership: organizationId ? 'organization' : pick(req.query['ownership'], OWNERSHIPS, 'all'),
      organizationId,
      status: pick(req.query['status'], STATUSES, 'open'),
      search: typeof req.query['q'] === 'string' ? req.query['q'].slice(0, 100) : '',
      // A request type belongs to one desk: choosing it chooses the desk.
      serviceDeskId: type ? typeDesk?.desk.id : desk?.desk.id,
      requestType: type ? `${typeDesk?.desk.id}:${type.id}` : undefined,
      sort: pick(req.query['sort'], REQUEST_SORTS, 'created-desc'),
      position,
      // A flag, never text from the URL: a link can make the page say only this one sentence.
      notice: req.query['left'] === '1' ? translatorOf(res).t('requests.notice.left') : undefined,
    };
    const [page, organizations] = await Promise.all([
      requests.list(
        reader,
        {
          ownership: state.ownership,
          organizationId: state.organizationId,
          status: state.status,
          search: state.search,
          serviceDeskId: state.serviceDeskId,
          requestTypeName: type?.name,
          sort: state.sort,
        },
        position.trail.at(-1),
      ),
      colleagues.organizations(customer),
    ]);
    const deskNames = new Map(all.map((d) => [d.projectId, d.name]));
    send(res, requestsPage(pageContext(res), page, state, organizations, desks, deskNames));
  });
}
