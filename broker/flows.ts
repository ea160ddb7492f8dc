import { randomBytes } from 'node:crypto';
import { JsmSsoError } from '../common/errors.js';
import { type FlowStore, jsonValue } from '../common/flowstore/index.js';
import type { PendingAuthorization } from './backends/oidc-backend.js';

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

/** What SLO needs after the login: the IdP, and for OIDC the ID token for `id_token_hint`. */
export interface LoginSession {
  idp: string;
  idToken?: string;
}

export interface PendingLogout {
  requestId: string;
  relayState?: string;
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

  async saveSession(sessionIndex: string, session: LoginSession): Promise<void> {
    await this.store.put(`session:${sessionIndex}`, JSON.stringify(session), this.sessionTtlSeconds);
  }

  async takeSession(sessionIndex: string): Promise<LoginSession | undefined> {
    return jsonValue<LoginSession>(await this.store.take(`session:${sessionIndex}`));
  }

  async savePendingLogout(state: string, logout: PendingLogout): Promise<void> {
    await this.store.put(`logout:${state}`, JSON.stringify(logout), this.flowTtlSeconds);
  }

  async takePendingLogout(state: string): Promise<PendingLogout | undefined> {
    return jsonValue<PendingLogout>(await this.store.take(`logout:${state}`));
  }
}
