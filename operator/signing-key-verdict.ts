import type { JsmSsoTenant } from '../common/config/load.js';
import { signingKeyProblem } from '../common/config/signing-key.js';
import { PARTS, type SecretFacts } from './resources/common.js';
import { factsPublicKeys } from './secret-facts.js';

export interface SigningKeyVerdict {
  reason: 'SigningKeyInvalid';
  message: string;
}

/**
 * The broker's and the portal's signing Secrets judged as the parts judge them at start (ADR 0354):
 * a key that is not its certificate's (`tls.*`, or `next.*` when both are there) is said in
 * ConfigValid and never rolled out, where it would fail every sign-in or stop the pods. Undefined
 * when both are sound; a missing Secret or key is missingSecrets' to say.
 */
export function signingKeyVerdict(
  tenant: JsmSsoTenant,
  secrets: Record<string, SecretFacts>,
): SigningKeyVerdict | undefined {
  const has = (secret: string, key: string) => secrets[secret]?.keyHashes[key] !== undefined;
  for (const part of PARTS) {
    const problem = signingKeyProblem(tenant, part, has, factsPublicKeys(secrets));
    if (problem !== undefined)
      return {
        reason: 'SigningKeyInvalid',
        message: `${problem}; replace the pair with a key and the certificate of that key`,
      };
  }
  return undefined;
}
