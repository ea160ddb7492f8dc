import type { MappedIdentity } from '../mapping.js';
import type { AuthenticatedSubject } from '../subject.js';

/**
 * The after-authentication chain (SATOSA's response micro-services): between the backend's
 * AuthenticatedSubject and the frontend's assertion, each step may refuse the sign-in (a
 * JsmSsoError with a stable code, thrown before anything reaches the portal or Atlassian), adjust
 * the subject, or, as the last one does, turn it into the mapped identity.
 */
export interface SignIn {
  subject: AuthenticatedSubject;
  /** The NameID format the portal's AuthnRequest asked for (its NameIDPolicy), if it named one. */
  nameIdFormatAsked?: string;
  /** Set by the mapping step. */
  identity?: MappedIdentity;
}

export interface AfterAuthenticationStep {
  /** For logs and docs. */
  readonly name: string;
  run(signIn: SignIn): SignIn;
}

/** Runs the steps in order; the chain must end with a mapped identity. */
export function runSteps(
  steps: readonly AfterAuthenticationStep[],
  subject: AuthenticatedSubject,
  nameIdFormatAsked?: string,
): MappedIdentity {
  let signIn: SignIn = { subject, ...(nameIdFormatAsked === undefined ? {} : { nameIdFormatAsked }) };
  for (const step of steps) signIn = step.run(signIn);
  if (!signIn.identity) throw new Error('the after-authentication chain has no mapping step');
  return signIn.identity;
}
