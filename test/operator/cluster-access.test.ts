import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import {
  type ClusterAccess,
  defaultClusterAccess,
  inClusterAccess,
  kubeconfigAccess,
} from '../../common/kube/access.js';
import { KubeClient } from '../../common/kube/client.js';
import { createSelfSignedCertificate } from '../../common/pki.js';
import { type Envtest, envtest } from '../../testkit/envtest.js';
import { exited, jsmSso, onLogLine, SOURCE_ENTRY } from '../../testkit/part-process.js';

/**
 * The operator's and the pool processes' own reading of their cluster access (ADRs 0120, 0136): the
 * pod's service account and plain kubeconfig files, against a real kube-apiserver; anything else is
 * client-node's KubeConfig.
 */
interface Kubeconfig {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: unknown[];
  'current-context': string;
}

describe('cluster access of the operator and the pools (service account, kubeconfig)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let kubeconfig: Kubeconfig;
  let dir: string;

  before(async () => {
    env = await envtest();
    kubeconfig = parse(readFileSync(env.kubeconfigPath, 'utf8')) as Kubeconfig;
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-access-'));
  });

  const clusterOf = (k: Kubeconfig) => k.clusters[0]!.cluster;
  const userOf = (k: Kubeconfig) => k.users[0]!.user;
  const namespaces = async (access: ClusterAccess) => {
    const client = new KubeClient(access);
    try {
      return (await client.list('/api/v1/namespaces')).items.length;
    } finally {
      client.close();
    }
  };
  const options = async (access: ClusterAccess) => {
    const opts: RequestOptions = {};
    await access.applyToHTTPSOptions(opts);
    return opts;
  };
  /** A copy of the envtest kubeconfig with its cluster and user entries changed. */
  const variant = (name: string, cluster: Record<string, unknown>, user: Record<string, unknown>) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      stringify({
        ...kubeconfig,
        clusters: [{ ...kubeconfig.clusters[0], cluster }],
        users: [{ ...kubeconfig.users[0], user }],
      }),
    );
    return file;
  };

  it('reaches the API server as the pod service account, reading the token file again at each refresh', async () => {
    const serviceAccount = mkdtempSync(join(dir, 'sa-'));
    writeFileSync(
      join(serviceAccount, 'ca.crt'),
      Buffer.from(String(clusterOf(kubeconfig)['certificate-authority-data']), 'base64'),
    );
    writeFileSync(join(serviceAccount, 'token'), `${String(userOf(kubeconfig)['token'])}\n`);
    const url = new URL(String(clusterOf(kubeconfig)['server']));
    const access = inClusterAccess(serviceAccount, {
      KUBERNETES_SERVICE_HOST: url.hostname,
      KUBERNETES_SERVICE_PORT: url.port,
    });
    expect(access.getCurrentCluster()?.server).to.equal(`https://${url.hostname}:${url.port}`);
    expect(await namespaces(access)).to.be.greaterThan(0);
    writeFileSync(join(serviceAccount, 'token'), 'rotated-token');
    expect((await options(access)).headers).to.deep.equal({ Authorization: 'Bearer rotated-token' });
  });

  it('brackets an IPv6 service host, and says to pass --kubeconfig outside a cluster', () => {
    const serviceAccount = mkdtempSync(join(dir, 'sa6-'));
    writeFileSync(join(serviceAccount, 'ca.crt'), 'ca');
    const env6 = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    expect(inClusterAccess(serviceAccount, env6).getCurrentCluster()?.server).to.equal(
      'https://[fd00::1]:443',
    );
    expect(() => inClusterAccess(serviceAccount, {})).to.throw(/not in a cluster.*--kubeconfig/);
  });

  it('reaches the API server with a kubeconfig token and CA, without client-node', async () => {
    const access = await kubeconfigAccess(env.kubeconfigPath);
    expect(access.constructor.name).to.not.equal(KubeConfig.name);
    expect(await namespaces(access)).to.be.greaterThan(0);
  });

  it('refuses an API server whose certificate the kubeconfig CA did not sign', async () => {
    const { 'certificate-authority-data': _ca, ...cluster } = clusterOf(kubeconfig);
    // Another CA: a certificate the API server's chain does not lead to.
    const { certPem } = await createSelfSignedCertificate({ commonName: 'another CA' });
    const other = variant(
      'other-ca',
      { ...cluster, 'certificate-authority-data': Buffer.from(certPem).toString('base64') },
      userOf(kubeconfig),
    );
    let failure: unknown;
    await namespaces(await kubeconfigAccess(other)).catch((err: unknown) => {
      failure = err;
    });
    expect(String(failure)).to.match(/certificate|self.signed|issuer/i);
  });

  it('reads CA and client certificate files relative to the kubeconfig, tokenFile, TLS server name and basic credentials', async () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    writeFileSync(join(dir, 'client.pem'), 'CERT');
    writeFileSync(join(dir, 'client.key'), 'KEY');
    writeFileSync(join(dir, 'token'), 'file-token\n');
    const file = variant(
      'files',
      {
        server: 'https://api.example:6443',
        'certificate-authority': 'ca.pem',
        'tls-server-name': 'kubernetes',
      },
      { 'client-certificate': 'client.pem', 'client-key': 'client.key', tokenFile: 'token' },
    );
    const opts = await options(await kubeconfigAccess(file));
    expect([String(opts.ca), String(opts.cert), String(opts.key), opts.servername]).to.deep.equal([
      'CA',
      'CERT',
      'KEY',
      'kubernetes',
    ]);
    expect(opts.headers).to.deep.equal({ Authorization: 'Bearer file-token' });
    expect(opts.rejectUnauthorized).to.equal(undefined);
    const basic = variant('basic', { server: 'https://api.example:6443' }, { username: 'u', password: 'p' });
    expect((await options(await kubeconfigAccess(basic))).auth).to.equal('u:p');
  });

  it("leaves exec plugins, auth providers and impersonation to client-node's KubeConfig", async () => {
    for (const user of [
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } },
      { 'auth-provider': { name: 'oidc', config: {} } },
      { token: 't', as: 'someone-else' },
    ]) {
      const access = await kubeconfigAccess(variant('exec', clusterOf(kubeconfig), user));
      // By name: the test's own import of client-node may be another module instance than the lazy one.
      expect(access.constructor.name, JSON.stringify(user)).to.equal(KubeConfig.name);
    }
  });

  it('says which kubeconfig names no cluster', async () => {
    const file = join(dir, 'empty');
    writeFileSync(file, stringify({ ...kubeconfig, 'current-context': 'missing' }));
    let failure: unknown;
    await kubeconfigAccess(file).catch((err: unknown) => {
      failure = err;
    });
    expect(String(failure)).to.include(`kubeconfig ${file}: its current context names no cluster`);
  });

  it("finds a pool process's cluster where client-node did: $KUBECONFIG, else ~/.kube/config, else the service account", async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const serviceAccount = mkdtempSync(join(dir, 'pool-sa-'));
    writeFileSync(join(serviceAccount, 'ca.crt'), 'ca');
    writeFileSync(join(serviceAccount, 'token'), 'pod-token');
    const inPod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const server = async (env: NodeJS.ProcessEnv) =>
      (await defaultClusterAccess(env, home, serviceAccount)).getCurrentCluster()?.server;
    let failure: unknown;
    await server({}).catch((err: unknown) => {
      failure = err;
    });
    expect(String(failure)).to.match(/not in a cluster.*set KUBECONFIG/);
    expect(await server(inPod)).to.equal('https://10.96.0.1:443');
    mkdirSync(join(home, '.kube'));
    writeFileSync(
      join(home, '.kube', 'config'),
      readFileSync(variant('home', { server: 'https://home.example:6443' }, userOf(kubeconfig))),
    );
    expect(await server(inPod)).to.equal('https://home.example:6443');
    const access = await defaultClusterAccess({ ...inPod, KUBECONFIG: env.kubeconfigPath }, home);
    expect(access.getCurrentCluster()?.server).to.equal(clusterOf(kubeconfig)['server']);
    expect(access.constructor.name).to.not.equal(KubeConfig.name);
    expect(await namespaces(access)).to.be.greaterThan(0);
  });

  it('starts a pool process with HOME unset under a UID /etc/passwd does not name (OpenShift restricted-v2)', async function () {
    // Such a process has no home to look up (Node's os.homedir() throws); $KUBECONFIG or the
    // service account still name its cluster. Dropping to another user needs root, as CI runs.
    if (process.getuid?.() !== 0) this.skip();
    chmodSync(dir, 0o755);
    const file = variant('no-home', { server: 'https://127.0.0.1:1' }, { token: 'unused' });
    chmodSync(file, 0o644);
    const pool = jsmSso(
      ['portal', '--pool', 'shared', '--pool-namespace', 'pools', '--port', '0', '--management-port', '0'],
      { KUBECONFIG: file, HOME: undefined },
      SOURCE_ENTRY,
      { uid: 1_000_680_000, gid: 0 },
    );
    const ended = exited(pool);
    // Its first request to the API server (refused: nothing listens there) is the sign it got past
    // finding its cluster.
    const watching = new Promise<void>((resolve) =>
      onLogLine(pool, (entry) => {
        if (entry['event'] === 'pool.tenant_watch_failed') resolve();
      }),
    );
    const first = await Promise.race([watching.then(() => 'watching'), ended.then(({ stderr }) => stderr)]);
    pool.kill('SIGTERM');
    const { stderr } = await ended;
    expect(first, stderr).to.equal('watching');
  });
});
