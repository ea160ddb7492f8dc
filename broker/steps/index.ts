import type { IdentityProviderSpec } from '../../common/config/tenant.generated.js';
import type { MappingObserver } from '../mapping.js';
import { authorityStep } from './authority.js';
import { idpAttributeStep } from './idp-attribute.js';
import { mappingStep } from './mapping.js';
import { nameIdValueStep } from './name-id.js';
import type { AfterAuthenticationStep } from './step.js';
import { verifiedEmailStep } from './verified-email.js';

export { runSteps } from './step.js';

/**
 * The chain in order. Steps that add claims (e.g. resolving an Entra ID group overage) go before
 * the mapping; the identity checks run on the mapping's result, the very addresses the portal will
 * receive, so no mapping can route around them, and the NameID as it will be signed; the IdP
 * attribute comes last so no mapping sets it.
 */
export function afterAuthenticationSteps(
  idps: readonly IdentityProviderSpec[],
  observeMapping: MappingObserver,
): AfterAuthenticationStep[] {
  return [
    mappingStep(idps, observeMapping),
    authorityStep(idps),
    verifiedEmailStep(idps),
    nameIdValueStep,
    idpAttributeStep,
  ];
}
