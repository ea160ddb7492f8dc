import type { KubeClient } from '../common/kube/client.js';

/**
 * Ends a Job as the job controller would (envtest runs no job controller and no kubelet): its status
 * with the conditions the API server requires before Complete or Failed (SuccessCriteriaMet,
 * FailureTarget), counts and times.
 */
export async function endJob(
  client: KubeClient,
  jobPath: string,
  outcome: 'Complete' | 'Failed',
): Promise<void> {
  const at = new Date().toISOString();
  const [first, reason, message] =
    outcome === 'Complete'
      ? ['SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods']
      : ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
  const condition = (type: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastProbeTime: at,
    lastTransitionTime: at,
  });
  await client.request('PATCH', `${jobPath}/status`, {
    body: {
      status: {
        startTime: at,
        ...(outcome === 'Complete' ? { completionTime: at, succeeded: 1 } : { failed: 3 }),
        conditions: [condition(first), condition(outcome)],
      },
    },
    contentType: 'application/merge-patch+json',
  });
}
