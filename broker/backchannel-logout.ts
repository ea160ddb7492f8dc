import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { JsmSsoError } from '../common/errors.js';
import type { FlowStore } from '../common/flowstore/index.js';
import type { Logger } from '../common/log.js';
import type { BackchannelLogout } from './backends/backend.js';
import {
  LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
  LOGOUT_TOKEN_MAX_AGE_SECONDS,
  LogoutTokenRefusal,
} from './backends/oidc-logout-token.js';
import { single } from './http.js';
import { type IdpLogoutOutcome, type IdpSessionsEnd, recordIdpLogoutFailure } from './idp-logout.js';
import type { BrokerTelemetry } from './telemetry.js';

/**
 * The frontend's half of OpenID Connect Back-Channel Logout 1.0 (ADR 0150): the IdP posts a logout
 * token to its own path; the backend judges it; its `jti` is accepted once per IdP; the broker
 * sessions it names end, and with them the portal sessions made from them (idp-logout.ts). The
 * answer is section 2.8's: 200, or 400 with a JSON error, never cached.
 */

/** How long a `jti` is remembered: past this the token's `iat` refuses it anyway. */
const TOKEN_ID_TTL_SECONDS = LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS;

export interface BackchannelLogoutDependencies {
  store: FlowStore;
  endSessions: IdpSessionsEnd;
  telemetry: BrokerTelemetry;
  logger: Logger;
}

export type BackchannelLogoutHandler = (
  res: ServerResponse,
  idp: string,
  endpoint: BackchannelLogout,
  form: URLSearchParams,
) => Promise<void>;

export function backchannelLogoutHandler(deps: BackchannelLogoutDependencies): BackchannelLogoutHandler {
  const { store, telemetry } = deps;

  return async (res, idp, endpoint, form) => {
    try {
      const token = single(form, 'logout_token');
      if (!token) throw new LogoutTokenRefusal('missing', 'the request carries no logout_token');
      const event = await endpoint.verify(token);
      const tokenKey = createHash('sha256').update(event.tokenId).digest('base64url');
      const marker = `backchannel-logout-token:${idp}:${tokenKey}`;
      if ((await store.get(marker)) !== undefined)
        throw new LogoutTokenRefusal('replayed', 'this logout token was received before');
      // When the portal or the store cannot be reached this throws, and what is left stays for the
      // IdP's next try with the same token (section 2.8), whose claims of the sessions are its own.
      const result: IdpLogoutOutcome = await deps.endSessions(idp, event.ends, 'backchannel', tokenKey);
      if (result === 'already_ending') {
        leftToAnother(res, idp);
        return;
      }
      // The token is marked used once its logout is done, never before: a marker written first and
      // released on failure is lost when the store stalls, as a write that timed out still lands
      // once Redis resumes, and the IdP's retry of a logout that never happened was then refused as
      // a replay. The same token twice at once both end the same sessions; ending is idempotent.
      await store.put(marker, '1', TOKEN_ID_TTL_SECONDS);
      telemetry.idpLogout('backchannel', { idp, result });
      answer(res, 200);
    } catch (err) {
      failed(res, idp, err);
    }
  };

  /**
   * Another token is ending a session this one names (ADR 0382). Section 2.8 has 200, "the logout
   * succeeded", which this token cannot know: the other's exchange with the portal may yet fail, and
   * an IdP that sent this one as a retry would then never send again. So 400, as a logout not done,
   * the token left unspent: its retry, once the other is done, finds the session ended and is 200.
   */
  function leftToAnother(res: ServerResponse, idp: string): void {
    telemetry.idpLogout('backchannel', { idp, result: 'already_ending' });
    answer(res, 400, {
      error: 'temporarily_unavailable',
      error_description: 'another logout of this session is under way; try again',
    });
  }

  function failed(res: ServerResponse, idp: string, err: unknown): void {
    const refused = recordIdpLogoutFailure(
      deps,
      'backchannel',
      idp,
      err,
      err instanceof LogoutTokenRefusal ? err.check : undefined,
    );
    // Section 2.8: an invalid token and a logout that failed are both 400; the error says which.
    answer(res, 400, {
      error: refused ? 'invalid_request' : 'temporarily_unavailable',
      error_description: refused
        ? (err as JsmSsoError).message
        : 'the logout could not be completed; try again',
    });
  }
}

/** Section 2.8: the answer is never cached; a failure says why in JSON (RFC 6749 5.2's fields). */
export function answer(
  res: ServerResponse,
  status: number,
  body?: { error: string; error_description: string },
) {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('cache-control', 'no-store');
  if (!body) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}
