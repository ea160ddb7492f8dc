// Validates Atlassian REST traffic against Atlassian's own OpenAPI spec for the servicedeskapi
// (vendored in testkit/atlassian/, see SOURCE.txt there) plus schemas for the four Jira platform
// operations we use (users from an excerpt of the platform spec, the rest written from its docs). Strict: the spec's schemas forbid unknown properties, so a wrong field name fails.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Exchange as ClientExchange } from '../portal/atlassian/http.js';

type Json = Record<string, unknown>;
const spec = JSON.parse(
  readFileSync(new URL('./atlassian/jsm-cloud-servicedeskapi.openapi.json', import.meta.url), 'utf8'),
) as {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
};

/** OpenAPI 3.0 schema -> JSON Schema: `nullable`, and the annotation keywords ajv does not know. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'example' || k === 'xml' || k === 'discriminator' || k === 'externalDocs' || k.startsWith('x-'))
      continue;
    out[k] =
      k === 'properties' || k === '$defs'
        ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, convert(s)]))
        : convert(v);
  }
  if (out['nullable'] === true) {
    delete out['nullable'];
    return { anyOf: [out, { type: 'null' }] };
  }
  delete out['nullable'];
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
addFormats.default(ajv);
ajv.addSchema({ $id: 'atlassian', components: { schemas: convert(spec.components.schemas) } });

// Jira platform shapes (GET /myself, /user, /user/search; POST /search/jql). Users follow the
// platform spec's own `User` schema (an excerpt of Atlassian's Jira Cloud platform OpenAPI, vendored
// in testkit/atlassian/, see SOURCE.txt), which Atlassian fills with accountType on every answer.
const platformSchemas = JSON.parse(
  readFileSync(new URL('./atlassian/jira-cloud-platform.user-schemas.json', import.meta.url), 'utf8'),
) as { components: { schemas: Record<string, Json> } };
ajv.addSchema({
  $id: 'atlassian-platform',
  components: { schemas: convert(platformSchemas.components.schemas) },
});
const platformUser = {
  allOf: [
    { $ref: 'atlassian-platform#/components/schemas/User' },
    { required: ['accountId', 'accountType', 'displayName', 'active'] },
  ],
};
const errorCollection = {
  type: 'object',
  additionalProperties: false,
  required: ['errorMessages'],
  properties: {
    errorMessages: { type: 'array', items: { type: 'string' } },
    errors: { type: 'object', additionalProperties: { type: 'string' } },
    status: { type: 'integer' },
  },
};
const searchJqlRequest = {
  type: 'object',
  additionalProperties: false,
  properties: {
    jql: { type: 'string' },
    nextPageToken: { type: 'string' },
    maxResults: { type: 'integer', minimum: 0 },
    fields: { type: 'array', items: { type: 'string' } },
    expand: { type: 'string' },
    properties: { type: 'array', items: { type: 'string' } },
    fieldsByKeys: { type: 'boolean' },
    failFast: { type: 'boolean' },
    reconcileIssues: { type: 'array', items: { type: 'integer' } },
  },
};
const searchJqlResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['issues', 'isLast'],
  properties: {
    issues: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string' },
          key: { type: 'string' },
          self: { type: 'string', format: 'uri' },
          fields: { type: 'object' },
          expand: { type: 'string' },
        },
      },
    },
    nextPageToken: { type: 'string' },
    isLast: { type: 'boolean' },
  },
};
type Operation = {
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
  'x-experimental'?: boolean;
};
const param = (name: string, schema: Json, required = false) => ({ name, in: 'query', required, schema });
const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
const errors = { '400': json(errorCollection), '401': json(errorCollection), '404': json(errorCollection) };
const PLATFORM: Record<string, Record<string, Operation>> = {
  '/rest/api/3/myself': {
    get: {
      parameters: [param('expand', { type: 'string' })],
      responses: { '200': json(platformUser), '401': json(errorCollection) },
    },
  },
  '/rest/api/3/user': {
    get: {
      parameters: [param('accountId', { type: 'string' }, true), param('expand', { type: 'string' })],
      responses: { '200': json(platformUser), ...errors },
    },
  },
  '/rest/api/3/user/search': {
    get: {
      parameters: [
        param('query', { type: 'string' }),
        param('accountId', { type: 'string' }),
        param('startAt', { type: 'integer' }),
        param('maxResults', { type: 'integer' }),
      ],
      responses: { '200': json({ type: 'array', items: platformUser }), ...errors },
    },
  },
  '/rest/api/3/search/jql': {
    post: { requestBody: json(searchJqlRequest), responses: { '200': json(searchJqlResponse), ...errors } },
  },
  '/rest/api/3/search': {
    get: { parameters: [param('jql', { type: 'string' })], responses: { '410': json(errorCollection) } },
    post: { responses: { '410': json(errorCollection) } },
  },
  '/rest/api/3/attachment/content/{id}': {
    get: {
      parameters: [param('redirect', { type: 'boolean' })],
      responses: { '200': {}, '303': {}, ...errors },
    },
  },
  '/rest/api/3/attachment/thumbnail/{id}': {
    get: {
      parameters: [param('redirect', { type: 'boolean' })],
      responses: { '200': {}, '303': {}, ...errors },
    },
  },
};

interface Route {
  template: string;
  method: string;
  operation: Operation;
  pattern: RegExp;
  literalSegments: number;
}
const routes: Route[] = [];
for (const [template, ops] of [...Object.entries(spec.paths), ...Object.entries(PLATFORM)] as [
  string,
  Record<string, Operation>,
][]) {
  for (const [method, operation] of Object.entries(ops)) {
    if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
    );
    routes.push({
      template,
      method: method.toUpperCase(),
      operation,
      pattern,
      literalSegments: template.split('/').filter((s) => !s.startsWith('{')).length,
    });
  }
}
// A literal segment beats a template one (`/request/{id}/approval` before `/request/{id}/{x}`).
routes.sort((a, b) => b.literalSegments - a.literalSegments);

/** Every operation the spec (and the platform additions) documents, as `METHOD /path/{template}`. */
export function documentedOperations(): string[] {
  return routes.map((r) => `${r.method} ${r.template}`);
}

/** Statuses Atlassian may answer on any operation (rate limiting, outages), documented site-wide. */
const ANY_OPERATION_STATUSES = new Set(['429', '503']);

const validators = new Map<unknown, ValidateFunction>();
function validatorFor(schema: Json): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(rewriteRefs(convert(schema)) as Json);
    validators.set(schema, v);
  }
  return v;
}
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Json).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `atlassian${v}` : rewriteRefs(v),
    ]),
  );
}
const jsonSchemaOf = (content: unknown): Json | undefined =>
  ((content as Json | undefined)?.['application/json'] as Json | undefined)?.['schema'] as Json | undefined;

/**
 * One call to check: as the portal's client saw it, or written by hand without headers. The path
 * may carry the query string, e.g. `/rest/servicedeskapi/request?start=0`.
 */
export type Exchange = Omit<ClientExchange, 'requestHeaders' | 'responseHeaders'> &
  Partial<Pick<ClientExchange, 'requestHeaders' | 'responseHeaders'>>;

export interface SpecVerdict {
  /** `GET /rest/servicedeskapi/request/{issueIdOrKey}`, or undefined when no operation matched. */
  operation?: string;
  errors: string[];
}

function checkQuery(operation: Operation, query: URLSearchParams, errors: string[]): void {
  const declared = new Map(
    (operation.parameters ?? []).filter((p) => p['in'] === 'query').map((p) => [p['name'] as string, p]),
  );
  for (const name of new Set(query.keys())) {
    const p = declared.get(name);
    if (!p) {
      errors.push(`query parameter "${name}" is not declared by the operation`);
      continue;
    }
    const schema = p['schema'] as Json;
    const values = query.getAll(name);
    if (schema['type'] !== 'array' && values.length > 1)
      errors.push(`query parameter "${name}" repeated but not an array`);
    const itemType =
      schema['type'] === 'array' ? ((schema['items'] as Json)['type'] as string) : (schema['type'] as string);
    for (const v of values) {
      if (itemType === 'integer' && !/^-?\d+$/.test(v))
        errors.push(`query parameter "${name}" must be an integer, got "${v}"`);
      if (itemType === 'boolean' && v !== 'true' && v !== 'false')
        errors.push(`query parameter "${name}" must be true or false, got "${v}"`);
    }
  }
  for (const [name, p] of declared)
    if (p['required'] === true && !query.has(name))
      errors.push(`required query parameter "${name}" is missing`);
}

/** Checks one request/response pair against the spec. Never throws; see `assertConformsToSpec`. */
export function validateAgainstSpec(exchange: Exchange): SpecVerdict {
  const [pathOnly = '', queryText = ''] = exchange.path.split('?', 2);
  const method = exchange.method.toUpperCase();
  const route = routes.find((r) => r.method === method && r.pattern.test(pathOnly));
  if (!route) return { errors: [`no operation ${method} ${pathOnly} in the Atlassian spec`] };
  const errors: string[] = [];
  const { operation } = route;
  checkQuery(operation, new URLSearchParams(queryText), errors);
  if (
    exchange.requestHeaders &&
    operation['x-experimental'] &&
    exchange.requestHeaders['x-experimentalapi']?.toLowerCase() !== 'opt-in' &&
    exchange.status !== 412
  ) {
    errors.push('experimental operation called without X-ExperimentalApi: opt-in');
  }
  const requestSchema = jsonSchemaOf((operation.requestBody as Json | undefined)?.['content']);
  if (exchange.requestBody !== undefined && requestSchema) {
    const v = validatorFor(requestSchema);
    if (!v(exchange.requestBody))
      errors.push(
        ...(v.errors ?? []).map(
          (e) => `request body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        ),
      );
  } else if (exchange.requestBody !== undefined && !operation.requestBody) {
    errors.push('request body sent to an operation that takes none');
  }
  const status = String(exchange.status);
  const experimental412 = status === '412' && operation['x-experimental'] === true;
  const response = operation.responses[status];
  if (!response && !ANY_OPERATION_STATUSES.has(status) && !experimental412) {
    errors.push(
      `status ${status} is not a documented response (documented: ${Object.keys(operation.responses).join(', ')})`,
    );
  }
  if (status === '429' && exchange.responseHeaders && !exchange.responseHeaders['retry-after'])
    errors.push('429 without Retry-After');
  const schema = response
    ? jsonSchemaOf(response['content'])
    : route.template.startsWith('/rest/api/')
      ? errorCollection
      : spec.components.schemas['ErrorResponse'];
  if (schema && Object.keys(schema).length > 0 && exchange.responseBody !== undefined) {
    const v = validatorFor(
      schema === spec.components.schemas['ErrorResponse']
        ? { $ref: '#/components/schemas/ErrorResponse' }
        : schema,
    );
    if (!v(exchange.responseBody))
      errors.push(
        ...(v.errors ?? []).map(
          (e) => `response body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        ),
      );
  }
  if (exchange.status >= 400 && route.template.startsWith('/rest/servicedeskapi/')) {
    const body = exchange.responseBody as
      | { errorMessage?: unknown; i18nErrorMessage?: { i18nKey?: unknown } }
      | undefined;
    if (typeof body?.errorMessage !== 'string' || typeof body.i18nErrorMessage?.i18nKey !== 'string')
      errors.push('error response lacks errorMessage and i18nErrorMessage.i18nKey');
  }
  if (
    exchange.status === 200 &&
    route.template.startsWith('/rest/servicedeskapi/') &&
    exchange.responseBody &&
    typeof exchange.responseBody === 'object' &&
    'values' in (exchange.responseBody as Json)
  ) {
    const p = exchange.responseBody as {
      size?: number;
      values?: unknown[];
      start?: number;
      limit?: number;
      isLastPage?: boolean;
      _links?: unknown;
    };
    for (const k of ['size', 'start', 'limit', 'isLastPage', '_links'] as const)
      if (p[k] === undefined) errors.push(`paged response lacks ${k}`);
    if (Array.isArray(p.values) && p.size !== p.values.length)
      errors.push(`paged response size ${p.size} != values.length ${p.values.length}`);
  }
  return { operation: `${method} ${route.template}`, errors };
}

export function assertConformsToSpec(exchange: Exchange): string {
  const verdict = validateAgainstSpec(exchange);
  if (verdict.errors.length > 0) {
    throw new Error(
      `${exchange.method} ${exchange.path} -> ${exchange.status} violates the Atlassian spec:\n  ${verdict.errors.join('\n  ')}`,
    );
  }
  return verdict.operation as string;
}
