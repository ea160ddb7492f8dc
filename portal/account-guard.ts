/**
 * Accounts the portal must never become. The portal calls Atlassian as one service account that
 * sees every request; a session is an accountId whose visibility the portal enforces. A session as
 * the service account itself, or as a licensed Atlassian user (an agent or admin, whose accountId
 * is on internal requests and approvals), would let whoever controls a matching IdP account act in
 * a place meant for customers. So the decision is taken from Atlassian's own answer about the
 * account, never from the IdP's claims:
 *
 * - the service account (its accountId from `GET /myself`; its e-mail is refused before any call);
 * - `accountType: atlassian` (licensed users) unless the tenant opts in
 *   (`spec.portal.access.allowLicensedUsers`);
 * - `accountType: app` (system, Connect and service accounts) and `unknown`: always;
 * - an account that is no longer active (`active: false`: an admin revoked a portal-only customer's
 *   access or deactivated the account) or no longer exists: Atlassian's own portal lets neither in.
 *
 * The same judgement holds a signed-in session (`recheck`, on every page), on the account as
 * Atlassian has it at most one cache lifetime ago: a session does not outlive the account's access
 * by more than that.
 */
import { JsmSsoError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { AtlassianClient } from './atlassian/client.js';
import { AtlassianError } from './atlassian/errors.js';
import type { PlatformUserDTO } from './atlassian/types.js';
import { TtlCache } from './catalogue.js';

export type AccountRefusalCode =
  | 'PORTAL_ACCOUNT_SERVICE'
  | 'PORTAL_ACCOUNT_LICENSED'
  | 'PORTAL_ACCOUNT_TYPE'
  | 'PORTAL_ACCOUNT_INACTIVE';

/** When an account is judged: at sign-in, or on a page of a session made earlier. */
type Stage = 'sign-in' | 'session';

export class AccountRefusedError extends JsmSsoError {
  declare readonly code: AccountRefusalCode;
  constructor(code: AccountRefusalCode) {
    // English for the log; the customer reads the catalogue's text for the code.
    super(code, 'not a customer account', { status: 403 });
    this.name = 'AccountRefusedError';
  }
}

export interface AccountGuardOptions {
  /** The service account's e-mail (from the credentials Secret). */
  serviceAccountEmail: string;
  allowLicensedUsers: boolean;
  logger: Logger;
  /** How long a signed-in session goes on Atlassian's earlier answer about its account. */
  ttlMs: number;
}

export class AccountGuard {
  readonly #client: AtlassianClient;
  readonly #options: AccountGuardOptions;
  /** The platform user record of each signed-in account, as last read (primed at sign-in). */
  readonly #accounts: TtlCache;

  constructor(client: AtlassianClient, options: AccountGuardOptions) {
    this.#client = client;
    this.#options = options;
    this.#accounts = new TtlCache(options.ttlMs);
  }

  /** Before anything is asked of Atlassian: the service account's own e-mail (lower-case). */
  checkEmail(email: string): void {
    if (email === this.#options.serviceAccountEmail.trim().toLowerCase())
      this.#refuse('PORTAL_ACCOUNT_SERVICE', undefined, 'sign-in');
  }

  /**
   * The account found (or created) for the person, judged by Atlassian's answer. A user from the
   * service desk customer search carries no accountType; the platform user record is asked then.
   * Always read afresh: a sign-in never goes on a cached answer.
   */
  async check(user: PlatformUserDTO): Promise<void> {
    if (user.accountId === (await this.#client.serviceAccountId()))
      this.#refuse('PORTAL_ACCOUNT_SERVICE', user.accountId, 'sign-in');
    const record = user.accountType === undefined ? await this.#read(user.accountId, 'sign-in') : user;
    this.#judge(record, 'sign-in');
    // The session's first pages go on this answer.
    this.#accounts.put(user.accountId, record);
  }

  /**
   * A signed-in session's account, judged again on Atlassian's record of it read at most `ttlMs`
   * ago, and that record: AccountRefusedError once it would no longer be let in. Atlassian failing
   * to answer is thrown as its AtlassianError, for the caller to decide.
   */
  async recheck(accountId: string): Promise<PlatformUserDTO> {
    const record = await this.#accounts.get(accountId, () => this.#read(accountId, 'session'));
    this.#judge(record, 'session');
    return record;
  }

  /** The platform record; an account Atlassian no longer knows (deleted) is refused as inactive. */
  async #read(accountId: string, stage: Stage): Promise<PlatformUserDTO> {
    try {
      return await this.#client.user(accountId);
    } catch (err) {
      if (err instanceof AtlassianError && err.code === 'ATLASSIAN_NOT_FOUND')
        this.#refuse('PORTAL_ACCOUNT_INACTIVE', accountId, stage);
      throw err;
    }
  }

  #judge(user: PlatformUserDTO, stage: Stage): void {
    // Only an explicit false: the servicedeskapi's and platform's records both carry `active`.
    if (user.active === false) this.#refuse('PORTAL_ACCOUNT_INACTIVE', user.accountId, stage);
    if (user.accountType === 'customer') return;
    if (user.accountType === 'atlassian') {
      if (this.#options.allowLicensedUsers) return;
      this.#refuse('PORTAL_ACCOUNT_LICENSED', user.accountId, stage);
    }
    this.#refuse('PORTAL_ACCOUNT_TYPE', user.accountId, stage);
  }

  #refuse(code: AccountRefusalCode, accountId: string | undefined, stage: Stage): never {
    // The audit line names the account by its accountId only, never by e-mail.
    this.#options.logger.warn(
      { event: 'portal.account_refused', reason: code, stage, ...(accountId ? { accountId } : {}) },
      stage === 'sign-in'
        ? 'sign-in refused: not a customer account'
        : 'session ended: not a customer account now',
    );
    throw new AccountRefusedError(code);
  }
}
