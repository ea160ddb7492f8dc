// Real portal processes for tests and benches: the tenant YAML and secrets they read, and the
// processes themselves (from source through tsx, or from dist when the caller was built).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { SERVICE_ACCOUNT } from '../dev/tenant.js';
import { type KeyPair, makeKeyPair } from './keys.js';
import { checkOutputOf } from './part-process.js';
import { PORTAL_ONLY_SPEC } from './portal-harness.js';

export interface PortalFiles {
  dir: string;
  config: string;
  /** The broker's signing key: sign-ins are signed with it (signInAt). */
  brokerKey: KeyPair;
  cleanup(): void;
}

export interface PortalTenantOptions {
  name: string;
  portalUrl: string;
  siteUrl: string;
  redisUrl?: string;
  replicas?: number;
  /** `spec.portal.limits` (the defaults when absent). */
  limits?: Record<string, unknown>;
  /** `metadata.uid`: which incarnation of the tenant the document is, as the operator writes it (ADR 0379). */
  uid?: string;
  /** `spec.portal.title` ('Acme Help Center' when absent). */
  title?: string;
}

/**
 * A tenant whose portal is at `portalUrl` (one public URL for every replica, as behind a load
 * balancer) on the Atlassian site `siteUrl`, with sessions in `redisUrl` when given.
 */
export function writePortalFiles(options: PortalTenantOptions): PortalFiles {
  const dir = mkdtempSync(join(tmpdir(), `${options.name}-portal-`));
  const config = join(dir, 'tenant.yaml');
  const brokerKey = writePortalTenant(config, dir, options);
  return { dir, config, brokerKey, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes the tenant's Secrets as `<secretsDir>/<secret>/<key>`, then its YAML at `config` (last, so
 * that a pool folder's watch sees a complete bundle); returns the broker's signing key.
 */
export function writePortalTenant(config: string, secretsDir: string, options: PortalTenantOptions): KeyPair {
  const write = (secret: string, key: string, value: string) => {
    mkdirSync(join(secretsDir, secret), { recursive: true });
    writeFileSync(join(secretsDir, secret, key), value);
  };
  const brokerKey = makeKeyPair(`${options.name} broker`);
  const portalKey = makeKeyPair(`${options.name} portal`);
  write(`${options.name}-broker-signing`, 'tls.crt', brokerKey.certPem);
  write(`${options.name}-portal-signing`, 'tls.crt', portalKey.certPem);
  write(`${options.name}-portal-signing`, 'tls.key', portalKey.keyPem);
  write(`${options.name}-atlassian`, 'email', SERVICE_ACCOUNT.email);
  write(`${options.name}-atlassian`, 'apiToken', SERVICE_ACCOUNT.apiToken);
  if (options.redisUrl) write(`${options.name}-redis`, 'url', options.redisUrl);
  writePortalTenantDocument(config, options);
  return brokerKey;
}

/**
 * Writes the tenant's YAML at `config` alone, naming the Secrets writePortalTenant wrote: the same
 * tenant edited, or deleted and re-created under its name with another `uid` (ADR 0379).
 */
export function writePortalTenantDocument(config: string, options: PortalTenantOptions): void {
  writeFileSync(
    config,
    stringify({
      apiVersion: 'jsm-sso.io/v1alpha1',
      kind: 'JsmSsoTenant',
      metadata: { name: options.name, ...(options.uid ? { uid: options.uid } : {}) },
      spec: {
        portal: {
          url: options.portalUrl,
          title: options.title ?? 'Acme Help Center',
          ...(options.replicas ? { replicas: options.replicas } : {}),
          ...(options.limits ? { limits: options.limits } : {}),
        },
        ...PORTAL_ONLY_SPEC,
        atlassian: {
          siteUrl: options.siteUrl,
          credentialsSecretRef: { name: `${options.name}-atlassian` },
          organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
        },
        ...(options.redisUrl ? { redis: { urlSecretRef: { name: `${options.name}-redis` } } } : {}),
      },
    }),
  );
}

/**
 * `jsm-sso portal` on 127.0.0.1:`port` reading `files`, with no drain on SIGTERM; `env` adds to
 * this process's environment (a TMPDIR of its own, say). Its stdout and stderr are piped, each
 * line checked for personal data and secrets (ADR 0255).
 */
export function startPortalProcess(
  files: Pick<PortalFiles, 'config' | 'dir'>,
  port: number,
  managementPort: number,
  env: Record<string, string> = {},
): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(`../cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const args = [...(fromSource ? ['--import', 'tsx'] : []), main, ...portalArgs(files, port, managementPort)];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
  checkOutputOf(child);
  return child;
}

/** `jsm-sso portal` reading `files`, on 127.0.0.1:`port`, with no drain on SIGTERM. */
export function portalArgs(
  files: Pick<PortalFiles, 'config' | 'dir'>,
  port: number,
  managementPort: number,
): string[] {
  return [
    'portal',
    '--config',
    files.config,
    '--secrets-dir',
    files.dir,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--management-port',
    String(managementPort),
    '--drain-seconds',
    '0',
  ];
}

/** Resolves once `url` answers 2xx (`timeoutMs` at most: longer for a process under valgrind). */
export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}
