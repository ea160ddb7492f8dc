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
 * is answered (ADR 0201). That is a portal write against a slow site: its page's Atlassian reads
 * (25 s together, ADR 0185), then the write under its key (a 20 s budget, ADR 0187); a sign-in's
 * IdP calls (10 s each) fit too. Before, 10 s cut a comment whose reads and write took 13 s,
 * each within its own deadline: the customer got no answer and the comment was not written.
 * The wait ends as soon as the last request is answered; only a slow upstream makes it long.
 */
export const IN_FLIGHT_GRACE_SECONDS = 45;
/** Closing the management server, the store and logging: a margin before the kubelet's SIGKILL. */
const STOP_MARGIN_SECONDS = 5;

/** What terminationGracePeriodSeconds must be for a process started with `drainSeconds`. */
export function terminationGraceSeconds(drainSeconds: number): number {
  return Math.ceil(drainSeconds) + IN_FLIGHT_GRACE_SECONDS + STOP_MARGIN_SECONDS;
}
