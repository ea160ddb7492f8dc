import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsmSsoError } from '../errors.js';
import type { SecretReader } from '../pool/source.js';

/**
 * Secret references resolve the same way everywhere: `<dir>/<secretName>/<key>`. In a pod the
 * operator mounts each referenced Secret there; standalone, `--secrets-dir` points at a folder with
 * the same layout. Files are read on every call so a rotated Secret is picked up without restart.
 */
export class SecretDirectory implements SecretReader {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  path(secretName: string, key: string): string {
    if (
      !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(secretName) ||
      !/^[-._a-zA-Z0-9]+$/.test(key) ||
      key.startsWith('..')
    ) {
      throw new JsmSsoError('SECRET_REF_INVALID', `invalid secret reference ${secretName}/${key}`);
    }
    return join(this.root, secretName, key);
  }

  read(secretName: string, key: string): string {
    const file = this.path(secretName, key);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      // One line that names the file: what a person starting a part by hand needs to fix it. A
      // fault of the deployment, never of whoever sent the request that needed the Secret (500, ADR 0093).
      throw new JsmSsoError(
        'SECRET_MISSING',
        `cannot read ${file} (Secret ${secretName}, key ${key}: ${(err as NodeJS.ErrnoException).code})`,
        { status: 500, cause: err, where: { secretName, secretKeyName: key } },
      );
    }
  }

  /** Like read, but undefined when the key does not exist (optional keys such as next.crt). */
  readOptional(secretName: string, key: string): string | undefined {
    // A malformed reference is refused, not mistaken for an absent key.
    const file = this.path(secretName, key);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }
}

/** Where the operator mounts Secrets in pods. */
export const POD_SECRETS_DIR = '/var/run/jsm-sso/secrets';
