import { celEnv, isCelError, isCelList, isCelMap, isCelUint, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import {
  type CelBudget,
  flatConcatenation,
  instrument,
  metered,
  meteredEnv,
  stringKeyedMap,
} from './cel-cost.js';
import { bracketDepth, MOST_NESTED_BRACKETS } from './cel-nesting.js';

/**
 * CEL, the Kubernetes-native expression language, for the tenant's own rules: the CRD's
 * x-kubernetes-validations and each IdP's attribute mapping. CEL has no loops, I/O or recursion,
 * but an expression can still cost far more than its input (a chain of `replace`, nested
 * comprehensions): every evaluation is metered and stopped at a bound (cel-cost.ts, ADR 0232).
 */

const ENV = meteredEnv(celEnv({ funcs: [...strings, flatConcatenation] }));

export type CelBindings = Record<string, unknown>;
/** `budget`: units shared with other evaluations (cel-cost.ts); alone, it has the whole bound. */
export interface CompiledExpression {
  (bindings: CelBindings, budget?: CelBudget): unknown;
  /**
   * The same evaluation over bindings toCel has already converted: a caller that evaluates many
   * expressions over one value (the CRD's rules over a tenant) converts it once, not per expression.
   */
  onCelValues(celBindings: CelBindings, budget?: CelBudget): unknown;
}

export class CelCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelCompileError';
  }
}

/**
 * The parser, given only what it parses in bounded time (cel-nesting.ts): an expression nested
 * deeper is refused before it runs, with a message that says why.
 */
function parseCel(source: string): ReturnType<typeof parse> {
  const depth = bracketDepth(source);
  if (depth > MOST_NESTED_BRACKETS)
    throw new CelCompileError(
      `brackets nested ${depth} deep; an expression may nest at most ${MOST_NESTED_BRACKETS}`,
    );
  return parse(source);
}

/**
 * Parses and plans `source` once; the result evaluates it many times. Throws CelCompileError; an
 * evaluation throws CelCostError (cel-cost.ts) when it passes its cost bound.
 */
export function compileCel(source: string): CompiledExpression {
  return compileCelReading(source).evaluate;
}

/**
 * compileCel, and the fields of `variable` the expression reads directly (`claims.email`,
 * `claims['email']`, `has(claims.email)`) from the same parse: lets a caller tell "a claim it reads
 * is absent" from "the values it got have the wrong type" without reading the evaluator's messages.
 */
export function compileCelReading(
  source: string,
  variable?: string,
): { evaluate: CompiledExpression; reads: string[] } {
  let evaluate: (bindings: Record<string, unknown>) => unknown;
  let nodes: number;
  let reads: string[] = [];
  try {
    const parsed = parseCel(source);
    // Read before instrument() rewrites the tree for the meter.
    if (variable !== undefined && parsed.expr) reads = fieldsIn(parsed.expr, variable);
    nodes = parsed.expr ? instrument(parsed.expr) : 1;
    // biome-ignore lint/suspicious/noExplicitAny: the evaluator's binding type is a wide union.
    evaluate = plan(ENV, parsed) as (bindings: any) => unknown;
  } catch (err) {
    throw new CelCompileError(firstLine(err));
  }
  const onCelValues = (celBindings: CelBindings, budget?: CelBudget) =>
    metered(
      nodes,
      () => evaluate(celBindings),
      (result) => {
        if (isCelError(result)) throw new Error(firstLine(result));
        return fromCel(result);
      },
      budget,
    );
  const compiled = (bindings: CelBindings, budget?: CelBudget) => {
    const celBindings: CelBindings = {};
    for (const [name, value] of Object.entries(bindings)) celBindings[name] = toCel(value);
    return onCelValues(celBindings, budget);
  };
  return { evaluate: Object.assign(compiled, { onCelValues }), reads };
}

function fieldsIn(expr: unknown, variable: string): string[] {
  const fields = new Set<string>();
  const isVariable = (node: unknown) => {
    const kind = (node as AstNode | undefined)?.exprKind;
    return kind?.case === 'identExpr' && (kind.value as { name?: string }).name === variable;
  };
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const kind = (node as AstNode).exprKind;
    if (kind?.case === 'selectExpr') {
      const select = kind.value as { operand?: unknown; field?: string };
      if (isVariable(select.operand) && select.field) fields.add(select.field);
    }
    if (kind?.case === 'callExpr') {
      const call = kind.value as { function?: string; args?: AstNode[] };
      const key = call.args?.[1]?.exprKind;
      if (call.function === '_[_]' && isVariable(call.args?.[0]) && key?.case === 'constExpr') {
        const constant = (key.value as { constantKind?: { case?: string; value?: unknown } }).constantKind;
        if (constant?.case === 'stringValue') fields.add(String(constant.value));
      }
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(expr);
  return [...fields];
}

interface AstNode {
  exprKind?: { case?: string; value?: unknown };
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0] ?? 'invalid expression';
}

/** Plain JSON-like JS (objects, arrays, numbers) into CEL values; whole numbers become CEL ints. */
export function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return stringKeyedMap(new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)])));
  }
  return value;
}

/** CEL results back into plain JS: lists into arrays, maps into objects, ints into numbers. */
export function fromCel(value: unknown): unknown {
  if (isCelList(value)) return [...value].map(fromCel);
  if (isCelMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.entries()) out[String(fromCel(k))] = fromCel(v);
    return out;
  }
  if (isCelUint(value)) return Number(value.value);
  if (typeof value === 'bigint') return Number(value);
  return value;
}
