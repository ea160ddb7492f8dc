import type { SecretReader } from './pool/source.js';

/**
 * The secret material a part derives the keys of its own state from (sealed records, keyed tokens):
 * first the material that seals and keys everything new, then any that only opens and recognises
 * what was made before. Like a JWKS rollover, so that a rotation of the key it comes from ends no
 * session and no sign-in under way (ADR 0298).
 */
export type KeyMaterial = string | readonly [sealing: string, ...opening: string[]];

/** Every material of `material`, the sealing one first. */
export function materialsOf(material: KeyMaterial): readonly [string, ...string[]] {
  return typeof material === 'string' ? [material] : material;
}

/**
 * A part's state keys from its signing Secret: `tls.key` seals; `next.key`, present only during a
 * rotation of the signing key (the new key before the swap, the old one after it), opens. The
 * runbook's last patch, which removes `next.*`, so ends whatever was sealed under the old key: a
 * leaked key is revoked by it (ADR 0298).
 */
export function signingKeyMaterial(secrets: SecretReader, signingSecret: string): KeyMaterial {
  const sealing = secrets.read(signingSecret, 'tls.key');
  const next = secrets.readOptional(signingSecret, 'next.key');
  return next === undefined ? [sealing] : [sealing, next];
}
