import { randomBytes } from 'node:crypto';
import { type FlowStore, jsonValue } from '../common/flowstore/index.js';
import type { SessionDirectory } from './backends/backend.js';

/**
 * Everything the broker frontend remembers, all in the flow store with a TTL: a login flow (from
 * the AuthnRequest to the Response), the minimum a later logout needs, and a pending logout.
 * Backends keep their own one-time indexes and markers (broker/backends). Nothing about a person
 * is written anywhere: a session holds the IdP's name and the backend's opaque logout handle.
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
  /** The chosen backend's own state across the redirect (opaque here). */
  backendState?: string;
}

/** What SLO needs after the login: the IdP, and its backend's opaque logout handle. */
export interface LoginSession {
  idp: string;
  logoutHandle?: string;
}

/** A portal LogoutRequest waiting for the IdP's logout to come back. */
export interface PendingLogout {
  /** ID of the portal's LogoutRequest (InResponseTo of the broker's answer). */
  requestId: string;
  relayState?: string;
  /** The IdP whose logout answer is awaited, and its backend's state for checking it. */
  idp: string;
  backendState: string;
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

  /**
   * `upstreamSessionKey` (a hash the backend made) finds the session again from the IdP's own
   * logout request; the latest login under one key wins the index.
   */
  async saveSession(sessionIndex: string, session: LoginSession, upstreamSessionKey?: string): Promise<void> {
    await this.store.put(`session:${sessionIndex}`, JSON.stringify(session), this.sessionTtlSeconds);
    if (upstreamSessionKey !== undefined) {
      await this.store.put(
        upstreamKey(session.idp, upstreamSessionKey),
        sessionIndex,
        this.sessionTtlSeconds,
      );
    }
  }

  readonly sessions: SessionDirectory = {
    endUpstreamSession: async (idp, upstreamSessionKey, matches) => {
      const key = upstreamKey(idp, upstreamSessionKey);
      const sessionIndex = await this.store.get(key);
      if (sessionIndex === undefined) return false;
      const session = jsonValue<LoginSession>(await this.store.get(`session:${sessionIndex}`));
      if (session?.idp !== idp || !matches(session.logoutHandle)) return false;
      await this.store.delete(key);
      return (await this.store.take(`session:${sessionIndex}`)) !== undefined;
    },
  };

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

function upstreamKey(idp: string, upstreamSessionKey: string): string {
  return `upstream-session:${idp}:${upstreamSessionKey}`;
}
