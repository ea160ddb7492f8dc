import { JsmSsoError } from '../../common/errors.js';

/**
 * The query of OpenID Connect Front-Channel Logout 1.0 (section 2), judged for one IdP: the `iss` and
 * `sid` its logout page appends when the client registered `frontchannel_logout_session_required`.
 * Neither is signed: what keeps a stranger from ending a session is that a `sid` is unguessable and
 * known only to the IdP and the person's browser. A request without a sid is refused rather than
 * taken to mean "the session of this browser": the broker keeps no session cookie, and one sent in a
 * third-party frame would be blocked by most browsers anyway (ADR 0159).
 */

/** The names of the checks, in the order they run; the log's `detail` of a refusal. */
export type FrontchannelLogoutCheck = 'session' | 'issuer';

export class FrontchannelLogoutRefusal extends JsmSsoError {
  constructor(
    readonly check: FrontchannelLogoutCheck,
    message: string,
  ) {
    super('OIDC_FRONTCHANNEL_LOGOUT_INVALID', message, { status: 400 });
    this.name = 'FrontchannelLogoutRefusal';
  }
}

/**
 * The IdP session the query names (its `sid`); `iss`, when present, must be exactly this IdP's
 * issuer. Section 2 has the IdP send both ("if either is included, both MUST be") because a sid is
 * unique only within its issuer. Here the address already names the IdP and its sids are looked up
 * under it alone, so a sid without `iss` is as unambiguous: it is taken, because Microsoft Entra ID
 * sends exactly that (ADR 0159). An `iss` without a sid names no session and is refused.
 */
export function frontchannelSid(
  query: { iss: string | undefined; sid: string | undefined },
  issuer: string,
): string {
  const { iss, sid } = query;
  if (!sid) throw new FrontchannelLogoutRefusal('session', 'the logout request does not name a sid');
  if (iss !== undefined && iss !== issuer)
    throw new FrontchannelLogoutRefusal('issuer', "the logout request's iss is not this identity provider");
  return sid;
}
