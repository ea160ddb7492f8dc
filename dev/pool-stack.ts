// `npm start -- --pool`: pooled placement on one machine, without a cluster. Three tenants, each with
// its own emulated Atlassian site (a JSM emulator whose desks carry the company's name) and its own
// host name under .localhost (browsers resolve those to loopback, RFC 6761), are served by ONE broker
// and ONE portal process reading a pool folder (`--pool-dir`, the layout of
// common/pool/directory-source.ts). One dev IdP knows the people and every tenant's broker.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../common/net.js';
import { loadDefaultSeed, loadSeedFile, type Seed } from './jsm-emulator/seed.js';
import { devIdpArgs, listenArgs, READY_LINE, type Stack, waitFor } from './stack.js';
import { devTenant, SERVICE_ACCOUNT_AUTH, writeTenantSecrets } from './tenant.js';

/** The local pool's tenants: the bundle's folder name, its host name's first label, its company. */
export const POOL_TENANTS = [
  { name: 'acme', company: 'Acme' },
  { name: 'initech', company: 'Initech' },
  { name: 'hooli', company: 'Hooli' },
] as const;

const DEMO_LOGINS = ['alice@acme.test (admin)', 'bob@acme.test'];

export interface PoolTenantStatus {
  name: string;
  portal: string;
  broker: string;
  jsmEmulator: string;
}

export async function runPoolStack(
  stack: Stack,
  options: { portalPort: number; seed: string | undefined; redisUrl: string | undefined },
): Promise<void> {
  const { progress, start, dir } = stack;
  progress(
    `starting a local pool: ${POOL_TENANTS.length} tenants (${POOL_TENANTS.map((t) => t.name).join(', ')}), each with its own JSM emulator, served by one broker and one portal process`,
  );
  const ports = {
    idp: await freePort(),
    broker: await freePort(),
    brokerManagement: await freePort(),
    portal: options.portalPort || (await freePort()),
    portalManagement: await freePort(),
  };
  const tenants = await Promise.all(
    POOL_TENANTS.map(async (t) => ({
      ...t,
      emulatorPort: await freePort(),
      portal: `http://${t.name}.localhost:${ports.portal}`,
      broker: `http://${t.name}.localhost:${ports.broker}`,
    })),
  );
  const clientSecret = randomBytes(24).toString('base64url');

  // The sites and the IdP boot while the keys are made.
  const baseSeed = options.seed === undefined ? loadDefaultSeed() : loadSeedFile(options.seed);
  mkdirSync(join(dir, 'seeds'));
  for (const tenant of tenants) {
    const seedFile = join(dir, 'seeds', `${tenant.name}.yaml`);
    writeFileSync(seedFile, stringify(siteOf(baseSeed, tenant.company)));
    start(`jsm-emulator/${tenant.name}`, [
      'dev',
      'jsm-emulator',
      '--port',
      String(tenant.emulatorPort),
      '--host',
      '127.0.0.1',
      '--seed',
      seedFile,
    ]);
  }
  start(
    'idp',
    devIdpArgs(
      'acme',
      ports.idp,
      clientSecret,
      tenants.map((t) => `${t.broker}/oidc/callback`),
    ),
  );
  const idp = `http://127.0.0.1:${ports.idp}`;

  const poolDir = join(dir, 'pool');
  for (const tenant of tenants) {
    const bundle = join(poolDir, tenant.name);
    // A pool's flow store is the pool's own ($REDIS_URL), never a tenant's.
    await writeTenantSecrets(join(bundle, 'secrets'), tenant.name, clientSecret);
    const document = devTenant({
      name: tenant.name,
      title: `${tenant.company} Help Center`,
      portalUrl: tenant.portal,
      brokerUrl: tenant.broker,
      siteUrl: `http://127.0.0.1:${tenant.emulatorPort}`,
      identityProviders: [
        {
          name: 'acme-dev',
          displayName: 'Acme (development IdP)',
          emailDomains: ['acme.test'],
          trustGroups: true,
          issuer: idp,
        },
      ],
      defaultSeed: options.seed === undefined,
      withRedis: false,
    });
    writeFileSync(join(bundle, 'tenant.yaml'), stringify(document));
  }
  progress(`tenant bundles written (signing keys made) in ${poolDir}`);

  await waitFor(`${idp}/.well-known/openid-configuration`, 'idp');
  progress('dev IdP ready');
  start('broker-pool', [
    'broker',
    '--pool-dir',
    poolDir,
    ...listenArgs(ports.broker, ports.brokerManagement),
  ]);
  for (const tenant of tenants) {
    await waitFor(
      `http://127.0.0.1:${tenant.emulatorPort}/rest/api/3/myself`,
      `jsm-emulator/${tenant.name}`,
      SERVICE_ACCOUNT_AUTH,
    );
  }
  progress(`JSM emulators ready (one site per tenant)`);
  start('portal-pool', [
    'portal',
    '--pool-dir',
    poolDir,
    ...listenArgs(ports.portal, ports.portalManagement),
  ]);
  await waitFor(`http://127.0.0.1:${ports.brokerManagement}/readyz`, 'broker-pool');
  progress('broker pool ready');
  await waitFor(`http://127.0.0.1:${ports.portalManagement}/readyz`, 'portal-pool');
  progress('portal pool ready');
  // Each tenant is built on its first request: ask for its metadata now, so the first visit is quick
  // and a broken tenant shows here rather than in the browser.
  for (const tenant of tenants) {
    await waitFor(`${tenant.broker}/saml/metadata`, `${tenant.name} at the broker pool`);
    await waitFor(`${tenant.portal}/saml/metadata`, `${tenant.name} at the portal pool`);
    progress(`${tenant.name} served at ${tenant.portal}`);
  }

  const status = {
    placement: 'pool',
    tenants: tenants.map(
      (t): PoolTenantStatus => ({
        name: t.name,
        portal: t.portal,
        broker: t.broker,
        jsmEmulator: `http://127.0.0.1:${t.emulatorPort}`,
      }),
    ),
    idp,
    management: {
      broker: `http://127.0.0.1:${ports.brokerManagement}`,
      portal: `http://127.0.0.1:${ports.portalManagement}`,
    },
    poolDir,
    flowStore: options.redisUrl ? 'redis' : 'memory',
  };
  const width = Math.max(...tenants.map((t) => t.company.length));
  console.log(
    [
      '',
      `  jsm-sso is running as a local pool: one broker and one portal process serve ${tenants.length} tenants.`,
      "  Open a tenant's portal (Chromium and Firefox resolve *.localhost to this machine):",
      ...status.tenants.map(
        (t, i) => `    ${tenants[i]!.company.padEnd(width)}  ${t.portal}   (its JSM site ${t.jsmEmulator})`,
      ),
      `  Demo logins (password "demo"), the same people at every tenant: ${DEMO_LOGINS.join(', ')}`,
      `  Broker pool http://*.localhost:${ports.broker}  ·  dev IdP ${idp}  ·  flow store: ${status.flowStore}`,
      `  Pool folder: ${poolDir} (a bundle changed there takes effect without a restart)`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  console.log(READY_LINE + JSON.stringify(status));
}

/** A tenant's own site: the seed with its desks named after the company ("Initech IT Help"). */
function siteOf(seed: Seed, company: string): Seed {
  return {
    ...seed,
    serviceDesks: seed.serviceDesks.map((desk) => ({ ...desk, name: `${company} ${desk.name}` })),
  };
}
