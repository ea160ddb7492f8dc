import type { KubeClient } from '../common/kube/client.js';
import { eventually } from './envtest.js';

const POLICIES = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';

export interface AdmissionPolicy {
  /** Deletes the binding and the policy. */
  remove(): Promise<void>;
}

/**
 * A real ValidatingAdmissionPolicy bound to one namespace, evaluated by the API server: how a test
 * makes it refuse one write of the operator's that no fake needs to imitate. Resolves once the API
 * server enforces it (it loads policies asynchronously): until `refused` (a dry-run of the write
 * the policy targets) rejects.
 */
export async function admissionPolicy(
  client: KubeClient,
  options: {
    name: string;
    namespace: string;
    rule: { apiGroups: string[]; resources: string[]; operations: string[] };
    /** CEL; the write is refused where it is false. */
    expression: string;
    message: string;
    /** The refusal's status reason: Invalid (422, the API server's default) or Forbidden (403). */
    reason?: 'Invalid' | 'Forbidden';
    refused: () => Promise<unknown>;
  },
): Promise<AdmissionPolicy> {
  const { name, namespace } = options;
  const remove = async () => {
    await client.delete(`${BINDINGS}/${name}`);
    await client.delete(`${POLICIES}/${name}`);
  };
  await client.create(POLICIES, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ ...options.rule, apiVersions: ['*'] }] },
      validations: [
        {
          expression: options.expression,
          message: options.message,
          ...(options.reason ? { reason: options.reason } : {}),
        },
      ],
    },
  });
  try {
    await client.create(BINDINGS, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
      },
    });
    await eventually(
      async () =>
        options.refused().then(
          () => false,
          () => true,
        ),
      `the admission policy ${name} to be enforced`,
    );
  } catch (err) {
    await remove();
    throw err;
  }
  return { remove };
}
