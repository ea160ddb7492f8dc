import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CRD_PATH } from '../paths.js';

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
export const KIND = 'JsmSsoTenant';
export const PLURAL = 'jsmssotenants';

let cached: { document: Record<string, unknown>; schema: SchemaNode } | undefined;

/** The CRD document and its v1alpha1 schema, read once from crds/jsmssotenant.yaml. */
export function tenantCrd(): { document: Record<string, unknown>; schema: SchemaNode } {
  if (!cached) {
    const document = parse(readFileSync(CRD_PATH, 'utf8')) as { spec: { versions: CrdVersion[] } };
    const version = document.spec.versions.find((v) => v.name === API_VERSION);
    if (!version) throw new Error(`${CRD_PATH} has no version ${API_VERSION}`);
    cached = {
      document: document as unknown as Record<string, unknown>,
      schema: version.schema.openAPIV3Schema,
    };
  }
  return cached;
}
