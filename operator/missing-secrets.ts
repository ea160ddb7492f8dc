import { halfPairProblem } from '../common/config/key-pairs.js';
import type { SecretFacts } from './resources/common.js';
import type { SecretKeyUse } from './resources/secret-refs.js';

export interface MissingSecrets {
  reason: 'SecretMissing' | 'SecretKeyMissing';
  message: string;
}

/**
 * What is missing of the Secret keys a tenant or a pool reads, in the words both report it with:
 * `SecretMissing` naming the Secrets that do not exist, else `SecretKeyMissing` naming the keys an
 * existing Secret lacks. An optional key is missing only when the other half of its pair is there
 * (half a next pair, ADR 0346). Undefined when everything is there.
 */
export function missingSecrets(
  uses: SecretKeyUse[],
  secrets: Record<string, SecretFacts | undefined>,
  namespace: string,
): MissingSecrets | undefined {
  const required = uses.filter((use) => !use.optional);
  const absent = [...new Set(required.filter((use) => !secrets[use.secret]).map((use) => use.secret))];
  if (absent.length > 0) {
    return {
      reason: 'SecretMissing',
      message: `create Secret${absent.length > 1 ? 's' : ''} ${absent.join(', ')} in namespace ${namespace}`,
    };
  }
  const has = (secret: string, key: string) => secrets[secret]?.keyHashes[key] !== undefined;
  const keyless = uses
    .filter((use) => !has(use.secret, use.key))
    .flatMap((use) => {
      if (!use.optional) return [`${use.secret} has no key ${use.key}`];
      if (use.pairedWith && has(use.secret, use.pairedWith))
        return [halfPairProblem(use.secret, use.pairedWith, use.key)];
      return [];
    });
  if (keyless.length > 0)
    return { reason: 'SecretKeyMissing', message: `add the missing keys: ${keyless.join('; ')}` };
  return undefined;
}
