// The customer's profile and the tenant admins' activity page (names, filter, ending sessions).
import type { Express, NextFunction, Request, Response } from 'express';
import { ACTIVITY_PAGE_SIZE, filterActivity, parseActivityFilter } from '../activity.js';
import { AtlassianError } from '../atlassian/errors.js';
import { translatorOf } from '../i18n.js';
import { profilePage } from '../pages/account.js';
import { activityPage } from '../pages/activity.js';
import type { PortalServices } from '../services.js';
import type { PortalWeb } from '../web.js';

/** Atlassian accountIds: `557058:uuid`, `qm:uuid:hex`, 24 hex digits... never anything else. */
const ACCOUNT_ID = /^[A-Za-z0-9:_-]{1,128}$/;

export function mountAccountRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { client, activity, sessions, audit, logger } = services;
  const { pageContext, send, refuse, signedIn, session, forms, csrf } = web;
  app.get('/profile', signedIn, async (_req, res) => {
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
  });

  // Admin pages answer 404 to everyone else, as if they did not exist.
  const adminOnly = (_req: Request, res: Response, next: NextFunction) => {
    if (session(res).isAdmin) next();
    else {
      const { t } = translatorOf(res);
      refuse(res, 404, 'PORTAL_NOT_ADMIN', t('error.notFound.title'), t('error.notFound.page'));
    }
  };

  app.get('/activity', signedIn, adminOnly, async (req, res) => {
    const filter = parseActivityFilter(req.query);
    // A query may name a person: Atlassian's user search finds their accountIds (never kept).
    const found = filter.query ? await lookUp(() => client.userSearch(filter.query)) : [];
    const kept = filterActivity(
      await activity.list(),
      filter,
      new Set((found ?? []).map((u) => u.accountId)),
    );
    const pageCount = Math.max(1, Math.ceil(kept.length / ACTIVITY_PAGE_SIZE));
    const page = { ...filter, page: Math.min(filter.page, pageCount) };
    const entries = kept.slice((page.page - 1) * ACTIVITY_PAGE_SIZE, page.page * ACTIVITY_PAGE_SIZE);
    // Said only when it is true: the link alone cannot make the page claim a revocation.
    const asked = req.query['revoked'];
    const revoked =
      typeof asked === 'string' && ACCOUNT_ID.test(asked) && (await sessions.revokedAt(asked)) !== undefined
        ? asked
        : undefined;
    // One lookup for the names on this page (and the person just signed out, wherever listed).
    const wanted = [...new Set([...entries.map((e) => e.accountId), ...(revoked ? [revoked] : [])])];
    const users = wanted.length > 0 ? await lookUp(() => client.usersByAccountId(wanted)) : [];
    const names =
      users && new Map(users.flatMap((u) => (u.displayName ? [[u.accountId, u.displayName] as const] : [])));
    send(
      res,
      activityPage(pageContext(res), {
        filter: page,
        entries,
        names,
        total: kept.length,
        pageCount,
        csrf: session(res).csrf,
        revoked: revoked && (names?.get(revoked) ?? revoked),
      }),
    );
  });

  app.post('/activity/revoke', signedIn, adminOnly, forms, csrf, async (req, res) => {
    const accountId = (req.body as Record<string, unknown>)['accountId'];
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
      const { t } = translatorOf(res);
      refuse(
        res,
        400,
        'PORTAL_ACTION_INVALID',
        t('error.requestRefused.title'),
        t('activity.accountNotFound'),
      );
      return;
    }
    await sessions.revokeAccount(accountId);
    audit({ action: 'sessions_revoked', accountId, by: session(res).customer.accountId });
    res.redirect(303, `/activity?revoked=${encodeURIComponent(accountId)}`);
  });

  /** Names are a courtesy: when Atlassian cannot answer, the page shows accountIds instead. */
  async function lookUp<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof AtlassianError)) throw err;
      logger.warn(
        { event: 'portal.activity_names_unavailable', reason: err.code },
        'activity: names unavailable',
      );
      return undefined;
    }
  }
}
