import { namespaceTerminating } from '../common/kube/client.js';
import type { Logger } from '../common/log.js';
import type { ApplyFailure, ConditionInput } from './status.js';

export const NAMESPACE_TERMINATING_REASON = 'NamespaceTerminating';

/**
 * The Applied condition of a pass that failed on a create refused because its namespace is being
 * deleted (the owner's own, or a pool's it places objects in), or undefined for any other outcome.
 * That is the end of the pass, not a failure: the namespace never comes back and the namespace
 * controller deletes all it holds, the owner too, so a retry could only be refused again. Retried with
 * backoff as a failure, every create the namespace controller's deletions invited was tried again
 * for as long as the namespace stayed, each a Warning Event attempt (refused too) and a warning.
 */
export function namespaceTerminatingCondition(failure: ApplyFailure | undefined): ConditionInput | undefined {
  const cause = failure && namespaceTerminating(failure.error);
  if (!cause) return undefined;
  return {
    status: 'False',
    reason: NAMESPACE_TERMINATING_REASON,
    message: `${cause}: nothing more is created there and the refused create is not retried (the namespace is being deleted with all it holds)`,
  };
}

/** The one line such a pass leaves: info, not a failure (`owner`: `{ tenant: key }` or `{ pool: key }`). */
export function logNamespaceTerminating(logger: Logger, owner: Record<string, string>): void {
  logger.info(
    { event: 'operator.namespace_terminating', reason: NAMESPACE_TERMINATING_REASON, ...owner },
    'a create was refused in a namespace being deleted; not retried',
  );
}
