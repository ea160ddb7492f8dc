/**
 * The Kubernetes object metadata a tenant carries, as far as jsm-sso reads it. The CRD schema leaves
 * `metadata` to the API server, so the type generator (scripts/gen-types.ts) points at this
 * hand-written type instead of generating one.
 */
export interface TenantMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}
