import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBrokerApp } from '../broker/app.js';
import { SecretDirectory } from '../common/config/secrets.js';
import type { PartContext } from '../common/runtime.js';
import { closeServer, listenPlaceholder, type Pki } from './broker-harness.js';
import { type KeyPair, makeKeyPair } from './keys.js';

/**
 * The broker's Secrets as the runbook's swap leaves them (operator/README.md): a new pair as tls.*,
 * the old one kept as next.* (ADR 0298). `dir` is a copy of `pki`'s; `revoke` is the last patch.
 */
export interface SwappedBrokerKey {
  dir: string;
  swappedTo: KeyPair;
  /** The runbook's last patch: next.* removed, the old key revoked. */
  revoke(): void;
  cleanup(): void;
}

export function swappedBrokerKey(
  pki: Pki,
  swappedTo: KeyPair = makeKeyPair('acme broker new'),
): SwappedBrokerKey {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-key-swap-'));
  cpSync(pki.dir, dir, { recursive: true });
  const signing = join(dir, 'broker-signing');
  writeFileSync(join(signing, 'tls.key'), swappedTo.keyPem);
  writeFileSync(join(signing, 'tls.crt'), swappedTo.certPem);
  writeFileSync(join(signing, 'next.key'), pki.brokerKey);
  writeFileSync(join(signing, 'next.crt'), pki.brokerCert);
  return {
    dir,
    swappedTo,
    revoke: () => {
      for (const file of ['next.key', 'next.crt']) rmSync(join(signing, file));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs `use` against a broker pod of `context` (its tenant and store) reading its Secrets from
 * `secretsDir`, served at a loopback address of its own, closed afterwards.
 */
export async function atBrokerPod<T>(
  context: PartContext,
  secretsDir: string,
  use: (url: string) => Promise<T>,
): Promise<T> {
  const { server, url } = await listenPlaceholder();
  const pod = await createBrokerApp({ ...context, secrets: new SecretDirectory(secretsDir) });
  server.on('request', pod.handler);
  try {
    return await use(url);
  } finally {
    await pod.close();
    await closeServer(server);
  }
}
