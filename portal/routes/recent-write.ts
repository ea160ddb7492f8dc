import { JsmSsoError } from '../../common/errors.js';
import { unexpectedErrorFields } from '../../common/log.js';
import type { PortalServices } from '../services.js';
import type { Session } from '../session.js';

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
  await sessions.rememberWrite(session, issueId).catch((err: unknown) => {
    logger.warn(
      {
        event: 'portal.recent_write_not_kept',
        ...(err instanceof JsmSsoError
          ? { reason: err.code, ...err.where }
          : { reason: 'PORTAL_INTERNAL', ...unexpectedErrorFields(err) }),
      },
      'the request just written is not remembered for reconciled searches',
    );
  });
}
