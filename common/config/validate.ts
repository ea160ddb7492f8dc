import { isCelList, isCelMap } from '@bufbuild/cel';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type CompiledExpression, compileCel, toCel } from '../cel.js';
import { CEL_COST_LIMIT, CelBudget, CelCostError, CRD_RULE_COST_LIMIT } from '../cel-cost.js';
import { typicalClaimsProblem } from '../claim-expression.js';
import type { ConfigProblem } from '../errors.js';
import { type SchemaNode, tenantCrd } from './crd-schema.js';
import { uidProblem } from './tenant-uid.js';

/**
 * Validates a JsmSsoTenant document the way the Kubernetes API server would: structural schema
 * (types, enums, bounds, required fields, unknown fields refused as with kubectl's strict field
 * validation), defaults applied, then every x-kubernetes-validations CEL rule. Problems are
 * collected, never thrown, so a user sees all of them at once.
 */

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let validator: ValidateFunction | undefined;
let pruner: ValidateFunction | undefined;
/** Validators of a part of the schema (pod settings, spec.redis), compiled once each. */
const partValidators = new Map<SchemaNode, ValidateFunction>();

function compileStructural(schema: SchemaNode, removeUnknown = false): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, removeAdditional: removeUnknown });
  addFormats(ajv);
  ajv.addFormat('int64', true);
  return ajv.compile(closeObjects(structuredClone(schema)));
}

function structuralValidator(): ValidateFunction {
  validator ??= compileStructural(tenantCrd().schema);
  return validator;
}

/** The schema of spec.portal.pod, which spec.broker.pod shares. */
function podSettingsSchema(): SchemaNode {
  const pod = tenantCrd().schema.properties?.['spec']?.properties?.['portal']?.properties?.['pod'];
  if (!pod) throw new Error('the CRD has no spec.portal.pod');
  return pod;
}

/** spec.<part>.pod with objects closed as the validator closes them (the chart's values schema carries it). */
export function closedPodSettingsSchema(): SchemaNode {
  return closeObjects(structuredClone(podSettingsSchema()));
}

/**
 * Validates operator-wide pod defaults (the chart's tenantPodDefaults) against the same schema
 * and rules as a tenant's spec.<part>.pod; problem paths start with `path`.
 */
export function validatePodSettings(value: unknown, path: string): ConfigProblem[] {
  return validateSchemaPart(podSettingsSchema(), value, path);
}

/**
 * Validates and defaults a spec.redis alone (`jsm-sso purge` reads no other part of a tenant, ADR
 * 0434) against the same schema and rules as in a tenant; problem paths start with `path`.
 */
export function validateRedisSettings(value: unknown, path: string): ConfigProblem[] {
  const redis = tenantCrd().schema.properties?.['spec']?.properties?.['redis'];
  if (!redis) throw new Error('the CRD has no spec.redis');
  return validateSchemaPart(redis, value, path);
}

/**
 * The CRD's rules on a tenant's name, judged over the name alone: they are at the schema's root, whose
 * other rules hold for a document without spec (`!has(self.spec) || ...`).
 */
export function tenantNameProblems(name: unknown): ConfigProblem[] {
  return dedupe(celProblems(tenantCrd().schema, { metadata: { name } }, ''));
}

function validateSchemaPart(schema: SchemaNode, value: unknown, path: string): ConfigProblem[] {
  let validate = partValidators.get(schema);
  if (!validate) {
    validate = compileStructural(schema);
    partValidators.set(schema, validate);
  }
  const problems: ConfigProblem[] = [];
  if (!validate(value))
    problems.push(
      ...(validate.errors ?? []).map(toProblem).map((p) => ({
        ...p,
        path: p.path === '(document)' ? path : join(path, p.path),
      })),
    );
  problems.push(...celProblems(schema, value, path));
  return dedupe(problems);
}

/** Objects that declare properties refuse others, as the API server prunes or rejects them. */
function closeObjects(node: SchemaNode): SchemaNode {
  if (
    node.properties &&
    node.additionalProperties === undefined &&
    !node['x-kubernetes-preserve-unknown-fields']
  ) {
    node.additionalProperties = false;
  }
  for (const child of Object.values(node.properties ?? {})) closeObjects(child);
  if (node.items) closeObjects(node.items);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    closeObjects(node.additionalProperties);
  return node;
}

export interface StoredTenantValidation {
  problems: ConfigProblem[];
  /** Paths of the fields this version's schema does not know, now removed from the document. */
  ignoredFields: string[];
}

/**
 * Validates an object read from the API server. Its fields are ones the installed CRD knows (the API
 * server prunes the rest), so a field this version's schema lacks comes from a newer CRD applied
 * ahead of this code (version skew during an upgrade): it is pruned and named, as the API server
 * would with this version's CRD, instead of refused. Every known field is checked as strictly as in
 * validateTenantDocument.
 */
export function validateStoredTenant(document: unknown): StoredTenantValidation {
  const strict = structuralValidator();
  strict(structuredClone(document));
  const ignoredFields = (strict.errors ?? [])
    .filter((error) => error.keyword === 'additionalProperties')
    .map((error) => toProblem(error).path);
  if (ignoredFields.length > 0) {
    pruner ??= compileStructural(tenantCrd().schema, true);
    pruner(document);
  }
  return { problems: validateTenantDocument(document), ignoredFields };
}

/** Validates and defaults `document` in place. An empty result means it is valid. */
export function validateTenantDocument(document: unknown): ConfigProblem[] {
  const validate = structuralValidator();
  const problems: ConfigProblem[] = [];
  if (!validate(document)) problems.push(...(validate.errors ?? []).map(toProblem));
  problems.push(...celProblems(tenantCrd().schema, document, ''));
  // The name's form is a CEL rule at the root of the CRD; offline, a document may have no name at all.
  const doc = document as { metadata?: { name?: unknown; uid?: unknown } } | null;
  if (typeof doc?.metadata?.name !== 'string') {
    problems.push({ path: 'metadata.name', message: 'required: a DNS label naming the tenant' });
  }
  // The API server writes it; a file may carry it (the operator's ConfigMap, a pool bundle): it keys the store.
  if (doc?.metadata?.uid !== undefined) {
    const problem = uidProblem(doc.metadata.uid, 'metadata.uid');
    if (problem) problems.push(problem);
  }
  problems.push(...attributeMappingProblems(document as TenantLike));
  return dedupe(problems);
}

function toProblem(error: ErrorObject): ConfigProblem {
  const path = pointerToPath(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: join(path, String(error.params['additionalProperty'])), message: 'unknown field' };
    case 'required':
      return {
        path: join(path, String(error.params['missingProperty'])),
        message: 'required field is missing',
      };
    case 'enum':
      return { path, message: `must be one of: ${(error.params['allowedValues'] as unknown[]).join(', ')}` };
    default:
      return { path: path || '(document)', message: error.message ?? error.keyword };
  }
}

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : join(acc, seg)), '');
}

function join(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

/**
 * The CRD's rules, each parsed and planned once per process: a pool validates every tenant it is
 * given (thousands at start), and planning was most of a validation's cost.
 */
const compiledRules = new Map<string, CompiledExpression>();
function compiledRule(source: string): CompiledExpression {
  let compiled = compiledRules.get(source);
  if (!compiled) {
    compiled = compileCel(source);
    compiledRules.set(source, compiled);
  }
  return compiled;
}

/**
 * Walks schema and value together and evaluates each CEL rule with `self` bound to its node. The
 * value is converted to CEL once, and each node's rules get the matching node of that conversion:
 * converting per rule copied the whole tenant dozens of times and was most of a validation's cost.
 */
function celProblems(schema: SchemaNode, value: unknown, path: string): ConfigProblem[] {
  return celProblemsOf(schema, value, toCel(value), path);
}

const TOO_COSTLY_TO_JUDGE =
  'cost: judging this rule over this value passes the evaluation cost bound of a rule, so the value is refused, as the API server refuses it; the rule: ';

/** `celValue` is toCel(value), the node's own part of the one conversion. */
function celProblemsOf(schema: SchemaNode, value: unknown, celValue: unknown, path: string): ConfigProblem[] {
  if (value === undefined || value === null) return [];
  const problems: ConfigProblem[] = [];
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    let ok: unknown;
    let tooCostly = false;
    try {
      ok = compiledRule(rule.rule).onCelValues({ self: celValue }, new CelBudget(CRD_RULE_COST_LIMIT));
    } catch (err) {
      // As the API server does, a rule too costly to judge over this value refuses it.
      if (err instanceof CelCostError) tooCostly = true;
      // A rule over a structurally broken value cannot be judged; the structural problem is reported.
      else continue;
    }
    if (ok !== true) {
      // fieldPath is relative and starts with a dot (`.redis`); at the root it names `.spec...`.
      const at = rule.fieldPath ? join(path, rule.fieldPath.slice(1)) : path;
      const message = rule.message ?? `failed rule: ${rule.rule}`;
      // The rule's own message would name a fault the value may not have (two IdPs sharing a
      // domain, when none does); the API server's refusal names the cost too.
      problems.push({
        path: at || '(document)',
        message: tooCostly ? `${TOO_COSTLY_TO_JUDGE}${message}` : message,
      });
    }
  }
  if (schema.properties && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      const childValue = (value as Record<string, unknown>)[key];
      // toCel turns an object into a CEL map of its entries (whose arrays it gives as CEL lists);
      // anything else it kept as it was.
      const childCel = isCelMap(celValue) ? celValue.get(key) : toCel(childValue);
      problems.push(...celProblemsOf(child, childValue, childCel, join(path, key)));
    }
  }
  if (schema.items && Array.isArray(value)) {
    const celItem = (i: number) => (isCelList(celValue) ? celValue.get(i) : (celValue as unknown[])[i]);
    for (const [i, item] of value.entries())
      problems.push(...celProblemsOf(schema.items, item, celItem(i), `${path}[${i}]`));
  }
  return problems;
}

interface TenantLike {
  spec: {
    identityProviders: { attributeMapping?: Record<string, string>; nameId?: { expression?: string } }[];
  };
}

/**
 * The IdPs' claim expressions must compile, as the operator's ConfigValid condition also checks,
 * and must not fail on claims of their usual types (a type error found before any sign-in).
 */
function attributeMappingProblems(document: TenantLike): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const idps = document?.spec?.identityProviders;
  if (!Array.isArray(idps)) return problems;
  // One bound for all of the document's expressions, as for a sign-in's (ADR 0232).
  const budget = new CelBudget();
  idps.forEach((idp, i) => {
    if (typeof idp !== 'object' || idp === null) return;
    const expressions: [string, string | undefined][] = [
      ...Object.entries(idp.attributeMapping ?? {}).map(
        ([k, v]) => [`attributeMapping.${k}`, v] as [string, string],
      ),
      ['nameId.expression', idp.nameId?.expression],
    ];
    for (const [field, source] of expressions) {
      if (typeof source !== 'string') continue;
      const path = `spec.identityProviders[${i}].${field}`;
      const verdict = mappingVerdict(source, budget);
      if (verdict === undefined) {
        problems.push({ path, message: TOGETHER_TOO_COSTLY });
      } else if (verdict.compileError !== undefined) {
        problems.push({ path, message: `invalid CEL: ${verdict.compileError}`, code: 'MAPPING_INVALID' });
      } else if (verdict.typeProblem !== undefined) {
        problems.push({ path, message: verdict.typeProblem });
      }
    }
  });
  return problems;
}

const TOGETHER_TOO_COSTLY =
  "cost: with the IdPs' other claim expressions before it, this one passes the evaluation cost bound the tenant's expressions share over claims of their usual sizes";

interface MappingVerdict {
  compileError?: string;
  typeProblem?: string;
  /** What its evaluation over the typical claims cost (cel-cost.ts). */
  units: number;
}

/**
 * What is wrong with one claim expression, remembered by its source: the verdict depends on nothing
 * else, and a pool's tenants mostly share their mappings, so thousands of tenants compile each
 * expression once. Bounded, oldest forgotten first, since tenants choose the sources. Undefined
 * when its evaluation costs more than `budget` has left, known or found (ADR 0232).
 */
const MAPPING_VERDICTS_KEPT = 10_000;
const mappingVerdicts = new Map<string, MappingVerdict>();
function mappingVerdict(source: string, budget: CelBudget): MappingVerdict | undefined {
  let verdict = mappingVerdicts.get(source);
  if (verdict) {
    if (verdict.units > budget.left) return undefined;
    budget.left -= verdict.units;
    return verdict;
  }
  const before = budget.left;
  try {
    const typeProblem = typicalClaimsProblem(source, budget);
    // Stopped by what the document's other expressions used, not by its own bound: no verdict.
    if (budget.left <= 0 && before < CEL_COST_LIMIT) return undefined;
    verdict = { typeProblem, units: before - budget.left };
  } catch (err) {
    verdict = { compileError: (err as Error).message, units: 0 };
  }
  if (mappingVerdicts.size >= MAPPING_VERDICTS_KEPT) {
    mappingVerdicts.delete(mappingVerdicts.keys().next().value as string);
  }
  mappingVerdicts.set(source, verdict);
  return verdict;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
