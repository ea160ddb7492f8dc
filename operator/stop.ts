import type { RunningServer } from '../common/http/server.js';
import type { Logger } from '../common/log.js';
import type { Controller } from './controller.js';
import type { OperatorReason } from './errors.js';
import { LEASE_RELEASE_MS, type LeaderElector } from './leader.js';

/**
 * The operator's stop, bounded so that it ends inside the pod's terminationGracePeriodSeconds even
 * when the API server has gone silent (a lost control-plane node, a load balancer dropping its
 * flows): each API request is bounded only by the request timeout (70 s), and a reconcile makes
 * several, so waiting for them would outlast any grace period and end in SIGKILL, with the lease
 * still held and no word in the log. Against an answering API server every step takes well under
 * a second; the bounds only matter when it does not answer.
 */

/** Reconciles in flight may finish this long; then their API requests are aborted. */
export const RECONCILE_DRAIN_MS = 10_000;
/** The management server's close: /metrics and the probes in flight. */
const MANAGEMENT_CLOSE_MS = 2_000;
/** Leaves time for the process's exit and its last log lines before the kubelet's SIGKILL. */
const EXIT_MARGIN_MS = 3_000;

/** What terminationGracePeriodSeconds the operator's pod needs (the chart's must be at least this). */
export function operatorStopSeconds(): number {
  return Math.ceil((RECONCILE_DRAIN_MS + LEASE_RELEASE_MS + MANAGEMENT_CLOSE_MS + EXIT_MARGIN_MS) / 1000);
}

/** The reason the stop's abort gives every API request still in flight (and every later one). */
export class StopDeadlineError extends Error {
  readonly code: OperatorReason = 'OPERATOR_STOP_DEADLINE';
  constructor() {
    super(`API requests unanswered ${RECONCILE_DRAIN_MS / 1000} s into the operator's stop were aborted`);
    this.name = 'StopDeadlineError';
  }
}

export interface StoppableOperator {
  controller: Controller;
  /** Aborts every request of the controller's client: its `signal` (KubeClient). */
  abortRequests: AbortController;
  elector: LeaderElector | undefined;
  management: RunningServer;
  logger: Logger;
}

/**
 * Stops taking work, lets the reconciles in flight finish for RECONCILE_DRAIN_MS, then aborts
 * their requests; hands the lease back (LEASE_RELEASE_MS, else it expires on its own); closes the
 * management server. The reconciles stop before the lease is released, so no write follows it.
 */
export async function stopOperator({
  controller,
  abortRequests,
  elector,
  management,
  logger,
}: StoppableOperator): Promise<void> {
  const drained = controller.stop();
  let drainTimer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    drained.then(() => true),
    new Promise<false>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), RECONCILE_DRAIN_MS);
    }),
  ]);
  clearTimeout(drainTimer);
  const reason = new StopDeadlineError();
  if (!inTime) {
    logger.warn(
      { event: 'operator.requests_aborted', reason: reason.code, reconciles: controller.busy },
      `API requests unanswered after ${RECONCILE_DRAIN_MS / 1000} s of the stop were aborted`,
    );
  }
  // Also when drained in time: whatever the stop's remaining steps could still send is refused.
  abortRequests.abort(reason);
  await drained;
  const lease = elector ? ((await elector.release()) ? 'released' : 'left to expire') : 'none';
  await management.close(MANAGEMENT_CLOSE_MS);
  logger.info({ event: 'operator.stopped', lease, requestsAborted: !inTime }, 'operator stopped');
}
