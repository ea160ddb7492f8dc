/**
 * Customer sessions and login flows in the shared flow store. A session ID is 256 random bits,
 * issued fresh at every sign-in (no fixation) and stored only as a SHA-256 hash, so a store dump
 * yields no usable cookie. Each session has an idle timeout (the entry's TTL, refreshed on use) and
 * an absolute one (checked against its creation time), brought forward to the SessionNotOnOrAfter
 * of the assertion it was made from (core 2.7.2, ADR 0244). The SAML NameID needed for single logout is
 * kept encrypted (AES-256-GCM) so the store never holds a customer's e-mail in the clear, and so is
 * the display name the pages greet them by (README: nothing personal kept beyond the accountId), and
 * so is a sign-in under way, whose page to come back to may carry what someone typed into a search
 * (an e-mail on the activity page, words of My requests). A session's CSRF token is kept nowhere: it
 * is a keyed hash of the session ID, made again for each page and each check, so a store dump holds
 * no token and nothing to make one from.
 * An admin can end all sessions of one account (`revokeAccount`). The broker can end the one
 * session it asserted by its SessionIndex (`endAsserted`, its back-channel LogoutRequest, ADR 0150):
 * a second key per session, `portal:session-index:<hash>`, finds it, removed at sign-out with it;
 * a SessionIndex it was asked to end is remembered, for a sign-in whose session came after (ADR 0170).
 * The issue ids of the requests a session raised lately are kept beside it, `portal:session-writes:
 * <hash>` (ids and times only, for as long as Jira's search may lag: ADR 0194).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TenantSpec } from '../common/config/tenant.generated.js';
import type { FlowStore, WriteOptions } from '../common/flowstore/index.js';
import type { KeyMaterial } from '../common/key-material.js';
import { isOneOf, keyedHash, keyedHashes } from '../common/keyed-hash.js';
import type { NameIdQualifiers } from '../common/saml/index.js';
import { createSealer, type Sealer } from '../common/sealer.js';
import { isIssueId, RECENT_WRITE_SECONDS, recentIssues, withNewest } from './recent-issues.js';
import type { Customer } from './visibility.js';

export interface SessionRecord {
  customer: Customer;
  isAdmin: boolean;
  createdAt: number;
  lastSeenAt: number;
  /** Encrypted NameID + format + SessionIndex, for the LogoutRequest. */
  subject: string;
  sessionIndex?: string;
  /**
   * The SessionNotOnOrAfter (ms) of the assertion the session was made from: the broker's end of the
   * session, which comes before the absolute timeout when the IdP's session ends sooner (ADR 0244).
   */
  sessionNotOnOrAfter?: number;
}

/** The NameID a session was asserted with, sealed in its record (`subject`). */
export interface AssertedNameId {
  nameId: string;
  nameIdFormat?: string | undefined;
  /**
   * Its NameQualifier, SPNameQualifier, SPProvidedID as asserted (ADR 0382); absent on sessions made
   * before they were kept, whose LogoutRequest is then judged by the Format only.
   */
  nameIdQualifiers?: NameIdQualifiers | undefined;
}

export interface Session extends SessionRecord {
  id: string;
  /** When the session ends (ms), whatever its use: its absolute timeout or its SessionNotOnOrAfter. */
  endsAt: number;
  /** The synchronizer token of this session's forms (OWASP's HMAC-based token), not stored. */
  csrf: string;
  /**
   * The tokens a form of this session is accepted with: `csrf`, and while a rotation of the portal's
   * key holds the previous key, the token made under it (a form shown before the swap, ADR 0298).
   */
  acceptedCsrf: readonly string[];
  /**
   * What the drafts a browser tab keeps for this account are named by (pages/drafts.ts): the same in
   * every session of the account, opaque (keyed), not stored.
   */
  draftOwner: string;
  /**
   * Issue ids of the requests this session raised in the last RECENT_WRITE_SECONDS, newest first:
   * the searches of its pages name them in Jira's `reconcileIssues` (ADR 0194).
   */
  recentIssueIds: readonly string[];
}

export interface LoginFlow {
  requestId: string;
  returnPath: string;
}

export interface SessionTimeouts {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** The tenant's session timeouts (spec.portal.session), their CRD defaults where unset. */
export function sessionTimeoutsOf(spec: TenantSpec): SessionTimeouts {
  return {
    idleSeconds: spec.portal.session?.idleTimeoutSeconds ?? 1800,
    absoluteSeconds: spec.portal.session?.absoluteTimeoutSeconds ?? 28800,
  };
}

const hash = (id: string) => createHash('sha256').update(id).digest('base64url');
const revokedKey = (accountId: string) => `portal:revoked:${hash(accountId)}`;
const sessionKey = (id: string) => `portal:session:${hash(id)}`;
const sessionIndexKey = (sessionIndex: string) => `portal:session-index:${hash(sessionIndex)}`;
const endedIndexKey = (sessionIndex: string) => `portal:session-index-ended:${hash(sessionIndex)}`;
const writesKey = (sessionHash: string) => `portal:session-writes:${sessionHash}`;
export const newToken = () => randomBytes(32).toString('base64url');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Writes to refresh the idle TTL at most this often, to spare the store on busy pages. */
const TOUCH_EVERY_MS = 30_000;

/**
 * A SessionIndex key is written evictable: on a memory store full of them (20,000 sign-ins within one
 * session lifetime), the oldest make room for a new customer's session rather than every sign-in
 * being refused. An evicted one loses only the broker's logout of that session, which still ends at
 * its own timeouts; a session's record is never evicted, so no one is signed out for room (ADR 0357).
 */
const INDEX_WRITE: WriteOptions = { evictable: true };

export class SessionStore {
  readonly #store: FlowStore;
  readonly #timeouts: SessionTimeouts;
  readonly #sealer: Sealer;
  readonly #nameSealer: Sealer;
  readonly #loginSealer: Sealer;
  /**
   * Of the session ID itself, never of its stored hash: what the store holds makes no token. The
   * first is the one its forms carry; the others, only during a key rotation, are accepted too.
   */
  readonly #csrfTokensOf: (sessionId: string) => string[];
  readonly #draftOwnerOf: (accountId: string) => string;

  /**
   * `keyMaterial`: the portal's signing key, and during its rotation the key held as `next.*`, under
   * which what was sealed before the swap still opens, until the runbook's last patch (ADR 0298).
   */
  constructor(store: FlowStore, timeouts: SessionTimeouts, keyMaterial: KeyMaterial) {
    this.#store = store;
    this.#timeouts = timeouts;
    this.#sealer = createSealer(keyMaterial, 'jsm-sso-portal', 'session-subject');
    this.#nameSealer = createSealer(keyMaterial, 'jsm-sso-portal', 'session-display-name');
    this.#loginSealer = createSealer(keyMaterial, 'jsm-sso-portal', 'login-flow');
    this.#csrfTokensOf = keyedHashes(keyMaterial, 'jsm-sso-portal', 'csrf-token');
    this.#draftOwnerOf = keyedHash(keyMaterial, 'jsm-sso-portal', 'draft-owner');
  }

  async create(record: Omit<SessionRecord, 'createdAt' | 'lastSeenAt'>, now = Date.now()): Promise<Session> {
    const id = newToken();
    const full: SessionRecord = { ...record, createdAt: now, lastSeenAt: now };
    const stored: SessionRecord = {
      ...full,
      customer: { ...full.customer, displayName: this.#nameSealer.seal(full.customer.displayName) },
    };
    const endsAt = this.#endOf(full);
    const lifetime = secondsUntil(endsAt, now);
    // The session's key, and the broker's SessionIndex to it (for the broker's back-channel
    // LogoutRequest, ADR 0150; ADR 0050's one key per session had none). Both are removed at
    // sign-out; the index of a session that idles out lives on until the session's end, so the
    // index is what a memory store may evict to let a new customer in (ADR 0357).
    await Promise.all([
      this.#store.put(sessionKey(id), JSON.stringify(stored), Math.min(this.#timeouts.idleSeconds, lifetime)),
      ...(record.sessionIndex === undefined
        ? []
        : [this.#store.put(sessionIndexKey(record.sessionIndex), hash(id), lifetime, INDEX_WRITE)]),
    ]);
    return { id, endsAt, ...this.#derived(id, full.customer.accountId), ...full, recentIssueIds: [] };
  }

  async get(id: string | undefined, now = Date.now()): Promise<Session | undefined> {
    if (!id || !TOKEN.test(id)) return undefined;
    const key = sessionKey(id);
    // Read together: the recent writes cost the page no extra round trip.
    const [raw, writes] = await Promise.all([this.#store.get(key), this.#store.get(writesKey(hash(id)))]);
    if (!raw) return undefined;
    // A session of a release that kept its CSRF token in the clear loses it at the next write below.
    const { csrf: _clearToken, ...record } = JSON.parse(raw) as SessionRecord & { csrf?: string };
    // A session from before desk access was kept would show no desk: sign in again to learn them.
    if (!Array.isArray(record.customer?.serviceDeskIds)) {
      await this.#store.delete(key);
      return undefined;
    }
    const endsAt = this.#endOf(record);
    if (
      now >= endsAt ||
      now - record.lastSeenAt >= this.#timeouts.idleSeconds * 1000 ||
      (await this.#revokedSince(record))
    ) {
      await this.#store.delete(key);
      return undefined;
    }
    const displayName = this.#nameSealer.openOrUndefined(record.customer.displayName);
    if (displayName === undefined) {
      // A session kept with its name in the clear (before it was sealed), or altered: sign in again.
      await this.#store.delete(key);
      return undefined;
    }
    if (now - record.lastSeenAt >= TOUCH_EVERY_MS) {
      record.lastSeenAt = now;
      const ttl = Math.min(this.#timeouts.idleSeconds, secondsUntil(endsAt, now));
      // Only while the session still exists (SET XX): a sign-out or revocation between the read
      // above and this write must not bring it back for the stolen or other-tab cookie (ADR 0145).
      await this.#store.takeLeaving(key, JSON.stringify(record), ttl);
    }
    return {
      id,
      endsAt,
      ...this.#derived(id, record.customer.accountId),
      ...record,
      customer: { ...record.customer, displayName },
      recentIssueIds: recentIssues(writes, now).map((w) => w.issueId),
    };
  }

  /** The absolute timeout, or the assertion's SessionNotOnOrAfter when that comes first (ADR 0244). */
  #endOf(record: SessionRecord): number {
    const absoluteEnd = record.createdAt + this.#timeouts.absoluteSeconds * 1000;
    return Math.min(absoluteEnd, record.sessionNotOnOrAfter ?? absoluteEnd);
  }

  /** What a session's pages use that is made again on each read, never stored. */
  #derived(id: string, accountId: string): Pick<Session, 'csrf' | 'acceptedCsrf' | 'draftOwner'> {
    const acceptedCsrf = this.#csrfTokensOf(id);
    return { csrf: acceptedCsrf[0] as string, acceptedCsrf, draftOwner: this.#draftOwnerOf(accountId) };
  }

  /**
   * Remembers that this session wrote issue `issueId` (raised it, commented, moved it, changed its
   * people or organizations, attached a file), so that its next searches reconcile it. Kept RECENT_WRITE_SECONDS, never past the session's absolute end; a
   * write racing another of the same session may drop one id, which only costs that request the
   * index's lag. Ids only: nothing personal.
   */
  async rememberWrite(session: Session, issueId: string, now = Date.now()): Promise<void> {
    if (!isIssueId(issueId)) return;
    const key = writesKey(hash(session.id));
    const writes = withNewest(recentIssues(await this.#store.get(key), now), { issueId, at: now });
    const sessionLeft = Math.ceil((session.endsAt - now) / 1000);
    const ttl = Math.min(RECENT_WRITE_SECONDS, sessionLeft);
    if (ttl > 0) await this.#store.put(key, JSON.stringify(writes), ttl);
  }

  /**
   * Ends every session of this account that exists now, on every replica: sessions are not indexed
   * by account (one key each, ADR 0050), so a marker records when, and a session made up to then is
   * refused and removed the next time it is used. The marker lives as long as a session can.
   */
  async revokeAccount(accountId: string, now = Date.now()): Promise<void> {
    await this.#store.put(revokedKey(accountId), String(now), this.#timeouts.absoluteSeconds);
  }

  /** When the account's sessions were last revoked, while that still matters. */
  async revokedAt(accountId: string): Promise<number | undefined> {
    const at = await this.#store.get(revokedKey(accountId));
    return at === undefined ? undefined : Number(at);
  }

  async #revokedSince(record: SessionRecord): Promise<boolean> {
    const revokedAt = await this.revokedAt(record.customer.accountId);
    return revokedAt !== undefined && record.createdAt <= revokedAt;
  }

  /** Ends the session `id`, with its SessionIndex's key when the caller knows the session's. */
  async destroy(id: string, sessionIndex?: string): Promise<void> {
    await Promise.all([
      this.#store.delete(sessionKey(id)),
      this.#store.delete(writesKey(hash(id))),
      ...(sessionIndex === undefined ? [] : [this.#store.delete(sessionIndexKey(sessionIndex))]),
    ]);
  }

  /**
   * Ends the session the broker asserted with `sessionIndex`, if it is the session of `nameId`
   * (core 3.7.3.2: a LogoutRequest ends the sessions of the principal it names, so one naming
   * another person with this index ends nothing) under the identifier it was asserted with,
   * `asAsserted` judging its Format and qualifiers (core 2.2.2, ADR 0382). The account it belonged
   * to (`ended`), `other_identifier` for her value under another identifier, which ends nothing,
   * or undefined when no session of `nameId` is there.
   */
  async endAsserted(
    sessionIndex: string,
    nameId: string,
    asAsserted: (subject: AssertedNameId) => boolean,
  ): Promise<{ ended: string | undefined } | 'other_identifier' | undefined> {
    const indexKey = sessionIndexKey(sessionIndex);
    // Before looking: the sign-in this SessionIndex was asserted for may be creating its session now,
    // and reads this after it has (`endIfEndedByBroker`); of the two, one sees the other (ADR 0170).
    // Kept as long as the session it stands for could live.
    await this.#store.put(endedIndexKey(sessionIndex), '1', this.#timeouts.absoluteSeconds);
    const sessionHash = await this.#store.get(indexKey);
    if (sessionHash === undefined) return undefined;
    const key = `portal:session:${sessionHash}`;
    const raw = await this.#store.get(key);
    const record = raw === undefined ? undefined : (JSON.parse(raw) as SessionRecord);
    const subject = record && this.#subjectOf(record);
    if (record && (record.sessionIndex !== sessionIndex || subject?.nameId !== nameId)) return undefined;
    if (subject && !asAsserted(subject)) return 'other_identifier';
    await Promise.all([
      this.#store.delete(key),
      this.#store.delete(indexKey),
      this.#store.delete(writesKey(sessionHash)),
    ]);
    return record ? { ended: record.customer.accountId } : undefined;
  }

  /**
   * Whether a SessionIndex key dropped to make room in a full memory store (ADR 0357) would still be
   * live: the broker's logout naming one then finds nothing, though its session may live (ADR 0363).
   */
  mayHaveLostIndexes(): boolean {
    return this.#store.evictedEntriesLive?.() ?? false;
  }

  /**
   * Ends the session just made if the broker already asked to end its SessionIndex (endAsserted,
   * which found none then); whether it did. Read after the session is stored, never before (ADR 0170).
   */
  async endIfEndedByBroker(session: Session): Promise<boolean> {
    if (session.sessionIndex === undefined) return false;
    if ((await this.#store.get(endedIndexKey(session.sessionIndex))) === undefined) return false;
    await this.destroy(session.id, session.sessionIndex);
    return true;
  }

  #subjectOf(record: SessionRecord): AssertedNameId | undefined {
    try {
      return this.openSubject(record.subject);
    } catch {
      return undefined;
    }
  }

  async startLogin(flow: LoginFlow, ttlSeconds: number): Promise<string> {
    const id = newToken();
    await this.#store.put(
      `portal:login:${hash(id)}`,
      this.#loginSealer.seal(JSON.stringify(flow)),
      ttlSeconds,
    );
    return id;
  }

  /**
   * One-time: the flow is consumed whether or not the Response then validates. One that does not
   * open (kept in the clear before flows were sealed, or altered) is no flow: sign in again.
   */
  async takeLogin(id: string | undefined): Promise<LoginFlow | undefined> {
    if (!id || !TOKEN.test(id)) return undefined;
    const raw = await this.#store.take(`portal:login:${hash(id)}`);
    const opened = this.#loginSealer.openOrUndefined(raw);
    return opened === undefined ? undefined : (JSON.parse(opened) as LoginFlow);
  }

  /**
   * A sign-out waiting for the broker's LogoutResponse: the ID of the LogoutRequest it must answer,
   * under a random token (newToken) that travels as RelayState. Kept for `ttlSeconds` at most.
   */
  async startLogout(token: string, requestId: string, ttlSeconds: number): Promise<void> {
    await this.#store.put(`portal:logout:${hash(token)}`, requestId, ttlSeconds);
  }

  /** The LogoutRequest ID a sign-out waits an answer for; read, not consumed (a forgery must not cancel it). */
  async pendingLogout(token: string | undefined): Promise<string | undefined> {
    if (!token || !TOKEN.test(token)) return undefined;
    return this.#store.get(`portal:logout:${hash(token)}`);
  }

  async endLogout(token: string): Promise<void> {
    await this.#store.delete(`portal:logout:${hash(token)}`);
  }

  sealSubject(subject: AssertedNameId): string {
    return this.#sealer.seal(JSON.stringify(subject));
  }

  openSubject(sealed: string): AssertedNameId {
    return JSON.parse(this.#sealer.open(sealed));
  }
}

/** Whole seconds from `now` to `end`, at least one: what a store's TTL can be. */
function secondsUntil(end: number, now: number): number {
  return Math.max(1, Math.ceil((end - now) / 1000));
}

/** Synchronizer-token check, constant time. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  return typeof submitted === 'string' && isOneOf(submitted, session.acceptedCsrf);
}
