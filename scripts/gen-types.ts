// Generates common/config/tenant.generated.ts from the CRD schema, the single source of truth.
// Fields with a schema default are made required in the types: the loader and the API server both
// apply defaults, so code that reads a tenant always sees them. `--check` fails when the committed
// file is stale (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { type SchemaNode, tenantCrd } from '../common/config/crd-schema.js';
import { packageRoot } from '../common/paths.js';

export const GENERATED_TYPES_PATH = join(packageRoot(), 'common', 'config', 'tenant.generated.ts');

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
  [['spec', 'ingress'], 'IngressSpec'],
  [['status'], 'TenantStatus'],
  [['status', 'conditions', '[]'], 'TenantCondition'],
];

function nameParts(schema: SchemaNode): void {
  for (const [path, title] of NAMED_PARTS) {
    let node: SchemaNode | undefined = schema;
    for (const seg of path) node = seg === '[]' ? node?.items : node?.properties?.[seg];
    if (!node) throw new Error(`schema has no ${path.join('.')}`);
    node['title'] = title;
  }
}

export async function generateTenantTypes(): Promise<string> {
  const schema = requireDefaulted(structuredClone(tenantCrd().schema));
  nameParts(schema);
  schema.properties = { ...schema.properties, metadata: { type: 'object', tsType: 'TenantMetadata' } };
  const body = await compile(schema as never, 'JsmSsoTenant', {
    bannerComment: '',
    additionalProperties: false,
    strictIndexSignatures: true,
    format: true,
    maxItems: -1,
    style: { singleQuote: true },
  });
  return `// Generated from crds/jsmssotenant.yaml by \`npm run gen\`. Do not edit: change the CRD and regenerate.

import type { TenantMetadata } from './tenant-metadata.js';

${body}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const generated = await generateTenantTypes();
  if (process.argv.includes('--check')) {
    if (readFileSync(GENERATED_TYPES_PATH, 'utf8') !== generated) {
      console.error(`${GENERATED_TYPES_PATH} is stale: run npm run gen`);
      process.exit(1);
    }
  } else {
    writeFileSync(GENERATED_TYPES_PATH, generated);
    console.log(`wrote ${GENERATED_TYPES_PATH}`);
  }
}
