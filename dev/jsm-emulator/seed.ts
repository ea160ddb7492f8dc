// The seed file: what an emulated Atlassian site holds at start. Parsed and checked once, at the
// edge; every problem is reported with its YAML path (`requests[3].reporter: unknown user "zed"`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../../common/errors.js';
import { packageRoot } from '../../common/paths.js';
import { FIELD_KINDS, type FieldKind } from './fields.js';
import { STATUSES } from './workflow.js';

export interface SeedUser {
  key: string;
  kind: 'agent' | 'customer';
  email: string;
  displayName: string;
  accountId?: string;
  apiToken?: string;
  organizations?: string[];
  active?: boolean;
  timeZone?: string;
}
export interface SeedOrganization {
  key: string;
  name: string;
  id?: string;
}
export interface SeedOption {
  value: string;
  id?: string;
  children?: SeedOption[];
}
export interface SeedField {
  fieldId?: string;
  name: string;
  kind: FieldKind;
  required?: boolean;
  description?: string;
  options?: SeedOption[];
}
export interface SeedRequestType {
  id?: string;
  name: string;
  description?: string;
  helpText?: string;
  groups?: string[];
  approvers?: string[];
  fields: SeedField[];
}
export interface SeedServiceDesk {
  projectKey: string;
  name: string;
  id?: string;
  projectId?: string;
  organizations?: string[];
  customers?: string[];
  requestTypeGroups: string[];
  requestTypes: SeedRequestType[];
}
export interface SeedComment {
  author: string;
  body: string;
  public?: boolean;
  created?: string;
  /** Files added with the comment (by its author); internal with an internal comment. */
  attachments?: Omit<SeedAttachment, 'author' | 'public'>[];
}
export interface SeedAttachment {
  filename: string;
  mimeType?: string;
  content: string;
  author?: string;
  /** A file of the request's own (no comment) an agent added as internal: false. */
  public?: boolean;
}
export interface SeedApproval {
  name?: string;
  approvers: string[];
  decisions?: Record<string, 'approved' | 'declined'>;
}
export interface SeedRequest {
  serviceDesk: string;
  requestType: string;
  reporter: string;
  summary: string;
  description?: string;
  fields?: Record<string, unknown>;
  participants?: string[];
  organizations?: string[];
  status?: string;
  created?: string;
  comments?: SeedComment[];
  attachments?: SeedAttachment[];
  approvals?: SeedApproval[];
}
export interface SeedArticle {
  title: string;
  excerpt: string;
  body?: string;
  serviceDesk: string;
}
export interface Seed {
  users: SeedUser[];
  organizations?: SeedOrganization[];
  serviceDesks: SeedServiceDesk[];
  requests?: SeedRequest[];
  articles?: SeedArticle[];
}

const str = { type: 'string', minLength: 1 } as const;
const strList = { type: 'array', items: str } as const;
const attachment = (properties: Record<string, unknown> = {}) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['filename', 'content'],
    properties: { filename: str, mimeType: str, content: { type: 'string' }, ...properties },
  }) as const;
const option: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['value'],
  properties: {
    value: str,
    id: { type: 'string', pattern: '^[0-9]+$' },
    children: { type: 'array', items: { $ref: '#/$defs/option' } },
  },
};

/** JSON schema of the seed document (checked with ajv before the cross references). */
export const SEED_SCHEMA = {
  $defs: { option },
  type: 'object',
  additionalProperties: false,
  required: ['users', 'serviceDesks'],
  properties: {
    users: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'kind', 'email', 'displayName'],
        properties: {
          key: str,
          kind: { enum: ['agent', 'customer'] },
          email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
          displayName: str,
          accountId: str,
          apiToken: str,
          organizations: strList,
          active: { type: 'boolean' },
          timeZone: str,
        },
      },
    },
    organizations: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'name'],
        properties: { key: str, name: str, id: { type: 'string', pattern: '^[0-9]+$' } },
      },
    },
    serviceDesks: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['projectKey', 'name', 'requestTypeGroups', 'requestTypes'],
        properties: {
          projectKey: { type: 'string', pattern: '^[A-Z][A-Z0-9]{1,9}$' },
          name: str,
          id: { type: 'string', pattern: '^[0-9]+$' },
          projectId: { type: 'string', pattern: '^[0-9]+$' },
          organizations: strList,
          customers: strList,
          requestTypeGroups: strList,
          requestTypes: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'fields'],
              properties: {
                id: { type: 'string', pattern: '^[0-9]+$' },
                name: str,
                description: { type: 'string' },
                helpText: { type: 'string' },
                groups: strList,
                approvers: strList,
                fields: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['name', 'kind'],
                    properties: {
                      fieldId: {
                        type: 'string',
                        pattern: '^(summary|description|duedate|labels|attachment|customfield_[0-9]+)$',
                      },
                      name: str,
                      kind: { enum: [...FIELD_KINDS] },
                      required: { type: 'boolean' },
                      description: { type: 'string' },
                      options: { type: 'array', items: { $ref: '#/$defs/option' } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    requests: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['serviceDesk', 'requestType', 'reporter', 'summary'],
        properties: {
          serviceDesk: str,
          requestType: str,
          reporter: str,
          summary: str,
          description: { type: 'string' },
          fields: { type: 'object' },
          participants: strList,
          organizations: strList,
          status: { enum: STATUSES.map((s) => s.name) },
          created: { type: 'string', format: 'date-time' },
          comments: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['author', 'body'],
              properties: {
                author: str,
                body: str,
                public: { type: 'boolean' },
                created: { type: 'string', format: 'date-time' },
                attachments: { type: 'array', items: attachment() },
              },
            },
          },
          attachments: { type: 'array', items: attachment({ author: str, public: { type: 'boolean' } }) },
          approvals: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['approvers'],
              properties: {
                name: str,
                approvers: { ...strList, minItems: 1 },
                decisions: { type: 'object', additionalProperties: { enum: ['approved', 'declined'] } },
              },
            },
          },
        },
      },
    },
    articles: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'excerpt', 'serviceDesk'],
        properties: { title: str, excerpt: str, body: { type: 'string' }, serviceDesk: str },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/);
const validateShape = ajv.compile(SEED_SCHEMA);

/** `/requests/3/reporter` -> `requests[3].reporter` */
export function yamlPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out === '' ? '(document)' : out;
}

function describe(error: ErrorObject): ConfigProblem {
  const base = yamlPath(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { path: base === '(document)' ? extra : `${base}.${extra}`, message: 'unknown property' };
  }
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { path: base === '(document)' ? missing : `${base}.${missing}`, message: 'is required' };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return { path: base, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path: base, message: error.message ?? 'is invalid' };
}

/** What the command line calls a seed with problems ("... is invalid"). */
export const SEED_SUBJECT = 'the JSM emulator seed';

/** Checks the shape of a parsed seed document; returns it typed or throws ConfigError. */
export function checkSeedShape(document: unknown): Seed {
  if (validateShape(document)) return document as unknown as Seed;
  const problems = (validateShape.errors ?? []).map(describe);
  throw new ConfigError(
    problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i),
    SEED_SUBJECT,
  );
}

/** Parses YAML text; syntax errors come back with line and column. */
export function parseSeed(text: string, source = 'seed'): Seed {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: `${source}:${(e.linePos?.[0]?.line ?? 0).toString()}`,
        message: e.message.split('\n')[0] ?? 'YAML error',
      })),
      SEED_SUBJECT,
    );
  }
  return checkSeedShape(doc.toJS());
}

export function loadSeedFile(file: string): Seed {
  return parseSeed(readFileSync(file, 'utf8'), file);
}

// Resolved from the package root: the compiled emulator in dist/ has no copy of the YAML beside it.
export const DEFAULT_SEED_FILE = join(packageRoot(), 'dev', 'jsm-emulator', 'default-seed.yaml');

export function loadDefaultSeed(): Seed {
  return parseSeed(readFileSync(DEFAULT_SEED_FILE, 'utf8'), 'default-seed.yaml');
}
