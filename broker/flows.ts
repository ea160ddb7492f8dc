import { createHash, randomBytes } from 'node:crypto';
import { JsmSsoError } from '../common/errors.js';
import { type FlowStore, jsonValue } from '../common/flowstore/index.js';
import type { PendingAuthorization } from './backends/oidc-backend.js';
import type { UpstreamSamlSession } from './subject.js';

/**
 * Everything the broker remembers, all in the flow store with a TTL: a login flow (from the
 * AuthnRequest to the Response), the index from an OAuth `state` to its flow, one-time-use
 * markers, and the minimum a later logout needs. Nothing else about a person is written anywhere.
 */

export interface LoginFlow {
  /** ID of the portal's AuthnRequest (InResponseTo). */
  requestId: string;
  relayState?: string;
  forceAuthn: boolean;
  isPassive?: boolean;
  /** Token of the IdP choice form. */
  csrf: string;
  startedAt: number;
  idp?: string;
  /** Backend state once an IdP is chosen: the OAuth authorization, or the upstream AuthnRequest ID. */
  pending?: PendingAuthorization | { upstreamRequestId: string };
}

/**
 * What SLO needs after the login: the IdP, for OIDC the ID token for `id_token_hint`, for SAML the
 * upstream NameID and SessionIndex a LogoutRequest to the IdP must name.
 */
export interface LoginSession {
  idp: string;
  idToken?: string;
  saml?: UpstreamSamlSession;
}

/** A portal LogoutRequest waiting for the IdP's logout to come back. */
export interface PendingLogout {
  /** ID of the portal's LogoutRequest (InResponseTo of the broker's answer). */
  requestId: string;
  relayState?: string;
  /** For an upstream SAML IdP: which one, and the ID of the LogoutRequest sent to it. */
  upstream?: { idp: string; requestId: string };
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export class BrokerState {
  constructor(
    private readonly store: FlowStore,
    private readonly flowTtlSeconds: number,
    private readonly sessionTtlSeconds: number,
  ) {}

  async startFlow(flow: LoginFlow): Promise<string> {
    const flowId = newToken();
    await this.store.put(`flow:${flowId}`, JSON.stringify(flow), this.flowTtlSeconds);
    return flowId;
  }

  async getFlow(flowId: string): Promise<LoginFlow | undefined> {
    return jsonValue<LoginFlow>(await this.store.get(`flow:${flowId}`));
  }

  async updateFlow(flowId: string, flow: LoginFlow): Promise<void> {
    await this.store.put(`flow:${flowId}`, JSON.stringify(flow), this.flowTtlSeconds);
  }

  async takeFlow(flowId: string): Promise<LoginFlow | undefined> {
    return jsonValue<LoginFlow>(await this.store.take(`flow:${flowId}`));
  }

  async indexState(state: string, flowId: string): Promise<void> {
    await this.store.put(`state:${state}`, flowId, this.flowTtlSeconds);
  }

  /** The flow an OAuth `state` belongs to, consumed: a second callback with it finds nothing. */
  async takeStateFlowId(state: string): Promise<string | undefined> {
    return this.store.take(`state:${state}`);
  }

  /**
   * Marks a one-time value (state, nonce, request or assertion ID) as used until it would expire
   * anyway; throws `code` when it was used before. Shared by all replicas through the store.
   */
  async useOnce(kind: string, value: string, code: string, ttlSeconds = this.flowTtlSeconds): Promise<void> {
    if (!(await this.store.putIfAbsent(`used:${kind}:${value}`, '1', ttlSeconds))) {
      throw new JsmSsoError(code, 'this sign-in step was already used; start again from the help center');
    }
  }

  async wasUsed(kind: string, value: string): Promise<boolean> {
    return (await this.store.get(`used:${kind}:${value}`)) !== undefined;
  }

  /**
   * A SAML session is also found from the upstream IdP's own LogoutRequest, which names the
   * person by NameID: `upstream-session:<hash>` -> the broker's SessionIndex (the hash keeps the
   * NameID, often an e-mail, out of store keys). The latest login of a NameID wins the index.
   */
  async saveSession(sessionIndex: string, session: LoginSession): Promise<void> {
    await this.store.put(`session:${sessionIndex}`, JSON.stringify(session), this.sessionTtlSeconds);
    if (session.saml) {
      const key = upstreamSessionKey(session.idp, session.saml.nameId);
      await this.store.put(key, sessionIndex, this.sessionTtlSeconds);
    }
  }

  /**
   * Ends the broker session an upstream SAML IdP's LogoutRequest names: same IdP, same NameID,
   * and one of its SessionIndexes when it gives any (core 3.7.3.2). True when one was ended.
   */
  async endUpstreamSession(idp: string, nameId: string, upstreamSessionIndexes: string[]): Promise<boolean> {
    const key = upstreamSessionKey(idp, nameId);
    const sessionIndex = await this.store.get(key);
    if (sessionIndex === undefined) return false;
    const session = jsonValue<LoginSession>(await this.store.get(`session:${sessionIndex}`));
    const saml = session?.idp === idp ? session.saml : undefined;
    const named =
      upstreamSessionIndexes.length === 0 ||
      (saml?.sessionIndex !== undefined && upstreamSessionIndexes.includes(saml.sessionIndex));
    if (saml?.nameId !== nameId || !named) return false;
    await this.store.delete(key);
    return (await this.store.take(`session:${sessionIndex}`)) !== undefined;
  }

  async takeSession(sessionIndex: string): Promise<LoginSession | undefined> {
    return jsonValue<LoginSession>(await this.store.take(`session:${sessionIndex}`));
  }

  async savePendingLogout(state: string, logout: PendingLogout): Promise<void> {
    await this.store.put(`logout:${state}`, JSON.stringify(logout), this.flowTtlSeconds);
  }

  /** Read without consuming it: a forged answer must not cancel the real one's logout. */
  async getPendingLogout(state: string): Promise<PendingLogout | undefined> {
    return jsonValue<PendingLogout>(await this.store.get(`logout:${state}`));
  }

  async takePendingLogout(state: string): Promise<PendingLogout | undefined> {
    return jsonValue<PendingLogout>(await this.store.take(`logout:${state}`));
  }
}

function upstreamSessionKey(idp: string, nameId: string): string {
  return `upstream-session:${createHash('sha256').update(`${idp}\0${nameId}`).digest('base64url')}`;
}
