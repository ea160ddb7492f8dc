import { hkdfSync } from 'node:crypto';
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
 * A 32-byte key for one purpose (HKDF-SHA256, RFC 5869) from each material, the sealing one first:
 * `salt` and `info` keep the keys of different purposes apart.
 */
export function derivedKeys(
  material: KeyMaterial,
  salt: string,
  info: string,
): readonly [Buffer, ...Buffer[]] {
  const [sealing, ...opening] = materialsOf(material);
  const derive = (secret: string) => Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
  return [derive(sealing), ...opening.map(derive)];
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
