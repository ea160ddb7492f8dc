/**
 * The customer portal of one tenant: SAML sign-in through the broker, then the JSM customer portal
 * pages rebuilt on the Atlassian REST API. The tenant is the process configuration — never a header
 * or a parameter. Every page that shows a request goes through RequestService.visible first.
 */
import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { refuseMismatchedSigningKey } from '../common/config/signing-key.js';
import { signingSecretName } from '../common/config/signing-secrets.js';
import { JsmSsoError } from '../common/errors.js';
import { RedisFlowStore } from '../common/flowstore/index.js';
import { STORE_FULL_RETRY_AFTER_SECONDS, storeRefusalOf } from '../common/flowstore/refusal-answer.js';
import { parseCookies } from '../common/http/cookies.js';
import { PORTAL_PAGE_BUDGET_MS } from '../common/http/request-time.js';
import { securityHeaders } from '../common/http/security-headers.js';
import { signingKeyMaterial } from '../common/key-material.js';
import { unexpectedErrorFields } from '../common/log.js';
import { tenantLabels } from '../common/metrics.js';
import { DEFAULT_POOL_SIGN_IN_SHARES } from '../common/pool/sign-in-starts.js';
import type { PartContext } from '../common/runtime.js';
import { caBundleFor, createTlsFetch, outboundOptions, type TlsFetch } from '../common/tls/index.js';
import { AbuseLimits, RateLimitedError, signInStartsCeiling } from './abuse-limits.js';
import { AccountGuard, AccountRefusedError } from './account-guard.js';
import { ActivityLog } from './activity.js';
import { BUSY_RETRY_AFTER_MS } from './atlassian/bulkhead.js';
import { AtlassianClient } from './atlassian/client.js';
import { AtlassianError, retryAfterSecondsOf } from './atlassian/errors.js';
import type { TransportOptions } from './atlassian/http.js';
import { withinPage } from './atlassian/page-budget.js';
import { auditLog } from './audit.js';
import { Catalogue } from './catalogue.js';
import { noteClientAborted } from './client-aborted.js';
import { Colleagues } from './colleagues.js';
import { cookiePolicy } from './cookies.js';
import { DeskAccess } from './desk-access.js';
import { DeskOrganizations } from './desk-organizations.js';
import { DownloadSlots, DownloadsBusyError } from './download-slots.js';
import { bodyRefusal } from './http/body-errors.js';
import { UploadSpool } from './http/upload-spool.js';
import { chooseLanguage, mountLocaleRoute, translatorOf } from './i18n.js';
import { CustomerResolver } from './identity.js';
import { messagePage } from './pages/account.js';
import { problemText } from './pages/refusals.js';
import { RecentShares } from './recent-shares.js';
import { referenceOf } from './reference.js';
import { NotVisibleError, RequestMovedError, RequestService, type WriteSettings } from './requests.js';
import { mountAccountRoutes } from './routes/account.js';
import { isRequestTypeIconPath, mountHelpCenterRoutes } from './routes/help-center.js';
import { mountMyRequestsRoutes } from './routes/my-requests.js';
import { mountRequestRoutes } from './routes/requests.js';
import { mountSamlRoutes } from './routes/saml.js';
import {
  type BrokerCertificateSource,
  configuredBrokerCertificates,
  metadataBrokerCertificates,
} from './saml/broker-certificates.js';
import { ServiceProvider } from './saml/sp.js';
import type { PortalServices } from './services.js';
import { type Session, SessionStore, sessionTimeoutsOf } from './session.js';
import { createPortalTelemetry, type PortalTelemetry } from './telemetry.js';
import { ACCOUNT_REFUSED, createWeb, readsPage } from './web.js';

export interface PortalOptions {
  /** The broker's signing certificates; when absent, the secrets dir, then the broker's metadata. */
  brokerCertificatesPem?: string[];
  /**
   * Overrides for the Atlassian transport: timeouts and retries in tests; `limits` over the
   * tenant's spec.atlassian.limits (the wait bound, maxWaitMs, is only set here).
   */
  atlassian?: Partial<Omit<TransportOptions, 'siteUrl' | 'email' | 'apiToken'>> & {
    /** The deadline of a page's Atlassian work together (ADR 0185); PORTAL_PAGE_BUDGET_MS. */
    pageBudgetMs?: number;
  };
  /** How writes are retried (tests shorten the waits). */
  writes?: Partial<WriteSettings>;
  /** Trust X-Forwarded-For from this many proxies for the client IP (default: none). */
  trustedProxyHops?: number;
  maxUploadBytes?: number;
  catalogueTtlMs?: number;
  /** Offer the pseudo-locales en-XA and ar-XB in the switcher (layout tests). */
  pseudoLocales?: boolean;
}

export interface PortalApp {
  handler: RequestListener;
  /** Where uploads are spooled, and how many are in flight (tests, operations). */
  uploads: Pick<UploadSpool, 'folder' | 'stats'>;
  /** Resolves once no status name is being read after a My requests view (ADR 0293; tests). */
  statusNamesRead: () => Promise<void>;
  ready: () => Promise<void>;
  close: () => Promise<void>;
}

/**
 * The most of an Atlassian JSON answer read (ADR 0149): a page of 50 requests with their fields is
 * some hundred KiB; files streamed to the customer are not bounded by this.
 */
const MAX_ATLASSIAN_RESPONSE_BYTES = 8 * 1024 * 1024;

export async function createPortalApp(context: PartContext, options: PortalOptions = {}): Promise<PortalApp> {
  // Before anything is made: a key that is not its certificate's would sign what the broker refuses.
  refuseMismatchedSigningKey(context.tenant, 'portal', context.secrets);
  const telemetry = createPortalTelemetry(context.registry, tenantLabels(context.tenantId, context.pooled));
  // Verified TLS for every outbound call; the tenant's CA bundle is trusted for Atlassian only.
  const atlassianFetch = createTlsFetch({
    extraCaPem: caBundleFor(context.secrets, context.tenant.spec.atlassian.caBundleSecretRef),
    maxResponseBytes: MAX_ATLASSIAN_RESPONSE_BYTES,
    ...outboundOptions(context.outbound),
  });
  const brokerFetch = createTlsFetch(outboundOptions(context.outbound));
  const limits = context.tenant.spec.portal.limits;
  const { spool: uploads, leftFoldersRemoved } = await UploadSpool.create(limits.maxConcurrentUploads);
  if (leftFoldersRemoved > 0)
    context.logger.info(
      { event: 'portal.upload_spool_cleared', folders: leftFoldersRemoved },
      'removed the upload spool left by a process that was killed',
    );
  const signInShares = context.signInShares ?? DEFAULT_POOL_SIGN_IN_SHARES;
  const abuseLimits = new AbuseLimits(
    limits,
    context.secrets.read(signingSecretName(context.tenant, 'portal'), 'tls.key'),
    context.store instanceof RedisFlowStore ? context.store : undefined,
    {
      ...signInStartsCeiling(
        limits.signInStarts.perTenant,
        context.pooled ? signInShares.startsPerTenant : undefined,
      ),
      windowSeconds: context.tenant.spec.broker.flowTtlSeconds,
      ...(context.pooled ? { sessions: signInShares.sessionsPerTenant } : {}),
    },
  );
  const services = buildServices(context, options, telemetry, atlassianFetch, brokerFetch, {
    uploads,
    limits: abuseLimits,
  });
  const { spec, logger, cookies, sessions } = services;
  const web = createWeb(spec, logger, telemetry);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustedProxyHops ?? context.trustedProxyHops ?? false);
  app.set('query parser', 'simple');
  app.use(telemetry.timePages);
  // Before anything that calls Atlassian (the session's organizations below): the page's calls end
  // within one budget together (ADR 0185), so a slow site gets the page's own 502, not a proxy's 504.
  const pageBudgetMs = options.atlassian?.pageBudgetMs ?? PORTAL_PAGE_BUDGET_MS;
  app.use((_req, _res, next) => withinPage(pageBudgetMs, next));
  app.use(
    securityHeaders({
      formAction: [spec.broker.url],
      logoUrl: spec.portal.branding?.logoUrl,
      secure: cookies.secure,
    }),
  );
  app.use(chooseLanguage(cookies, options.pseudoLocales ?? false));
  // Before the session is read and any route counts a limit: a form from another origin (a page of the
  // same site, which the session's SameSite=Lax cookie goes with) spends nothing of the customer's.
  app.use(web.originFirst);
  // Before the session is read too: a request no route takes (OPTIONS, PUT, a POST to a page only
  // read, …) would only find the 404, and reading the session for it asks Atlassian about the account
  // uncounted (ADR 0339, 0347). The routes, mounted below, are all there by the first request.
  app.use(web.routedRequestsOnly);
  app.use(async (req, res, next) => {
    const session = await sessions.get(parseCookies(req.headers.cookie).get(cookies.session));
    if (session) {
      const [current, standing] = await Promise.all([withCurrentOrganizations(session), refusal(session)]);
      // Signed out from here on: a page that needs the session says why (`signedIn`), the SAML
      // endpoints (a logout from the broker) go on as for anyone signed out.
      if (standing.refused) res.locals[ACCOUNT_REFUSED] = standing.refused;
      else res.locals['session'] = await withCurrentDesks(current, standing);
    }
    next();
  });
  // What a signed-in customer reads may call Atlassian within the tenant's share of it (ADR 0110):
  // counted per account, so that one customer's script cannot use it up for everyone else. Request
  // type icons are not counted: the catalogue keeps them for the whole tenant (no Atlassian call per
  // customer), and a desk page asks for one per type, which would spend a customer's pages on pictures.
  const signedInPages = abuseLimits.limit('signedInPages');
  app.use((req, res, next) => {
    const counted = readsPage(req.method) && !isRequestTypeIconPath(req.path);
    if (res.locals['session'] && counted) signedInPages(req, res, next);
    else next();
  });
  mountLocaleRoute(app, web, cookies);
  mountSamlRoutes(app, web, services);
  mountHelpCenterRoutes(app, web, services);
  mountMyRequestsRoutes(app, web, services);
  mountRequestRoutes(app, web, services);
  mountAccountRoutes(app, web, services);

  const { pageContext, send, refuse, notFound } = web;

  /**
   * The session with the customer's organizations as Atlassian has them now (Colleagues caches them
   * briefly): who sees a request shared with an organization is decided on Atlassian's membership,
   * not on the sign-in's. When Atlassian cannot say, none: nothing is shown through an organization
   * that the customer may have left.
   */
  async function withCurrentOrganizations(session: Session): Promise<Session> {
    const organizationIds = await noneWhenUnknown(
      () => services.colleagues.currentOrganizationIds(session.customer.accountId),
      [],
      'portal.organizations_unavailable',
      'organizations unknown: none used for this page',
    );
    return { ...session, customer: { ...session.customer, organizationIds } };
  }
  /**
   * What `read` gives of the customer's current ties (organizations, desks), or none when Atlassian
   * cannot say (logged as `event`): nothing is shown through a tie the customer may have lost.
   */
  async function noneWhenUnknown<T>(read: () => Promise<T>, none: T, event: string, message: string) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof AtlassianError)) throw err;
      logger.warn({ event, reason: err.code }, message);
      return none;
    }
  }
  /**
   * Ends the session of an account Atlassian would no longer let in (its access revoked, deactivated,
   * deleted, or no longer a customer), as Atlassian's portal stops it at once; the refusal, for the
   * page to answer. The account is read at most once per cache lifetime. When Atlassian cannot say,
   * the session goes on for this page: each of the page's own reads needs Atlassian too, so nothing
   * is shown that the answer would have kept back, and sign-out and the broker's logout keep working
   * through an outage. The record's e-mail, or why the record was not read (`unread`).
   */
  async function refusal(session: Session): Promise<Standing> {
    try {
      const { emailAddress } = await services.guard.recheck(session.customer.accountId);
      return typeof emailAddress === 'string' && emailAddress !== '' ? { email: emailAddress } : {};
    } catch (err) {
      if (err instanceof AccountRefusedError) {
        await sessions.destroy(session.id, session.sessionIndex);
        return { refused: err };
      }
      if (!(err instanceof AtlassianError)) throw err;
      logger.warn(
        { event: 'portal.account_unchecked', reason: err.code },
        'account standing unknown: the session goes on for this page',
      );
      return { unread: err };
    }
  }
  /**
   * The session with the desks the customer may still use, judged on Atlassian's answer at most a
   * cache lifetime old (ADR 0222); the e-mail is the account's, from Atlassian's record of it, used
   * for the desks' customer search and kept nowhere. When Atlassian cannot say, none: nothing is shown
   * through a desk the customer may have been taken off, as for organizations. A record that could not
   * be read is Atlassian not saying too (ADR 0239): the sign-in's desks stand only for a record read
   * without an e-mail.
   */
  async function withCurrentDesks(session: Session, standing: Standing): Promise<Session> {
    // With them, which of the customer's organizations each has: a request is shared with the
    // customer through an organization only on a desk that has it (ADR 0312).
    const ties = await noneWhenUnknown(
      () =>
        standing.unread
          ? Promise.reject(standing.unread)
          : services.desks.current(session.customer, standing.email),
      { serviceDeskIds: [], organizationIdsByDesk: {} },
      'portal.desks_unavailable',
      'desk access unknown: no desk used for this page',
    );
    return { ...session, customer: { ...session.customer, ...ties } };
  }
  app.use((_req: Request, res: Response) => notFound(res));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const i18n = translatorOf(res);
    const { t } = i18n;
    if (err instanceof RateLimitedError) {
      const { id } = referenceOf(res, err.code);
      logger.warn(
        {
          event: 'portal.rate_limited',
          reason: err.code,
          action: err.action,
          scope: err.scope,
          reference: id,
        },
        'rate limit reached',
      );
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
      refuse(
        res,
        429,
        err.code,
        t('error.slowDown.title'),
        t('error.slowDown', { seconds: err.retryAfterSeconds }),
      );
      return;
    }
    if (err instanceof URIError) {
      // The router could not decode a parameter (`/requests/%zz`): no page has that address. Before,
      // any visitor could make it a 500 PORTAL_INTERNAL with an error line (ADR 0229).
      notFound(res);
      return;
    }
    if (err instanceof JsmSsoError && err.code === 'PORTAL_CLIENT_ABORTED') {
      // A form whose client went away before its body was read (http/body-parsers.ts): no route ran,
      // and there is no one to answer.
      noteClientAborted(services, 'form abandoned by the client before it was read');
      return;
    }
    const body = bodyRefusal(err);
    if (body) {
      refuse(res, body.status, body.code, t('error.requestRefused.title'), problemText(i18n, body));
      return;
    }
    if (err instanceof RequestMovedError) {
      // The same address under the request's key now: a page or file with 301, a form with 307 (its
      // method and body kept), as Jira answers a key it had before a move.
      logger.info({ event: 'portal.request_moved', reason: err.code }, 'sent on to the request’s key now');
      res.redirect(readsPage(req.method) ? 301 : 307, movedPath(req, err.issueKey));
      return;
    }
    if (err instanceof NotVisibleError) {
      refuse(res, 404, err.code, t('error.notFound.title'), t('error.requestNotFound'));
      return;
    }
    if (err instanceof DownloadsBusyError) {
      // Files stream at the customer's pace: one who starts more than the bounds wait for one to end.
      const { id } = referenceOf(res, err.code);
      logger.warn({ event: 'portal.downloads_busy', reason: err.code, reference: id }, err.message);
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
      const seconds = err.retryAfterSeconds;
      refuse(
        res,
        err.status,
        err.code,
        t('error.atlassianBusy.title'),
        t('error.atlassianBusy', { seconds }),
      );
      return;
    }
    if (err instanceof AtlassianError && err.code === 'ATLASSIAN_BUSY') {
      // This tenant's share of Atlassian is in use (its site is slow, or it is very busy): answer
      // now with a time to come back rather than queue the customer behind a stalled site.
      const seconds = Math.ceil((err.retryAfterMs ?? BUSY_RETRY_AFTER_MS) / 1000);
      res.setHeader('Retry-After', String(seconds));
      refuse(res, 503, err.code, t('error.atlassianBusy.title'), t('error.atlassianBusy', { seconds }));
      return;
    }
    if (err instanceof AtlassianError) {
      const reference = referenceOf(res, err.code);
      logger.warn(
        {
          event: 'portal.atlassian_error',
          reason: err.code,
          upstreamStatus: err.upstreamStatus,
          reference: reference.id,
        },
        err.message,
      );
      // Atlassian said "not now" (429, or 502/503/504 after the retries): the help center is
      // temporarily unavailable, so 503 with a time to come back, as error-codes.ts documents;
      // anything else it answered is a bad gateway.
      const temporary = err.code === 'ATLASSIAN_RATE_LIMITED' || err.code === 'ATLASSIAN_UNAVAILABLE';
      if (temporary) res.setHeader('Retry-After', String(retryAfterSecondsOf(err)));
      send(
        res,
        messagePage(pageContext(res), t('error.failed.title'), problemText(i18n, err), { reference }),
        err.status === 404 ? 404 : temporary ? 503 : 502,
      );
      return;
    }
    if (err instanceof JsmSsoError && err.status < 500) {
      refuse(res, err.status, err.code, t('error.failed.title'), problemText(i18n, err));
      return;
    }
    if (err instanceof JsmSsoError) {
      // `where` names the fault's place (FLOW_STORE_REFUSED: Redis's error kind and the command).
      const reference = referenceOf(res, err.code);
      logger.warn(
        { event: 'portal.error', reason: err.code, ...err.where, reference: reference.id },
        err.message,
      );
      telemetry.failed(err.code);
      const store = storeRefusalOf(err);
      // Retry-After only where asking again can help: a full store gets room back as entries expire.
      if (store === 'full') res.setHeader('Retry-After', String(STORE_FULL_RETRY_AFTER_SECONDS));
      const message =
        store === 'full'
          ? t('error.storeFull')
          : store === 'refused'
            ? t('error.storeRefused')
            : t('error.tryLater');
      send(res, messagePage(pageContext(res), t('error.failed.title'), message, { reference }), err.status);
      return;
    }
    telemetry.failed('PORTAL_INTERNAL');
    const reference = referenceOf(res, 'PORTAL_INTERNAL');
    logger.error(
      {
        event: 'portal.error',
        reason: reference.reason,
        ...unexpectedErrorFields(err),
        reference: reference.id,
      },
      'unexpected error',
    );
    send(
      res,
      messagePage(pageContext(res), t('error.failed.title'), t('error.tryLater'), { reference }),
      500,
    );
  });

  return {
    handler: app as unknown as RequestListener,
    uploads,
    statusNamesRead: () => services.requests.statusNamesRead(),
    // Ready means this process can serve; Atlassian being slow or down must not take every replica
    // out of the load balancer (pages then show a friendly error instead).
    ready: async () => {},
    close: async () => {
      await Promise.all([atlassianFetch.close(), brokerFetch.close(), uploads.close()]);
    },
  };
}

/** Reads keys and credentials once, at the edge, and builds the portal's parts. */
function buildServices(
  context: PartContext,
  options: PortalOptions,
  telemetry: PortalTelemetry,
  atlassianFetch: TlsFetch,
  brokerFetch: TlsFetch,
  guards: Pick<PortalServices, 'uploads' | 'limits'>,
): PortalServices {
  const { tenant, secrets, logger, store } = context;
  const spec = tenant.spec;
  const cookies = cookiePolicy(spec.portal.url);
  const signingSecret = signingSecretName(tenant, 'portal');
  const signingKeyPem = secrets.read(signingSecret, 'tls.key');
  const signingCertPem = secrets.read(signingSecret, 'tls.crt');
  const brokerSecret = signingSecretName(tenant, 'broker');
  const brokerCertificates: BrokerCertificateSource = options.brokerCertificatesPem
    ? { kind: 'configured', certificates: async () => options.brokerCertificatesPem! }
    : (configuredBrokerCertificates(secrets, brokerSecret) ??
      metadataBrokerCertificates(spec.broker.url, brokerFetch));
  logger.info(
    { event: 'portal.broker_certificates', source: brokerCertificates.kind },
    'broker certificates source',
  );
  const { pageBudgetMs: _page, ...transportOptions } = options.atlassian ?? {};
  const credentials = spec.atlassian.credentialsSecretRef.name;
  const serviceAccountEmail = secrets.read(credentials, 'email').trim();
  const client = new AtlassianClient({
    fetch: atlassianFetch,
    siteUrl: spec.atlassian.siteUrl,
    email: serviceAccountEmail,
    apiToken: secrets.read(credentials, 'apiToken').trim(),
    onCall: (method, _path, status, seconds) => telemetry.atlassianCall(method, status, seconds),
    onRetry: (reason) => telemetry.atlassianRetry('read', reason),
    ...transportOptions,
    limits: {
      maxConcurrent: spec.atlassian.limits.maxConcurrentCalls,
      perSecond: spec.atlassian.limits.callsPerSecond,
      ...options.atlassian?.limits,
    },
  });
  const cacheTtlMs = options.catalogueTtlMs ?? 60_000;
  const catalogue = new Catalogue(client, spec.atlassian.serviceDeskIds, cacheTtlMs);
  // The desks each account may use, decided at sign-in and judged again on its pages (ADR 0222).
  const desks = new DeskAccess(client, new DeskOrganizations(client, cacheTtlMs), cacheTtlMs);
  const timeouts = sessionTimeoutsOf(spec);
  // Sessions and forms of before a swap of the portal's key stay open while the runbook holds the
  // old key as next.* (ADR 0298); so do the hashes the recent shares are kept under.
  const keyMaterial = signingKeyMaterial(secrets, signingSecret);
  const audit = auditLog(logger);
  const guard = new AccountGuard(client, {
    serviceAccountEmail,
    allowLicensedUsers: spec.portal.access?.allowLicensedUsers ?? false,
    logger,
    ttlMs: cacheTtlMs,
  });
  return {
    spec,
    audit,
    logger,
    cookies,
    client,
    catalogue,
    colleagues: new Colleagues(client, cacheTtlMs),
    desks,
    requests: new RequestService(
      client,
      catalogue,
      {
        onRetry: (reason) => telemetry.atlassianRetry('write', reason),
        ...options.writes,
      },
      cacheTtlMs,
      { store, formSeconds: timeouts.absoluteSeconds },
    ),
    resolver: new CustomerResolver(client, spec.atlassian, spec.portal, guard, audit, desks),
    guard,
    activity: new ActivityLog(store),
    sessions: new SessionStore(store, timeouts, keyMaterial),
    recentShares: new RecentShares(store, keyMaterial),
    sp: new ServiceProvider({
      portalUrl: spec.portal.url,
      brokerUrl: spec.broker.url,
      signingKeyPem,
      signingCertPem,
      brokerCertificates,
      replayStore: store,
      signatureAlgorithm: spec.signatureAlgorithm,
    }),
    timeouts,
    downloads: new DownloadSlots(),
    maxUploadBytes: options.maxUploadBytes ?? spec.portal.limits.maxUploadBytes,
    ...guards,
    ...(context.uploadSpoolShare ? { uploadSpoolShare: context.uploadSpoolShare } : {}),
    cacheTtlMs,
    telemetry,
  };
}

/** What Atlassian's record of a signed-in account said for this page (portal/account-guard.ts). */
interface Standing {
  /** Atlassian would no longer let the account in: its session has ended. */
  refused?: AccountRefusedError;
  /** The account's e-mail, when the record gave one. */
  email?: string;
  /** Why the record could not be read: the account's ties are unknown for this page. */
  unread?: AtlassianError;
}

/**
 * The address asked for (`/requests/<key>…`) under the request's key now; the rest kept as sent. Built
 * from the path the router matched, in any letter case (routes are case-insensitive), never from the
 * raw target: an absolute-form target (`GET http://evil.example/requests/OLD-1`) names a host, and
 * `/REQUESTS/OLD-1` was sent back to itself, a redirect without end (ADR 0300).
 */
function movedPath(req: Request, issueKey: string): string {
  const queryAt = req.originalUrl.indexOf('?');
  const query = queryAt >= 0 ? req.originalUrl.slice(queryAt) : '';
  return req.path.replace(/^\/requests\/[^/]+/i, `/requests/${encodeURIComponent(issueKey)}`) + query;
}
