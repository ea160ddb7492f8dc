import { stringify } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { GROUP_VERSION, KIND } from './crd-schema.js';
import { type JsmSsoTenant, parseOneDocument, readConfigFile, typeProblems } from './load.js';
import { uidProblem } from './tenant-uid.js';
import { tenantNameProblems, validateRedisSettings } from './validate.js';

/**
 * What `jsm-sso purge` reads of a tenant (ADR 0434): its name, namespace and uid, which name its keys,
 * and its spec.redis, which reaches them. Nothing else: the rest of a tenant (inline IdP metadata,
 * texts, mappings) can pass the 256 KiB a pod's annotations may hold, and the purge Job carries this
 * in one (operator/resources/purge-job.ts), bounded by the fields' own bounds to a few KiB.
 */
export interface PurgeDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
  spec: Pick<JsmSsoTenant['spec'], 'redis'>;
}

/** The purge document of a tenant, or of any document shaped as one (a whole tenant's YAML). */
export function purgeDocument(tenant: {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown };
  spec?: { redis?: unknown };
}): PurgeDocument {
  const { name, namespace, uid } = tenant.metadata ?? {};
  const document = {
    apiVersion: tenant.apiVersion ?? GROUP_VERSION,
    kind: tenant.kind ?? KIND,
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(uid !== undefined ? { uid } : {}),
    },
    spec: tenant.spec?.redis !== undefined ? { redis: tenant.spec.redis } : {},
  };
  return document as PurgeDocument;
}

/** As the Job's pod reads it. */
export function purgeDocumentYaml(tenant: JsmSsoTenant): string {
  return stringify(purgeDocument(tenant), { sortMapEntries: true });
}

/**
 * Reads the purge document of a tenant file: a whole tenant (`kubectl get -o yaml`, the parts'
 * document) or the purge Job's. Only what purge reads is validated, with spec.redis's defaults applied;
 * the rest of a whole tenant is ignored. ConfigError listing the problems, or CONFIG_FILE_UNREADABLE.
 */
export function loadPurgeDocument(path: string): PurgeDocument {
  const value = parseOneDocument(readConfigFile(path));
  const document = purgeDocument(typeof value === 'object' && value !== null ? value : {});
  // The file's own apiVersion and kind, not the projection's (which fills them in for the operator's
  // object): a document that does not say it is a tenant is refused, as before ADR 0434.
  const problems: ConfigProblem[] = [...typeProblems(value)];
  const { name, namespace, uid } = document.metadata as Record<string, unknown>;
  // The name is in every key's prefix: one the API server would refuse could name another tenant's keys.
  if (typeof name !== 'string')
    problems.push({ path: 'metadata.name', message: 'required: a DNS label naming the tenant' });
  else problems.push(...tenantNameProblems(name));
  if (namespace !== undefined && typeof namespace !== 'string')
    problems.push({ path: 'metadata.namespace', message: 'must be a string' });
  if (uid !== undefined) {
    const problem = uidProblem(uid, 'metadata.uid');
    if (problem) problems.push(problem);
  }
  if (document.spec.redis !== undefined)
    problems.push(...validateRedisSettings(document.spec.redis, 'spec.redis'));
  if (problems.length > 0) throw new ConfigError(problems);
  return document;
}
