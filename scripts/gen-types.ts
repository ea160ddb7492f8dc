// Generates common/config/tenant.generated.ts and pool.generated.ts from the CRD schemas, the single
// source of truth.
// Fields with a schema default are made required in the types: the loader and the API server both
// apply defaults, so code that reads a tenant always sees them. `--check` fails when the committed
// file is stale (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { poolCrd, type SchemaNode, tenantCrd } from '../common/config/crd-schema.js';
import { packageRoot } from '../common/paths.js';

export const GENERATED_TYPES_PATH = join(packageRoot(), 'common', 'config', 'tenant.generated.ts');
export const GENERATED_POOL_TYPES_PATH = join(packageRoot(), 'common', 'config', 'pool.generated.ts');

function requireDefaulted(node: SchemaNode): SchemaNode {
  if (node.properties) {
    const defaulted = Object.entries(node.properties)
      .filter(([, child]) => child.default !== undefined)
      .map(([name]) => name);
    node.required = [...new Set([...(node.required ?? []), ...defaulted])];
    for (const child of Object.values(node.properties)) requireDefaulted(child);
  }
  if (node.items) requireDefaulted(node.items);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    requireDefaulted(node.additionalProperties);
  if (node.properties && node.additionalProperties === undefined) node.additionalProperties = false;
  return node;
}

const AFFINITY = ['spec', 'portal', 'pod', 'affinity'];
const POD_AFFINITY_TERM = [
  ...AFFINITY,
  'podAffinity',
  'requiredDuringSchedulingIgnoredDuringExecution',
  '[]',
];

/** Names for the parts code passes around; everything else stays inline. */

const NAMED_PARTS: [string[], string][] = [
  [['spec'], 'TenantSpec'],
  [['spec', 'portal'], 'PortalSpec'],
  [['spec', 'broker'], 'BrokerSpec'],
  [['spec', 'portal', 'autoscaling'], 'AutoscalingSpec'],
  [['spec', 'portal', 'pod'], 'TenantPodSettings'],
  [['spec', 'identityProviders', '[]'], 'IdentityProviderSpec'],
  [['spec', 'identityProviders', '[]', 'oidc'], 'OidcIdpSpec'],
  [['spec', 'identityProviders', '[]', 'oauth2'], 'OAuth2IdpSpec'],
  [['spec', 'identityProviders', '[]', 'saml'], 'SamlIdpSpec'],
  [['spec', 'identityProviders', '[]', 'oidc', 'clientSecretRef'], 'SecretKeyRef'],
  [['spec', 'portal', 'samlSigningSecretRef'], 'SecretRef'],
  [['spec', 'atlassian'], 'AtlassianSpec'],
  [['spec', 'atlassian', 'organizationMappings', '[]'], 'OrganizationMapping'],
  [['spec', 'redis'], 'RedisSpec'],
  // core/v1 shapes the pod schema names more than once (YAML aliases: one object, so one type).
  [
    [
      ...AFFINITY,
      'nodeAffinity',
      'requiredDuringSchedulingIgnoredDuringExecution',
      'nodeSelectorTerms',
      '[]',
    ],
    'NodeSelectorTerm',
  ],
  [[...AFFINITY, 'podAffinity'], 'PodAffinity'],
  [POD_AFFINITY_TERM, 'PodAffinityTerm'],
  [[...POD_AFFINITY_TERM, 'labelSelector'], 'LabelSelector'],
  [['spec', 'ingress'], 'IngressSpec'],
  [['spec', 'placement'], 'PlacementSpec'],
  [['status'], 'TenantStatus'],
  [['status', 'conditions', '[]'], 'TenantCondition'],
];

/**
 * The pool's names; the parts it shares with the tenant (scripts/sync-pool-crd.ts copies them) are
 * the tenant's types, imported rather than generated twice.
 */
const POOL_NAMED_PARTS: [string[], string][] = [
  [['spec'], 'PoolSpec'],
  [['spec', 'portal'], 'PoolPartSpec'],
  [['status'], 'PoolStatus'],
];
const POOL_SHARED_TYPES: [string[], string][] = [
  [['spec', 'redis'], 'RedisSpec'],
  [['spec', 'portal', 'autoscaling'], 'AutoscalingSpec'],
  [['spec', 'portal', 'pod'], 'TenantPodSettings'],
  [['status', 'conditions', '[]'], 'TenantCondition'],
];
/** The broker's settings have the portal's shape. */
const POOL_ALIASES: [string[], string][] = [[['spec', 'broker'], 'PoolPartSpec']];

/** Makes a node a reference to a type declared elsewhere, keeping its description. */
function referTo(node: SchemaNode, type: string): void {
  for (const key of Object.keys(node)) if (key !== 'description') delete node[key];
  node['tsType'] = type;
}

function nodeAt(schema: SchemaNode, path: string[]): SchemaNode {
  let node: SchemaNode | undefined = schema;
  for (const seg of path) node = seg === '[]' ? node?.items : node?.properties?.[seg];
  if (!node) throw new Error(`schema has no ${path.join('.')}`);
  return node;
}

function nameParts(schema: SchemaNode, named: [string[], string][] = NAMED_PARTS): void {
  for (const [path, title] of named) {
    nodeAt(schema, path)['title'] = title;
  }
}

const COMPILE_OPTIONS = {
  bannerComment: '',
  additionalProperties: false,
  strictIndexSignatures: true,
  format: true,
  maxItems: -1,
  style: { singleQuote: true },
};

export async function generateTenantTypes(): Promise<string> {
  const schema = requireDefaulted(structuredClone(tenantCrd().schema));
  nameParts(schema);
  schema.properties = { ...schema.properties, metadata: { type: 'object', tsType: 'TenantMetadata' } };
  const body = await compile(schema as never, 'JsmSsoTenant', COMPILE_OPTIONS);
  return `// Generated from crds/jsmssotenant.yaml by \`npm run gen\`. Do not edit: change the CRD and regenerate.

import type { TenantMetadata } from './tenant-metadata.js';

${body}`;
}

export async function generatePoolTypes(): Promise<string> {
  const schema = requireDefaulted(structuredClone(poolCrd().schema));
  nameParts(schema, POOL_NAMED_PARTS);
  const shared = [...new Set(POOL_SHARED_TYPES.map(([, type]) => type))].sort();
  for (const [path, type] of [...POOL_SHARED_TYPES, ...POOL_ALIASES]) referTo(nodeAt(schema, path), type);
  schema.properties = { ...schema.properties, metadata: { type: 'object', tsType: 'TenantMetadata' } };
  const body = await compile(schema as never, 'JsmSsoPool', COMPILE_OPTIONS);
  return `// Generated from crds/jsmssopool.yaml by \`npm run gen\`. Do not edit: change the CRD and regenerate.

import type { TenantMetadata } from './tenant-metadata.js';
import type { ${shared.join(', ')} } from './tenant.generated.js';

${body}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, generate] of [
    [GENERATED_TYPES_PATH, generateTenantTypes],
    [GENERATED_POOL_TYPES_PATH, generatePoolTypes],
  ] as const) {
    const generated = await generate();
    if (process.argv.includes('--check')) {
      if (readFileSync(path, 'utf8') !== generated) {
        console.error(`${path} is stale: run npm run gen`);
        process.exit(1);
      }
    } else {
      writeFileSync(path, generated);
      console.log(`wrote ${path}`);
    }
  }
}
