import { JsmSsoError } from '../common/errors.js';
import { type Logger, unexpectedErrorFields } from '../common/log.js';
import type { SessionDirectory } from './backends/backend.js';
import type { BrokerState } from './flows.js';
import type { PortalLogout, PortalSubjectSealer } from './portal-logout.js';

/**
 * An upstream IdP's own logout (its SAML LogoutRequest, front channel) reaching the portal
 * (ADR 0158): the broker session it names ends, then the portal session made from it, by the SOAP
 * LogoutRequest of ADR 0150, before the IdP is answered. The broker session ends whatever the portal
 * does (ADR 0145): the browser carrying the IdP's request will not come back to retry it.
 */
export function upstreamLogoutDirectory(deps: {
  state: BrokerState;
  /** Bounded by the IdP deadline: the person's browser waits on the IdP's sign-out page. */
  portalLogout: PortalLogout;
  portalSubjects: PortalSubjectSealer;
  logger: Logger;
}): SessionDirectory {
  return {
    async endUpstreamSession(idp, upstreamSessionKey, matches) {
      const found = await deps.state.takeUpstreamSession(idp, upstreamSessionKey, matches);
      if (!found) return 'no_session';
      const { sessionIndex, session } = found;
      // A session saved before the portal's NameID was kept cannot name the portal session.
      if (!session.portalSubject) return 'portal_session_left';
      try {
        const subject = deps.portalSubjects.open(session.portalSubject);
        const { success } = await deps.portalLogout({ ...subject, sessionIndex });
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
    },
  };
}
