// A Redis on the host for the pods of test/cluster: TLS only, a client certificate required (ADR
// 0124), listening on the node's bridge address too, with the Secrets a tenant's or a pool's
// spec.redis names and redis-cli to look at it as those pods do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalRedis, startLocalTlsRedis } from './local-redis.js';
import { makeTestCa } from './pki.js';
import { opaqueSecret, tlsSecret } from './tenant-services.js';

export interface NodeRedis {
  redis: LocalRedis;
  /** redis-cli's arguments to reach it as the pods do: TLS, the CA, a client certificate, the port. */
  cliArgs: string[];
  /** Runs redis-cli with `cliArgs`; its stdout, or throws with its stderr. */
  cli(...args: string[]): string;
  /**
   * The Secrets `<prefix>-redis` (url), `<prefix>-redis-ca` and `<prefix>-redis-client` (a client
   * certificate of its own), and the spec.redis that names them.
   */
  consumer(prefix: string): { secrets: object[]; spec: Record<string, { name: string }> };
  stop(): Promise<void>;
}

export async function startNodeRedis(nodeAddress: string): Promise<NodeRedis> {
  const ca = makeTestCa('jsm-sso node Redis CA');
  const files = mkdtempSync(join(tmpdir(), 'jsm-sso-node-redis-'));
  const file = (name: string, pem: string) => {
    writeFileSync(join(files, name), pem);
    return join(files, name);
  };
  const cleanup = () => {
    rmSync(files, { recursive: true, force: true });
    ca.cleanup();
  };
  try {
    const server = ca.issue({ hosts: [nodeAddress, '127.0.0.1'] });
    const own = ca.issue({ hosts: ['jsm-sso-tests'], client: true });
    const client = { certFile: file('client.crt', own.certPem), keyFile: file('client.key', own.keyPem) };
    const caFile = file('ca.crt', ca.caPem);
    const redis = await startLocalTlsRedis({
      certFile: file('server.crt', server.certPem),
      keyFile: file('server.key', server.keyPem),
      caFile,
      authClients: 'yes',
      client,
      alsoBind: [nodeAddress],
    });
    const cliArgs = [
      '--tls',
      '--cacert',
      caFile,
      '--cert',
      client.certFile,
      '--key',
      client.keyFile,
      '-p',
      String(redis.port),
    ];
    return {
      redis,
      cliArgs,
      cli(...args) {
        const run = spawnSync('redis-cli', [...cliArgs, ...args], { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${run.stderr}`);
        return run.stdout;
      },
      consumer(prefix) {
        const pair = ca.issue({ hosts: [prefix], client: true });
        return {
          secrets: [
            opaqueSecret(`${prefix}-redis`, { url: `rediss://${nodeAddress}:${redis.port}` }),
            opaqueSecret(`${prefix}-redis-ca`, { 'ca.crt': ca.caPem }),
            tlsSecret(`${prefix}-redis-client`, pair),
          ],
          spec: {
            urlSecretRef: { name: `${prefix}-redis` },
            caBundleSecretRef: { name: `${prefix}-redis-ca` },
            clientCertSecretRef: { name: `${prefix}-redis-client` },
          },
        };
      },
      async stop() {
        await redis.stop();
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
