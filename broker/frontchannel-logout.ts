import type { IncomingMessage, ServerResponse } from 'node:http';
import { allowFramingBy } from '../common/http/security-headers.js';
import type { Logger } from '../common/log.js';
import type { FrontchannelLogout } from './backends/backend.js';
import { FrontchannelLogoutRefusal } from './backends/oidc-frontchannel-logout.js';
import { single } from './http.js';
import { type IdpSessionsEnd, recordIdpLogoutFailure } from './idp-logout.js';
import type { BrokerTelemetry } from './telemetry.js';

/**
 * The frontend's half of OpenID Connect Front-Channel Logout 1.0 (ADR 0159): the IdP's logout page
 * frames `{broker.url}/oidc/frontchannel-logout/<idp>?iss=…&sid=…` in the person's browser; the
 * backend judges the query; the broker session the IdP session's `sid` names ends, and with it the
 * portal session made from it (idp-logout.ts, the same path as back-channel logout). The answer is
 * a page only that IdP's origins may frame, never cached. Nothing retries a frame: when the portal
 * cannot be reached both sessions stay, as a back-channel logout leaves them for the IdP's retry.
 */

/** The claim ID of every front-channel logout (`IdpSessionsEnd`'s `logoutId`). */
const FRAME_LOGOUT_ID = 'frontchannel';

export type FrontchannelLogoutHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  idp: string,
  endpoint: FrontchannelLogout,
  rawQuery: string,
) => Promise<void>;

export function frontchannelLogoutHandler(deps: {
  endSessions: IdpSessionsEnd;
  telemetry: BrokerTelemetry;
  logger: Logger;
  /** The page saying the person is signed out. */
  sendSignedOut: (req: IncomingMessage, res: ServerResponse) => void;
  /** The broker's page for a refusal or a fault (counted here, not again). */
  sendFailure: (req: IncomingMessage, res: ServerResponse, err: unknown) => void;
}): FrontchannelLogoutHandler {
  return async (req, res, idp, endpoint, rawQuery) => {
    const framedBy = endpoint.frameAncestors();
    try {
      const query = new URLSearchParams(rawQuery);
      const ends = endpoint.verify({ iss: single(query, 'iss'), sid: single(query, 'sid') });
      // A frame carries no ID of its own: every frame naming the session is the same logout sent again
      // (a reload after the portal could not be reached goes on). One that finds another logout, a
      // back-channel token, ending the session leaves it to that one (ADR 0382).
      const result = await deps.endSessions(idp, ends, 'frontchannel', FRAME_LOGOUT_ID);
      deps.telemetry.idpLogout('frontchannel', { idp, result });
      allowFramingBy(res, await framedBy);
      deps.sendSignedOut(req, res);
    } catch (err) {
      const detail = err instanceof FrontchannelLogoutRefusal ? err.check : undefined;
      recordIdpLogoutFailure(deps, 'frontchannel', idp, err, detail);
      allowFramingBy(res, await framedBy);
      deps.sendFailure(req, res, err);
    }
  };
}
