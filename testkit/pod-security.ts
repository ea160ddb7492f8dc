import type { V1PodSpec } from '@kubernetes/client-node';
import { ApiError, type KubeClient } from '../common/kube/client.js';

/**
 * The labels that make a namespace's PodSecurity admission refuse any pod that does not meet the
 * "restricted" Pod Security Standard (the latest version the API server knows). The tests put the
 * product's pods only in namespaces labelled so, as a hardened cluster would.
 */
export const RESTRICTED_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

/** A pod spec with no hardening at all: what a restricted namespace must refuse. */
export const UNHARDENED_POD: V1PodSpec = { containers: [{ name: 'c', image: 'registry.example/any:1' }] };

/**
 * The API server's answer to creating a Pod with `spec` (and the pod template's `annotations`, which
 * PodSecurity and the API server's validation read too: AppArmor, seccomp) in `namespace`, as a
 * server-side dry run, so admission runs and nothing is stored: undefined when admitted, else the
 * refusal's message (403 from PodSecurity, 422 from validation).
 */
export async function podRefusal(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: V1PodSpec,
  annotations: Record<string, string> = {},
): Promise<string | undefined> {
  try {
    await client.request('POST', `/api/v1/namespaces/${namespace}/pods`, {
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, annotations }, spec },
      query: { dryRun: 'All' },
    });
    return undefined;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 403 || err.status === 422)) return err.serverMessage;
    throw err;
  }
}
