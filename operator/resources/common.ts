import { createHash } from 'node:crypto';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { GROUP_VERSION, KIND, POOL_KIND } from '../../common/config/crd-schema.js';
import type { PrivateKeyFacts } from '../../common/config/decryption-key.js';
import type { JsmSsoTenant } from '../../common/config/load.js';
import type { AutoscalingSpec, TenantPodSettings } from '../../common/config/tenant.generated.js';
import type { PodIds } from './pod-ids.js';

/**
 * What every dependent resource shares: names, labels, the owner reference and the inputs of
 * desired state. Everything here is pure: the same tenant and observations give the same objects.
 */
export type Part = 'broker' | 'portal';
export const PARTS: readonly Part[] = ['broker', 'portal'];

export const FIELD_MANAGER = 'jsm-sso-operator';
export const MANAGED_BY = 'jsm-sso-operator';
/** app.kubernetes.io/part-of of everything the operator makes: `kubectl get -l` finds it all by it. */
export const PART_OF = 'jsm-sso';
/** Hash of the applied desired state, so a change of ours (even a removal) is seen without a diff. */
export const APPLIED_HASH_ANNOTATION = 'jsm-sso.io/applied-hash';
/** Hash of every Secret key and ConfigMap entry a pod reads; a change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'jsm-sso.io/config-hash';
export const PUBLIC_PORT = 8080;
export const MANAGEMENT_PORT = 9090;
export const CONFIG_DIR = '/etc/jsm-sso';
export const CONFIG_FILE = `${CONFIG_DIR}/tenant.yaml`;

/** Operator-wide settings that shape every tenant's objects (from command-line flags). */
export interface OperatorSettings {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** matchLabels of the namespaces whose pods (the ingress controller) reach the public ports. */
  ingressNamespaceLabels: Record<string, string>;
  /** matchLabels of the namespaces whose pods (Prometheus) reach the management ports. */
  metricsNamespaceLabels: Record<string, string>;
  /** Pod settings of every tenant's parts unless the tenant sets them (the chart's tenantPodDefaults). */
  podDefaults?: TenantPodSettings;
  /** Whether the pods name their user, group and fsGroup (fixed, the default) or leave them to the platform. */
  podIds?: PodIds;
}

/** What is known about a Secret without holding its values: key hashes and public certificates. */
export interface SecretFacts {
  type?: string;
  /** HMAC-SHA-256 of each key's value under the operator's hash key (operator/hash-key.ts). */
  keyHashes: Record<string, string>;
  /** tls.crt and next.crt in PEM, which are public. */
  certificates: Record<string, string>;
  /** What is public of tls.key and next.key, those that are PEM private keys (ADR 0352). */
  privateKeys: Record<string, PrivateKeyFacts>;
}

/** The inputs of desired state: a validated tenant, settings, and the Secrets it references. */
export interface DesiredContext {
  tenant: JsmSsoTenant;
  settings: OperatorSettings;
  /** Referenced Secrets that exist, by name. */
  secrets: Record<string, SecretFacts>;
}

/**
 * What runs a broker and a portal: a dedicated tenant, or a pool serving many tenants. Both are
 * namespaced custom resources, so the same builders name, label and own their objects.
 */
export interface WorkloadOwner {
  apiVersion?: string;
  kind?: string;
  metadata?: { name: string; namespace?: string; uid?: string };
}

/** How many pods of a part run and how they are scheduled (spec.<part> of a tenant or a pool). */
export interface PartSettings {
  replicas?: number;
  autoscaling?: AutoscalingSpec;
  pod?: TenantPodSettings;
  /** A dedicated tenant's part serves HTTPS with this Secret. */
  tlsSecretRef?: { name: string };
  /** A pool's part serves HTTPS: each tenant's certificate by SNI, else this default (ADR 0125). */
  tls?: { defaultSecretRef?: { name: string } };
}

/** The inputs the part builders share, whoever owns the parts. */
export interface WorkloadContext {
  owner: WorkloadOwner;
  parts: Record<Part, PartSettings>;
  settings: OperatorSettings;
}

/** A dedicated tenant's context or a pool's. */
export type AnyContext = DesiredContext | WorkloadContext;

export function workloadOf(context: AnyContext): WorkloadContext {
  return 'owner' in context
    ? context
    : { owner: context.tenant, parts: context.tenant.spec, settings: context.settings };
}

export function tenantName(tenant: WorkloadOwner): string {
  return tenant.metadata!.name;
}

export function tenantNamespace(tenant: WorkloadOwner): string {
  return tenant.metadata!.namespace ?? 'default';
}

/** `<owner>-<suffix>`, shortened with a hash when it would exceed a DNS label (63). */
export function childName(tenant: WorkloadOwner, suffix: string): string {
  const name = `${tenantName(tenant)}-${suffix}`;
  if (name.length <= 63) return name;
  const hash = sha256(name).slice(0, 8);
  return `${tenantName(tenant).slice(0, 63 - suffix.length - 10)}-${hash}-${suffix}`;
}

/** A pool's pods carry another app name, so a tenant and a pool of the same name never select each other's pods. */
export function selectorLabels(tenant: WorkloadOwner, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': tenant.kind === POOL_KIND ? 'jsm-sso-pool' : 'jsm-sso',
    'app.kubernetes.io/instance': tenantName(tenant),
    'app.kubernetes.io/component': component,
  };
}

export function labels(tenant: WorkloadOwner, component: string): Record<string, string> {
  return {
    ...selectorLabels(tenant, component),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

export function ownerReference(tenant: WorkloadOwner): V1OwnerReference {
  return {
    apiVersion: tenant.apiVersion ?? GROUP_VERSION,
    kind: tenant.kind ?? KIND,
    name: tenantName(tenant),
    uid: tenant.metadata!.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Standard metadata of an owned object. */
export function objectMeta(tenant: WorkloadOwner, name: string, component: string) {
  return {
    name,
    namespace: tenantNamespace(tenant),
    labels: labels(tenant, component),
    ownerReferences: [ownerReference(tenant)],
  };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
