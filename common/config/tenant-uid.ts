import type { ConfigProblem } from '../errors.js';

/**
 * A Kubernetes label value of at least one character (what metadata.uid is, and what the
 * `jsm-sso.io/tenant-uid` label can hold): letters, digits, `-`, `_`, `.`, alphanumeric at both ends.
 */
const LABEL_VALUE = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * Why `uid`, found at `path`, cannot name a tenant's incarnation in its store keys
 * (`jsm-sso:<namespace>/<name>@<uid>:`, flow-store.ts:tenantKeyspace), or undefined when it can. A
 * label value holds no `:`, `@`, `{` or `}`: the prefix stays one tenant's alone, and never a Redis
 * Cluster hash tag that would put every tenant's keys in one slot (ADR 0379).
 */
export function uidProblem(uid: unknown, path: string): ConfigProblem | undefined {
  if (typeof uid === 'string' && LABEL_VALUE.test(uid)) return undefined;
  return {
    path,
    message:
      'must be a Kubernetes label value (1 to 63 letters, digits, "-", "_" or ".", alphanumeric at both ends), as the API server writes metadata.uid',
    code: 'TENANT_UID_INVALID',
  };
}
