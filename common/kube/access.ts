import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { JsmSsoError } from '../errors.js';

/**
 * How the operator and the pool processes (--pool) reach their API server: the server's URL, and
 * the TLS settings and credentials each request carries. client-node's KubeConfig has this shape
 * too, but importing client-node loads its whole generated API: 30 MB of heap and 77 MB of RSS
 * measured, a quarter of the chart's 128 MB heap, to read a token file (ADRs 0120, 0136). So the
 * two forms met in practice are read here, and client-node is loaded only for what it alone
 * handles (exec plugins, auth providers, impersonation, several kubeconfig files merged...).
 */
export interface ClusterAccess {
  getCurrentCluster(): { server: string } | null;
  /** Sets TLS material and the Authorization header; called again at every credential refresh. */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

/**
 * No way to the API server: told at start as one line with its code (cli/main.ts), not a stack,
 * since only whoever deploys the process can give it one (ADR 0332).
 */
export class ClusterAccessError extends JsmSsoError {
  constructor(message: string, cause?: unknown) {
    super('CLUSTER_ACCESS_MISSING', message, { status: 500, cause });
    this.name = 'ClusterAccessError';
  }
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The pod's service account, as client-go's rest.InClusterConfig: the API server from the
 * KUBERNETES_SERVICE_* variables, its CA, and the token file read again at every refresh (the
 * kubelet rotates bound tokens in place).
 */
export function inClusterAccess(
  directory = SERVICE_ACCOUNT_DIR,
  env: NodeJS.ProcessEnv = process.env,
  elsewhere = 'pass --kubeconfig',
): ClusterAccess {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw new ClusterAccessError(
      `not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT unset); ${elsewhere}`,
    );
  }
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const ca = readAccessFile(`${directory}/ca.crt`, "the service account's CA");
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (options) => {
      options.ca = ca;
      bearer(
        options,
        readAccessFile(`${directory}/token`, "the service account's token").toString('utf8').trim(),
      );
    },
  };
}

/** The kubeconfig fields read here; a cluster or user with any other field goes to client-node. */
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
]);
const USER_FIELDS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'username',
  'password',
]);

type Entry = Record<string, unknown>;

/**
 * A kubeconfig file's current context. A cluster and user made only of a server, CA, TLS server
 * name, token, client certificate or basic credentials (what kubeadm, kind and envtest write) are
 * read here; anything else is client-node's KubeConfig, imported only then.
 */
export async function kubeconfigAccess(file: string): Promise<ClusterAccess> {
  const document = (parse(readAccessFile(file, 'kubeconfig').toString('utf8')) ?? {}) as Entry;
  const named = (list: string, name: unknown) =>
    ((document[list] as Entry[] | undefined) ?? []).find((item) => item['name'] === name);
  const context = named('contexts', document['current-context'])?.['context'] as Entry | undefined;
  const cluster = named('clusters', context?.['cluster'])?.['cluster'] as Entry | undefined;
  const user = (named('users', context?.['user'])?.['user'] ?? {}) as Entry;
  if (!cluster || typeof cluster['server'] !== 'string') {
    throw new ClusterAccessError(`kubeconfig ${file}: its current context names no cluster with a server`);
  }
  const simple = (entry: Entry, fields: Set<string>) => Object.keys(entry).every((k) => fields.has(k));
  if (!simple(cluster, CLUSTER_FIELDS) || !simple(user, USER_FIELDS)) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(file);
    return kubeConfig;
  }
  const relative = dirname(file);
  // A file the kubeconfig names is read as the kubeconfig is: one not there is its fault, told at
  // start, not a stack nor (a token file, read at each request) an API server that does not answer.
  const fileNamed = (field: string, path: string) =>
    readAccessFile(resolve(relative, path), `kubeconfig ${file}: its ${field}`);
  const material = (entry: Entry, field: string): Buffer | undefined => {
    const data = entry[`${field}-data`];
    const path = entry[field];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof path === 'string') return fileNamed(field, path);
    return undefined;
  };
  const ca = material(cluster, 'certificate-authority');
  const cert = material(user, 'client-certificate');
  const key = material(user, 'client-key');
  const server = cluster['server'];
  return {
    getCurrentCluster: () => ({ server }),
    applyToHTTPSOptions: async (options) => {
      if (ca) options.ca = ca;
      if (cert) options.cert = cert;
      if (key) options.key = key;
      if (cluster['insecure-skip-tls-verify'] === true) options.rejectUnauthorized = false;
      if (typeof cluster['tls-server-name'] === 'string') options.servername = cluster['tls-server-name'];
      if (typeof user['token'] === 'string') bearer(options, user['token']);
      else if (typeof user['tokenFile'] === 'string')
        bearer(options, fileNamed('tokenFile', user['tokenFile']).toString('utf8').trim());
      if (typeof user['username'] === 'string')
        options.auth = `${user['username']}:${String(user['password'] ?? '')}`;
    },
  };
}

/**
 * Where a process without a --kubeconfig flag finds its cluster, in the order of client-node's
 * `KubeConfig.loadFromDefault` (what the pool processes used before, ADR 0136): $KUBECONFIG, else
 * ~/.kube/config, else the pod's service account. Several files in $KUBECONFIG are merged by
 * client-node, imported only then; with none of the three this is an error, not client-node's
 * plain-http localhost:8080.
 */
export async function defaultClusterAccess(
  env: NodeJS.ProcessEnv = process.env,
  home = homeDirectory(),
  serviceAccount = SERVICE_ACCOUNT_DIR,
): Promise<ClusterAccess> {
  const files = (env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  if (files.length > 1) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(files[0]!);
    for (const other of files.slice(1)) {
      const next = new KubeConfig();
      next.loadFromFile(other);
      kubeConfig.mergeConfig(next);
    }
    return kubeConfig;
  }
  const file = files[0] ?? (home === undefined ? undefined : join(home, '.kube', 'config'));
  if (file !== undefined && (files.length === 1 || existsSync(file))) return kubeconfigAccess(file);
  return inClusterAccess(serviceAccount, env, 'set KUBECONFIG');
}

/**
 * The user's home folder, or undefined where there is none: HOME unset and a UID that /etc/passwd
 * does not name (OpenShift's restricted-v2 runs a pod as an arbitrary UID), where os.homedir()
 * throws. Such a process has no ~/.kube/config; $KUBECONFIG or the service account still serve.
 */
function homeDirectory(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

/** A file the way to the API server is read from; its absence is the process's to tell, not a stack. */
function readAccessFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ClusterAccessError(
      `${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`,
      err,
    );
  }
}

function bearer(options: RequestOptions, token: string): void {
  options.headers = {
    ...(options.headers as Record<string, string> | undefined),
    Authorization: `Bearer ${token}`,
  };
}
