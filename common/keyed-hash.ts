import { createHmac, hkdfSync } from 'node:crypto';

/**
 * A keyed hash (HMAC-SHA256, base64url) under a key derived (HKDF, RFC 5869) from secret material
 * every replica already has: for a value any replica must make again, or recognise, from something
 * the store never holds. `salt` and `info` keep the keys of different purposes apart.
 */
export function keyedHash(secretMaterial: string, salt: string, info: string): (value: string) => string {
  const key = Buffer.from(hkdfSync('sha256', secretMaterial, salt, info, 32));
  return (value) => createHmac('sha256', key).update(value).digest('base64url');
}
