import { JsmSsoError } from '../../common/errors.js';
import { unexpectedErrorFields } from '../../common/log.js';
import { reconciled } from '../recent-issues.js';
import type { ShareChange } from '../recent-shares.js';
import type { Reader } from '../requests.js';
import type { PortalServices } from '../services.js';
import type { Session } from '../session.js';

/**
 * What `work` gives, or `fallback` when the store fails it: a hint for Jira's lagging search is never a
 * reason to fail a page, so its failure is one warn line, `event`, with the store's stable reason.
 */
async function orLogged<T>(
  logger: PortalServices['logger'],
  work: Promise<T>,
  fallback: T,
  event: string,
  message: string,
): Promise<T> {
  return work.catch((err: unknown) => {
    logger.warn(
      {
        event,
        ...(err instanceof JsmSsoError
          ? { reason: err.code, ...err.where }
          : { reason: 'PORTAL_INTERNAL', ...unexpectedErrorFields(err) }),
      },
      message,
    );
    return fallback;
  });
}

/**
 * Remembers that this session just wrote request `issueId` (raised it, commented, moved it, changed
 * its people or organizations): Jira's search index may have it as it was for seconds to minutes, and
 * the session's searches name it in `reconcileIssues` (ADR 0194), so the page it lands on shows the
 * request as it is now, and what is cached per version (transitions, approvals) is read again. The
 * write is done whatever the store says: when it cannot keep the id, the page may lag, which is no
 * reason to fail the form, so this logs and never throws.
 */
export async function keepRecentWrite(
  { sessions, logger }: Pick<PortalServices, 'sessions' | 'logger'>,
  session: Session,
  issueId: string,
): Promise<void> {
  await orLogged(
    logger,
    sessions.rememberWrite(session, issueId),
    undefined,
    'portal.recent_write_not_kept',
    'the request just written is not remembered for reconciled searches',
  );
}

/**
 * Remembers, for whom `change` shared request `issueId` or stopped sharing it, that their My requests
 * must reconcile it (ADR 0419). The share is made whatever the store says: when it cannot be kept,
 * their list lags as it did before, so this logs and never throws.
 */
export async function keepRecentShare(
  { recentShares, logger }: Pick<PortalServices, 'recentShares' | 'logger'>,
  change: ShareChange,
  issueId: string,
): Promise<void> {
  await orLogged(
    logger,
    recentShares.remember(change, issueId),
    undefined,
    'portal.recent_share_not_kept',
    'the request just shared or unshared is not remembered for the lists of whom it changed',
  );
}

/**
 * The session as a reader of lists: the issues it wrote, then those lately shared with the customer
 * or unshared from her (ADR 0419), 50 in all. When those cannot be read, the session's own alone:
 * the list lags for them as it did before, logged, never failed for it.
 */
export async function listReader(
  { recentShares, logger }: Pick<PortalServices, 'recentShares' | 'logger'>,
  session: Session,
): Promise<Reader> {
  const shared = await orLogged(
    logger,
    recentShares.issueIdsFor(session.customer),
    [],
    'portal.recent_shares_unread',
    'the requests lately shared with the customer are not reconciled in her list',
  );
  return { customer: session.customer, recentIssueIds: reconciled(session.recentIssueIds, shared) };
}
