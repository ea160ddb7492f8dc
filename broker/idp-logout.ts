import { JsmSsoError } from '../common/errors.js';
import { type Logger, unexpectedErrorFields } from '../common/log.js';
import type { IdpLogoutTarget } from './backends/backend.js';
import { BACKCHANNEL_SLOTS_PER_PERSON, type BrokerState } from './flows.js';
import type { PortalLogout, PortalSubjectSealer } from './portal-logout.js';
import type { BrokerTelemetry, IdpLogoutChannel } from './telemetry.js';

/**
 * An OIDC IdP's own logout ending the sessions it names, whichever channel brought it (back-channel
 * token, ADR 0150; front-channel frame, ADR 0159): each portal session made from them ends by the
 * SOAP LogoutRequest of portal-logout.ts, then its broker session. When the portal cannot be reached
 * this throws and leaves what is left, so that a retry (the IdP's, back-channel) still finds it.
 */

/**
 * `ended` every session named, `partial` when the portal answered PartialLogout for one, `no_session`,
 * or `already_ending` when another logout was ending one of them at that moment (ADR 0382): that one
 * was left to it, its end not known here.
 */
export type IdpLogoutOutcome = 'ended' | 'partial' | 'no_session' | 'already_ending';

/**
 * `ends`: the logout's target under each key the broker holds (ADR 0304); `channel` tells a signed
 * logout (back-channel) from one anyone may send (front-channel); `logoutId` names this logout in its
 * claim of each session (`BrokerState.claimSessionLogout`): the same for the IdP's retry of it (a
 * back-channel token's `jti`), so that the retry goes on.
 */
export type IdpSessionsEnd = (
  idp: string,
  ends: readonly IdpLogoutTarget[],
  channel: IdpLogoutChannel,
  logoutId: string,
) => Promise<IdpLogoutOutcome>;

export function idpSessionsEnder(deps: {
  state: BrokerState;
  portalLogout: PortalLogout;
  portalSubjects: PortalSubjectSealer;
}): IdpSessionsEnd {
  const { state } = deps;
  return async (idp, targets, channel, logoutId) => {
    // Before looking: a sign-in with this IdP session saving its own meanwhile reads it (ADR 0170),
    // under whichever key held its pod keys it by (a rollout runs pods of both, ADR 0304).
    await Promise.all(
      targets.map((ends) => {
        if (!('session' in ends)) return undefined;
        return channel === 'frontchannel'
          ? state.markIdpSessionEndedUnsigned(idp, ends.session)
          : state.markIdpSessionEnded(idp, ends.session, ends.person);
      }),
    );
    // Under each key held: sessions saved before a swap of the broker's key are indexed under the old one.
    const foundPerKey = await Promise.all(targets.map((ends) => state.backchannelSessions(idp, ends)));
    const found = [...new Map(foundPerKey.flat().map((f) => [f.sessionIndex, f])).values()];
    // Two logouts of one session at once (two tokens, at one replica or two): the portal is asked by the
    // one that claims it; the other leaves it, answered at once rather than held on the first (ADR 0382).
    const claimed = await Promise.all(
      found.map(({ sessionIndex }) => state.claimSessionLogout(sessionIndex, logoutId)),
    );
    const ours = found.filter((_, i) => claimed[i]);
    const leftToAnother = ours.length < found.length;
    // More live sessions than the person's slots (ADR 0145) leave some this logout cannot find: the
    // portal is asked for every session of the person, naming no SessionIndex (ADR 0218). First, so
    // that when the portal cannot be reached nothing has ended and the IdP's retry finds all of it.
    // Not while another logout holds one of hers: it is ending her sessions, and this one's answer
    // says it is not done.
    const sealed = ours.find(({ session }) => session.portalSubject)?.session.portalSubject;
    const slotsFull = foundPerKey.some((under) => under.length >= BACKCHANNEL_SLOTS_PER_PERSON);
    const personOnly = targets.every((ends) => !('session' in ends));
    const everyOne =
      personOnly && slotsFull && sealed && !leftToAnother
        ? [(await deps.portalLogout(deps.portalSubjects.open(sealed))).success]
        : [];
    const answers = await Promise.all(
      ours.map(async ({ sessionIndex, session }) => {
        if (!session.portalSubject) return undefined;
        const subject = deps.portalSubjects.open(session.portalSubject);
        const { success } = await deps.portalLogout({ ...subject, sessionIndex });
        await state.endSession(sessionIndex, (s) => s.idp === idp);
        return success;
      }),
    );
    if (leftToAnother) return 'already_ending';
    const ended = [...everyOne, ...answers].filter((success) => success !== undefined);
    if (ended.length === 0) return 'no_session';
    return ended.every((success) => success) ? 'ended' : 'partial';
  };
}

/**
 * Counts and logs an IdP logout that failed (`refused` for a request at fault, `error` for a fault
 * of ours or the portal's); `detail` names the check a refused request failed. Whether it was refused.
 */
export function recordIdpLogoutFailure(
  deps: { telemetry: BrokerTelemetry; logger: Logger },
  channel: IdpLogoutChannel,
  idp: string,
  err: unknown,
  detail: string | undefined,
): boolean {
  const refused = err instanceof JsmSsoError && err.status < 500;
  const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
  if (reason === 'BROKER_INTERNAL')
    deps.logger.error({ event: 'broker.internal_error', ...unexpectedErrorFields(err) }, 'internal error');
  deps.telemetry.idpLogout(channel, {
    idp,
    result: refused ? 'refused' : 'error',
    reason,
    ...(detail === undefined ? {} : { detail }),
  });
  return refused;
}
