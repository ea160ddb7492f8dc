// `npm start` / `jsm-sso dev start`: the whole product on loopback in one terminal. The JSM emulator,
// the development IdP, the broker and the portal run as child processes started through this same
// CLI (so the real entry points are exercised), on free ports, with generated keys and a tenant
// YAML in a temporary folder. Ctrl-C stops everything and removes the folder. With --pool, several
// tenants share one broker and one portal process instead (dev/pool-stack.ts).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { optionalPort, parseCommand } from '../common/args.js';
import { brokerEndpoints } from '../common/config/broker-endpoints.js';
import { freePort } from '../common/net.js';
import { runPoolStack } from './pool-stack.js';
import { createStack, devIdpArgs, listenArgs, READY_LINE, type Stack, waitFor } from './stack.js';
import { devTenant, SERVICE_ACCOUNT_AUTH, writeTenantSecrets } from './tenant.js';

const TENANT = 'acme';
const DEMO_LOGINS = [
  'alice@acme.test (admin)',
  'bob@acme.test',
  'carol@partner.test (new customer, partner IdP)',
  'mallory@acme.test at the partner IdP (refused: not its domain)',
];

export interface Ports {
  emulator: number;
  idp: number;
  /** The second dev IdP: a partner organisation's, authoritative for partner.test only. */
  partnerIdp: number;
  broker: number;
  brokerManagement: number;
  portal: number;
  portalManagement: number;
}

export async function run(argv: string[]): Promise<void> {
  const values = parseCommand(
    {
      name: 'dev start',
      summary:
        'Start the JSM emulator, the dev IdP, the broker and the portal on loopback (Redis when REDIS_URL is set).',
      options: {
        pool: {
          type: 'boolean',
          description:
            'A local pool: three tenants (acme, initech, hooli), each on its own *.localhost host with its own JSM emulator, served by one broker and one portal process (--pool-dir).',
        },
        'portal-port': { type: 'string', value: 'N', description: 'Portal port (default: a free one).' },
        seed: {
          type: 'string',
          value: 'FILE',
          description:
            "JSM emulator seed YAML (default: the built-in help center); with --pool, every tenant's site starts from it.",
        },
        quiet: { type: 'boolean', description: "Do not echo the children's log lines." },
      },
    },
    argv,
  );
  if (!values) return;
  const portalPort = optionalPort(values, 'portal-port', 0);
  const seed = typeof values['seed'] === 'string' ? values['seed'] : undefined;
  // The CLI only reads REDIS_URL here, at the edge, to choose the flow store for the demo.
  const redisUrl = process.env['REDIS_URL'] || undefined;
  const stack = createStack({ quiet: values['quiet'] === true });
  try {
    if (values['pool'] === true) await runPoolStack(stack, { portalPort, seed, redisUrl });
    else await runDedicatedStack(stack, { portalPort, seed, redisUrl });
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/** The dedicated placement: one tenant, its own broker and portal, two dev IdPs (acme and partner). */
async function runDedicatedStack(
  stack: Stack,
  options: { portalPort: number; seed: string | undefined; redisUrl: string | undefined },
): Promise<void> {
  const { progress, start, dir } = stack;
  const { redisUrl } = options;
  progress('starting the JSM emulator, the dev IdP, the broker and the portal from source');
  const ports: Ports = {
    emulator: await freePort(),
    idp: await freePort(),
    partnerIdp: await freePort(),
    broker: await freePort(),
    brokerManagement: await freePort(),
    portal: options.portalPort || (await freePort()),
    portalManagement: await freePort(),
  };
  const clientSecret = randomBytes(24).toString('base64url');
  const secretsDir = join(dir, 'secrets');
  await writeTenantSecrets(secretsDir, TENANT, clientSecret, redisUrl);
  const configPath = join(dir, 'tenant.yaml');
  writeFileSync(
    configPath,
    stringify(
      tenantDocument(ports, { withRedis: redisUrl !== undefined, defaultSeed: options.seed === undefined }),
    ),
  );

  start('jsm-emulator', [
    'dev',
    'jsm-emulator',
    '--port',
    String(ports.emulator),
    '--host',
    '127.0.0.1',
    ...(options.seed === undefined ? [] : ['--seed', options.seed]),
  ]);
  const brokerUrl = `http://127.0.0.1:${ports.broker}`;
  const brokerAt = brokerEndpoints(brokerUrl);
  // Each IdP is the tenant's IdP of that name: signing out there ends the portal session too.
  const devIdps = [
    ['idp', 'acme', ports.idp, ACME_IDP],
    ['partner-idp', 'partner', ports.partnerIdp, PARTNER_IDP],
  ] as const;
  for (const [name, realm, port, idpName] of devIdps) {
    start(
      name,
      devIdpArgs(realm, port, clientSecret, [brokerAt.redirectUri(idpName, devIdps.length)], {
        backchannel: brokerAt.backchannelLogoutUrl(idpName),
        frontchannel: brokerAt.frontchannelLogoutUrl(idpName),
      }),
    );
  }
  const partArgs = (port: number, management: number) => [
    '--config',
    configPath,
    '--secrets-dir',
    secretsDir,
    ...listenArgs(port, management),
  ];
  await waitFor(`http://127.0.0.1:${ports.idp}/.well-known/openid-configuration`, 'idp');
  await waitFor(`http://127.0.0.1:${ports.partnerIdp}/.well-known/openid-configuration`, 'partner-idp');
  progress('dev IdP ready (acme and partner)');
  start('broker', ['broker', ...partArgs(ports.broker, ports.brokerManagement)]);
  await waitFor(`http://127.0.0.1:${ports.emulator}/rest/api/3/myself`, 'jsm-emulator', SERVICE_ACCOUNT_AUTH);
  progress('JSM emulator ready');
  start('portal', ['portal', ...partArgs(ports.portal, ports.portalManagement)]);
  await waitFor(`http://127.0.0.1:${ports.brokerManagement}/readyz`, 'broker');
  progress('broker ready');
  await waitFor(`http://127.0.0.1:${ports.portalManagement}/readyz`, 'portal');
  progress('portal ready');

  const status = {
    portal: `http://127.0.0.1:${ports.portal}`,
    broker: `http://127.0.0.1:${ports.broker}`,
    idp: `http://127.0.0.1:${ports.idp}`,
    partnerIdp: `http://127.0.0.1:${ports.partnerIdp}`,
    jsmEmulator: `http://127.0.0.1:${ports.emulator}`,
    management: {
      broker: `http://127.0.0.1:${ports.brokerManagement}`,
      portal: `http://127.0.0.1:${ports.portalManagement}`,
    },
    flowStore: redisUrl ? 'redis' : 'memory',
  };
  console.log(
    [
      '',
      `  jsm-sso is running. Open the portal: ${status.portal}`,
      `  Demo logins (password "demo"): ${DEMO_LOGINS.join(', ')}`,
      `  Broker ${status.broker}  ·  dev IdPs ${status.idp} (acme), ${status.partnerIdp} (partner)  ·  JSM emulator ${status.jsmEmulator}  ·  flow store: ${status.flowStore}`,
      `  Tenant YAML: ${configPath}`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  console.log(READY_LINE + JSON.stringify(status));
}

/** The tenant's names of the two development IdPs. */
const ACME_IDP = 'acme-dev';
const PARTNER_IDP = 'partner-dev';

/** The dev stack's tenant (exported for the tests that hold it to its promises). */
export function tenantDocument(ports: Ports, options: { withRedis: boolean; defaultSeed: boolean }) {
  return devTenant({
    name: TENANT,
    title: 'Acme Help Center',
    portalUrl: `http://127.0.0.1:${ports.portal}`,
    brokerUrl: `http://127.0.0.1:${ports.broker}`,
    siteUrl: `http://127.0.0.1:${ports.emulator}`,
    identityProviders: [
      {
        name: ACME_IDP,
        displayName: 'Acme (development IdP)',
        emailDomains: ['acme.test'],
        trustGroups: true,
        issuer: `http://127.0.0.1:${ports.idp}`,
      },
      {
        name: PARTNER_IDP,
        displayName: 'Partner (development IdP)',
        emailDomains: ['partner.test'],
        issuer: `http://127.0.0.1:${ports.partnerIdp}`,
      },
    ],
    ...options,
  });
}
