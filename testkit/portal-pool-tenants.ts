// Portal tenants for a pool in tests: each with its own host, its own portal signing key in a
// secrets folder of its own, and a broker key only it trusts, all on one emulated Atlassian site.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type JsmSsoTenant, parseTenant } from '../common/config/load.js';
import { SecretDirectory } from '../common/config/secrets.js';
import type { TenantBundle } from '../common/pool/source.js';
import { type RunningPool, type StartPoolOptions, startPool } from '../common/pool/start.js';
import type { BuildPart } from '../common/runtime.js';
import { type RunningJsmEmulator, startJsmEmulator } from '../dev/jsm-emulator/emulator.js';
import { SERVICE_ACCOUNT } from '../dev/tenant.js';
import { createPortalApp } from '../portal/app.js';
import { type KeyPair, makeKeyPair } from './keys.js';
import { listenOnLoopbacks, MemoryTenantSource } from './pool.js';
import { PORTAL_ONLY_SPEC } from './portal-harness.js';

export interface PortalTenant {
  name: string;
  url: string;
  tenant: JsmSsoTenant;
  brokerKey: KeyPair;
  secretsDir: string;
}

/**
 * One tenant per URL, named `portal-<a|b|c…>-<run>`, on the Atlassian site `siteUrl` (one for all,
 * or each tenant's by index: a site of its own, to stall one alone), with `atlassian` added to each
 * one's spec.atlassian (its limits, say).
 */
export function portalPoolTenants(
  urls: readonly string[],
  siteUrl: string | readonly string[],
  run: string,
  atlassian: Record<string, unknown> = {},
): PortalTenant[] {
  return urls.map((url, i) => {
    const letter = String.fromCharCode(97 + i);
    const name = `portal-${letter}-${run}`;
    const tenant = parseTenant(
      stringify({
        apiVersion: 'jsm-sso.io/v1alpha1',
        kind: 'JsmSsoTenant',
        metadata: { name },
        spec: {
          portal: { url, title: `Help Center ${letter.toUpperCase()}` },
          ...PORTAL_ONLY_SPEC,
          atlassian: {
            siteUrl: typeof siteUrl === 'string' ? siteUrl : siteUrl[i],
            credentialsSecretRef: { name: 'atlassian' },
            organizationMappings: [{ organizationId: '1', emailDomain: 'acme.test' }],
            ...atlassian,
          },
        },
      }),
    );
    const secretsDir = mkdtempSync(join(tmpdir(), 'portal-pool-secrets-'));
    const write = (secret: string, key: string, value: string) => {
      mkdirSync(join(secretsDir, secret), { recursive: true });
      writeFileSync(join(secretsDir, secret, key), value);
    };
    const portalKey = makeKeyPair(`portal-${i}.acme.test`);
    write(`${name}-portal-signing`, 'tls.crt', portalKey.certPem);
    write(`${name}-portal-signing`, 'tls.key', portalKey.keyPem);
    write('atlassian', 'email', SERVICE_ACCOUNT.email);
    write('atlassian', 'apiToken', SERVICE_ACCOUNT.apiToken);
    return { name, url, tenant, brokerKey: makeKeyPair(`broker-${i}.acme.test`), secretsDir };
  });
}

/** The bundles a MemoryTenantSource hands a pool for these tenants. */
export function portalPoolBundles(tenants: readonly PortalTenant[]): TenantBundle[] {
  return tenants.map((t) => ({ key: t.name, tenant: t.tenant, secrets: new SecretDirectory(t.secretsDir) }));
}

/**
 * What startPool takes to serve these tenants as `jsm-sso portal --pool` does: the portal's own
 * builder, each tenant trusting its own broker's key, and a source holding their bundles.
 */
export function portalPoolOf(tenants: readonly PortalTenant[]): {
  part: 'portal';
  build: BuildPart;
  source: MemoryTenantSource;
} {
  const brokerCertificates = brokerCertificatesOf(tenants);
  return {
    part: 'portal',
    build: (context) =>
      createPortalApp(context, { brokerCertificatesPem: brokerCertificates.get(context.tenantId)! }),
    source: new MemoryTenantSource(portalPoolBundles(tenants)),
  };
}

/** A part a recordingBuild built: its tenant, and whether its close has begun. */
export interface RecordedPart {
  tenant: string;
  closing: boolean;
}

/**
 * `build`, pushing each part it builds onto `parts` (in order) and marking when each one's close
 * begins; with `closesWaitFor`, a close then waits for it before closing the part, so that a test can
 * look at the pool between a retired part's close beginning and its end.
 */
export function recordingBuild(
  build: BuildPart,
  parts: RecordedPart[],
  closesWaitFor?: Promise<unknown>,
): BuildPart {
  return async (context) => {
    const app = await build(context);
    const recorded = { tenant: context.tenantId, closing: false };
    parts.push(recorded);
    return {
      ...app,
      close: async () => {
        recorded.closing = true;
        await closesWaitFor;
        await app.close?.();
      },
    };
  };
}

/** Each tenant trusts its own broker's key only, as each would from its own broker's metadata. */
export function brokerCertificatesOf(tenants: readonly PortalTenant[]): Map<string, string[]> {
  return new Map(tenants.map((t) => [t.name, [t.brokerKey.certPem]]));
}

export function removePortalPoolTenants(tenants: readonly PortalTenant[] | undefined): void {
  for (const t of tenants ?? []) rmSync(t.secretsDir, { recursive: true, force: true });
}

/** A portal pool serving its tenants, each on a loopback address of its own, against a JSM emulator of its own. */
export interface RunningPortalPool {
  tenants: PortalTenant[];
  emulator: RunningJsmEmulator;
  running: RunningPool;
  /** Where its tenants come from: a test adds, changes and removes them here. */
  source: MemoryTenantSource;
  close(): Promise<void>;
}

/**
 * Starts a portal pool of `hosts` tenants (`portalPoolTenants`, named after `run`) with `options`;
 * `wrapBuild` (recordingBuild, say) wraps the portal's builder.
 */
export async function startPortalPool(
  hosts: number,
  run: string,
  options: Omit<StartPoolOptions, 'part' | 'build' | 'source'>,
  wrapBuild: (build: BuildPart) => BuildPart = (build) => build,
): Promise<RunningPortalPool> {
  let running: RunningPool | undefined;
  const servers = await listenOnLoopbacks((req, res) => running?.handler(req, res), hosts);
  const emulator = await startJsmEmulator({});
  const tenants = portalPoolTenants(servers.urls, emulator.url, run);
  const pool = portalPoolOf(tenants);
  running = await startPool({ ...pool, build: wrapBuild(pool.build), ...options });
  const started = running;
  return {
    tenants,
    emulator,
    running: started,
    source: pool.source,
    close: async () => {
      await started.close();
      await servers.close();
      await emulator.close();
      removePortalPoolTenants(tenants);
    },
  };
}
