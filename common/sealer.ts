import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { derivedKeys, type KeyMaterial } from './key-material.js';

/**
 * Authenticated encryption (AES-256-GCM) for the little personal data a session must keep to end
 * itself later (an upstream NameID, often an e-mail): the store holds only ciphertext. The key is
 * derived (HKDF) from secret material every replica already has, so any replica can open it. It
 * seals under the sealing material only and opens under any (a rotation's previous key, ADR 0298).
 */
export interface Sealer {
  seal(plain: string): string;
  /** Throws when the value was not sealed with any of its keys or was altered. */
  open(sealed: string): string;
  /**
   * The plain text, or undefined when the value does not open: sealed with another key (rotated
   * since, another purpose), altered, or written before the value was sealed. For records read back
   * from a store, where such a value is simply no record.
   */
  openOrUndefined(sealed: string | undefined): string | undefined;
}

/** `salt` and `info` (HKDF, RFC 5869) keep the keys of different purposes apart. */
export function createSealer(material: KeyMaterial, salt: string, info: string): Sealer {
  const keys = derivedKeys(material, salt, info);
  const [key] = keys;
  const openWith = (openingKey: Buffer, raw: Buffer): string => {
    const decipher = createDecipheriv('aes-256-gcm', openingKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  };
  const open = (sealed: string): string => {
    const raw = Buffer.from(sealed, 'base64url');
    let refusal: unknown;
    for (const openingKey of keys) {
      try {
        return openWith(openingKey, raw);
      } catch (err) {
        refusal = err;
      }
    }
    throw refusal;
  };
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
    },
    open,
    openOrUndefined(sealed) {
      if (sealed === undefined) return undefined;
      try {
        return open(sealed);
      } catch {
        return undefined;
      }
    },
  };
}
