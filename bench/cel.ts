import { CelCompileError, compileCel } from '../common/cel.js';
import { CEL_COST_LIMIT, CelBudget, CelCostError } from '../common/cel-cost.js';
import {
  CEL_ATTACK_CLAIMS,
  CEL_ATTACKS,
  CEL_PARSE_AT_BOUND,
  CEL_PARSE_ATTACKS,
} from '../testkit/cel-attacks.js';

/**
 * How long the CEL meter lets an evaluation run (ADR 0232): each attack shape of
 * testkit/cel-attacks.ts evaluated until it is stopped, its CPU time the median of five (after one
 * to warm up), and a mapping tenants write over 2,000 groups for comparison. The figure to watch is
 * the slowest stop: what one tenant's expression can hold a pool's event loop for. Compiling is
 * timed too (ADR 0236): the expressions refused for their nesting, and the parser's dearest inputs
 * nested as deep as allowed.
 */
export async function benchCel(): Promise<Record<string, number | string>> {
  const stops: Array<{ what: string; ms: number }> = [];
  for (const [what, source] of Object.entries(CEL_ATTACKS)) {
    const evaluate = compileCel(source);
    const ms = medianCpuMs(() => {
      try {
        evaluate({ claims: CEL_ATTACK_CLAIMS });
      } catch (err) {
        if (err instanceof CelCostError) return;
        throw err;
      }
      throw new Error(`not stopped: ${what}`);
    });
    stops.push({ what, ms });
  }
  stops.sort((a, b) => b.ms - a.ms);
  const legitimate = compileCel('claims.groups.map(g, g.upperAscii())');
  const budget = new CelBudget();
  legitimate({ claims: CEL_ATTACK_CLAIMS }, budget);
  const slowest = stops[0]!;
  const compiles = (shapes: Record<string, string>) =>
    Object.entries(shapes)
      .map(([what, source]) => ({ what, ms: medianCpuMs(() => compileOrRefuse(source)) }))
      .sort((a, b) => b.ms - a.ms)[0]!;
  const refused = compiles(CEL_PARSE_ATTACKS);
  const atBound = compiles(CEL_PARSE_AT_BOUND);
  return {
    'attack shapes stopped': stops.length,
    'slowest stop, CPU ms': slowest.ms,
    'slowest stop, shape': slowest.what,
    'median stop, CPU ms': stops[Math.floor(stops.length / 2)]!.ms,
    'map over 2,000 groups, CPU ms': medianCpuMs(() => legitimate({ claims: CEL_ATTACK_CLAIMS })),
    'map over 2,000 groups, units': CEL_COST_LIMIT - budget.left,
    'slowest compile refused for its nesting, CPU ms': refused.ms,
    'slowest compile nested as deep as allowed, CPU ms': atBound.ms,
    'slowest compile nested as deep as allowed, shape': atBound.what,
  };
}

/** Compiles `source`, a CelCompileError (its nesting, its syntax) being an answer too. */
function compileOrRefuse(source: string): void {
  try {
    compileCel(source);
  } catch (err) {
    if (!(err instanceof CelCompileError)) throw err;
  }
}

function medianCpuMs(run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  return times.sort((a, b) => a - b)[2]!;
}
