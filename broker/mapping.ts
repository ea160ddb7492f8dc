import { CelCompileError, compileCel } from '../common/cel.js';
import type { IdentityProviderSpec } from '../common/config/tenant.generated.js';
import { JsmSsoError } from '../common/errors.js';
import type { AuthenticatedSubject } from './subject.js';

/**
 * Claim mapping: the tenant's CEL expressions turn an AuthenticatedSubject into the NameID and
 * the attributes of the assertion sent to the portal. Pure; compiled once per IdP at start-up.
 */

export const DEFAULT_NAMEID_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const DEFAULT_ATTRIBUTE_MAPPING: Record<string, string> = {
  email: 'claims.email',
  displayName: 'has(claims.name) ? claims.name : claims.email',
};

export interface MappedIdentity {
  nameId: string;
  nameIdFormat: string;
  /** Attribute name -> values; one value per list element for multi-valued attributes. */
  attributes: Array<{ name: string; values: string[] }>;
}

export type ClaimMapper = (subject: AuthenticatedSubject) => MappedIdentity;

export function compileMapping(
  idp: Pick<IdentityProviderSpec, 'name' | 'attributeMapping' | 'nameId'>,
): ClaimMapper {
  const attributes = Object.entries(idp.attributeMapping ?? DEFAULT_ATTRIBUTE_MAPPING).flatMap(
    ([name, source]) =>
      source === undefined
        ? []
        : [{ name, evaluate: compileOrThrow(source, `${idp.name}.attributeMapping.${name}`) }],
  );
  const nameId = compileOrThrow(idp.nameId?.expression ?? 'claims.email', `${idp.name}.nameId.expression`);
  const nameIdFormat = idp.nameId?.format ?? DEFAULT_NAMEID_FORMAT;
  return (subject) => {
    const bindings = { claims: subject.claims };
    const nameIdValues = evaluate(nameId, bindings, 'NameID');
    if (nameIdValues.length !== 1 || nameIdValues[0] === '') {
      throw new JsmSsoError(
        'MAPPING_NAMEID_EMPTY',
        'the identity provider did not provide a value for the NameID',
        {
          status: 403,
        },
      );
    }
    return {
      nameId: nameIdValues[0]!,
      nameIdFormat,
      attributes: attributes
        .map((a) => ({ name: a.name, values: evaluate(a.evaluate, bindings, a.name) }))
        .filter((a) => a.values.length > 0),
    };
  };
}

function compileOrThrow(source: string, where: string) {
  try {
    return compileCel(source);
  } catch (err) {
    if (err instanceof CelCompileError) {
      throw new JsmSsoError('MAPPING_INVALID', `${where}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * A missing claim (CEL "no such key") yields no value rather than failing the login: IdPs omit
 * claims routinely. Lists become several values; null and empty lists become none.
 */
function evaluate(
  expression: ReturnType<typeof compileCel>,
  bindings: Record<string, unknown>,
  name: string,
): string[] {
  let result: unknown;
  try {
    result = expression(bindings);
  } catch {
    return [];
  }
  return (Array.isArray(result) ? result : [result]).flatMap((v) => scalarToString(v, name));
}

function scalarToString(value: unknown, name: string): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return [String(value)];
  throw new JsmSsoError('MAPPING_VALUE_NOT_SCALAR', `the mapping for ${name} produced a structured value`, {
    status: 500,
  });
}
