import { CelCompileError } from '../common/cel.js';
import { CelBudget } from '../common/cel-cost.js';
import {
  ClaimsInput,
  type CompiledRule,
  compileClaimExpression,
  evaluateRule,
  type MappingProblemKind,
} from '../common/claim-expression.js';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import { NAMEID_EMAIL } from '../common/saml/namespaces.js';
import type { AuthenticatedSubject } from './subject.js';

/**
 * Claim mapping: the tenant's CEL expressions turn an AuthenticatedSubject into the NameID and
 * the attributes of the assertion sent to the portal. Compiled once per IdP at start-up. An
 * expression that fails at sign-in yields no value for its attribute, and the failure is reported
 * (never the value): a claim the IdP did not send is told apart from a wrong type.
 */

export const DEFAULT_ATTRIBUTE_MAPPING: Record<string, string> = {
  email: 'claims.email',
  displayName: 'has(claims.name) ? claims.name : claims.email',
};

export interface MappedIdentity {
  nameId: string;
  nameIdFormat: string;
  /** Attribute name -> values; one value per list element for multi-valued attributes. */
  attributes: Array<{ name: string; values: string[] }>;
}

export interface MappingProblem {
  idp: string;
  /** The attribute name, or `NameID`. */
  attribute: string;
  problem: MappingProblemKind;
}

export type MappingObserver = (problem: MappingProblem) => void;

export type ClaimMapper = (subject: AuthenticatedSubject) => MappedIdentity;

/** The NameID format an IdP's logins are asserted with. */
export function nameIdFormatOf(idp: Pick<IdentityProviderSpec, 'nameId'>): string {
  return idp.nameId?.format ?? NAMEID_EMAIL;
}

export function compileMapping(
  idp: Pick<IdentityProviderSpec, 'name' | 'attributeMapping' | 'nameId'>,
  observe: MappingObserver = () => {},
): ClaimMapper {
  const attributes = Object.entries(idp.attributeMapping ?? DEFAULT_ATTRIBUTE_MAPPING).flatMap(
    ([name, source]) =>
      source === undefined ? [] : [compileRule(name, source, `${idp.name}.attributeMapping.${name}`)],
  );
  const nameId = compileRule(
    'NameID',
    idp.nameId?.expression ?? 'claims.email',
    `${idp.name}.nameId.expression`,
  );
  const nameIdFormat = nameIdFormatOf(idp);
  const run = (rule: CompiledRule, claims: ClaimsInput, budget: CelBudget): string[] => {
    const outcome = evaluateRule(rule, claims, budget);
    if ('problem' in outcome) {
      observe({ idp: idp.name, attribute: rule.name, problem: outcome.problem });
      return [];
    }
    return outcome.values;
  };
  return (subject) => {
    // One bound for all of a sign-in's expressions: 31 of them, each near the bound, would hold
    // the process 31 times as long (ADR 0232).
    const budget = new CelBudget();
    // Converted for CEL once, for all of them.
    const claims = new ClaimsInput(subject.claims);
    const nameIdValues = run(nameId, claims, budget);
    if (nameIdValues.length !== 1 || nameIdValues[0] === '') {
      throw new JsmSsoError(
        'MAPPING_NAMEID_EMPTY',
        'the identity provider did not provide a value for the NameID',
        { status: 403 },
      );
    }
    return {
      nameId: nameIdValues[0]!,
      nameIdFormat,
      attributes: attributes
        .map((a) => ({ name: a.name, values: run(a, claims, budget) }))
        .filter((a) => a.values.length > 0),
    };
  };
}

function compileRule(name: string, source: string, where: string): CompiledRule {
  try {
    return compileClaimExpression(name, source);
  } catch (err) {
    if (err instanceof CelCompileError) {
      throw new JsmSsoError('MAPPING_INVALID', `${where}: ${err.message}`);
    }
    throw err;
  }
}
