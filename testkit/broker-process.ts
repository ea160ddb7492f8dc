import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { JsmSsoTenant } from '../common/config/tenant.generated.js';
import { startDevIdp } from '../dev/idp/provider.js';
import type { DevUser } from '../dev/idp/users.js';
import {
  createPki,
  devClient,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  portalSp,
  tenantFor,
} from './broker-harness.js';
import { exited, jsmSso, listening, onLogLine } from './part-process.js';

export interface BrokerProcess {
  child: ChildProcess;
  /** The keys and certificates the process reads from its secrets directory. */
  pki: Pki;
  /** The tenant the process serves, as written to its `--config` file. */
  tenant: JsmSsoTenant;
  /** Public and management URLs, as the process logged them. */
  urls: { broker: string; management: string };
  done: Promise<{ code: number | null; stderr: string }>;
  /** Every JSON line it has logged, from its first. */
  logs: Record<string, unknown>[];
  /** A fresh signed AuthnRequest sent to the process: 302 to the IdP when all is well. */
  signIn(init?: RequestInit): Promise<Response>;
  /** The path and query of a fresh signed AuthnRequest (for clients other than fetch). */
  signInPath(): Promise<string>;
  stop(): Promise<void>;
}

/** What a broker process is started with: its files written, its IdP running. */
export interface BrokerCommand {
  args: string[];
  pki: Pki;
  tenant: JsmSsoTenant;
  /** Stops the IdP and removes the files. */
  cleanup(): Promise<void>;
}

/**
 * The `jsm-sso broker` command line of a tenant with one OIDC IdP (an in-process dev IdP, or
 * `idpIssuer`), its config and secrets written: flow state in `redisUrl` (in memory without it), on
 * loopback, on `port` and `managementPort` (0 by default: free ones).
 */
export async function brokerCommand(options: {
  redisUrl?: string;
  drainSeconds: number;
  idpIssuer?: string;
  port?: number;
  managementPort?: number;
  /** Who may sign in at the dev IdP (its default people when absent). */
  users?: DevUser[];
}): Promise<BrokerCommand> {
  const pki: Pki = createPki();
  const placeholder = await listenPlaceholder();
  placeholder.server.close();
  const tenantUrl = placeholder.url;
  const idp = options.idpIssuer
    ? undefined
    : await startDevIdp({
        clients: [devClient(tenantUrl)],
        ...(options.users ? { users: options.users } : {}),
      });
  const { redisUrl } = options;
  if (redisUrl) {
    mkdirSync(join(pki.dir, 'redis'));
    writeFileSync(join(pki.dir, 'redis', 'url'), redisUrl);
  }
  const issuer = options.idpIssuer ?? idp!.issuer;
  const tenant = tenantFor(tenantUrl, [oidcIdp('corporate', issuer)], (spec) => {
    if (redisUrl) spec.redis = { urlSecretRef: { name: 'redis', key: 'url' } };
  });
  const config = join(pki.dir, 'tenant.yaml');
  writeFileSync(config, stringify(tenant));
  const args = [
    'broker',
    '--config',
    config,
    '--secrets-dir',
    pki.dir,
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--management-port',
    String(options.managementPort ?? 0),
    '--drain-seconds',
    String(options.drainSeconds),
  ];
  return {
    args,
    pki,
    tenant,
    async cleanup() {
      await idp?.close();
      pki.cleanup();
    },
  };
}

/**
 * A real `jsm-sso broker` process, as a load balancer would see it: flow state in `redisUrl` (in
 * memory without it), in front of an in-process dev IdP, or of `idpIssuer` when one is given.
 */
export async function startBrokerProcess(options: {
  redisUrl?: string;
  drainSeconds: number;
  idpIssuer?: string;
  /** A resolv.conf the process's name resolver reads instead of the machine's (testkit/name-server.ts). */
  resolvConf?: string;
  users?: DevUser[];
  /** LOG_LEVEL of the process (this process's environment decides when absent). */
  logLevel?: string;
}): Promise<BrokerProcess> {
  const command = await brokerCommand(options);
  const { pki, tenant } = command;
  const tenantUrl = tenant.spec.broker.url;
  const env = options.logLevel ? { LOG_LEVEL: options.logLevel } : {};
  const child = jsmSso(command.args, env, undefined, undefined, options.resolvConf);
  const done = exited(child);
  const logs: Record<string, unknown>[] = [];
  onLogLine(child, (line) => logs.push(line));
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
    await command.cleanup();
  };
  let urls: Record<string, string>;
  try {
    urls = await listening(child, ['broker', 'management']);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const portal = portalSp(tenantUrl, pki);
  const signInPath = async () => {
    const authorize = new URL(await portal.getAuthorizeUrlAsync('rs', undefined, {}));
    return `/saml/sso${authorize.search}`;
  };
  return {
    child,
    pki,
    tenant,
    urls: { broker: urls['broker']!, management: urls['management']! },
    done,
    logs,
    signInPath,
    async signIn(init = {}) {
      return fetch(`${urls['broker']}${await signInPath()}`, { redirect: 'manual', ...init });
    },
    stop: cleanup,
  };
}
