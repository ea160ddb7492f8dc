import { createHash, randomBytes } from 'node:crypto';
import { type FlowStore, jsonValue, type WriteOptions } from '../common/flowstore/index.js';
import type { SupportedLocale } from '../common/i18n/index.js';
import type { IdpList } from '../common/saml/index.js';
import type { BackchannelKeys, FlowKey, IdpLogoutTarget, IdpSessionKeys } from './backends/backend.js';
import type { RequestedAuthnContext } from './saml/inbound.js';

/**
 * Everything the broker frontend remembers, all in the flow store with a TTL: a login flow (from
 * the AuthnRequest to the Response), the minimum a later logout needs, and a pending logout.
 * Backends keep their own one-time indexes and markers (broker/backends). A flow's backend state
 * (an OIDC flow's PKCE verifier and nonce) is sealed, and a flow is kept under a hash of its ID, never
 * the ID, which the browser holds as its proof (`FlowKey`). Nothing about a person is written in the
 * clear: a session holds the IdP's name, the backend's opaque logout handle, keyed hashes, and (for the IdP's logout to reach the portal, ADR 0150 and 0158) the portal's NameID sealed.
 */

export interface LoginFlow {
  /** ID of the portal's AuthnRequest (InResponseTo). */
  requestId: string;
  relayState?: string;
  forceAuthn: boolean;
  isPassive?: boolean;
  startedAt: number;
  /** The language the portal's pages were in (its AuthnRequest's hint), for the broker's pages. */
  locale?: SupportedLocale;
  /** The NameID format the AuthnRequest's NameIDPolicy asks for; undefined when any will do. */
  nameIdFormat?: string;
  /** The authentication context the AuthnRequest asks for; undefined when any will do. */
  authnContext?: RequestedAuthnContext;
  /** The AuthnRequest's Scoping ProxyCount (at least 1 here); undefined when it sets no limit. */
  proxyCount?: number;
  /**
   * The AuthnRequest's Scoping IDPList: the IdPs of the tenant it names are the only ones offered, read
   * again at the choice (ADR 0411, 0420), and it goes on in an upstream SAML IdP's request; undefined
   * when none.
   */
  idpList?: IdpList;
  /** The AuthnRequest's Scoping RequesterIDs, for an upstream SAML IdP's request; undefined when none. */
  requesterIds?: string[];
  idp?: string;
  /** The chosen backend's own state across the redirect (opaque here), sealed: it holds secrets. */
  backendState?: string;
}

/** What SLO needs after the login: the IdP, and its backend's opaque logout handle. */
export interface LoginSession {
  idp: string;
  logoutHandle?: string;
  /**
   * A keyed hash of the NameID the portal was given: its LogoutRequest must name the same person
   * to end this session (core 3.7.3.2). Absent on sessions saved before it was kept (ADR 0145).
   */
  nameIdHash?: string;
  /**
   * The Format the portal's NameID was asserted with (no qualifier is written): with the value, the
   * identifier its LogoutRequest must name (core 2.2.2, ADR 0373). Absent on sessions saved before.
   */
  nameIdFormat?: string;
  /** The backend's key by which the IdP's own LogoutRequest finds the session (already a keyed hash). */
  upstreamSessionKey?: string;
  /** The backend's keys by which the IdP's back-channel logout finds the session (keyed hashes). */
  backchannelKeys?: BackchannelKeys;
  /**
   * The NameID (and its format) the portal was given, sealed: what a LogoutRequest to the portal
   * must name to end the portal's session when the IdP's logout ends this one (its back-channel
   * logout, ADR 0150, or an upstream SAML IdP's LogoutRequest, ADR 0158).
   */
  portalSubject?: string;
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

/**
 * How many of one person's sessions a back-channel logout that names only the person finds: each
 * sign-in takes the first free slot of that person's, atomically and in one round trip
 * (putInFirstFree; no read-modify-write of a list, which would race between replicas, ADR 0145).
 * Past this many live sessions a sign-in takes the slot its SessionIndex hashes to; the session
 * that held it then ends at sign-out or its TTL only.
 */
export const BACKCHANNEL_SLOTS_PER_PERSON = 8;

/**
 * How many records of front-channel logouts one IdP has at most (ADR 0248). Anyone may send one, with
 * any sid: a record each would let one client fill the store at the rate the broker answers. With
 * this many, two real logouts of one IdP share a record only when they come within the moment a
 * sign-in takes, about one chance in 256 each.
 */
export const FRONTCHANNEL_ENDED_SLOTS = 256;

/**
 * How long a claim of a session's logout keeps another LogoutRequest out (claimSessionLogout): well past
 * the exchange it covers, the portal's answer within the IdP deadline (10 s), then the session's end.
 * A claim whose request failed before the end holds other requests off this long at most.
 */
const SESSION_LOGOUT_CLAIM_SECONDS = 60;

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * How a session and its indexes are written: a memory store full of them drops the oldest rather
 * than refuse new sign-ins (ADR 0357). What that session loses is its IdP's logout reaching the
 * portal's session, which still ends by its own timeouts; a replay marker, a flow or an ended IdP
 * session's record is never written so.
 */
const SESSION_WRITE: WriteOptions = { evictable: true };

/** One kind of record in the flow store: JSON under `kind:id`, kept for a fixed TTL. */
class Records<T> {
  constructor(
    private readonly store: FlowStore,
    private readonly kind: string,
    private readonly ttlSeconds: number,
    private readonly writeOptions: WriteOptions = {},
  ) {}

  key(id: string): string {
    return `${this.kind}:${id}`;
  }

  async put(id: string, value: T): Promise<void> {
    await this.store.put(this.key(id), JSON.stringify(value), this.ttlSeconds, this.writeOptions);
  }

  async get(id: string): Promise<T | undefined> {
    return jsonValue<T>(await this.store.get(this.key(id)));
  }

  async take(id: string): Promise<T | undefined> {
    return jsonValue<T>(await this.store.take(this.key(id)));
  }
}

export class BrokerState {
  readonly #flows: Records<LoginFlow>;
  readonly #sessions: Records<LoginSession>;
  readonly #logouts: Records<PendingLogout>;

  constructor(
    private readonly store: FlowStore,
    flowTtlSeconds: number,
    private readonly sessionTtlSeconds: number,
  ) {
    this.#flows = new Records(store, 'flow', flowTtlSeconds);
    this.#sessions = new Records(store, 'session', sessionTtlSeconds, SESSION_WRITE);
    this.#logouts = new Records(store, 'logout', flowTtlSeconds);
  }

  /** Writes the flow under `flowKey` (of a newToken()), replacing what was there. */
  saveFlow = (flowKey: FlowKey, flow: LoginFlow) => this.#flows.put(flowKey, flow);
  getFlow = (flowKey: FlowKey) => this.#flows.get(flowKey);
  takeFlow = (flowKey: FlowKey) => this.#flows.take(flowKey);

  /**
   * The session's `upstreamSessionKey` (a hash the backend made) finds it again from the IdP's own
   * logout request; the latest login under one key wins the index.
   */
  async saveSession(sessionIndex: string, session: LoginSession): Promise<void> {
    await Promise.all([
      this.#sessions.put(sessionIndex, session),
      ...indexKeysOf(session).map((key) =>
        this.store.put(key, sessionIndex, this.sessionTtlSeconds, SESSION_WRITE),
      ),
      ...slotGroupsOf(session).map((slots) => this.#claimSlot(slots, sessionIndex)),
    ]);
  }

  /**
   * Records that the IdP ended its session `sessionKey` (the backend's keyed hash of its OIDC `sid` or
   * SAML SessionIndex), for `person` when the logout named one: written before the logout looks for
   * the sessions it ends, so that a sign-in with that IdP session saving its own meanwhile finds this
   * when it reads after its save (`endIfIdpSessionEnded`); of the two, at least one sees the other
   * (ADR 0170, 0171). Kept as long as a session of the broker lives, the longest any sign-in made with
   * that IdP session could.
   */
  async markIdpSessionEnded(idp: string, sessionKey: string, person: string | undefined): Promise<void> {
    await this.store.put(endedIdpSessionKey(idp, sessionKey), person ?? ANY_PERSON, this.sessionTtlSeconds);
  }

  /**
   * markIdpSessionEnded for a logout nobody signed (front-channel, ADR 0159), which names no person:
   * the record is one of the IdP's FRONTCHANNEL_ENDED_SLOTS, the one `sessionKey` hashes to, and holds
   * the key. A made-up sid replaces a record rather than adding one, so what strangers send cannot fill
   * the store; while they flood, a real logout's record may be replaced before a sign-in racing it
   * reads it, and only that race goes unseen (ADR 0248).
   */
  async markIdpSessionEndedUnsigned(idp: string, sessionKey: string): Promise<void> {
    await this.store.put(unsignedEndedIdpSessionKey(idp, sessionKey), sessionKey, this.sessionTtlSeconds);
  }

  /**
   * Ends the session `sessionIndex` just saved if the IdP ended the IdP session it was made in,
   * `idpSession` (markIdpSessionEnded, for this person or any); whether it did. Read after the save,
   * never before: a logout looking for the session between the two would find neither (ADR 0170).
   */
  async endIfIdpSessionEnded(
    sessionIndex: string,
    idp: string,
    idpSession: IdpSessionKeys | undefined,
  ): Promise<boolean> {
    if (idpSession === undefined) return false;
    // Both in one round trip: each is a key of its own (on Redis Cluster, maybe another node).
    const [endedFor, endedUnsigned] = await Promise.all([
      this.store.get(endedIdpSessionKey(idp, idpSession.session)),
      this.store.get(unsignedEndedIdpSessionKey(idp, idpSession.session)),
    ]);
    const ended =
      endedUnsigned === idpSession.session ||
      (endedFor !== undefined && (endedFor === ANY_PERSON || endedFor === idpSession.person));
    if (!ended) return false;
    await this.endSession(sessionIndex, (s) => s.idp === idp);
    return true;
  }

  /** One round trip whatever the person's count of live sessions (ADR 0157). */
  async #claimSlot(slots: string[], sessionIndex: string): Promise<void> {
    const whenAllTaken =
      createHash('sha256').update(sessionIndex).digest().readUInt32BE(0) % BACKCHANNEL_SLOTS_PER_PERSON;
    await this.store.putInFirstFree(slots, sessionIndex, this.sessionTtlSeconds, whenAllTaken, SESSION_WRITE);
  }

  /**
   * Ends the session `sessionIndex` if `owned` says it is the one the portal's LogoutRequest names,
   * with the IdP's index to it; the session ended, or undefined. A later login of the same person may
   * have taken the index between the read and the delete: that login's IdP-initiated logout then
   * finds nothing and its session ends at its TTL (it grants nothing by itself; ADR 0145).
   */
  async endSession(
    sessionIndex: string,
    owned: (session: LoginSession) => boolean,
  ): Promise<LoginSession | undefined> {
    const session = await this.#sessions.get(sessionIndex);
    if (!session || !owned(session)) return undefined;
    const ended = await this.#sessions.take(sessionIndex);
    if (ended) {
      // One call per hash group (each index key is its own; a person's slots share one).
      const groups = [...indexKeysOf(ended).map((key) => [key]), ...slotGroupsOf(ended)];
      await Promise.all(groups.map((keys) => this.store.deleteHolding(keys, sessionIndex)));
    }
    return ended;
  }

  /** The session `sessionIndex`, read, not ended. */
  session = (sessionIndex: string) => this.#sessions.get(sessionIndex);

  /**
   * Whether a session looked for and not found may have been dropped to make room in a full memory
   * store (ADR 0357) rather than ended or expired: its IdP session would then be left (ADR 0363).
   */
  mayHaveLostSessions(): boolean {
    return this.store.evictedEntriesLive?.() ?? false;
  }

  /**
   * The sessions of the person the portal's NameID names (`nameIdHash`), read, not ended: the
   * portal's LogoutRequest naming no SessionIndex asks for all of them (core 3.7.3.1, ADR 0234).
   * `complete` is false when every slot was taken: a session past them may be missed.
   */
  async sessionsNamed(
    nameIdHash: string,
  ): Promise<{ found: Array<{ sessionIndex: string; session: LoginSession }>; complete: boolean }> {
    const held = (await Promise.all(nameIdSlots(nameIdHash).map((key) => this.store.get(key)))).filter(
      (index) => index !== undefined,
    );
    const found = await Promise.all(
      [...new Set(held)].map(async (sessionIndex) => ({
        sessionIndex,
        session: await this.#sessions.get(sessionIndex),
      })),
    );
    return {
      found: found.flatMap(({ sessionIndex, session }) =>
        session?.nameIdHash === nameIdHash ? [{ sessionIndex, session }] : [],
      ),
      complete: held.length < BACKCHANNEL_SLOTS_PER_PERSON,
    };
  }

  /**
   * The sessions an IdP's own logout ends (`ends`: one IdP session, or a person's; back-channel, ADR
   * 0150, or front-channel, ADR 0159) with their indexes, read, not ended: each ends once the
   * portal's session has.
   */
  async backchannelSessions(
    idp: string,
    ends: IdpLogoutTarget,
  ): Promise<Array<{ sessionIndex: string; session: LoginSession }>> {
    const keys = 'session' in ends ? [backchannelKey(idp, ends.session)] : personSlots(idp, ends.person);
    const indexes = new Set(
      (await Promise.all(keys.map((key) => this.store.get(key)))).filter((i) => i !== undefined),
    );
    const found = await Promise.all(
      [...indexes].map(async (sessionIndex) => ({
        sessionIndex,
        session: await this.#sessions.get(sessionIndex),
      })),
    );
    // A session found by its IdP sid is ended only if it is also the person the IdP named with it.
    const person = 'session' in ends ? ends.person : undefined;
    return found.flatMap(({ sessionIndex, session }) =>
      session?.idp === idp && (person === undefined || session.backchannelKeys?.person === person)
        ? [{ sessionIndex, session }]
        : [],
    );
  }

  /**
   * The session the IdP's own LogoutRequest names by `upstreamSessionKey` (the latest login under
   * that key) when `matches` its logout handle, with its index; read, not ended: it ends once the
   * portal was asked (ADR 0164), by `endSession`.
   */
  async upstreamSession(
    idp: string,
    upstreamSessionKey: string,
    matches: (logoutHandle: string | undefined) => boolean,
  ): Promise<{ sessionIndex: string; session: LoginSession } | undefined> {
    const sessionIndex = await this.store.get(upstreamKey(idp, upstreamSessionKey));
    if (sessionIndex === undefined) return undefined;
    const session = await this.#sessions.get(sessionIndex);
    if (session?.idp !== idp || !matches(session.logoutHandle)) return undefined;
    return { sessionIndex, session };
  }

  /**
   * Claims the logout of the session `sessionIndex` for the IdP's LogoutRequest or logout token
   * `requestId`, atomically on every replica: whether it is this request's to end (claimed now, or by
   * this same request before, which its sender may send again, ADR 0164). Another request's claim
   * means the portal is being asked already: it is not asked twice (ADR 0373, 0382).
   */
  async claimSessionLogout(sessionIndex: string, requestId: string): Promise<boolean> {
    const key = `session-logout:${sessionIndex}`;
    if (await this.store.putIfAbsent(key, requestId, SESSION_LOGOUT_CLAIM_SECONDS)) return true;
    return (await this.store.get(key)) === requestId;
  }

  savePendingLogout = (state: string, logout: PendingLogout) => this.#logouts.put(state, logout);
  /** Read without consuming it: a forged answer must not cancel the real one's logout. */
  getPendingLogout = (state: string) => this.#logouts.get(state);
  takePendingLogout = (state: string) => this.#logouts.take(state);
}

function upstreamKey(idp: string, upstreamSessionKey: string): string {
  return `upstream-session:${idp}:${upstreamSessionKey}`;
}

function backchannelKey(idp: string, sessionKey: string): string {
  return `backchannel-session:${idp}:${sessionKey}`;
}

/**
 * Where an IdP session's end is recorded (markIdpSessionEnded), whichever logout ended it: an OIDC
 * `sid` and a SAML SessionIndex are keyed apart by their backends' hashes, and an IdP is of one kind.
 */
function endedIdpSessionKey(idp: string, sessionKey: string): string {
  return `idp-session-ended:${idp}:${sessionKey}`;
}

/** Where a front-channel logout records an IdP session's end: one of the IdP's slots (ADR 0248). */
function unsignedEndedIdpSessionKey(idp: string, sessionKey: string): string {
  const slot = createHash('sha256').update(sessionKey).digest().readUInt32BE(0) % FRONTCHANNEL_ENDED_SLOTS;
  return `idp-session-ended:${idp}:frontchannel:${slot}`;
}

/** An ended IdP session's record when the logout named no person: it ends any sign-in made with it. */
const ANY_PERSON = '*';

/**
 * The slots under which a back-channel logout naming only the person finds their sessions. The
 * braces are a Redis Cluster hash tag: one claim's script touches all of them, so they must live in
 * one hash slot (ADR 0157). Neither an IdP's name (a DNS label) nor a person's key (a keyed hash)
 * holds a brace, and the tenant's prefix before them is the same for all, so the tag is too.
 */
function personSlots(idp: string, person: string): string[] {
  return Array.from(
    { length: BACKCHANNEL_SLOTS_PER_PERSON },
    (_, i) => `backchannel-person:{${idp}:${person}}:${i}`,
  );
}

/**
 * The slots under which the portal's LogoutRequest naming no SessionIndex finds the person's
 * sessions: by the keyed hash of the NameID the portal was given (hex: no brace, so the hash tag
 * holds as in personSlots).
 */
function nameIdSlots(nameIdHash: string): string[] {
  return Array.from(
    { length: BACKCHANNEL_SLOTS_PER_PERSON },
    (_, i) => `nameid-session:{${nameIdHash}}:${i}`,
  );
}

/** The groups of slots a session holds one of: its person's at the IdP, its NameID's at the portal. */
function slotGroupsOf(session: LoginSession): string[][] {
  const person = session.backchannelKeys?.person;
  return [
    ...(person === undefined ? [] : [personSlots(session.idp, person)]),
    ...(session.nameIdHash === undefined ? [] : [nameIdSlots(session.nameIdHash)]),
  ];
}

/** The keys that find a session again from its IdP's logout (but the person's slots), each naming its index. */
function indexKeysOf(session: LoginSession): string[] {
  const idpSession = session.backchannelKeys?.session;
  return [
    ...(session.upstreamSessionKey === undefined
      ? []
      : [upstreamKey(session.idp, session.upstreamSessionKey)]),
    ...(idpSession === undefined ? [] : [backchannelKey(session.idp, idpSession)]),
  ];
}
