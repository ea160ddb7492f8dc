// Validates Atlassian REST traffic against Atlassian's own OpenAPI specs, vendored unchanged in
// testkit/atlassian/ (see SOURCE.txt there): the Service Management API for `/rest/servicedeskapi`
// and the Jira Cloud platform API for `/rest/api/3`. No schema here is written by hand: a wrong field
// name, a wrong type, an undeclared query parameter or an undocumented status fails.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Exchange as ClientExchange } from '../portal/atlassian/http.js';

type Json = Record<string, unknown>;
type Operation = {
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
  'x-experimental'?: boolean;
};
interface OpenApi {
  paths: Record<string, Record<string, Operation | Json[]>>;
  components: { schemas: Record<string, Json> };
}
/** One vendored spec: its id in ajv, the paths it owns and how it writes an error body. */
interface Api {
  id: 'servicedeskapi' | 'platform';
  spec: OpenApi;
  prefix: string;
  /** Atlassian's error schema for this API, used where an operation documents a status but no body. */
  errorSchema: string;
}
/** A vendored spec; the 2.4 MB platform spec is kept gzipped (byte-identical once unpacked, see SOURCE.txt). */
const load = (file: string) => {
  const bytes = readFileSync(new URL(`./atlassian/${file}`, import.meta.url));
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as OpenApi;
};
const APIS: Api[] = [
  {
    id: 'servicedeskapi',
    spec: load('jsm-cloud-servicedeskapi.openapi.json'),
    prefix: '/rest/servicedeskapi/',
    errorSchema: 'ErrorResponse',
  },
  {
    id: 'platform',
    spec: load('jira-cloud-platform.openapi.json.gz'),
    prefix: '/rest/api/3/',
    errorSchema: 'ErrorCollection',
  },
];

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

/** Local `#/components/...` references point into the spec's own ajv schema. */
function rewriteRefs(node: unknown, id: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, id));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Json).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${id}${v}` : rewriteRefs(v, id),
    ]),
  );
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
addFormats.default(ajv);
for (const api of APIS)
  ajv.addSchema({ $id: api.id, components: { schemas: convert(api.spec.components.schemas) } });

/**
 * Operations the platform spec still lists (marked deprecated) that Atlassian has removed: they
 * answer 410 with an ErrorCollection (https://developer.atlassian.com/changelog/#CHANGE-2046).
 */
const REMOVED = new Set(['GET /rest/api/3/search', 'POST /rest/api/3/search']);

interface Route {
  api: Api;
  template: string;
  method: string;
  operation: Operation;
  pattern: RegExp;
  /** The template's path parameters, in the order of the pattern's groups. */
  pathParameters: string[];
  literalSegments: number;
}
const routes: Route[] = [];
for (const api of APIS) {
  for (const [template, item] of Object.entries(api.spec.paths)) {
    // Parameters may be declared once for every operation of a path.
    const shared = (Array.isArray(item['parameters']) ? item['parameters'] : []) as Json[];
    for (const [method, operation] of Object.entries(item)) {
      if (!operation || Array.isArray(operation) || !('responses' in operation)) continue;
      const pattern = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`,
      );
      routes.push({
        api,
        template,
        method: method.toUpperCase(),
        operation: { ...operation, parameters: [...shared, ...(operation.parameters ?? [])] },
        pattern,
        pathParameters: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string),
        literalSegments: template.split('/').filter((s) => !s.startsWith('{')).length,
      });
    }
  }
}
// A literal segment beats a template one (`/request/{id}/approval` before `/request/{id}/{x}`).
routes.sort((a, b) => b.literalSegments - a.literalSegments);

/** Every operation a spec documents, as `METHOD /path/{template}`. */
export function documentedOperations(api: Api['id']): string[] {
  return routes.filter((r) => r.api.id === api).map((r) => `${r.method} ${r.template}`);
}

/** The servicedeskapi operations flagged experimental: Atlassian answers them 412 without the opt-in header. */
export function experimentalOperations(): string[] {
  return routes
    .filter((r) => r.api.id === 'servicedeskapi' && r.operation['x-experimental'] === true)
    .map((r) => `${r.method} ${r.template}`);
}

/**
 * For each read (GET) of `api` answering 200 with a schema of the spec, that schema, or a page's item
 * schema for a paged answer (`values`): each property with its type (a `$ref`'s schema name), as
 * `Schema.property` -> type.
 */
export function answeredPropertyTypes(api: Api['id']): Map<string, string> {
  const { spec } = APIS.find((a) => a.id === api)!;
  const schemaName = (node: Json | undefined) =>
    String(node?.['$ref'] ?? '').replace('#/components/schemas/', '');
  const types = new Map<string, string>();
  for (const route of routes) {
    if (route.api.id !== api || route.method !== 'GET') continue;
    const content = (route.operation.responses['200']?.['content'] ?? {}) as Record<string, Json>;
    let name = schemaName(content['application/json']?.['schema'] as Json | undefined);
    const values = (spec.components.schemas[name]?.['properties'] as Record<string, Json> | undefined)?.[
      'values'
    ];
    if (values) name = schemaName(values['items'] as Json);
    const properties = (spec.components.schemas[name]?.['properties'] ?? {}) as Record<string, Json>;
    for (const [property, schema] of Object.entries(properties))
      types.set(`${name}.${property}`, String(schema['type'] ?? schemaName(schema)));
  }
  return types;
}

/** Statuses Atlassian may answer on any operation (rate limiting, outages), documented site-wide. */
const ANY_OPERATION_STATUSES = new Set(['429', '503']);

const validators = new Map<unknown, ValidateFunction>();
function validatorFor(schema: Json, api: Api): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(rewriteRefs(convert(schema), api.id) as Json);
    validators.set(schema, v);
  }
  return v;
}
const jsonSchemaOf = (content: unknown): Json | undefined =>
  ((content as Json | undefined)?.['application/json'] as Json | undefined)?.['schema'] as Json | undefined;
const errorSchemas = new Map(APIS.map((api) => [api, { $ref: `#/components/schemas/${api.errorSchema}` }]));

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

/**
 * One parameter value against its declared schema: integers and booleans by their text, an enum's
 * values, an integer's documented bounds.
 */
function checkValue(where: string, schema: Json, value: string, errors: string[]): void {
  const type = schema['type'];
  if (type === 'integer') {
    if (!/^-?\d+$/.test(value)) {
      errors.push(`${where} must be an integer, got "${value}"`);
      return;
    }
    const n = Number(value);
    if (typeof schema['minimum'] === 'number' && n < schema['minimum'])
      errors.push(`${where} is below its minimum ${schema['minimum']}, got ${value}`);
    if (typeof schema['maximum'] === 'number' && n > schema['maximum'])
      errors.push(`${where} is above its maximum ${schema['maximum']}, got ${value}`);
  }
  if (type === 'boolean' && value !== 'true' && value !== 'false')
    errors.push(`${where} must be true or false, got "${value}"`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value))
    errors.push(`${where} must be one of ${schema['enum'].join(', ')}, got "${value}"`);
}

/**
 * The values an `expand` parameter documents, where its description lists them (each in
 * backquotes: "`participant` returns the participant details"); undefined where it names none.
 */
function documentedExpands(parameter: Json): Set<string> | undefined {
  const named = [...String(parameter['description'] ?? '').matchAll(/`([A-Za-z][A-Za-z.]*)`/g)].map(
    (m) => m[1] as string,
  );
  return named.length > 0 ? new Set(named) : undefined;
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
    const itemSchema = schema['type'] === 'array' ? (schema['items'] as Json) : schema;
    for (const v of values) checkValue(`query parameter "${name}"`, itemSchema, v, errors);
    // Atlassian takes a multi-valued expand repeated or comma-separated ("Expansion").
    const expands = name === 'expand' ? documentedExpands(p) : undefined;
    for (const v of expands ? values.flatMap((v) => v.split(',')) : [])
      if (!expands?.has(v.trim())) errors.push(`expand value "${v}" is not documented by the operation`);
  }
  for (const [name, p] of declared)
    if (p['required'] === true && !query.has(name))
      errors.push(`required query parameter "${name}" is missing`);
}

/** The path's parameters against their declared schemas (an attachment id is an integer). */
function checkPath(route: Route, path: string, errors: string[]): void {
  const values = route.pattern.exec(path)?.slice(1) ?? [];
  const declared = new Map(
    (route.operation.parameters ?? [])
      .filter((p) => p['in'] === 'path')
      .map((p) => [p['name'] as string, p['schema'] as Json]),
  );
  route.pathParameters.forEach((name, i) => {
    const schema = declared.get(name);
    if (schema) checkValue(`path parameter "${name}"`, schema, decodeURIComponent(values[i] ?? ''), errors);
  });
}

/**
 * Operations that take multipart/form-data are behind Atlassian's XSRF check: the servicedeskapi's
 * "Special headers" ("must include the `X-Atlassian-Token: no-check` header ... Otherwise the
 * request will be blocked"), and the platform's attachment upload says the same.
 */
const takesMultipart = (operation: Operation) =>
  Object.keys(((operation.requestBody as Json | undefined)?.['content'] as Json | undefined) ?? {}).includes(
    'multipart/form-data',
  );

/**
 * Links Atlassian hands out in its answers and the portal follows as given (GET, streamed), which the
 * vendored revisions do not document as operations: an article's `content.iframeSrc` (the article
 * view, in a later servicedeskapi revision: SOURCE.txt) and a request type icon's
 * `_links.iconUrls` (Jira's v2 avatar viewer, whose documented `type` does not list SD_REQTYPE).
 */
const HANDED_OUT_LINKS = [
  /^\/rest\/servicedeskapi\/knowledgebase\/article\/view\/[0-9]+$/,
  /^\/rest\/api\/2\/universal_avatar\/view\/type\/SD_REQTYPE\/avatar\/[0-9]+$/,
];

/** Checks one request/response pair against the spec. Never throws; see `assertConformsToSpec`. */
export function validateAgainstSpec(exchange: Exchange): SpecVerdict {
  const [pathOnly = '', queryText = ''] = exchange.path.split('?', 2);
  const method = exchange.method.toUpperCase();
  if (method === 'GET' && HANDED_OUT_LINKS.some((link) => link.test(pathOnly)))
    return { operation: `GET ${pathOnly} (a link Atlassian handed out)`, errors: [] };
  const route = routes.find((r) => r.method === method && r.pattern.test(pathOnly));
  if (!route) return { errors: [`no operation ${method} ${pathOnly} in the Atlassian specs`] };
  const errors: string[] = [];
  const { operation } = route;
  checkPath(route, pathOnly, errors);
  checkQuery(operation, new URLSearchParams(queryText), errors);
  if (
    exchange.requestHeaders &&
    takesMultipart(operation) &&
    exchange.requestHeaders['x-atlassian-token']?.toLowerCase() !== 'no-check'
  )
    errors.push('multipart operation called without X-Atlassian-Token: no-check');
  // The opt-in header is the servicedeskapi's rule (its x-atlassian-narrative); the platform spec
  // flags operations experimental without asking for any header.
  const needsOptIn = operation['x-experimental'] === true && route.api.id === 'servicedeskapi';
  if (
    exchange.requestHeaders &&
    needsOptIn &&
    exchange.requestHeaders['x-experimentalapi']?.toLowerCase() !== 'opt-in' &&
    exchange.status !== 412
  ) {
    errors.push('experimental operation called without X-ExperimentalApi: opt-in');
  }
  const requestSchema = jsonSchemaOf((operation.requestBody as Json | undefined)?.['content']);
  if (exchange.requestBody !== undefined && requestSchema) {
    const v = validatorFor(requestSchema, route.api);
    if (!v(exchange.requestBody))
      errors.push(
        ...(v.errors ?? []).map(
          (e) => `request body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        ),
      );
  } else if (exchange.requestBody !== undefined && !operation.requestBody) {
    errors.push('request body sent to an operation that takes none');
  } else if (
    exchange.requestHeaders &&
    exchange.requestBody === undefined &&
    requestSchema &&
    (operation.requestBody as Json)['required'] === true &&
    !takesMultipart(operation) &&
    !REMOVED.has(`${method} ${route.template}`)
  ) {
    // A recorded call (it has its headers) that sent no JSON where the operation requires one.
    errors.push('no request body sent to an operation that requires one');
  }
  const status = String(exchange.status);
  const experimental412 = status === '412' && needsOptIn;
  const removed410 = status === '410' && REMOVED.has(`${method} ${route.template}`);
  const response = operation.responses[status];
  if (!response && !ANY_OPERATION_STATUSES.has(status) && !experimental412 && !removed410) {
    errors.push(
      `status ${status} is not a documented response (documented: ${Object.keys(operation.responses).join(', ')})`,
    );
  }
  if (status === '429' && exchange.responseHeaders && !exchange.responseHeaders['retry-after'])
    errors.push('429 without Retry-After');
  // A documented body, else for an error Atlassian's own error schema of that API.
  const schema =
    jsonSchemaOf(response?.['content']) ?? (exchange.status >= 400 ? errorSchemas.get(route.api) : undefined);
  if (schema && Object.keys(schema).length > 0 && exchange.responseBody !== undefined) {
    const v = validatorFor(schema, route.api);
    if (!v(exchange.responseBody))
      errors.push(
        ...(v.errors ?? []).map(
          (e) => `response body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        ),
      );
  }
  if (exchange.status >= 400 && route.api.id === 'servicedeskapi') {
    const body = exchange.responseBody as
      | { errorMessage?: unknown; i18nErrorMessage?: { i18nKey?: unknown } }
      | undefined;
    if (typeof body?.errorMessage !== 'string' || typeof body.i18nErrorMessage?.i18nKey !== 'string')
      errors.push('error response lacks errorMessage and i18nErrorMessage.i18nKey');
  }
  if (
    exchange.status === 200 &&
    route.api.id === 'servicedeskapi' &&
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
