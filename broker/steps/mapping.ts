import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import { type ClaimMapper, compileMapping, type MappingObserver } from '../mapping.js';
import type { AfterAuthenticationStep } from './step.js';

/** The tenant's CEL claim mapping of the IdP that signed the person in (compiled at start-up). */
export function mappingStep(
  idps: readonly IdentityProviderSpec[],
  observe: MappingObserver,
): AfterAuthenticationStep {
  const mappers = new Map<string, ClaimMapper>(idps.map((idp) => [idp.name, compileMapping(idp, observe)]));
  return {
    name: 'mapping',
    run: (signIn) => ({ ...signIn, identity: mappers.get(signIn.subject.idp)!(signIn.subject) }),
  };
}
