// `npm run gen` step: the Helm chart carries crds/jsmssotenant.yaml and crds/jsmssopool.yaml byte for
// byte (templates/crd.yaml renders them when crds.enabled), so the chart can never install or upgrade
// to a schema other than the one the types and the docs were generated from. Its values.schema.json
// carries the CRD's spec.<part>.pod schema as tenantPodDefaults, so that Helm refuses a default the
// operator would refuse at start (it exits, and its new pods crash-loop after an install Helm called
// a success), and the same core/v1 shapes for the operator's own pod fields (resources, affinity,
// ...): the API server drops a field it does not know with a warning Helm does not stop on, so a
// misspelt one (affinity.podAntiAfinity) would silently cost the operator its spread.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { SchemaNode } from '../common/config/crd-schema.js';
import { closedPodSettingsSchema } from '../common/config/validate.js';
import { CRD_PATH, POOL_CRD_PATH, packageRoot } from '../common/paths.js';

export const CHART_CRD_PATH = join(packageRoot(), 'charts/jsm-sso/files/jsmssotenant.crd.yaml');
export const CHART_POOL_CRD_PATH = join(packageRoot(), 'charts/jsm-sso/files/jsmssopool.crd.yaml');
export const CHART_VALUES_SCHEMA_PATH = join(packageRoot(), 'charts/jsm-sso/values.schema.json');

/** Copies the CRD into the chart; with `check`, only reports whether the copy is current. */
export function syncChartCrd(check: boolean, from = CRD_PATH, to = CHART_CRD_PATH): boolean {
  const current = existsSync(to) && readFileSync(to, 'utf8') === readFileSync(from, 'utf8');
  if (!check && !current) copyFileSync(from, to);
  return current;
}

/**
 * What the chart checks beyond the CRD's shape, which has no propertyNames, for the operator's pod and
 * the tenants' defaults alike: the API server refuses a Deployment whose nodeSelector is no set of labels, or whose toleration or spread constraint names a
 * key that is no label key (ADR 0281); a toleration whose fields do not go together, and an affinity
 * or spread selector whose requirement has values its operator does not take (ADR 0292).
 */
const LABEL_KEY = { $ref: '#/definitions/labelKey' };
const POD_CHECKS: Record<string, SchemaNode> = {
  nodeSelector: { allOf: [{ $ref: '#/definitions/labels' }] },
  tolerations: {
    allOf: [
      {
        items: {
          properties: {
            key: { anyOf: [{ const: '' }, LABEL_KEY] },
            value: { $ref: '#/definitions/labelValue' },
          },
          allOf: [{ $ref: '#/definitions/tolerationRules' }],
        },
      },
    ],
  },
  affinity: { allOf: [{ $ref: '#/definitions/affinity' }] },
  // The CRD's CEL rule in JSON Schema: past it, the operator would refuse the default at start.
  podAnnotations: { allOf: [{ $ref: '#/definitions/podSecurityAnnotations' }] },
  topologySpreadConstraints: {
    allOf: [
      {
        items: {
          properties: { topologyKey: LABEL_KEY, labelSelector: { $ref: '#/definitions/labelSelector' } },
        },
      },
    ],
  },
};

const TENANT_POD_DEFAULTS_DESCRIPTION =
  "Defaults for every tenant's broker and portal pods, shaped like spec.<part>.pod of the JsmSsoTenant CRD (generated from it by npm run gen); an empty value means no default. The CRD's CEL rules are checked by the operator at start.";

/**
 * spec.<part>.pod as the chart's JSON Schema: objects closed as the operator's validator closes
 * them, the Kubernetes extensions dropped (CEL rules stay with the operator), the API server's checks
 * added (POD_CHECKS: a default it refuses would have every tenant's Deployment refused), and every
 * top-level field also accepting its empty value, which values.yaml lists to say the field exists.
 */
export function tenantPodDefaultsSchema(): SchemaNode {
  const pod = withoutKubernetesExtensions(closedPodSettingsSchema());
  const fields = Object.fromEntries(
    Object.entries(pod.properties ?? {}).map(([name, field]) => [
      name,
      field.type === 'string'
        ? { description: field.description, anyOf: [{ const: '' }, field] }
        : { ...field, ...POD_CHECKS[name] },
    ]),
  );
  return { ...pod, description: TENANT_POD_DEFAULTS_DESCRIPTION, properties: fields };
}

function withoutKubernetesExtensions(node: SchemaNode): SchemaNode {
  if (Array.isArray(node)) return node.map(withoutKubernetesExtensions) as unknown as SchemaNode;
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !key.startsWith('x-kubernetes-'))
      .map(([key, value]) => [key, withoutKubernetesExtensions(value as SchemaNode)]),
  ) as SchemaNode;
}

/** The operator pod's own fields that take spec.<part>.pod's shapes, each with its own description. */
const OPERATOR_POD_FIELDS: Record<string, string> = {
  resources:
    "The operator container's resource requests and limits (core/v1 ResourceRequirements without claims).",
  nodeSelector: 'Node labels the operator pods must run on.',
  tolerations: 'Tolerations of the operator pods (core/v1 Toleration objects).',
  affinity:
    'Affinity of the operator pods (core/v1 Affinity); empty means a preferred anti-affinity that spreads the replicas over nodes.',
  topologySpreadConstraints:
    "Topology spread constraints of the operator pods (core/v1 TopologySpreadConstraint); a constraint without labelSelector gets the pods' selector labels.",
};

/** The values.schema.json properties generated from the CRD: tenantPodDefaults and the operator's pod fields. */
export function generatedValuesProperties(): Record<string, SchemaNode> {
  const tenantPodDefaults = tenantPodDefaultsSchema();
  const podFields = tenantPodDefaults.properties ?? {};
  return {
    tenantPodDefaults,
    ...Object.fromEntries(
      Object.entries(OPERATOR_POD_FIELDS).map(([name, description]) => [
        name,
        { ...podFields[name], description },
      ]),
    ),
  };
}

/** Writes generatedValuesProperties() into values.schema.json; with `check`, only reports whether they are current. */
export function syncChartValuesSchema(check: boolean, path = CHART_VALUES_SCHEMA_PATH): boolean {
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { properties: Record<string, SchemaNode> };
  const wanted = generatedValuesProperties();
  const current = Object.entries(wanted).every(([name, field]) =>
    isDeepStrictEqual(schema.properties[name], field),
  );
  if (!check && !current) {
    Object.assign(schema.properties, wanted);
    writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
    execFileSync(join(packageRoot(), 'node_modules/.bin/biome'), ['format', '--write', path], {
      stdio: 'ignore',
    });
  }
  return current;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  const report = (current: boolean, to: string, from: string) => {
    if (check && !current) {
      console.error(`${to} differs from ${from}: run npm run gen`);
      process.exit(1);
    }
    console.log(current ? `${to} is current` : `wrote ${to}`);
  };
  for (const [from, to] of [
    [CRD_PATH, CHART_CRD_PATH],
    [POOL_CRD_PATH, CHART_POOL_CRD_PATH],
  ] as const) {
    report(syncChartCrd(check, from, to), to, from);
  }
  report(syncChartValuesSchema(check), CHART_VALUES_SCHEMA_PATH, CRD_PATH);
}
