// The customer's profile and the tenant admins' activity page.
import type { Express } from 'express';
import { activityPage, profilePage } from '../pages/account.js';
import type { PortalServices } from '../services.js';
import type { PortalWeb } from '../web.js';

export function mountAccountRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { client, activity } = services;
  const { pageContext, send, refuse, signedIn, session } = web;
  app.get('/profile', signedIn, async (_req, res, next) => {
    try {
      const s = session(res);
      const orgs = await client.organizationsOf(s.customer.accountId).catch(() => []);
      send(
        res,
        profilePage(
          pageContext(res),
          s.customer,
          orgs.map((o) => o.name),
          s.csrf,
        ),
      );
    } catch (err) {
      next(err);
    }
  });

  app.get('/activity', signedIn, async (_req, res, next) => {
    try {
      if (!session(res).isAdmin) {
        refuse(res, 404, 'PORTAL_NOT_ADMIN', 'Not found', 'We could not find that page.');
        return;
      }
      send(res, activityPage(pageContext(res), await activity.list()));
    } catch (err) {
      next(err);
    }
  });
}
