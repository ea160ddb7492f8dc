import { decryptionKeyProblem, knownForeignKeys } from '../common/config/decryption-key.js';
import type { JsmSsoTenant } from '../common/config/load.js';
import type { SecretFacts } from './resources/common.js';
import { factsPublicKeys, parsedCertificate } from './secret-facts.js';

export interface DecryptionKeyVerdict {
  reason: 'EncryptionKeyInvalid';
  message: string;
}

/**
 * The broker's decryption Secret judged as the broker judges it at start (ADR 0352), so that a key
 * it would exit on is said in ConfigValid and never rolled out. Undefined when the tenant names no
 * such Secret or its pairs are sound; a missing Secret or key is missingSecrets' to say.
 */
export function decryptionKeyVerdict(
  tenant: JsmSsoTenant,
  secrets: Record<string, SecretFacts>,
): DecryptionKeyVerdict | undefined {
  const secret = tenant.spec.broker.encryptionSecretRef?.name;
  const facts = secret === undefined ? undefined : secrets[secret];
  if (secret === undefined || !facts) return undefined;
  const others = knownForeignKeys(tenant, factsPublicKeys(secrets));
  const pairs = facts.keyHashes['next.key'] === undefined ? (['tls'] as const) : (['tls', 'next'] as const);
  for (const pair of pairs) {
    const problem = decryptionKeyProblem(
      secret,
      pair,
      facts.privateKeys[`${pair}.key`],
      parsedCertificate(facts, `${pair}.crt`)?.publicKey,
      others,
    );
    if (problem !== undefined) return { reason: 'EncryptionKeyInvalid', message: `${problem}; replace it` };
  }
  return undefined;
}
