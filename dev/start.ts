// `npm start` / `jsm-sso dev start`: the whole product on loopback in one terminal. The JSM emulator,
// the development IdP, the broker and the portal run as child processes started through this same
// CLI (so the real entry points are exercised), on free ports, with generated keys and a tenant
// YAML in a temporary folder. Ctrl-C stops everything and removes the folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prettyFactory } from 'pino-pretty';
import { stringify } from 'yaml';
import { optionalPort, parseCommand } from '../common/args.js';
import { freePort } from '../common/net.js';
import { createSelfSignedCertificate } from '../common/pki.js';

const TENANT = 'acme';
const SERVICE_ACCOUNT = { email: 'portal-bot@acme.test', apiToken: 'dev-api-token' };
const DEMO_LOGINS = [
  'alice@acme.test (admin)',
  'bob@acme.test',
  'carol@partner.test (new customer, partner IdP)',
  'mallory@acme.test at the partner IdP (refused: not its domain)',
];
export const READY_LINE = 'jsm-sso dev stack ready: ';
/** Desk ids fixed in dev/jsm-emulator/default-seed.yaml. */
const DEFAULT_SEED_DESKS = { itHelp: '1', hr: '2' };
/**
 * Which desks a new customer joins: staff (acme.test) both, a partner (partner.test, carol) IT Help
 * only, never HR. With another seed the desks are unknown, so there are no rules (every desk).
 */
const DEFAULT_SEED_PROVISIONING_RULES = [
  { emailDomain: 'acme.test', serviceDeskIds: [DEFAULT_SEED_DESKS.itHelp, DEFAULT_SEED_DESKS.hr] },
  { emailDomain: 'partner.test', serviceDeskIds: [DEFAULT_SEED_DESKS.itHelp] },
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
        'portal-port': { type: 'string', value: 'N', description: 'Portal port (default: a free one).' },
        seed: {
          type: 'string',
          value: 'FILE',
          description: 'JSM emulator seed YAML (default: the built-in help center).',
        },
        quiet: { type: 'boolean', description: "Do not echo the children's log lines." },
      },
    },
    argv,
  );
  if (!values) return;
  const began = Date.now();
  const progress = (message: string) =>
    console.log(`[dev] ${message} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
  progress('starting the JSM emulator, the dev IdP, the broker and the portal from source');
  const ports: Ports = {
    emulator: await freePort(),
    idp: await freePort(),
    partnerIdp: await freePort(),
    broker: await freePort(),
    brokerManagement: await freePort(),
    portal: optionalPort(values, 'portal-port', 0) || (await freePort()),
    portalManagement: await freePort(),
  };
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-dev-'));
  const clientSecret = randomBytes(24).toString('base64url');
  // The CLI only reads REDIS_URL here, at the edge, to choose the flow store for the demo.
  const redisUrl = process.env['REDIS_URL'] || undefined;
  await writeSecrets(join(dir, 'secrets'), clientSecret, redisUrl);
  const configPath = join(dir, 'tenant.yaml');
  writeFileSync(
    configPath,
    stringify(
      tenantDocument(ports, { withRedis: redisUrl !== undefined, defaultSeed: values['seed'] === undefined }),
    ),
  );

  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const { child } of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill('SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // JSON log lines are made readable in a terminal; piped output stays JSON for tools.
  const format = process.stdout.isTTY ? readableLogLine() : (line: string) => line;
  const start = (name: string, args: string[]) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.on('data', (chunk: Buffer) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        if (!values['quiet']) for (const line of lines) process.stdout.write(`[${name}] ${format(line)}\n`);
      });
    }
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`[dev] ${name} exited (${signal ?? code}); stopping the stack`);
      void stopAll(1);
    });
    children.push({ name, child });
  };

  const secretsDir = join(dir, 'secrets');
  const seed = typeof values['seed'] === 'string' ? ['--seed', values['seed']] : [];
  start('jsm-emulator', [
    'dev',
    'jsm-emulator',
    '--port',
    String(ports.emulator),
    '--host',
    '127.0.0.1',
    ...seed,
  ]);
  for (const [name, realm, port] of [
    ['idp', 'acme', ports.idp],
    ['partner-idp', 'partner', ports.partnerIdp],
  ] as const) {
    start(name, [
      'dev',
      'idp',
      '--realm',
      realm,
      '--port',
      String(port),
      '--client-id',
      'jsm-sso-broker',
      // One argument: a random base64url secret starts with '-' one time in 64, and a separate value
      // that looks like an option is refused by the argument parser ("argument is ambiguous").
      `--client-secret=${clientSecret}`,
      '--redirect-uri',
      `http://127.0.0.1:${ports.broker}/oidc/callback`,
    ]);
  }
  const partArgs = (port: number, management: number) => [
    '--config',
    configPath,
    '--secrets-dir',
    secretsDir,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--management-port',
    String(management),
    // No load balancer to wait for on loopback: Ctrl-C stops at once.
    '--drain-seconds',
    '0',
  ];
  await waitFor(`http://127.0.0.1:${ports.idp}/.well-known/openid-configuration`, 'idp');
  await waitFor(`http://127.0.0.1:${ports.partnerIdp}/.well-known/openid-configuration`, 'partner-idp');
  progress('dev IdP ready (acme and partner)');
  start('broker', ['broker', ...partArgs(ports.broker, ports.brokerManagement)]);
  await waitFor(`http://127.0.0.1:${ports.emulator}/rest/api/3/myself`, 'jsm-emulator');
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

function readableLogLine(): (line: string) => string {
  const pretty = prettyFactory({ colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' });
  return (line) => {
    if (!line.startsWith('{')) return line;
    try {
      return pretty(JSON.parse(line)).trimEnd();
    } catch {
      return line;
    }
  };
}

async function writeSecrets(root: string, clientSecret: string, redisUrl: string | undefined): Promise<void> {
  const write = (secret: string, key: string, value: string) => {
    mkdirSync(join(root, secret), { recursive: true, mode: 0o700 });
    writeFileSync(join(root, secret, key), value, { mode: 0o600 });
  };
  for (const [secret, commonName] of [
    [`${TENANT}-broker-signing`, `${TENANT} broker (development)`],
    [`${TENANT}-portal-signing`, `${TENANT} portal (development)`],
  ] as const) {
    const pair = await createSelfSignedCertificate({ commonName });
    write(secret, 'tls.crt', pair.certPem);
    write(secret, 'tls.key', pair.keyPem);
  }
  write(`${TENANT}-oidc`, 'clientSecret', clientSecret);
  write(`${TENANT}-atlassian`, 'email', SERVICE_ACCOUNT.email);
  write(`${TENANT}-atlassian`, 'apiToken', SERVICE_ACCOUNT.apiToken);
  if (redisUrl) write(`${TENANT}-redis`, 'url', redisUrl);
}

const DEV_ATTRIBUTE_MAPPING = {
  email: 'claims.email',
  displayName: 'claims.name',
  groups: 'has(claims.groups) ? claims.groups : []',
};

function devOidc(port: number) {
  return {
    issuer: `http://127.0.0.1:${port}`,
    clientId: 'jsm-sso-broker',
    clientSecretRef: { name: `${TENANT}-oidc` },
    scopes: ['openid', 'email', 'profile', 'groups'],
  };
}

/** The dev stack's tenant (exported for the tests that hold it to its promises). */
export function tenantDocument(ports: Ports, options: { withRedis: boolean; defaultSeed: boolean }) {
  return {
    apiVersion: 'jsm-sso.io/v1alpha1',
    kind: 'JsmSsoTenant',
    metadata: { name: TENANT },
    spec: {
      portal: {
        url: `http://127.0.0.1:${ports.portal}`,
        title: 'Acme Help Center',
        samlSigningSecretRef: { name: `${TENANT}-portal-signing` },
        adminGroups: ['jsm-admins'],
      },
      broker: {
        url: `http://127.0.0.1:${ports.broker}`,
        signingSecretRef: { name: `${TENANT}-broker-signing` },
      },
      identityProviders: [
        {
          name: 'acme-dev',
          displayName: 'Acme (development IdP)',
          emailDomains: ['acme.test'],
          // The company's own directory: its groups (jsm-admins) count.
          trustGroups: true,
          oidc: devOidc(ports.idp),
          attributeMapping: DEV_ATTRIBUTE_MAPPING,
        },
        {
          name: 'partner-dev',
          displayName: 'Partner (development IdP)',
          emailDomains: ['partner.test'],
          oidc: devOidc(ports.partnerIdp),
          attributeMapping: DEV_ATTRIBUTE_MAPPING,
        },
      ],
      atlassian: {
        siteUrl: `http://127.0.0.1:${ports.emulator}`,
        credentialsSecretRef: { name: `${TENANT}-atlassian` },
        organizationMappings: [],
        ...(options.defaultSeed ? { provisioningRules: DEFAULT_SEED_PROVISIONING_RULES } : {}),
      },
      ...(options.withRedis ? { redis: { urlSecretRef: { name: `${TENANT}-redis` } } } : {}),
    },
  };
}

async function waitFor(url: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, {
        headers: { authorization: basicAuth() },
        signal: AbortSignal.timeout(2000),
      });
      if (response.status < 500) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready at ${url}: ${last}`);
}

function basicAuth(): string {
  return `Basic ${Buffer.from(`${SERVICE_ACCOUNT.email}:${SERVICE_ACCOUNT.apiToken}`).toString('base64')}`;
}
