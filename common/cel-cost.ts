import {
  type CelEnv,
  type CelList,
  type CelMap,
  type CelResult,
  CelScalar,
  type CelValue,
  celFunc,
  celList,
  celMap,
  isCelError,
  isCelList,
  isCelMap,
  isCelUint,
  listType,
  type parse,
} from '@bufbuild/cel';

/**
 * The cost bound of one CEL evaluation (ADR 0232). CEL has no loops, but it is not cheap by
 * construction: `replace` and `+` grow a string at every step of a chain, comprehensions nest over
 * lists that `split` makes from a claim, and the evaluator materialises every list it iterates.
 * A tenant writes its own attribute mapping and a pool's processes evaluate it on the event loop
 * every tenant shares, so each evaluation is metered and stopped, like Kubernetes' runtime cost
 * limit for CRD validation rules (cel-go's CostTracker), when it passes CEL_COST_LIMIT units:
 *
 * - every node of the syntax tree evaluated: 1 (the whole tree once, a comprehension's condition
 *   and step once per iteration: an upper bound, since a branch not taken is counted too);
 * - a comprehension: the size of the list or map it iterates, before the evaluator copies it;
 * - a function call: 1, plus the size of its operands (a character, an element or a map entry
 *   each), plus the size of a string or list it returns; a substring search (`contains`,
 *   `indexOf`, `split`, `replace`, ...) the product of the two lengths, its worst case; `matches`
 *   the program its pattern can compile to, ten times and once per character of the text (RE2 is
 *   linear in both), a pattern that can compile past REGEX_PROGRAM_LIMIT refused outright;
 *   `replace` and `join` are charged the largest result they can make before they are called, so a
 *   single call cannot build what the bound forbids. `size` and a map's `in` cost what they cost
 *   here: a constant or the string it counts, or the key. Work an operand does not show is charged
 *   as measured: a Unicode class in a pattern, `format`'s `%f`, a timestamp's fields in a time
 *   zone, a timestamp or duration (MESSAGE_UNITS); a map made from JSON looks an int key up
 *   without the evaluator's scan of its keys (StringKeyedMap).
 *
 * Lists are kept flat, so iterating one costs its size: the evaluator's own concatenation is a view
 * over its operands, and a list built by a thousand of them (every `map` and `filter` appends so)
 * takes a thousand steps per element to iterate, which no count of operands sees. So `+` of two
 * lists copies both (charged their sizes), and the step of `map` and `filter` appends in place to
 * the accumulator only that comprehension can name (instrument(); 1 per element).
 *
 * The units are deterministic (the same expression over the same claims always passes or always
 * fails, under any load), unlike a deadline. 1,000,000 units take about 0.1 s on one core of the
 * test machine in the worst shapes measured (test/common/cel-cost.test.ts).
 */
export const CEL_COST_LIMIT = 1_000_000;

export class CelCostError extends Error {
  constructor() {
    super(`the expression's evaluation cost passed its bound of ${CEL_COST_LIMIT} units`);
    this.name = 'CelCostError';
  }
}

/**
 * Units several evaluations share, as Kubernetes bounds all the rules over one object together:
 * a sign-in's mapping expressions (up to 31 an IdP), a tenant document's checks (up to 155). Each
 * evaluation may use what is left of it, at most `perCall`.
 */
export class CelBudget {
  /** The most one evaluation drawing on it may use. */
  readonly perCall: number;
  left: number;
  constructor(perCall = CEL_COST_LIMIT) {
    this.perCall = perCall;
    this.left = perCall;
  }
}

/**
 * The bound of one evaluation of a CRD validation rule (x-kubernetes-validations). The API server's
 * is 1,000,000 of cel-go's units, in which a character a string function walks costs 0.1 (its
 * StringTraversalCostFactor) where it costs 1 here, so the rules, which mostly compare strings,
 * were refused over values the API server admits: five IdPs of 30 wildcard e-mail domains of 20
 * characters (4.9 million units here) or 50 (8.6 million), admitted by kube-apiserver, which refuses
 * 100 (14.9 million). Ten times CEL_COST_LIMIT judges those as it does. The CRD's own bounds
 * (maxItems, maxLength) keep the rules short: its costliest value, 30 domains of 253 characters an
 * IdP, takes 34 million units and 54 ms to judge whole, so the bound only stops values the CRD
 * refuses anyway, judged offline (ADR 0251).
 */
export const CRD_RULE_COST_LIMIT = 10 * CEL_COST_LIMIT;

/** The meter of the evaluation under way: evaluation is synchronous, so one at a time. */
let unitsLeft = Number.POSITIVE_INFINITY;

/** Stops the evaluation under way when `units` more pass the bound. */
function charge(units: number): void {
  unitsLeft -= units;
  // Thrown, not returned as a CEL error: `||` and `&&` absorb errors, and evaluation must stop.
  if (unitsLeft < 0) throw new CelCostError();
}

/**
 * Runs `evaluate` under a fresh meter, `staticUnits` charged first, drawing on `budget` when given.
 * The evaluator turns anything thrown into a CEL error value, so the meter, not the value, says
 * the bound was passed.
 */
export function metered<T>(
  staticUnits: number,
  evaluate: () => T,
  convert: (result: T) => unknown,
  budget: CelBudget | undefined,
): unknown {
  const outer = unitsLeft;
  const limit = budget ? Math.min(budget.perCall, budget.left) : CEL_COST_LIMIT;
  unitsLeft = limit;
  try {
    charge(staticUnits);
    const result = evaluate();
    if (unitsLeft < 0) throw new CelCostError();
    // What the expression returns is copied into plain JS: a list built by doubling is large.
    if (!isCelError(result)) charge(sizeOf(result, unitsLeft));
    return convert(result);
  } finally {
    if (budget) budget.left -= limit - Math.max(0, unitsLeft);
    unitsLeft = outer;
  }
}

/**
 * A value's size (a character, an element, a map entry each, nested values included), counted no
 * further than `limit`: one past it means "too large", and a list shared many times over in a
 * value is never walked in full.
 */
function sizeOf(value: unknown, limit: number): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    size += 1;
    if (typeof next === 'string' || next instanceof Uint8Array) size += next.length;
    else if (isMessage(next)) size += MESSAGE_UNITS;
    else if (isCelList(next)) {
      for (const element of next) {
        pending.push(element);
        if (size + pending.length > limit) return limit + 1;
      }
    } else if (isCelMap(next)) {
      for (const [key, element] of next.entries()) {
        pending.push(key, element);
        if (size + pending.length > limit) return limit + 1;
      }
    }
    if (size > limit) return limit + 1;
  }
  return size;
}

/**
 * A timestamp or a duration (a protobuf message: the only other objects a value here can be, with
 * a type): each is made, read and compared through the message's reflection, 1–3 µs a call where
 * it was charged a unit, so `duration('1.5h') > duration('0s')` per element of a claim held the loop
 * 250 ms within the bound. 50 units where it is an operand or a result.
 */
const MESSAGE_UNITS = 50;

function isMessage(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !isCelList(value) &&
    !isCelMap(value) &&
    !isCelUint(value)
  );
}

function lengthOf(value: unknown): number {
  return typeof value === 'string' || value instanceof Uint8Array ? value.length : 0;
}

/** Functions whose work is a search of one string in another: the product is their worst case. */
const SEARCHES = new Set(['contains', 'indexOf', 'lastIndexOf', 'split', 'replace']);

/**
 * The most instructions a `matches` pattern may compile to. RE2 compiles a counted repetition
 * (`x{1000}`) into copies of its operand, up to 3.3 million instructions, about 250 ns and 400
 * bytes each: one 908-character pattern took 226 ms and 440 MiB. 50,000 bounds one compile at
 * about 12 ms and 20 MiB.
 */
const REGEX_PROGRAM_LIMIT = 50_000;

/**
 * What a Unicode class (`\pL`, `\p{Lu}`, `[^\pN]`) weighs in a pattern's program: RE2 builds it
 * from the Unicode tables at each compile, 4–60 µs (`[\pL\pN]`), where its three characters were
 * charged 30 units: 320 of them in one 1,000-character pattern, compiled per element of a claim,
 * held the loop 560 ms within the bound. Counted as 100 instructions, it costs 1,000 units to
 * compile.
 */
const UNICODE_CLASS_INSTRUCTIONS = 100;

/**
 * An upper bound of what `pattern` compiles to: its length (a Unicode class weighed as
 * UNICODE_CLASS_INSTRUCTIONS) times every count it repeats by (each counted repetition taken as
 * nested in all the others, which can only overestimate).
 */
function regexProgramBound(pattern: string): number {
  const unicodeClasses = pattern.match(/\\[pP]/g)?.length ?? 0;
  let bound = Math.max(1, pattern.length + UNICODE_CLASS_INSTRUCTIONS * unicodeClasses);
  for (const [, least, most] of pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
    bound *= Math.max(1, Number(most || least) + (most === '' ? 1 : 0));
    if (bound > REGEX_PROGRAM_LIMIT) return Number.POSITIVE_INFINITY;
  }
  return bound;
}

/**
 * `matches`: RE2 compiles the pattern at each call (about 400 ns a character of a plain pattern:
 * 10 units), then runs the text against its program, linear in both (a pattern whose DFA
 * overflows, `(a|b)*a(a|b){20}c` over 10,000 characters, ran 18 ns per character and instruction).
 */
function regexCost(text: string, pattern: string): number {
  return regexProgramBound(pattern) * (10 + text.length);
}

/** What a call costs before it is made: its operands, and for a builder the result it can make. */
function costBefore(name: string, target: CelValue | undefined, args: CelValue[]): number {
  // `size` of a string counts its code points: a walk of the string, not a constant.
  if (name === 'size') {
    const sized = target ?? args[0];
    return 1 + (typeof sized === 'string' ? sized.length : 0);
  }
  if (name === '_+_' && isCelList(args[0]) && isCelList(args[1])) return 1 + args[0].size + args[1].size;
  if (name === '@in' && isCelMap(args[1])) return 1 + sizeOf(args[0], unitsLeft);
  let units = 1;
  for (const operand of target === undefined ? args : [target, ...args]) {
    units += sizeOf(operand, unitsLeft);
    if (units > unitsLeft) return units;
  }
  if (name === 'matches' && typeof target === 'string' && typeof args[0] === 'string') {
    units += regexCost(target, args[0]);
  }
  if (SEARCHES.has(name) && target !== undefined) {
    units += lengthOf(target) * Math.max(1, lengthOf(args[0]));
  }
  if (name === 'replace' && typeof target === 'string') units += replacedLength(target, args);
  if (name === 'join' && isCelList(target)) {
    units += Number(target.size) * lengthOf(args[0]);
  }
  if (name === 'format' && typeof target === 'string') units += FIXED_POINT_UNITS * fixedPointClauses(target);
  if (ZONED.has(name) && typeof args[0] === 'string') units += TIME_ZONE_UNITS;
  return units;
}

/**
 * `format`'s `%f` (`%.2f`) builds an `Intl.NumberFormat` at each clause, about 22 µs, where the
 * call was charged a few units: `'%.2f'.format([x])` per element of a claim held the loop 750 ms
 * within the bound. 1,000 units a clause.
 */
const FIXED_POINT_UNITS = 1_000;

/** The `%f` clauses of a format string, read as `format` reads them (`%%` is a literal). */
function fixedPointClauses(format: string): number {
  let clauses = 0;
  for (const [, clause] of format.matchAll(/%(?:%|(?:\.\d*)?(.))/gs)) if (clause === 'f') clauses += 1;
  return clauses;
}

/**
 * A timestamp's fields in a time zone (`t.getHours('Europe/London')`) build an
 * `Intl.DateTimeFormat` at each call, about 50 µs, where the call was charged a few units: per
 * element of a claim, it held the loop 870 ms within the bound. 2,000 units a call (a fixed offset,
 * `'+01:00'`, costs less and is charged alike).
 */
const TIME_ZONE_UNITS = 2_000;
const ZONED = new Set([
  'getFullYear',
  'getMonth',
  'getDate',
  'getDayOfMonth',
  'getDayOfWeek',
  'getDayOfYear',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
]);

/** The longest string `replace(old, new[, n])` can return on `text`. */
function replacedLength(text: string, args: CelValue[]): number {
  const old = lengthOf(args[0]);
  const grows = Math.max(0, lengthOf(args[1]) - old);
  let times = old === 0 ? text.length + 1 : Math.floor(text.length / old);
  if (typeof args[2] === 'bigint' && args[2] >= 0n) times = Math.min(times, Number(args[2]));
  return text.length + times * grows;
}

/**
 * What a call's result costs: a string or list it built (a list's `+` was charged before), a
 * timestamp or duration.
 */
function costAfter(name: string, result: CelResult | undefined): number {
  if (typeof result === 'string' || result instanceof Uint8Array) return result.length;
  if (isCelList(result) && name !== '_+_') return Number(result.size);
  return isMessage(result) ? MESSAGE_UNITS : 0;
}

/**
 * The evaluator's map (`celMap`) looks an int key up by a scan of all its keys when the key is not
 * found directly (in case one is a uint): `claims.many[1]`, `1 in claims.many` cost one unit and
 * walked every claim the IdP sent (10,000 lookups over 100,000 claims: 1.7 s). A map converted
 * from JSON (claims, a tenant document) has only string keys, so any other key is absent: this one
 * says so at once.
 */
const NativeMap = celMap(new Map()).constructor as new (entries: Map<string, unknown>) => CelMap;
class StringKeyedMap extends NativeMap {
  override get(key: Parameters<CelMap['get']>[0]): CelValue | undefined {
    return typeof key === 'string' ? super.get(key) : undefined;
  }
}

/** A CEL map over `entries`, all of whose keys are strings (toCel of a JSON object). */
export function stringKeyedMap(entries: Map<string, unknown>): CelMap {
  return new StringKeyedMap(entries);
}

const ITERATION = '@jsmsso.iteration';
const RANGE = '@jsmsso.range';
const APPEND = '@jsmsso.append';

const LIST = listType(CelScalar.DYN);

/** `+` of two lists, flat (the same id as the standard overload, which it replaces). */
export const flatConcatenation = celFunc('_+_', [LIST, LIST], LIST, (left: CelList, right: CelList) =>
  celList([...left, ...right]),
);

/**
 * The arrays behind accumulators APPEND has made. The evaluator's accumulator starts as its
 * shared empty list, so the first append copies; later ones push onto the array only this
 * accumulator holds (no expression can name a comprehension's accumulator but its own step).
 */
const accumulators = new WeakMap<CelList, CelValue[]>();

function append(accumulator: CelValue, element: CelValue): CelValue {
  if (!isCelList(accumulator)) return accumulator;
  let list = accumulator;
  let array = accumulators.get(list);
  if (!array) {
    array = [...list];
    list = celList(array);
    accumulators.set(list, array);
  }
  array.push(element);
  return list;
}

/** The function group of `name`, metered. */
function meteredGroup(name: string, group: ReturnType<CelEnv['funcs']['find']> & object) {
  return {
    name,
    [Symbol.iterator]: () => group[Symbol.iterator](),
    call(id: number, target: CelValue | undefined, args: CelValue[]) {
      charge(costBefore(name, target, args));
      const result = group.call(id, target, args);
      charge(costAfter(name, result));
      return result;
    },
  };
}

/** A function instrument() adds: none can be named in an expression (the `@`). */
function instrumentGroup(name: string, call: (args: CelValue[]) => CelValue) {
  return {
    name,
    [Symbol.iterator]: () => [][Symbol.iterator](),
    call: (_id: number, _target: unknown, args: CelValue[]) => call(args),
  };
}

const INSTRUMENTS = new Map(
  [
    instrumentGroup(ITERATION, ([condition, units]) => {
      charge(Number(units));
      return condition!;
    }),
    instrumentGroup(RANGE, ([range]) => {
      charge(isCelList(range) || isCelMap(range) ? Number(range.size) : 1);
      return range!;
    }),
    instrumentGroup(APPEND, ([accumulator, element]) => {
      charge(1);
      return append(accumulator!, element!);
    }),
  ].map((group) => [group.name, group]),
);

/** `base` with every function metered, and the instruments of instrument(). */
export function meteredEnv(base: CelEnv): CelEnv {
  const groups = new Map<string, ReturnType<typeof meteredGroup>>();
  const funcs = {
    [Symbol.iterator]: () => base.funcs[Symbol.iterator](),
    find(name: string) {
      const instrument = INSTRUMENTS.get(name);
      if (instrument) return instrument;
      let group = groups.get(name);
      if (!group) {
        const found = base.funcs.find(name);
        if (!found) return undefined;
        group = meteredGroup(name, found);
        groups.set(name, group);
      }
      return group;
    },
  };
  // The planner reads namespace, registry and funcs; the rest of the environment is base's.
  return Object.create(base, { funcs: { value: funcs } }) as CelEnv;
}

type Expr = NonNullable<ReturnType<typeof parse>['expr']>;

/**
 * Rewrites a parsed expression for the meter: each comprehension's range passes through RANGE and
 * its condition through ITERATION, which charges the nodes of condition and step per iteration;
 * a macro's `@result + [element]` becomes APPEND. Returns the number of nodes of the whole tree,
 * charged once per evaluation.
 */
export function instrument(expr: Expr): number {
  const kind = expr.exprKind;
  const appended = accumulatorAppend(expr);
  if (appended) {
    expr.exprKind = callOf(APPEND, appended).exprKind;
    return 2 + appended.reduce((nodes, arg) => nodes + instrument(arg), 0);
  }
  switch (kind.case) {
    case 'comprehensionExpr': {
      const comprehension = kind.value;
      let nodes = 1;
      for (const part of ['accuInit', 'iterRange', 'result'] as const) {
        const child = comprehension[part];
        if (child) nodes += instrument(child);
      }
      let perIteration = 0;
      for (const part of ['loopCondition', 'loopStep'] as const) {
        const child = comprehension[part];
        if (child) perIteration += instrument(child);
      }
      if (comprehension.iterRange) comprehension.iterRange = callOf(RANGE, [comprehension.iterRange]);
      if (comprehension.loopCondition) {
        comprehension.loopCondition = callOf(ITERATION, [comprehension.loopCondition, intOf(perIteration)]);
      }
      return nodes + perIteration;
    }
    case 'callExpr': {
      let nodes = 1;
      if (kind.value.target) nodes += instrument(kind.value.target);
      for (const arg of kind.value.args) nodes += instrument(arg);
      return nodes;
    }
    case 'selectExpr':
      return 1 + (kind.value.operand ? instrument(kind.value.operand) : 0);
    case 'listExpr':
      return kind.value.elements.reduce((nodes, element) => nodes + instrument(element), 1);
    case 'structExpr':
      return kind.value.entries.reduce(
        (nodes, entry) =>
          nodes +
          (entry.value ? instrument(entry.value) : 0) +
          (entry.keyKind.case === 'mapKey' ? instrument(entry.keyKind.value) : 0),
        1,
      );
    default:
      return 1;
  }
}

/**
 * The operands of a macro's step `@result + [element]`: `@result` is a name the parser gives the
 * accumulator and no expression can write.
 */
function accumulatorAppend(expr: Expr): [Expr, Expr] | undefined {
  const kind = expr.exprKind;
  if (kind.case !== 'callExpr' || kind.value.function !== '_+_' || kind.value.target) return undefined;
  const [accumulator, list] = kind.value.args;
  const accumulatorKind = accumulator?.exprKind;
  if (accumulatorKind?.case !== 'identExpr' || !accumulatorKind.value.name.startsWith('@')) return undefined;
  if (list?.exprKind.case !== 'listExpr' || list.exprKind.value.elements.length !== 1) return undefined;
  if (list.exprKind.value.optionalIndices.length > 0) return undefined;
  return [accumulator!, list.exprKind.value.elements[0]!];
}

/** A node the planner reads as a call (it reads the fields, not the message type). */
function callOf(name: string, args: Expr[]): Expr {
  return {
    ...args[0]!,
    exprKind: { case: 'callExpr', value: { function: name, args, target: undefined } },
  } as unknown as Expr;
}

function intOf(value: number): Expr {
  return {
    id: 0n,
    exprKind: { case: 'constExpr', value: { constantKind: { case: 'int64Value', value: BigInt(value) } } },
  } as unknown as Expr;
}
