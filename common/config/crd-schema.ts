import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CRD_PATH, POOL_CRD_PATH } from '../paths.js';

/** A node of a Kubernetes structural schema (OpenAPI v3 subset plus x-kubernetes-* extensions). */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [keyword: string]: unknown;
}

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
}

export interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: SchemaNode };
}

export const API_GROUP = 'jsm-sso.io';
export const API_VERSION = 'v1alpha1';
/** The `apiVersion` of the project's documents, tenants and pools alike. */
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'JsmSsoTenant';
export const PLURAL = 'jsmssotenants';

export const POOL_KIND = 'JsmSsoPool';
export const POOL_PLURAL = 'jsmssopools';

export interface LoadedCrd {
  document: Record<string, unknown>;
  schema: SchemaNode;
}

const cached = new Map<string, LoadedCrd>();

/** A CRD document and its v1alpha1 schema, read once. */
export function loadCrd(path: string): LoadedCrd {
  let loaded = cached.get(path);
  if (!loaded) {
    const document = parse(readFileSync(path, 'utf8')) as { spec: { versions: CrdVersion[] } };
    const version = document.spec.versions.find((v) => v.name === API_VERSION);
    if (!version) throw new Error(`${path} has no version ${API_VERSION}`);
    loaded = {
      document: document as unknown as Record<string, unknown>,
      schema: version.schema.openAPIV3Schema,
    };
    cached.set(path, loaded);
  }
  return loaded;
}

/** The JsmSsoTenant CRD (crds/jsmssotenant.yaml). */
export function tenantCrd(): LoadedCrd {
  return loadCrd(CRD_PATH);
}

/** The JsmSsoPool CRD (crds/jsmssopool.yaml). */
export function poolCrd(): LoadedCrd {
  return loadCrd(POOL_CRD_PATH);
}
