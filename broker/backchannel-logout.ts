import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { JsmSsoError } from '../common/errors.js';
import type { FlowStore } from '../common/flowstore/index.js';
import { type Logger, unexpectedErrorFields } from '../common/log.js';
import type { Sealer } from '../common/sealer.js';
import type { BackchannelLogout, BackchannelLogoutEvent } from './backends/backend.js';
import {
  LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
  LOGOUT_TOKEN_MAX_AGE_SECONDS,
  LogoutTokenRefusal,
} from './backends/oidc-logout-token.js';
import type { BrokerState } from './flows.js';
import { single } from './http.js';
import type { PortalLogout, PortalSessionSubject } from './portal-logout.js';
import type { BackchannelLogoutResult, BrokerTelemetry } from './telemetry.js';

/**
 * The frontend's half of OpenID Connect Back-Channel Logout 1.0 (ADR 0150): the IdP posts a logout
 * token to its own path; the backend judges it; its `jti` is accepted once per IdP; the broker
 * session it names ends, and with it the portal session made from it (a SOAP LogoutRequest,
 * portal-logout.ts). The answer is section 2.8's: 200, or 400 with a JSON error, never cached.
 */

/** How long a `jti` is remembered: past this the token's `iat` refuses it anyway. */
const TOKEN_ID_TTL_SECONDS = LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS;

/** The NameID the portal was given, sealed in the broker session (it is often an e-mail). */
export interface PortalSubjectSealer {
  seal(subject: Omit<PortalSessionSubject, 'sessionIndex'>): string;
  open(sealed: string): Omit<PortalSessionSubject, 'sessionIndex'>;
}

export function portalSubjectSealer(sealer: Sealer): PortalSubjectSealer {
  return {
    seal: (subject) => sealer.seal(JSON.stringify(subject)),
    open: (sealed) => JSON.parse(sealer.open(sealed)),
  };
}

export interface BackchannelLogoutDependencies {
  store: FlowStore;
  state: BrokerState;
  portalLogout: PortalLogout;
  portalSubjects: PortalSubjectSealer;
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
  const { store, state, telemetry } = deps;

  /**
   * Ends the portal sessions the token names, each then its broker session: when the portal cannot
   * be reached, what is left stays, so that the IdP's next try (the same token, its jti released)
   * still finds it.
   */
  async function endSessions(
    idp: string,
    ends: BackchannelLogoutEvent['ends'],
  ): Promise<BackchannelLogoutResult> {
    const found = await state.backchannelSessions(idp, ends);
    const answers = await Promise.all(
      found.map(async ({ sessionIndex, session }) => {
        if (!session.portalSubject) return undefined;
        const subject = deps.portalSubjects.open(session.portalSubject);
        const { success } = await deps.portalLogout({ ...subject, sessionIndex });
        await state.endSession(sessionIndex, (s) => s.idp === idp);
        return success;
      }),
    );
    const ended = answers.filter((success) => success !== undefined);
    if (ended.length === 0) return 'no_session';
    return ended.every((success) => success) ? 'ended' : 'partial';
  }

  return async (res, idp, endpoint, form) => {
    try {
      const token = single(form, 'logout_token');
      if (!token) throw new LogoutTokenRefusal('missing', 'the request carries no logout_token');
      const event = await endpoint.verify(token);
      const marker = `backchannel-logout-token:${idp}:${createHash('sha256').update(event.tokenId).digest('base64url')}`;
      if (!(await store.putIfAbsent(marker, '1', TOKEN_ID_TTL_SECONDS)))
        throw new LogoutTokenRefusal('replayed', 'this logout token was received before');
      let result: BackchannelLogoutResult;
      try {
        result = await endSessions(idp, event.ends);
      } catch (err) {
        // The logout did not happen: the IdP may send the same token again (section 2.8).
        await store.delete(marker).catch(() => undefined);
        throw err;
      }
      telemetry.backchannelLogout({ idp, result });
      answer(res, 200);
    } catch (err) {
      failed(res, idp, err);
    }
  };

  function failed(res: ServerResponse, idp: string, err: unknown): void {
    const refused = err instanceof JsmSsoError && err.status < 500;
    const reason = err instanceof JsmSsoError ? err.code : 'BROKER_INTERNAL';
    if (reason === 'BROKER_INTERNAL')
      deps.logger.error({ event: 'broker.internal_error', ...unexpectedErrorFields(err) }, 'internal error');
    telemetry.backchannelLogout({
      idp,
      result: refused ? 'refused' : 'error',
      reason,
      ...(err instanceof LogoutTokenRefusal ? { detail: err.check } : {}),
    });
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
