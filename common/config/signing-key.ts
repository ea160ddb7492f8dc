import { ConfigError } from '../errors.js';
import type { SecretReader } from '../pool/source.js';
import { type PublicKeyOf, readablePublicKeys } from './decryption-key.js';
import { keyPairProblem } from './key-pairs.js';
import { type SigningPart, signingSecretName } from './signing-secrets.js';
import type { JsmSsoTenant } from './tenant.generated.js';

/**
 * What is wrong with a part's signing Secret as key pairs, or undefined (ADR 0354). The other side
 * verifies what the part signs with `tls.key` against `tls.crt` (the broker's metadata, the portal's
 * trust of it): a certificate renewed beside the old key fails every sign-in while the part runs.
 * A pair is judged when both its keys are there: either half of `next.*` alone is a state the
 * rotation runbook reads apart (`next.crt` published, `next.key` opening sealed state: ADR 0298,
 * 0346), and a missing `tls.*` is said where it is read (SECRET_MISSING, SecretKeyMissing). `has`
 * says whether a key is in a Secret at all.
 */
export function signingKeyProblem(
  tenant: JsmSsoTenant,
  part: SigningPart,
  has: (secret: string, key: string) => boolean,
  publicKeyOf: PublicKeyOf,
): string | undefined {
  const secret = signingSecretName(tenant, part);
  const pairs = (['tls', 'next'] as const).filter(
    (pair) => has(secret, `${pair}.key`) && has(secret, `${pair}.crt`),
  );
  for (const pair of pairs) {
    const problem = keyPairProblem(
      secret,
      pair,
      publicKeyOf(secret, `${pair}.key`),
      publicKeyOf(secret, `${pair}.crt`),
    );
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Refuses at start (CONFIG_INVALID, naming the field) a signing Secret whose pairs this process
 * reads are not one key each, in the words the operator says it (ConfigValid, SigningKeyInvalid).
 * A pod reads only what it mounts: the portal's pod has no `next.crt` of its own, so there its next
 * pair is the operator's alone to judge.
 */
export function refuseMismatchedSigningKey(
  tenant: JsmSsoTenant,
  part: SigningPart,
  secrets: SecretReader,
): void {
  const has = (secret: string, key: string) => secrets.readOptional(secret, key) !== undefined;
  const problem = signingKeyProblem(tenant, part, has, readablePublicKeys(secrets));
  if (problem === undefined) return;
  const path = part === 'broker' ? 'spec.broker.signingSecretRef' : 'spec.portal.samlSigningSecretRef';
  throw new ConfigError([{ path, message: problem }]);
}
