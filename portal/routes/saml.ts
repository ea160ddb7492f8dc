// Sign-in and sign-out: the portal as SAML service provider toward the broker (see portal/saml/).
import type { Express } from 'express';
import { isPortalRefusal } from '../../common/error-codes.js';
import { JsmSsoError } from '../../common/errors.js';
import { parseCookies, serializeCookie } from '../../common/http/cookies.js';
import { SamlError } from '../../common/saml/errors.js';
import {
  isVersionRefusal,
  type logoutRequestSubject,
  MAX_POSTED_FORM_BYTES,
  MAX_REQUEST_BYTES,
  type NameIdentifierKind,
  SOAP_CONTENT_TYPE,
  sameNameIdentifier,
  soapFault,
} from '../../common/saml/index.js';
import { NAMEID_EMAIL } from '../../common/saml/namespaces.js';
import { RateLimitedError } from '../abuse-limits.js';
import { CustomerNotSearchableError } from '../customer-create.js';
import { formBody, soapBody } from '../http/body-parsers.js';
import { translatorOf } from '../i18n.js';
import { assertedPerson } from '../identity.js';
import { messagePage, signingOutPage } from '../pages/account.js';
import { problemText } from '../pages/refusals.js';
import { referenceOf } from '../reference.js';
import { checkReturnPath, SIGN_IN_PATH } from '../return-path.js';
import type { PortalServices } from '../services.js';
import { type AssertedNameId, newToken } from '../session.js';
import { type PortalWeb, SIGN_IN_AGAIN_TO } from '../web.js';

/** Whom the broker's LogoutRequest names, as `ServiceProvider.backchannelLogoutRequest` reads it. */
type BrokerLogoutRequest = ReturnType<typeof logoutRequestSubject>;

/** The identifier, beside its value, the broker's LogoutRequest names (core 2.2.2). */
const namedIn = (request: BrokerLogoutRequest): NameIdentifierKind => ({
  format: request.nameIdFormat,
  qualifiers: request.nameIdQualifiers,
});

export function mountSamlRoutes(app: Express, web: PortalWeb, services: PortalServices): void {
  const { spec, logger, cookies, sp, sessions, resolver, catalogue, activity, limits, colleagues } = services;
  const { forms, pageContext, send, refuse, noteRefusal, signedIn, csrf, session } = web;
  const adminGroups = spec.portal.adminGroups ?? [];
  const loginTtl = spec.broker.flowTtlSeconds ?? 600;
  /** The broker asserts the NameIDs the portal's sessions are made from, to the portal. */
  const hopParties = { asserting: sp.brokerEntityId, relying: sp.endpoints.entityId };

  app.get('/saml/metadata', (_req, res) => {
    res.type('application/samlmetadata+xml').send(sp.metadata());
  });

  app.get(SIGN_IN_PATH, limits.limit('signInStarts'), async (req, res) => {
    const requested = req.query['return'];
    const returnPath = checkReturnPath(requested);
    if (requested !== undefined && returnPath === undefined) {
      logger.warn(
        { event: 'portal.return_path_refused', reason: 'PORTAL_RETURN_PATH_UNSAFE' },
        'return path replaced by /',
      );
    }
    const { url, requestId } = sp.authnRedirect([translatorOf(res).locale]);
    const flowId = await sessions.startLogin({ requestId, returnPath: returnPath ?? '/' }, loginTtl);
    res.append(
      'Set-Cookie',
      serializeCookie(cookies, cookies.login, flowId, { sameSite: 'None', maxAgeSeconds: loginTtl }),
    );
    res.redirect(303, url);
  });

  // A signed Response with its attributes is larger than a form: common/saml caps its XML at 256 KiB,
  // and the body holds whatever form a Response within that is posted in (ADR 0317).
  const acsBody = formBody(MAX_POSTED_FORM_BYTES, 10);
  app.post('/saml/acs', limits.limit('acsPosts'), acsBody, async (req, res) => {
    const clearLogin = serializeCookie(cookies, cookies.login, '', { sameSite: 'None', maxAgeSeconds: 0 });
    res.append('Set-Cookie', clearLogin);
    const { t } = translatorOf(res);
    let flow: Awaited<ReturnType<typeof sessions.takeLogin>>;
    try {
      flow = await sessions.takeLogin(parseCookies(req.headers.cookie).get(cookies.login));
      if (!flow) {
        // No login started in this browser: an unsolicited or replayed Response, or an expired flow.
        refuse(res, 400, 'PORTAL_LOGIN_FLOW_MISSING', t('signIn.expired.title'), t('signIn.expired'));
        return;
      }
      const body = req.body as Record<string, unknown> | undefined;
      const assertion = await sp.acs(body?.['SAMLResponse'], flow.requestId);
      const person = assertedPerson(assertion, spec.identityProviders);
      await limits.consume('acsPosts', 'account', person.email);
      const customer = await resolver.resolve(
        person,
        (await catalogue.desks()).map((d) => d.id),
      );
      colleagues.noteOrganizationIds(customer.accountId, customer.organizationIds);
      const old = parseCookies(req.headers.cookie).get(cookies.session);
      if (old) await sessions.destroy(old);
      // Which organizations each desk has is judged again on every page (app.ts): not kept with the
      // session, where a customer of many organizations and desks would make every record large.
      const { organizationIdsByDesk: _judgedEachPage, ...kept } = customer;
      const session = await sessions.create({
        customer: kept,
        // Groups here came from an IdP the tenant trusts for groups (assertedPerson drops the rest);
        // they decide this flag at sign-in and are not kept in the session.
        isAdmin: person.groups.some((g) => adminGroups.includes(g)),
        subject: sessions.sealSubject({
          nameId: assertion.nameId,
          nameIdFormat: assertion.nameIdFormat,
          nameIdQualifiers: assertion.nameIdQualifiers,
        }),
        ...(assertion.sessionIndex ? { sessionIndex: assertion.sessionIndex } : {}),
        // The broker's end of the session (core 2.7.2): the IdP's, when it set one (ADR 0244).
        ...(assertion.sessionNotOnOrAfter
          ? { sessionNotOnOrAfter: assertion.sessionNotOnOrAfter.getTime() }
          : {}),
      });
      await limits.sessionStarted(session.endsAt);
      if (await sessions.endIfEndedByBroker(session)) {
        // The IdP ended her IdP session while this sign-in was on its way here (ADR 0170).
        const reference = referenceOf(res, 'PORTAL_SIGN_IN_ENDED_AT_IDP');
        noteRefusal(401, reference.reason, 'sign-in ended by the broker before it arrived', reference.id);
        const page = messagePage(pageContext(res), t('error.signedOut.title'), t('signIn.endedAtIdp'), {
          signIn: true,
          reference,
        });
        send(res, page, 401);
        return;
      }
      await activity.record({
        accountId: customer.accountId,
        ip: req.ip ?? '',
        lastLoginAt: new Date().toISOString(),
      });
      logger.info({ event: 'portal.login', accountId: customer.accountId }, 'customer signed in');
      res.append(
        'Set-Cookie',
        serializeCookie(cookies, cookies.session, session.id, {
          sameSite: 'Lax',
          maxAgeSeconds: Math.max(1, Math.ceil((session.endsAt - Date.now()) / 1000)),
        }),
      );
      res.redirect(303, flow.returnPath);
    } catch (err) {
      if (err instanceof RateLimitedError) throw err;
      if (err instanceof SamlError) {
        refuse(res, 400, err.code, t('signIn.failed.title'), t('signIn.failed'));
        return;
      }
      if (err instanceof CustomerNotSearchableError) {
        // Her account is made and the next sign-in finds it: she is offered one, back to where she was going.
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
        res.locals[SIGN_IN_AGAIN_TO] = flow?.returnPath;
        refuse(
          res,
          err.status,
          err.code,
          t('refusal.customerNotSearchable.title'),
          problemText(translatorOf(res), err),
        );
        return;
      }
      if (err instanceof JsmSsoError && isPortalRefusal(err.code)) {
        refuse(res, err.status, err.code, t('signIn.refused.title'), problemText(translatorOf(res), err));
        return;
      }
      // Atlassian or the store failed once the Response was spent: the page offers a new sign-in.
      if (flow) res.locals[SIGN_IN_AGAIN_TO] = flow.returnPath;
      throw err;
    }
  });

  // The broker's LogoutResponse to the sign-out below: checked, bound to its LogoutRequest, once;
  // then the page is /signed-out (Post/Redirect/Get), so that neither a reload nor the language
  // switcher (which comes back to the page's own address) sends the one-time message again.
  app.get('/saml/slo', async (req, res) => {
    const { t } = translatorOf(res);
    try {
      const rawQuery = req.originalUrl.split('?')[1] ?? '';
      const relayState = req.query['RelayState'];
      const token = typeof relayState === 'string' ? relayState : undefined;
      const { success } = await sp.logoutResponse(rawQuery, await sessions.pendingLogout(token));
      await sessions.endLogout(token!);
      logger.info(
        { event: 'portal.logout_answered', result: success ? 'success' : 'partial' },
        'the broker answered the sign-out',
      );
      res.redirect(303, success ? '/signed-out' : '/signed-out?partial');
    } catch (err) {
      if (err instanceof SamlError) {
        refuse(res, 400, err.code, t('signOut.failed.title'), t('signOut.failed'));
        return;
      }
      throw err;
    }
  });

  // The broker's back-channel LogoutRequest (SAML SOAP binding, ADR 0150): the tenant's IdP ended
  // the sign-in (OIDC back-channel logout), so the session the broker asserted ends here too. No
  // cookie and no CSRF token: the broker's signature, fresh and once, is the guard.
  /**
   * A LogoutRequest naming no SessionIndex asks for every session of the person (core 3.7.3.2,
   * "all sessions associated with the principal MUST be invalidated"). Sessions are keyed by session,
   * not by person, so the person is found as a sign-in finds them, by the e-mail their NameID is, and
   * every session of that account made until now ends (`revokeAccount`, as an admin's "end all
   * sessions"). A NameID of another format, or with a qualifier (the broker asserts none), names
   * nobody the portal can find: undefined, PartialLogout (ADR 0382). Atlassian failing is the
   * Responder's answer, sent again by the broker.
   */
  const endEverySessionOf = async (subject: BrokerLogoutRequest) => {
    if (!sameNameIdentifier({ format: NAMEID_EMAIL, qualifiers: {} }, namedIn(subject), hopParties))
      return undefined;
    const accountId = await resolver.accountIdOf(
      subject.nameId,
      (await catalogue.desks()).map((d) => d.id),
    );
    if (accountId === undefined) return [];
    await sessions.revokeAccount(accountId);
    return [accountId];
  };

  /**
   * A session the broker named was not found (undefined among `ended`) while SessionIndex keys that
   * would still live were evicted from a full memory store: it may be one of them, its session left,
   * and Success would say it ended (core 3.7.3.2): PartialLogout (ADR 0363).
   */
  const lostTrackOf = (ended: ReadonlyArray<string | undefined>) => {
    if (!ended.includes(undefined) || !sessions.mayHaveLostIndexes()) return false;
    logger.info(
      { event: 'portal.logout', initiator: 'broker', result: 'partial', cause: 'sessions_evicted' },
      "the broker's LogoutRequest found no session, and the memory store dropped SessionIndex keys that would still live",
    );
    return true;
  };

  /**
   * Ends the sessions the broker's LogoutRequest names by SessionIndex: those of its NameID's value
   * under the identifier it names (ADR 0382). Her value and sessions under another Format or
   * qualifier only: `other_identifier`, nothing ended, answered Requester/UnknownPrincipal as the
   * broker answers the portal (ADR 0373).
   */
  const endNamedSessions = async (request: BrokerLogoutRequest) => {
    const asAsserted = (subject: AssertedNameId) =>
      sameNameIdentifier(
        { format: subject.nameIdFormat, qualifiers: subject.nameIdQualifiers },
        namedIn(request),
        hopParties,
      );
    const found = await Promise.all(
      request.sessionIndexes.map((index) => sessions.endAsserted(index, request.nameId, asAsserted)),
    );
    const ended = found.filter((f) => f !== 'other_identifier');
    if (ended.length === 0) return 'other_identifier';
    return ended.map((f) => f?.ended);
  };

  const soapEnvelope = soapBody(MAX_REQUEST_BYTES);
  app.post('/saml/slo', soapEnvelope, async (req, res) => {
    try {
      if (typeof req.body !== 'string')
        throw new SamlError('SAML_BINDING_INVALID', 'the body is not a SOAP message');
      const request = await sp.backchannelLogoutRequest(req.body);
      let outcome: 'success' | 'partial';
      try {
        const everySession = request.sessionIndexes.length === 0;
        const ended = await request.once(() =>
          everySession ? endEverySessionOf(request) : endNamedSessions(request),
        );
        if (ended === 'other_identifier') {
          noteRefusal(200, 'SAML_LOGOUT_NAMEID_MISMATCH', 'back-channel LogoutRequest refused');
          res
            .status(200)
            .type(SOAP_CONTENT_TYPE)
            .send(sp.backchannelLogoutResponse(request.id, 'unknown_principal'));
          return;
        }
        outcome = ended === undefined || lostTrackOf(ended) ? 'partial' : 'success';
        for (const accountId of (ended ?? []).filter((a) => a !== undefined)) {
          logger.info({ event: 'portal.logout', initiator: 'broker', accountId }, 'customer signed out');
        }
      } catch (err) {
        if (!(err instanceof JsmSsoError && err.status >= 500)) throw err;
        // The store did not answer: nothing was marked used, so the same request sent again is acted
        // on (ADR 0164). A SAML processing error is a SAML status, not a fault (bindings 3.2.3.3).
        logger.warn(
          { event: 'portal.error', reason: err.code },
          'back-channel LogoutRequest not acted on now',
        );
        res.status(200).type(SOAP_CONTENT_TYPE).send(sp.backchannelLogoutResponse(request.id, 'unavailable'));
        return;
      }
      res.status(200).type(SOAP_CONTENT_TYPE).send(sp.backchannelLogoutResponse(request.id, outcome));
    } catch (err) {
      if (!(err instanceof SamlError)) throw err;
      // The broker's own request of another Version: core 3.2.2.2 has a status for it, signed.
      if (isVersionRefusal(err)) {
        noteRefusal(200, err.code, 'back-channel LogoutRequest refused');
        const outcome = { versionMismatch: err.cause.secondLevelStatus };
        res.status(200).type(SOAP_CONTENT_TYPE).send(sp.backchannelLogoutResponse(err.messageId, outcome));
        return;
      }
      noteRefusal(400, err.code, 'back-channel LogoutRequest refused');
      // No signed answer to a message that failed its checks: a fault with the reason code.
      res.status(400).type(SOAP_CONTENT_TYPE).send(soapFault(err.code, 400));
    }
  });

  // Says what the broker answered; `partial` only chooses the sentence, so anyone may open it.
  app.get('/signed-out', (req, res) => {
    const { t } = translatorOf(res);
    const message = t(req.query['partial'] === undefined ? 'signOut.done' : 'signOut.partial');
    send(res, messagePage(pageContext(res), t('error.signedOut.title'), message, { signIn: true }));
  });

  // The session first, as on every form: no one signed in has the portal read a form (ADR 0446).
  app.post('/logout', signedIn, forms, csrf, async (_req, res) => {
    const s = session(res);
    await sessions.destroy(s.id, s.sessionIndex);
    res.append(
      'Set-Cookie',
      serializeCookie(cookies, cookies.session, '', { sameSite: 'Lax', maxAgeSeconds: 0 }),
    );
    logger.info(
      { event: 'portal.logout', initiator: 'portal', accountId: s.customer.accountId },
      'customer signed out',
    );
    const subject = sessions.openSubject(s.subject);
    // RelayState names the pending sign-out, so the broker's answer is checked against this request.
    const relayState = newToken();
    const { url, requestId } = sp.logoutRedirect({ ...subject, sessionIndex: s.sessionIndex }, relayState);
    await sessions.startLogout(relayState, requestId, loginTtl);
    // The drafts of every tab of the portal's origin (pages/drafts.ts): sessionStorage is per tab, and
    // this page's own script reaches only its tab. The origin is the portal's alone, nothing else of
    // it is stored (ADR 0309).
    res.setHeader('Clear-Site-Data', '"storage"');
    // A page, not a redirect: CSP form-action would otherwise apply to the whole chain
    // portal -> broker -> IdP, whose hosts the portal does not know.
    send(res, signingOutPage(pageContext(res), url));
  });
}
