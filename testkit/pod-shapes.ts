// Pod fields a tenant may give, in every shape the API server takes (test/operator/pod-fields-admission.test.ts
// stores them; test/operator/resources.test.ts judges the drift of what the operator makes of them, ADR 0374).

const SPREAD = { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' };

/** Tolerations, affinity and spread constraints of every kind the API server stores. */
export const EVERY_POD_SHAPE = {
  tolerations: [
    { operator: 'Exists' },
    { key: 'dedicated', operator: 'Equal', value: 'sso', effect: 'NoSchedule' },
    {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 30,
    },
  ],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['2'] }] },
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] },
        ],
      },
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
      ],
    },
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 1,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] },
            namespaceSelector: {},
            matchLabelKeys: ['pod-template-hash'],
          },
        },
      ],
    },
  },
  topologySpreadConstraints: [
    { ...SPREAD, minDomains: 2, labelSelector: { matchLabels: { app: 'x' } } },
    { ...SPREAD, whenUnsatisfiable: 'ScheduleAnyway' },
  ],
};
