import { readFileSync } from 'node:fs';
import type { SecretDirectory } from '../config/secrets.js';
import { JsmSsoError } from '../errors.js';
import type { ServerTls } from '../http/server.js';

/** A server key and certificate read from files, with the files to watch for rotation. */
export interface FileServerTls extends ServerTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Key and certificate chain from PEM files (`--tls-cert/--tls-key`), read again on every `load()`
 * so a rotated pair is picked up by `reloadTls()`. Read once here so a missing file fails at start.
 */
export function fileServerTls(certFile: string, keyFile: string): FileServerTls {
  const load = () => ({ cert: readPem(certFile, 'certificate'), key: readPem(keyFile, 'private key') });
  load();
  return { certFile, keyFile, load };
}

/** Key and certificate from a kubernetes.io/tls Secret mounted at `<secrets-dir>/<name>/tls.{crt,key}`. */
export function secretServerTls(secrets: SecretDirectory, secretName: string): FileServerTls {
  return fileServerTls(secrets.path(secretName, 'tls.crt'), secrets.path(secretName, 'tls.key'));
}

export interface ServerTlsChoice {
  /** `--tls-cert` / `--tls-key` (or their management counterparts); both or neither. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** The tenant's `spec.<part>.tlsSecretRef`, used when no files are given. */
  secretRef?: { name: string } | undefined;
  secrets?: SecretDirectory;
  /** Flag names for messages, e.g. `--tls-cert`. */
  flags?: { cert: string; key: string };
}

/**
 * Where a server's TLS comes from: explicit files win, then the tenant's Secret, else plain HTTP
 * (behind an ingress that terminates TLS, or on loopback).
 */
export function chooseServerTls(choice: ServerTlsChoice): FileServerTls | undefined {
  const flags = choice.flags ?? { cert: '--tls-cert', key: '--tls-key' };
  if (choice.certFile !== undefined || choice.keyFile !== undefined) {
    if (!choice.certFile || !choice.keyFile) {
      throw new JsmSsoError('TLS_FILES_INCOMPLETE', `${flags.cert} and ${flags.key} go together`);
    }
    return fileServerTls(choice.certFile, choice.keyFile);
  }
  if (choice.secretRef && choice.secrets) return secretServerTls(choice.secrets, choice.secretRef.name);
  return undefined;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new JsmSsoError('TLS_FILE_UNREADABLE', `cannot read the TLS ${what} ${file}`, { cause: err });
  }
}
