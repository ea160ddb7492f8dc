// The help center: home with one search over request types and articles, a desk's request types and
// knowledge base, articles, the raise-request form. Home, desks and articles may be open to anonymous
// readers of the knowledge base (spec.portal.anonymousAccess).
import type { Express, NextFunction, Request, Response } from 'express';
import { JsmSsoError } from '../../common/errors.js';
import { FlowStoreClaimsUncertainError } from '../../common/flowstore/flow-store.js';
import { allowFetchFromSelf } from '../../common/http/security-headers.js';
import { AtlassianError } from '../atlassian/errors.js';
import { audienceFrom } from '../audience.js';
import { type FieldProblems, fieldErrorsFrom, fieldKind, parseRequestForm, type Submitted } from '../form.js';
import { searchHelp } from '../help-search.js';
import { routedPath } from '../http/routed-path.js';
import { translatorOf } from '../i18n.js';
import { KnowledgeBase } from '../knowledge-base.js';
import { type AudienceChoices, createPage } from '../pages/create.js';
import { articlePage, articlePath, deskPage, homePage, publicDeskPage } from '../pages/help-center.js';
import { faviconSvg } from '../pages/layout.js';
import { problemText } from '../pages/refusals.js';
import { SUGGEST_MIN_LENGTH } from '../pages/suggestions.js';
import { MAX_CREATE_FILES } from '../pages/uploads.js';
import { type PageReference, referenceOf } from '../reference.js';
import { ForeignWriteKeyError } from '../requests.js';
import type { PortalServices } from '../services.js';
import type { PortalWeb } from '../web.js';
import { heldForSeconds, WriteInProgressError, WriteUnconfirmedError } from '../write-claims.js';
import { mayHaveWritten, newWriteKey, outcomeUnknown, WRITE_KEY_FIELD, writeKeyFrom } from '../write-once.js';
import { keepRecentWrite } from './recent-write.js';
import { readUploadForm, uploadRoute } from './upload-form.js';

/** Where a request type's icon is served (a desk page asks for one per type). */
export const REQUEST_TYPE_ICON_ROUTE = '/desk/:deskId/icon/:typeId';
/** REQUEST_TYPE_ICON_ROUTE's paths as `routedPath` gives them. */
const ROUTED_REQUEST_TYPE_ICON_PATH = /^\/desk\/[^/]+\/icon\/[^/]+$/;
/**
 * Whether REQUEST_TYPE_ICON_ROUTE serves `path`, for a check made before the router (app.ts): judged
 * as the router matches it, in any letter case and with one trailing slash (ADR 0306, ADR 0309).
 */
export function isRequestTypeIconPath(path: string): boolean {
  return ROUTED_REQUEST_TYPE_ICON_PATH.test(routedPath(path));
}
/** Articles suggested while a summary is typed: a few, as native shows beside the form. */
const MAX_SUGGESTIONS = 5;

export function mountHelpCenterRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { logger, client, catalogue, requests, limits, colleagues } = services;
  const knowledgeBase = new KnowledgeBase(client, catalogue);
  const { pageContext, send, refuse, noteRefusal, signedIn, session, csrfOk } = web;
  // Browsers ask for /favicon.ico by themselves; both names get the same SVG, no sign-in needed.
  const favicon = faviconSvg(services.spec.portal.branding?.primaryColor ?? '');
  app.get(['/favicon.svg', '/favicon.ico'], (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type('image/svg+xml').send(favicon);
  });

  // With spec.portal.anonymousAccess, the home page, the knowledge base of the desks it names and
  // their articles are open to visitors who have not signed in; nothing else is.
  const publicDeskIds = services.spec.portal.anonymousAccess?.serviceDeskIds;
  const isAnonymous = (res: Response) => !res.locals['session'];
  const anonymousPages = limits.limit('anonymousPages');
  const signedInOrReader = (req: Request, res: Response, next: NextFunction) => {
    // Each anonymous page may call Atlassian as the service account: counted per client IP.
    if (isAnonymous(res) && publicDeskIds) anonymousPages(req, res, next);
    else signedIn(req, res, next);
  };
  /** The desks this visitor may use: the customer's, or for an anonymous reader the public ones. */
  const desksOf = (res: Response) =>
    catalogue.desksFor(isAnonymous(res) ? { serviceDeskIds: publicDeskIds ?? [] } : session(res).customer);

  app.get('/', signedInOrReader, async (req, res) => {
    const desks = await desksOf(res);
    const q = typeof req.query['q'] === 'string' ? req.query['q'].trim().slice(0, 200) : '';
    const anonymous = isAnonymous(res);
    const search = q
      ? await searchHelp(q, desks, { catalogue, knowledgeBase }, { requestTypes: !anonymous })
      : undefined;
    send(res, homePage(pageContext(res), desks, search, anonymous ? 'anonymous' : 'customer'));
  });

  // A desk the visitor may not use answers as one that does not exist, as in the native portal.
  const deskOr404 = async (res: Response, serviceDeskId: unknown) => {
    const desk = (await desksOf(res)).find((d) => d.id === serviceDeskId);
    if (!desk) {
      const { t } = translatorOf(res);
      refuse(res, 404, 'PORTAL_DESK_NOT_FOUND', t('error.notFound.title'), t('error.deskNotFound'));
    }
    return desk;
  };

  app.get('/desk/:deskId', signedInOrReader, async (req, res) => {
    const desk = await deskOr404(res, req.params['deskId']);
    if (!desk) return;
    const q = typeof req.query['q'] === 'string' ? req.query['q'].trim().slice(0, 100) : '';
    const articles = q ? await knowledgeBase.search(q, [desk]) : undefined;
    if (isAnonymous(res)) {
      send(res, publicDeskPage(pageContext(res), desk, q, articles));
      return;
    }
    const [groups, types] = await Promise.all([
      catalogue.groups(desk.id),
      catalogue.portalRequestTypes(desk.id),
    ]);
    const group = typeof req.query['group'] === 'string' ? req.query['group'] : undefined;
    send(res, deskPage(pageContext(res), desk, groups, types, q, group, articles));
  });

  app.get('/desk/:deskId/article/:pageId', signedInOrReader, async (req, res) => {
    const desk = await deskOr404(res, req.params['deskId']);
    if (!desk) return;
    const title = typeof req.query['title'] === 'string' ? req.query['title'].slice(0, 255) : '';
    const article = await knowledgeBase.article(desk.id, String(req.params['pageId']), title);
    if (!article) {
      const { t } = translatorOf(res);
      refuse(res, 404, 'PORTAL_ARTICLE_NOT_FOUND', t('error.notFound.title'), t('error.articleNotFound'));
      return;
    }
    send(res, articlePage(pageContext(res), desk, article));
  });

  const typeOr404 = async (res: Response, deskId: unknown, typeId: unknown) => {
    const desk = await deskOr404(res, deskId);
    if (!desk) return undefined;
    const type = (await catalogue.portalRequestTypes(desk.id)).find((t) => t.id === typeId);
    if (!type) {
      const { t } = translatorOf(res);
      refuse(
        res,
        404,
        'PORTAL_REQUEST_TYPE_NOT_FOUND',
        t('error.notFound.title'),
        t('error.requestTypeNotFound'),
      );
      return undefined;
    }
    return { desk, type };
  };
  const requestTypeOr404 = async (res: Response, deskId: unknown, typeId: unknown) => {
    const found = await typeOr404(res, deskId, typeId);
    if (!found) return undefined;
    return { ...found, fields: (await catalogue.fields(found.desk.id, found.type.id)).requestTypeFields };
  };

  // A request type's icon, read through the portal: the image on the Atlassian site needs the
  // site's credentials, which the browser does not have. Only for a desk this customer may use.
  app.get(REQUEST_TYPE_ICON_ROUTE, signedIn, async (req, res) => {
    const found = await typeOr404(res, req.params['deskId'], req.params['typeId']);
    if (!found) return;
    const icon = await catalogue.icon(found.type);
    if (!icon) {
      const { t } = translatorOf(res);
      refuse(res, 404, 'PORTAL_NOT_FOUND', t('error.notFound.title'), t('error.noIcon'));
      return;
    }
    // No-store like every page a signed-in customer is shown (the global header): the portal keeps
    // the icon in its catalogue cache, so a browser asking again costs no Atlassian call.
    res.setHeader('Content-Type', icon.contentType);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // An SVG opened on its own must not run anything.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    res.end(icon.body);
  });

  /**
   * The customer's colleagues and organizations, as the desk's form offers and takes them: those of
   * the organizations the desk has, the only ones a request on it is shared through (ADR 0312, 0329).
   */
  const audienceChoices = async (res: Response, deskId: string) => {
    const { customer } = session(res);
    const [mine, canShare] = await Promise.all([
      colleagues.of(customer, deskId),
      catalogue.organizationsField(),
    ]);
    return {
      colleagues: mine,
      offered: {
        people: mine.people,
        everyoneListed: mine.allListed,
        organizations: canShare ? mine.organizations : [],
      } as AudienceChoices,
    };
  };

  // Articles related to the summary being typed on the raise form (pages/suggestions.ts, ADR 0168):
  // the desk's knowledge base search, for a desk this customer may use, counted like every page a
  // signed-in customer reads (signedInPages, app.ts). Nothing is asked of Atlassian for a summary
  // shorter than the form's script would send.
  app.get('/desk/:deskId/suggest', signedIn, async (req, res) => {
    const desk = await deskOr404(res, req.params['deskId']);
    if (!desk) return;
    const q = typeof req.query['q'] === 'string' ? req.query['q'].trim().slice(0, 100) : '';
    const hits = q.length >= SUGGEST_MIN_LENGTH ? await knowledgeBase.search(q, [desk]) : [];
    res.json({
      articles: hits.slice(0, MAX_SUGGESTIONS).map((a) => ({
        title: a.title,
        excerpt: a.excerpt,
        href: articlePath(a),
      })),
    });
  });

  app.get('/desk/:deskId/create/:typeId', signedIn, async (req, res) => {
    const found = await requestTypeOr404(res, req.params['deskId'], req.params['typeId']);
    if (!found) return;
    allowFetchFromSelf(res);
    send(
      res,
      createPage(pageContext(res), found.desk, found.type, found.fields, {
        submitted: {},
        errors: {},
        csrf: session(res).csrf,
        writeKey: newWriteKey(),
        audience: (await audienceChoices(res, found.desk.id)).offered,
        maxUploadBytes: services.maxUploadBytes,
      }),
    );
  });

  /**
   * Shares a request just raised with the organizations chosen on the form. The request exists
   * whatever happens here, so a failure is said on its page instead of losing the form.
   */
  const shareWithOrganizations = async (key: string, organizationIds: readonly string[]) => {
    if (organizationIds.length === 0) return true;
    try {
      return await requests.changeSharedOrganizations(key, { add: organizationIds });
    } catch (err) {
      if (!(err instanceof AtlassianError)) throw err;
      logger.warn(
        {
          event: 'portal.atlassian_error',
          reason: err.code,
          upstreamStatus: err.upstreamStatus,
          issueKey: key,
        },
        'sharing with organizations refused',
      );
      return false;
    }
  };

  const raiseRequest = async (req: Request, res: Response) => {
    const found = await requestTypeOr404(res, req.params['deskId'], req.params['typeId']);
    if (!found) {
      req.resume();
      return;
    }
    const { desk, type, fields } = found;
    const i18n = translatorOf(res);
    const { t } = i18n;
    const s = session(res);
    const form = await readUploadForm(web, services, req, res, MAX_CREATE_FILES);
    if (!form) return;
    if (!csrfOk(res, form.fields['_csrf'])) return;
    const submitted = form.fields as Submitted;
    // The same key on every re-render: however often this form comes back, it raises one request.
    const writeKey = writeKeyFrom(form.fields[WRITE_KEY_FIELD]);
    const parsed = parseRequestForm(fields, submitted, form.files.length, i18n.timeZone);
    const choices = await audienceChoices(res, desk.id);
    const { audience, errors: audienceErrors } = audienceFrom(submitted, s.customer, choices.colleagues);
    const render = (
      errors: FieldProblems,
      message: string,
      status: number,
      more: {
        linkMyRequests?: boolean;
        uploadRefusal?: JsmSsoError;
        newWriteKey?: boolean;
        reference?: PageReference;
      } = {},
    ) => {
      allowFetchFromSelf(res);
      send(
        res,
        createPage(pageContext(res), desk, type, fields, {
          submitted,
          errors,
          message,
          ...more,
          csrf: s.csrf,
          // A new form where nothing could ever tell whether the key sent wrote (ADR 0299).
          writeKey: more.newWriteKey ? newWriteKey() : writeKey,
          audience: choices.offered,
          maxUploadBytes: services.maxUploadBytes,
        }),
        status,
      );
    };
    const attachmentField = fields.find((f) => fieldKind(f) === 'attachment' && f.visible !== false);
    if (form.refused) {
      // The same form again, with every answer kept and the refusal beside the file input.
      noteRefusal(form.refused.status, form.refused.code, 'upload refused');
      render(parsed.errors, t('create.needsAttention'), form.refused.status, { uploadRefusal: form.refused });
      return;
    }
    if (Object.keys(audienceErrors).length > 0) {
      // Someone outside the customer's organizations: never sent to Atlassian.
      noteRefusal(400, 'PORTAL_COLLEAGUE_INVALID', 'colleague refused');
    }
    if (Object.keys(parsed.errors).length > 0 || Object.keys(audienceErrors).length > 0) {
      render({ ...parsed.errors, ...audienceErrors }, t('create.needsAttention'), 400);
      return;
    }
    if (form.files.length > 0 && !attachmentField) {
      render({}, t('create.noAttachments'), 400);
      return;
    }
    const hasDescription = fields.some((f) => f.fieldId === 'description' && f.visible !== false);
    try {
      const uploadFiles = async () => {
        const temporary = [];
        for (const file of form.files) {
          temporary.push(await client.attachTemporaryFile(desk.id, file));
        }
        return attachmentField && temporary.length > 0 ? { [attachmentField.fieldId]: temporary } : {};
      };
      const {
        value: { issueKey: key, issueId },
        existed,
      } = await requests.create({
        serviceDeskId: desk.id,
        requestTypeId: type.id,
        values: parsed.values,
        hasDescription,
        writeKey,
        audience,
        sentBy: s.customer.accountId,
        attempt: uploadFiles,
        // A form raised fine and sent again (the back button) is found, the search behind or not.
        recentIssueIds: s.recentIssueIds,
      });
      logger.info(
        {
          event: existed ? 'portal.request_resubmitted' : 'portal.request_created',
          accountId: s.customer.accountId,
          ...(audience.reporterAccountId === s.customer.accountId
            ? {}
            : { onBehalfOf: audience.reporterAccountId }),
          issueKey: key,
        },
        existed ? 'form sent again: the request already exists' : 'request created',
      );
      // The page it redirects to, and My requests, search for it at once (ADR 0194).
      await keepRecentWrite(services, s, issueId);
      const shared = await shareWithOrganizations(key, audience.organizationIds);
      res.redirect(303, `/requests/${encodeURIComponent(key)}?${shared ? 'created' : 'unshared'}=1`);
    } catch (err) {
      // A form held after a create that may have been made says when it can be sent again, in its
      // words and its Retry-After (ADR 0399).
      const held = heldForSeconds(err);
      if (held !== undefined) res.setHeader('Retry-After', String(held));
      /** Logs why this post wrote nothing, under the reference its page shows. */
      const noteWriteRefused = (refused: JsmSsoError, more: Record<string, unknown> = {}) => {
        const reference = referenceOf(res, refused.code);
        logger.warn(
          { event: 'portal.write_refused', reason: refused.code, ...more, reference: reference.id },
          'create refused, nothing written',
        );
        return reference;
      };
      if (err instanceof FlowStoreClaimsUncertainError) {
        // Nothing written: the form comes back as sent, with when to send it again.
        const reference = noteWriteRefused(err);
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        render({}, t('error.writeUncertain', { seconds: err.retryAfterSeconds }), err.status, {
          linkMyRequests: true,
          reference,
        });
        return;
      }
      if (err instanceof ForeignWriteKeyError) {
        // Nothing written, nothing of that request said: her answers come back on a new form (ADR 0446).
        render({}, t('create.writeKeyForeign'), err.status, {
          newWriteKey: true,
          reference: noteWriteRefused(err),
        });
        return;
      }
      if (err instanceof WriteInProgressError) {
        // An earlier post of this form is still raising it: the form comes back as sent, under the same
        // key, so that sent again it lands on that post's request (ADR 0386); with when it is over at the
        // latest (ADR 0401).
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        render({}, t('create.inProgress', { seconds: err.retryAfterSeconds }), err.status, {
          linkMyRequests: true,
          reference: noteWriteRefused(err),
        });
        return;
      }
      if (err instanceof WriteUnconfirmedError) {
        // `cause`: the look for the earlier post's request failed (say, ATLASSIAN_PAGE_TIMEOUT).
        const reference = noteWriteRefused(
          err,
          err.cause instanceof JsmSsoError ? { cause: err.cause.code } : {},
        );
        if (hasDescription) {
          // Within the hold: the earlier post's create may still be on its way, nothing was sent.
          const words =
            held === undefined ? t('create.outcomeUnknown') : t('create.stillChecked', { seconds: held });
          render({}, words, err.status, { linkMyRequests: true, reference });
          return;
        }
        // Nothing can ever tell whether this form raised its request: it never writes (ADR 0299).
        // The customer who checked My requests raises it anew from the form shown, a new one.
        render({}, t('create.outcomeUnknownNewForm'), err.status, {
          linkMyRequests: true,
          newWriteKey: true,
          reference,
        });
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
          'create refused',
        );
        const errors = err.code === 'ATLASSIAN_VALIDATION' ? fieldErrorsFrom(fields, err) : {};
        // Said after a failed create: refused outright, nothing was created and the same form can be
        // sent again safely. After a failure whose outcome is unknown the request may exist (the
        // search that looks for its key may lag, ADR 0187): check My requests first; sending the
        // form again looks for it before writing. Without a description nothing can look for it: its
        // claim refuses this key for the form's life (ADR 0299), so the new form comes at once, not at
        // the next post (ADR 0309); the browser's resend still posts the old key.
        const newForm = !hasDescription && mayHaveWritten(err);
        const outcome = newForm
          ? t('create.outcomeUnknownNewForm')
          : !outcomeUnknown(err)
            ? t('create.notCreated')
            : held === undefined
              ? t('create.outcomeUnknown')
              : t('create.outcomeUnknownHeld', { seconds: held });
        render(errors, `${problemText(i18n, err)} ${outcome}`, err.status, {
          linkMyRequests: true,
          newWriteKey: newForm,
          reference,
        });
        return;
      }
      throw err;
    }
  };
  app.post(
    '/desk/:deskId/create/:typeId',
    signedIn,
    limits.limit('requestCreations'),
    uploadRoute(raiseRequest),
  );
}
