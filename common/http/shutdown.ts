import { LONGEST_WORK_AFTER_ARRIVAL_MS, REQUEST_RECEIVE_MS } from './request-time.js';

/**
 * The timing of a graceful stop, shared by the process (common/runtime.ts) and the operator, which
 * gives the pod enough time for all of it (terminationGracePeriodSeconds).
 *
 * On SIGTERM the pod's endpoints are removed, but kube-proxy, Ingress controllers and cloud load
 * balancers learn of it seconds later and keep sending requests meanwhile. So the process answers
 * /readyz with 503 at once, keeps serving for the drain period (the in-process equivalent of a
 * preStop sleep, without needing a shell or sleep binary in the image), then stops accepting and
 * gives requests in flight a bounded time to finish.
 */
export const DEFAULT_DRAIN_SECONDS = 5;
/**
 * After the drain, how long requests still in flight may take before their connections are cut: as
 * long as the longest request a part accepts may take, so that one accepted until the drain's end
 * is answered (ADR 0201), added up from the bounds of its parts (common/http/request-time.ts): its
 * body arriving at the client's pace (60 s), then the part's work on it (45 s: a portal page's
 * Atlassian reads, whose budget starts again once an upload form has arrived, ADR 0362, and its
 * write). Before, 45 s covered the work alone: a comment or a new request with a file still arriving
 * when the drain ended had its connection cut, unanswered and not written (ADR 0365); before that,
 * 10 s cut a comment whose reads and write took 13 s. The wait ends as soon as the last request is
 * answered; only a slow client or upstream makes it long.
 */
export const IN_FLIGHT_GRACE_SECONDS = Math.ceil((REQUEST_RECEIVE_MS + LONGEST_WORK_AFTER_ARRIVAL_MS) / 1000);
/** Closing the management server, the store and logging: a margin before the kubelet's SIGKILL. */
const STOP_MARGIN_SECONDS = 5;

/** What terminationGracePeriodSeconds must be for a process started with `drainSeconds`. */
export function terminationGraceSeconds(drainSeconds: number): number {
  return Math.ceil(drainSeconds) + IN_FLIGHT_GRACE_SECONDS + STOP_MARGIN_SECONDS;
}
