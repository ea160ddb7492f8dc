import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ConfigError, type ConfigProblem, JsmSsoError } from '../errors.js';
import { GROUP_VERSION, KIND } from './crd-schema.js';
import type { JsmSsoTenant } from './tenant.generated.js';
import { validateStoredTenant, validateTenantDocument } from './validate.js';

export type { JsmSsoTenant } from './tenant.generated.js';

/** What a tenant's own Redis store is opened from: its name and uid (its keys' prefix) and spec.redis. */
export type TenantStoreFields = Pick<JsmSsoTenant, 'metadata'> & {
  spec: Pick<JsmSsoTenant['spec'], 'redis'>;
};

/**
 * Reads a JsmSsoTenant YAML file (the same document a user would `kubectl apply`), validates it as
 * the API server would and returns it with defaults applied. Throws ConfigError listing every
 * problem with its field path, or CONFIG_FILE_UNREADABLE naming the file; nothing is started on a
 * bad file.
 */
export function loadTenantFile(path: string): JsmSsoTenant {
  return parseTenant(readConfigFile(path));
}

/** A configuration file's text; CONFIG_FILE_UNREADABLE naming the file when it cannot be read. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new JsmSsoError(
      'CONFIG_FILE_UNREADABLE',
      `cannot read the tenant file ${path} (${(err as NodeJS.ErrnoException).code})`,
      { cause: err },
    );
  }
}

export function parseTenant(text: string): JsmSsoTenant {
  return checkTenant(parseOneDocument(text));
}

/** The one YAML document of `text`, as plain data; ConfigError for none, several, or a YAML error. */
export function parseOneDocument(text: string): unknown {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.length !== 1) {
    throw new ConfigError([{ path: '(file)', message: 'expected exactly one YAML document' }]);
  }
  const [document] = documents;
  if (document!.errors.length > 0) {
    throw new ConfigError(
      document!.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0]! })),
    );
  }
  return document!.toJS({ maxAliasCount: 50 });
}

/** Validates an already-parsed document (from YAML or from the API server). */
export function checkTenant(value: unknown): JsmSsoTenant {
  const problems = [...typeProblems(value), ...validateTenantDocument(value)];
  if (problems.length > 0) throw new ConfigError(problems);
  return value as JsmSsoTenant;
}

/**
 * checkTenant for an object read from the API server: fields this version does not know (a newer
 * CRD installed ahead of this operator) are pruned and returned, not refused; see validateStoredTenant.
 */
export function checkStoredTenant(value: unknown): { tenant: JsmSsoTenant; ignoredFields: string[] } {
  const { problems, ignoredFields } = validateStoredTenant(value);
  const all = [...typeProblems(value), ...problems];
  if (all.length > 0) throw new ConfigError(all);
  return { tenant: value as JsmSsoTenant, ignoredFields };
}

/** apiVersion and kind are a tenant's. */
export function typeProblems(value: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const doc = value as { apiVersion?: unknown; kind?: unknown } | null;
  if (doc?.apiVersion !== GROUP_VERSION) {
    problems.push({ path: 'apiVersion', message: `must be ${GROUP_VERSION}` });
  }
  if (doc?.kind !== KIND) problems.push({ path: 'kind', message: `must be ${KIND}` });
  return problems;
}

/** A stable identifier for logs, metrics and state keys: `namespace/name`, or `name` standalone. */
export function tenantId(tenant: Pick<JsmSsoTenant, 'metadata'>): string {
  const { name, namespace } = tenant.metadata!;
  return namespace ? `${namespace}/${name}` : name;
}
