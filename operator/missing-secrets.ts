import type { SecretFacts } from './resources/common.js';
import type { SecretKeyUse } from './resources/secret-refs.js';

export interface MissingSecrets {
  reason: 'SecretMissing' | 'SecretKeyMissing';
  message: string;
}

/**
 * What is missing of the Secret keys a tenant or a pool reads, in the words both report it with:
 * `SecretMissing` naming the Secrets that do not exist, else `SecretKeyMissing` naming the keys an
 * existing Secret lacks. Optional keys are never missing. Undefined when everything is there.
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
  const keyless = required
    .filter((use) => secrets[use.secret]?.keyHashes[use.key] === undefined)
    .map((use) => `${use.secret} has no key ${use.key}`);
  if (keyless.length > 0)
    return { reason: 'SecretKeyMissing', message: `add the missing keys: ${keyless.join('; ')}` };
  return undefined;
}
