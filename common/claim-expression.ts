import { type CelBindings, type CompiledExpression, compileCelReading, toCel } from './cel.js';
import { type CelBudget, CelCostError } from './cel-cost.js';
import { NAMEID_EMAIL } from './saml/namespaces.js';

/**
 * How one claim-mapping expression (an IdP's attributeMapping or nameId.expression) is evaluated
 * and how its failures are classified, shared by the broker at sign-in and by offline validation.
 */

/**
 * Why an expression gave no value: `missing_claim` when a claim it reads was not sent (IdPs omit
 * claims routinely), `type_error` when the claims it got do not fit it (the tenant's mistake),
 * `distributed_claim` when a claim it reads was sent by reference, as an aggregated or distributed
 * claim (OIDC Core 5.6.2: named in `_claim_names`, its value elsewhere), which the broker does not
 * fetch: Entra ID does so with `groups` for a member of more groups than a token holds;
 * `cost_exceeded` when its evaluation over these claims passed the cost bound (ADR 0232).
 */
export type MappingProblemKind = 'missing_claim' | 'type_error' | 'distributed_claim' | 'cost_exceeded';

export interface CompiledRule {
  name: string;
  evaluate: CompiledExpression;
  /** The claims the expression reads directly. */
  reads: string[];
}

/** Throws CelCompileError. */
export function compileClaimExpression(name: string, source: string): CompiledRule {
  return { name, ...compileCelReading(source, 'claims') };
}

/**
 * Claims and their conversion for CEL, made at the first evaluation and kept for the others: a
 * sign-in evaluates up to 32 expressions over claims an IdP may send a megabyte of, and converting
 * them for each (unmetered: 40 ms each for 100,000 claims) held the loop 1.3 s (ADR 0232).
 */
export class ClaimsInput {
  #bindings: CelBindings | undefined;
  constructor(readonly claims: Record<string, unknown>) {}
  /** Throws what toCel throws (a claim nested too deep): each evaluation reports it. */
  bindings(): CelBindings {
    this.#bindings ??= { claims: toCel(this.claims) };
    return this.#bindings;
  }
}

/**
 * Lists become several values; null and empty lists none; a map is a type error. `budget`: the
 * units this evaluation shares with the others of a sign-in or a validation.
 */
export function evaluateRule(
  rule: CompiledRule,
  input: Record<string, unknown> | ClaimsInput,
  budget?: CelBudget,
): { values: string[] } | { problem: MappingProblemKind } {
  const converted = input instanceof ClaimsInput ? input : new ClaimsInput(input);
  const { claims } = converted;
  let result: unknown;
  try {
    result = rule.evaluate.onCelValues(converted.bindings(), budget);
  } catch (err) {
    if (err instanceof CelCostError) return { problem: 'cost_exceeded' };
    if (readsClaimByReference(rule, claims)) return { problem: 'distributed_claim' };
    const missing = rule.reads.some((claim) => claims[claim] === undefined);
    return { problem: missing ? 'missing_claim' : 'type_error' };
  }
  const values: string[] = [];
  for (const value of Array.isArray(result) ? result : [result]) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') return { problem: 'type_error' };
    values.push(String(value));
  }
  // An expression that falls back when the claim is absent (`has(claims.groups) ? ... : []`) gave
  // nothing only because the value was sent elsewhere: said so, though no value is lost by it.
  if (values.length === 0 && readsClaimByReference(rule, claims)) return { problem: 'distributed_claim' };
  return { values };
}

/** Whether a claim the rule reads is absent and named in `_claim_names` (OIDC Core 5.6.2). */
function readsClaimByReference(rule: CompiledRule, claims: Record<string, unknown>): boolean {
  const names = claims['_claim_names'];
  if (typeof names !== 'object' || names === null) return false;
  return rule.reads.some((claim) => claims[claim] === undefined && Object.hasOwn(names, claim));
}

/**
 * Claims as the common IdPs send them (OIDC Core 5.1 types, groups as a list of strings): offline
 * validation evaluates each expression against them, so a type error over a standard claim is
 * found before the tenant is deployed. Claims not listed here can only be judged at sign-in.
 */
const TYPICAL_CLAIMS: Record<string, unknown> = {
  sub: '248289761001',
  email: 'jane.doe@example.com',
  email_verified: true,
  name: 'Jane Doe',
  given_name: 'Jane',
  family_name: 'Doe',
  middle_name: 'Q',
  nickname: 'jd',
  preferred_username: 'jane.doe',
  locale: 'en-GB',
  zoneinfo: 'Europe/London',
  phone_number: '+44 20 7946 0000',
  phone_number_verified: false,
  updated_at: 1_700_000_000,
  groups: ['staff', 'jsm-admins'],
  roles: ['reader'],
  nameId: 'jane.doe@example.com',
  nameIdFormat: NAMEID_EMAIL,
};

/**
 * The type problem an expression has over the typical claims, if any (for offline validation and
 * the operator's ConfigValid condition). Throws CelCompileError, for the caller to report: one
 * compile serves both checks (a document may hold 155 expressions, each compiled in milliseconds).
 */
export function typicalClaimsProblem(source: string, budget?: CelBudget): string | undefined {
  const outcome = evaluateRule(compileClaimExpression('check', source), TYPICAL_CLAIMS, budget);
  if ('problem' in outcome && outcome.problem === 'cost_exceeded') {
    return 'cost: the expression passes its evaluation cost bound over claims of their usual sizes, so it would fail at every sign-in';
  }
  if ('problem' in outcome && outcome.problem === 'type_error') {
    return 'type error: the expression fails or gives a map over claims of their usual types (e.g. email a string, groups a list of strings)';
  }
  return undefined;
}
