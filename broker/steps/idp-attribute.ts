import { IDP_ATTRIBUTE } from '../../common/portal-attributes.js';
import type { AfterAuthenticationStep } from './step.js';

/**
 * Names the IdP that signed the person in, as a signed attribute the portal checks before it
 * honours groups. Last in the chain, so no tenant mapping can set or forge it.
 */
export const idpAttributeStep: AfterAuthenticationStep = {
  name: 'idp-attribute',
  run(signIn) {
    const identity = signIn.identity!;
    return {
      ...signIn,
      identity: {
        ...identity,
        attributes: [
          ...identity.attributes.filter((a) => a.name !== IDP_ATTRIBUTE),
          { name: IDP_ATTRIBUTE, values: [signIn.subject.idp] },
        ],
      },
    };
  },
};
