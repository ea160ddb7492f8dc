import { createHmac, timingSafeEqual } from 'node:crypto';
import { derivedKeys, type KeyMaterial } from './key-material.js';

/**
 * A keyed hash (HMAC-SHA256, base64url) under a key derived (HKDF, RFC 5869) from secret material
 * every replica already has: for a value any replica must make again, or recognise, from something
 * the store never holds. `salt` and `info` keep the keys of different purposes apart. Made under
 * the sealing material only; `keyedHashes` recognises.
 */
export function keyedHash(material: KeyMaterial, salt: string, info: string): (value: string) => string {
  const [key] = derivedKeys(material, salt, info);
  return (value) => mac(key, value);
}

/**
 * The keyed hashes of a value under every material, the sealing one first: what a check accepts
 * while a rotation holds the previous material beside the new (ADR 0298).
 */
export function keyedHashes(material: KeyMaterial, salt: string, info: string): (value: string) => string[] {
  const keys = derivedKeys(material, salt, info);
  return (value) => keys.map((key) => mac(key, value));
}

/** Whether `submitted` is one of `tokens` (keyedHashes of one value), each compared in constant time. */
export function isOneOf(submitted: string, tokens: readonly string[]): boolean {
  const given = Buffer.from(submitted);
  return tokens.some((token) => {
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function mac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}
