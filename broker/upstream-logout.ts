import { JsmSsoError } from '../common/errors.js';
import { type Logger, unexpectedErrorFields } from '../common/log.js';
import type { SessionDirectory, UpstreamLogoutOutcome } from './backends/backend.js';
import type { BrokerState, LoginSession } from './flows.js';
import type { PortalLogout, PortalSubjectSealer } from './portal-logout.js';

/**
 * An upstream IdP's own logout (its SAML LogoutRequest, front channel) reaching the portal
 * (ADR 0158): the portal session made from the broker session it names ends, by the SOAP
 * LogoutRequest of ADR 0150, then the broker session, before the IdP is answered. The broker session
 * ends whatever the portal does (ADR 0145): the browser carrying the IdP's request will not come back
 * to retry it.
 */
export function upstreamLogoutDirectory(deps: {
  state: BrokerState;
  /** Bounded by the IdP deadline: the person's browser waits on the IdP's sign-out page. */
  portalLogout: PortalLogout;
  portalSubjects: PortalSubjectSealer;
  logger: Logger;
}): SessionDirectory {
  /** `sessionIndex` undefined: every session of the person at the portal (ADR 0218). */
  async function endPortalSession(
    idp: string,
    sessionIndex: string | undefined,
    session: LoginSession,
  ): Promise<UpstreamLogoutOutcome> {
    // A session saved before the portal's NameID was kept cannot name the portal session.
    if (!session.portalSubject) return 'portal_session_left';
    try {
      const subject = deps.portalSubjects.open(session.portalSubject);
      const { success } = await deps.portalLogout(
        sessionIndex === undefined ? subject : { ...subject, sessionIndex },
      );
      return success ? 'ended' : 'portal_session_left';
    } catch (err) {
      const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
      if (reason === 'BROKER_INTERNAL')
        deps.logger.error(
          { event: 'broker.internal_error', ...unexpectedErrorFields(err) },
          'internal error',
        );
      deps.logger.warn(
        { event: 'broker.portal_logout', idp, result: 'partial', reason },
        'the portal did not confirm the end of its session',
      );
      return 'portal_session_left';
    }
  }

  return {
    async endUpstreamSession(idp, { requestId, upstreamSessionKeys, idpSessions, matches }) {
      // Before looking: a sign-in with one of these IdP sessions saving its own meanwhile reads it
      // (ADR 0171, as ADR 0170 for an OIDC sid). A request naming the person only leaves none: it
      // would refuse her later sign-ins, not the one in flight.
      await Promise.all(
        idpSessions.map((named) => deps.state.markIdpSessionEnded(idp, named.session, named.person)),
      );
      // Under each key held, the sealing one's first: a session saved before a swap of the broker's
      // key is indexed under the old one (ADR 0304).
      const ofPerson = (handle: string | undefined) => matches(handle) !== 'other';
      const found = (
        await Promise.all(upstreamSessionKeys.map((key) => deps.state.upstreamSession(idp, key, ofPerson)))
      ).find((session) => session !== undefined);
      if (!found) return 'no_session';
      // Her value and session, under a NameID the IdP did not assert: not hers to end (ADR 0373).
      if (matches(found.session.logoutHandle) === 'other_identifier') return 'other_identifier';
      // Two of the IdP's requests for this session at once (at one replica or two): the portal is
      // asked by one; the other is answered without waiting for it (ADR 0373).
      if (!(await deps.state.claimSessionLogout(found.sessionIndex, requestId))) return 'already_ending';
      // Naming the person only, the request ends every session of theirs (core 3.7.3.2); the index
      // finds the latest broker session, so the portal is asked for all of the person's (ADR 0218).
      const everySession = idpSessions.length === 0;
      const outcome = await endPortalSession(
        idp,
        everySession ? undefined : found.sessionIndex,
        found.session,
      );
      // Ended after the portal was asked, not before: when the store fails here the IdP's LogoutRequest
      // is not marked used and its retry still finds the session (ADR 0164); whatever the portal
      // answered, as nothing retries a front-channel message (ADR 0145).
      await deps.state.endSession(found.sessionIndex, (session) => session.idp === idp);
      return outcome;
    },
  };
}
