import type { JsmSsoTenant } from '../config/load.js';
import type { JsmSsoError } from '../errors.js';
import type { HostClaims } from './claims.js';

/**
 * The contract between a pool process (one broker or portal serving many tenants) and whatever
 * delivers its tenants: a watched folder (directory-source.ts) or the operator's projection Secrets
 * (kube-source.ts). The pool reads tenants from nowhere else, so the sources are interchangeable in
 * tests, the bench and a cluster.
 */

/** What a part needs to read a tenant's secrets: files in a pod, a map in a pool. */
export interface SecretReader {
  /**
   * Throws JsmSsoError SECRET_MISSING (status 500, `where` naming the Secret and key; never the
   * value), or SECRET_REF_INVALID for a malformed reference.
   */
  read(secretName: string, key: string): string;
  readOptional(secretName: string, key: string): string | undefined;
}

/** One tenant as a pool sees it. `key` is stable per tenant (e.g. "<namespace>/<name>"). */
export interface TenantBundle {
  key: string;
  tenant: JsmSsoTenant;
  secrets: SecretReader;
  /**
   * When the bundle first claimed its place in the pool (ms since the epoch), where the source has a
   * time every replica reads alike: a projection's creationTimestamp. Of two bundles claiming one
   * tenant name, the earlier claim is served whatever order they arrive in (ADR 0193).
   */
  claimedAt?: number;
  /**
   * Per part, the host the tenant names and when it first named it, as the operator keeps them on the
   * projection. Of two bundles claiming one host, the earlier claim of that host is served (ADR 0230):
   * a tenant moving its URL onto a served host claims it later than the tenant served there.
   */
  hostClaims?: HostClaims;
  /**
   * The tenant's identity (its metadata.uid) where the source has one: a projection's
   * `jsm-sso.io/tenant-uid` label. A tenant deleted and re-created under its namespace and name is
   * another tenant, maybe another company's help center: its store keys are its own (ADR 0371).
   */
  uid?: string;
}

/** A removed tenant's incarnation that the source knows is gone for good: deleted (ADR 0390). */
export interface GoneIncarnation {
  uid: string;
}

export interface TenantSourceListener {
  /** Added or changed (called again on every change). */
  upsert(bundle: TenantBundle): void;
  /**
   * No longer in this pool. `gone` when the source knows why: the incarnation `gone.uid` was deleted,
   * and will never be served anywhere again. Without it the tenant may have moved (another pool, its
   * own pods) and may still be using its keys in a Redis this pool shares.
   */
  remove(key: string, gone?: GoneIncarnation): void;
  /**
   * A bundle that cannot be used (bad YAML, schema): logged with a reason code; the old version, if
   * any, stays. `tenant`: its tenant's id where the source knows it without the document (a
   * projection's labels), so the line is found under its tenant like all others.
   */
  invalid(key: string, error: JsmSsoError, tenant?: string): void;
}

export interface TenantSource {
  /** Resolves once the initial set has been delivered. */
  start(listener: TenantSourceListener): Promise<void>;
  close(): Promise<void>;
}
