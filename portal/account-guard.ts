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
 * - `accountType: app` (system, Connect and service accounts) and `unknown`: always.
 */
import { JsmSsoError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { AtlassianClient } from './atlassian/client.js';
import type { PlatformUserDTO } from './atlassian/types.js';

export type AccountRefusalCode = 'PORTAL_ACCOUNT_SERVICE' | 'PORTAL_ACCOUNT_LICENSED' | 'PORTAL_ACCOUNT_TYPE';

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
}

export class AccountGuard {
  readonly #client: AtlassianClient;
  readonly #options: AccountGuardOptions;

  constructor(client: AtlassianClient, options: AccountGuardOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Before anything is asked of Atlassian: the service account's own e-mail (lower-case). */
  checkEmail(email: string): void {
    if (email === this.#options.serviceAccountEmail.trim().toLowerCase())
      this.#refuse('PORTAL_ACCOUNT_SERVICE', undefined);
  }

  /**
   * The account found (or created) for the person, judged by Atlassian's answer. A user from the
   * service desk customer search carries no accountType; the platform user record is asked then.
   */
  async check(user: PlatformUserDTO): Promise<void> {
    if (user.accountId === (await this.#client.serviceAccountId()))
      this.#refuse('PORTAL_ACCOUNT_SERVICE', user.accountId);
    const accountType = user.accountType ?? (await this.#client.user(user.accountId)).accountType;
    if (accountType === 'customer') return;
    if (accountType === 'atlassian') {
      if (this.#options.allowLicensedUsers) return;
      this.#refuse('PORTAL_ACCOUNT_LICENSED', user.accountId);
    }
    this.#refuse('PORTAL_ACCOUNT_TYPE', user.accountId);
  }

  #refuse(code: AccountRefusalCode, accountId: string | undefined): never {
    // The audit line names the account by its accountId only, never by e-mail.
    this.#options.logger.warn(
      { event: 'portal.account_refused', reason: code, ...(accountId ? { accountId } : {}) },
      'sign-in refused: not a customer account',
    );
    throw new AccountRefusedError(code);
  }
}
