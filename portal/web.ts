/**
 * What every route shares: rendering a page with the tenant's branding, refusing with a logged
 * reason code, the session guard and the CSRF guard.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TenantSpec } from '../common/config/tenant.generated.js';
import { meaningOf } from '../common/error-codes.js';
import type { SafeHtml } from '../common/http/html.js';
import { pageNonce } from '../common/http/security-headers.js';
import { LOCALES, type Locale } from '../common/i18n/index.js';
import type { Logger } from '../common/log.js';
import { cookiePolicy } from './cookies.js';
import { formBody } from './http/body-parsers.js';
import { routeTakes } from './http/route-takes.js';
import { routedPath } from './http/routed-path.js';
import { forAnotherOriginsPage, sameOrigin } from './http/security.js';
import { translatorOf } from './i18n.js';
import { messagePage } from './pages/account.js';
import type { PageContext } from './pages/layout.js';
import { referenceOf } from './reference.js';
import { SIGN_IN_PATH, safeReturnPath } from './return-path.js';
import { csrfMatches, type Session, sessionTimeoutsOf } from './session.js';
import type { PortalTelemetry } from './telemetry.js';
import { MAX_TYPED_TEXT_BYTES } from './typed-text.js';

export interface PortalWeb {
  forms: RequestHandler;
  pageContext(res: Response): PageContext;
  send(res: Response, page: SafeHtml, status?: number): void;
  refuse(res: Response, status: number, reason: string, title: string, message: string): void;
  /**
   * Logs and counts a refusal whose answer is a page of its own (a form shown again with errors);
   * with the `reference` its page shows, when it shows one (ADR 0316).
   */
  noteRefusal(status: number, reason: string, title: string, reference?: string): void;
  /** The signed-in session (only after `signedIn`). */
  session(res: Response): Session;
  signedIn(req: Request, res: Response, next: NextFunction): void;
  /** Answers a form whose session ended: 401 `PORTAL_SESSION_MISSING`, a page to sign in again and come back to it. */
  formAfterSessionEnded(req: Request, res: Response): void;
  /** Url-encoded forms: the session's synchronizer token (the Origin is `originFirst`'s). */
  csrf(req: Request, res: Response, next: NextFunction): void;
  /** The same check for a form read by other means (multipart), once its body is read. */
  csrfOk(res: Response, token: unknown): boolean;
  /**
   * The app's first guard: any request but a read (GET, HEAD) or one of CROSS_SITE_POSTS is refused
   * when it comes from another origin, its body drained unread, before the session is read and before
   * any route: a forged form spends nothing, no rate limit of the customer's or her address's (ADR
   * 0262), no Atlassian call (ADR 0250), no body read. Before that, whatever the method, a request the
   * browser makes as part of another origin's page (an image, a frame, a fetch) is refused 403
   * `PORTAL_EMBEDDED_ELSEWHERE` as early (ADR 0271): a link to a page is a navigation, and passes.
   */
  originFirst(req: Request, res: Response, next: NextFunction): void;
  /**
   * Answers a request that is not a read (GET, HEAD) and that no route takes at its address (`OPTIONS`,
   * `PUT`, …; a POST to a page that is only read) with the 404 page, its body drained unread, before
   * the session is read (ADR 0339, 0347): it would find no route, so it asks Atlassian nothing about
   * the account, and spends nothing of the customer's `signedInPages`. A read of an address of no page
   * goes on: its 404 page is drawn for the customer signed in, and counted as a page.
   */
  routedRequestsOnly(req: Request, res: Response, next: NextFunction): void;
  /** The 404 page: no page has this address (or none takes this method at it). */
  notFound(res: Response): void;
}

/**
 * The portal's own forms: a comment's text is the largest field, URL-encoded (each of its bytes may be
 * `%XX`), and 64 KB for the rest; none has a hundred fields. Below it, a step's comment the text area let
 * through was refused whole (ADR 0442).
 */
export const MAX_FORM_BYTES = 3 * MAX_TYPED_TEXT_BYTES + 64 * 1024;
const MAX_FORM_PARAMETERS = 100;

/**
 * The POSTs another site sends by design, each guarded by what it carries rather than by its Origin:
 * the broker's auto-posting page to the ACS (a signed Response answering this browser's pending
 * login) and the broker's SOAP LogoutRequest (signed, fresh, once only; no cookie). Written as
 * `routedPath` gives them, and compared so.
 */
export const CROSS_SITE_POSTS: ReadonlySet<string> = new Set(['/saml/acs', '/saml/slo']);

/**
 * `res.locals` key of the AccountRefusedError that ended this request's session when it came in
 * (portal/app.ts): a page needing the session answers it instead of sending to sign in.
 */
export const ACCOUNT_REFUSED = 'accountRefused';
/**
 * `res.locals` key: where a sign-in whose one-time Response was spent before it failed (Atlassian or
 * the flow store failing at the ACS) brings the customer back; its error page offers to sign in again
 * to there, since reloading that POST can only be refused as an expired sign-in (ADR 0314).
 */
export const SIGN_IN_AGAIN_TO = 'signInAgainTo';

/**
 * Whether a request reads a page: GET, or HEAD, which RFC 9110 9.3.2 has answered as GET without the
 * body (the same status and header fields; an uptime monitor checks a help center so).
 */
export function readsPage(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * The page that shows the form posted to `path`: a request's actions live on the request's page.
 * A page read is its own (the language switcher comes back to it). The path is matched as the router
 * matched it (`routedPath`), and the page kept as it was asked for.
 */
function formPageOf(path: string, method = 'POST'): string {
  if (readsPage(method)) return safeReturnPath(path);
  const request = /^(\/requests\/[^/]+)\//i.exec(path);
  if (request) return safeReturnPath(request[1]);
  return /^\/desk\/[^/]+\/create\/[^/]+$/.test(routedPath(path)) ? safeReturnPath(path) : '/';
}

/** The announcement in the customer's language when the tenant translated it, else its message. */
function announcementIn(
  announcement: TenantSpec['portal']['announcement'],
  locale: string,
): string | undefined {
  if (!announcement) return undefined;
  const translations: Record<string, string | undefined> = announcement.translations ?? {};
  return (Object.hasOwn(translations, locale) ? translations[locale] : undefined) ?? announcement.message;
}

export function createWeb(spec: TenantSpec, logger: Logger, telemetry: PortalTelemetry): PortalWeb {
  const portalOrigin = new URL(spec.portal.url).origin;
  const siteOrigin = new URL(spec.atlassian.siteUrl).origin;
  const timeZoneCookie = cookiePolicy(spec.portal.url).timeZone;
  // A draft lives no longer than a session of its writer left idle since it was sent (ADR 0309).
  const { idleSeconds, absoluteSeconds } = sessionTimeoutsOf(spec);
  const draftSeconds = Math.min(idleSeconds, absoluteSeconds);
  const pageContext = (res: Response): PageContext => {
    const session = res.locals['session'] as Session | undefined;
    return {
      title: spec.portal.title ?? translatorOf(res).t('home.title'),
      logoUrl: spec.portal.branding?.logoUrl,
      primaryColor: spec.portal.branding?.primaryColor ?? '#0052cc',
      announcement: announcementIn(spec.portal.announcement, translatorOf(res).locale),
      nonce: pageNonce(res),
      user: session
        ? {
            displayName: session.customer.displayName,
            isAdmin: session.isAdmin,
            draftOwner: session.draftOwner,
          }
        : undefined,
      i18n: translatorOf(res),
      locales: (res.locals['locales'] as readonly Locale[] | undefined) ?? LOCALES,
      returnPath: formPageOf(readsPage(res.req.method) ? res.req.originalUrl : res.req.path, res.req.method),
      timeZoneCookie,
      draftSeconds,
      signInAgainTo: res.locals[SIGN_IN_AGAIN_TO] as string | undefined,
      siteOrigin,
    };
  };
  const send = (res: Response, page: SafeHtml, status = 200) => {
    res.status(status).type('html').send(page.value);
  };
  const noteRefusal = (status: number, reason: string, title: string, reference?: string) => {
    logger.warn({ event: 'portal.refused', reason, status, ...(reference ? { reference } : {}) }, title);
    telemetry.refused(reason);
  };
  const refuse = (res: Response, status: number, reason: string, title: string, message: string) => {
    // The title is in the customer's language; the log line says the reason in English.
    const reference = referenceOf(res, reason);
    noteRefusal(status, reason, meaningOf(reason) ?? reason, reference.id);
    send(res, messagePage(pageContext(res), title, message, { reference }), status);
  };
  const session = (res: Response) => res.locals['session'] as Session;
  const notFound = (res: Response) => {
    const { t } = translatorOf(res);
    refuse(res, 404, 'PORTAL_NOT_FOUND', t('error.notFound.title'), t('error.notFound.page'));
  };
  const formExpired = (res: Response) => {
    const { t } = translatorOf(res);
    refuse(res, 403, 'PORTAL_CSRF', t('error.requestRefused.title'), t('error.formExpired'));
  };
  /**
   * A form sent after its session ended: sign in again and come back to that form, where the browser
   * kept what was typed (pages/drafts.ts).
   */
  const formAfterSessionEnded = (req: Request, res: Response) => {
    const { t } = translatorOf(res);
    const reference = referenceOf(res, 'PORTAL_SESSION_MISSING');
    noteRefusal(401, reference.reason, 'signed out', reference.id);
    send(
      res,
      messagePage(pageContext(res), t('error.signedOut.title'), t('error.sessionEnded'), {
        signIn: true,
        returnTo: formPageOf(req.path),
        reference,
      }),
      401,
    );
  };
  const csrfOk = (res: Response, token: unknown) => {
    if (csrfMatches(session(res), token)) return true;
    formExpired(res);
    return false;
  };
  return {
    forms: formBody(MAX_FORM_BYTES, MAX_FORM_PARAMETERS),
    pageContext,
    send,
    refuse,
    noteRefusal,
    session,
    notFound,
    signedIn(req, res, next) {
      if (res.locals['session']) return next();
      // The session just ended because Atlassian no longer lets its account in: say so.
      if (res.locals[ACCOUNT_REFUSED]) return next(res.locals[ACCOUNT_REFUSED]);
      if (readsPage(req.method)) {
        res.redirect(303, `${SIGN_IN_PATH}?return=${encodeURIComponent(safeReturnPath(req.originalUrl))}`);
        return;
      }
      formAfterSessionEnded(req, res);
    },
    formAfterSessionEnded,
    csrf(req, res, next) {
      if (csrfOk(res, (req.body as Record<string, unknown> | undefined)?.['_csrf'])) next();
    },
    csrfOk,
    originFirst(req, res, next) {
      if (forAnotherOriginsPage(req)) {
        // An image, frame or fetch of another origin's page: that page gets nothing of the answer, so
        // nothing is read or counted for it (ADR 0271), and no page is drawn for no one to see.
        req.resume();
        noteRefusal(403, 'PORTAL_EMBEDDED_ELSEWHERE', meaningOf('PORTAL_EMBEDDED_ELSEWHERE')!);
        res.status(403).end();
        return;
      }
      if (
        readsPage(req.method) ||
        CROSS_SITE_POSTS.has(routedPath(req.path)) ||
        sameOrigin(req, portalOrigin)
      )
        return next();
      req.resume();
      formExpired(res);
    },
    routedRequestsOnly(req, res, next) {
      if (readsPage(req.method) || routeTakes(req.app.router, req.method, req.path)) return next();
      req.resume();
      notFound(res);
    },
  };
}
