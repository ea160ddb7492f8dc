import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { isNotFound } from '../../common/kube/client.js';
import { freePort } from '../../common/net.js';
import { TENANT_DOCUMENT_KEY } from '../../common/pool/kube-source.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';
import { cuttableForward } from '../../testkit/cuttable-forward.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { PACKAGE_LOADED, probed } from '../../testkit/package-probe.js';
import { SOURCE_ENTRY } from '../../testkit/part-process.js';
import { makeTestCa } from '../../testkit/pki.js';
import { startPoolProcess, withHost } from '../../testkit/pool.js';
import {
  brokerProjection,
  listenerKeys,
  projectionName,
  TENANTS_NAMESPACE,
  type TlsPair,
} from '../../testkit/projections.js';
import { probeTls } from '../../testkit/tls-probe.js';

describe('jsm-sso broker --pool (the tenants the operator projected for a JsmSsoPool, from a real API server)', function () {
  this.timeout(120_000);
  let env: Envtest;
  let pools: string;
  let pki: Pki;

  before(async () => {
    env = await envtest();
    pools = await freshNamespace(env.client, 'kpool');
    pki = createPki();
  });
  after(() => pki?.cleanup());

  const projection = (name: string, url: string, tls?: TlsPair) =>
    brokerProjection({ namespace: pools, pool: 'shared', name, url, pki, ...(tls ? { tls } : {}) });

  it("serves a tenant's projected certificate by SNI (--tenant-tls) and the rotated one once its projection changes, without restart", async () => {
    const ca = makeTestCa();
    const port = await freePort();
    const first = ca.issue({ hosts: ['sso.initech.test'] });
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      projection('initech', `https://sso.initech.test:${port}`, first),
    );
    const pool = startPoolProcess(
      'broker',
      ['--pool', 'shared', '--pool-namespace', pools, '--tenant-tls'],
      port,
      {
        KUBECONFIG: env.kubeconfigPath,
      },
    );
    const served = async () => {
      const result = await probeTls(port, { servername: 'sso.initech.test', ca: ca.caPem });
      return result.ok ? result.serial : result.code;
    };
    try {
      await pool.urls;
      expect(await served()).to.equal(first.serial);
      const rotated = ca.issue({ hosts: ['sso.initech.test'] });
      await env.client.request('PATCH', objectPath(KINDS.secret, pools, projectionName('initech')), {
        body: { data: listenerKeys(rotated) },
        contentType: 'application/merge-patch+json',
      });
      await eventually(async () => (await served()) === rotated.serial, 'the rotated certificate served');
    } finally {
      pool.child.kill('SIGTERM');
      const { code, stderr } = await pool.done;
      expect(code, stderr).to.equal(0);
      await env.client.delete(objectPath(KINDS.secret, pools, projectionName('initech')));
      ca.cleanup();
    }
  });

  it("is alive and not ready while its API server does not answer at start, then serves: a kubelet's liveness probe restarts nothing (ADR 0200)", async () => {
    const port = await freePort();
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      projection('initech', `http://127.0.0.1:${port}`),
    );
    const forward = await cuttableForward(Number(new URL(env.kubeConfig.getCurrentCluster()!.server).port));
    const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-kubeconfig-'));
    const kubeconfig = parse(readFileSync(env.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    for (const { cluster } of kubeconfig.clusters) cluster.server = `https://127.0.0.1:${forward.port}`;
    writeFileSync(join(dir, 'config'), stringify(kubeconfig));
    // The API server silent: the pool's first list waits, held by the forwarder.
    forward.cut();
    const { child, logs, done, urls } = startPoolProcess(
      'broker',
      ['--pool', 'shared', '--pool-namespace', pools],
      port,
      { KUBECONFIG: join(dir, 'config') },
    );
    try {
      await eventually(async () => forward.held() > 0, 'the pool waiting on its API server');
      const management = await eventually(
        async () =>
          logs.find((l) => l['event'] === 'server.listening' && l['server'] === 'management')?.['url'] as
            | string
            | undefined,
        'the management port open while the pool waits',
      );
      expect((await withHost(management, undefined, '/healthz')).status, 'liveness').to.equal(200);
      const readiness = await withHost(management, undefined, '/readyz');
      expect(readiness.status).to.equal(503);
      expect(readiness.body).to.include('starting');
      expect(logs.some((l) => l['event'] === 'pool.started')).to.equal(false);

      forward.resume();
      const served = await urls;
      await eventually(
        async () => ((await withHost(management, undefined, '/readyz')).status === 200 ? true : undefined),
        'ready once the tenants are listed',
      );
      expect((await withHost(served['broker']!, `127.0.0.1:${port}`, '/saml/metadata')).status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      await done;
      await forward.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const { code, stderr } = await done;
    expect(code, stderr).to.equal(0);
  });

  it('serves the projected tenants by Host, and takes a deleted projection out without restart', async () => {
    const port = await freePort();
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      projection('acme', `http://127.0.0.1:${port}`),
    );
    const {
      child,
      logs,
      done,
      urls: listeningAt,
    } = startPoolProcess('broker', ['--pool', 'shared', '--pool-namespace', pools], port, {
      KUBECONFIG: env.kubeconfigPath,
    });
    try {
      const urls = await listeningAt;
      const metadata = (host: string) => withHost(urls['broker']!, host, '/saml/metadata');
      const acme = await metadata(`127.0.0.1:${port}`);
      expect(acme.status).to.equal(200);
      expect(acme.body).to.contain(`entityID="http://127.0.0.1:${port}/saml/metadata"`);
      const built = await eventually(
        async () => logs.find((l) => l['event'] === 'pool.tenant_built'),
        'the build logged',
      );
      expect(built).to.include({ tenant: 'tenants/acme', component: 'broker' });

      await env.client.create(
        collectionPath(KINDS.secret, pools),
        projection('globex', `http://localhost:${port}`),
      );
      await eventually(
        async () => ((await metadata(`localhost:${port}`)).status === 200 ? true : undefined),
        'globex served',
      );

      // A projection whose document cannot be read: refused, the log line naming its tenant.
      const broken = projection('umbrella', `http://localhost.localhost:${port}`);
      broken['data'] = {
        ...(broken['data'] as Record<string, string>),
        [TENANT_DOCUMENT_KEY]: Buffer.from('spec: [').toString('base64'),
      };
      await env.client.create(collectionPath(KINDS.secret, pools), broken);
      const refused = await eventually(
        async () => logs.find((l) => l['event'] === 'pool.tenant_invalid'),
        'the broken projection refused',
      );
      expect(refused).to.include({ bundle: 'tenants/umbrella', tenant: 'tenants/umbrella', kept: false });
      await env.client.delete(objectPath(KINDS.secret, pools, projectionName('umbrella')));

      await env.client.delete(objectPath(KINDS.secret, pools, projectionName('acme')));
      await eventually(async () => {
        const answer = await metadata(`127.0.0.1:${port}`);
        return answer.status === 404 && answer.body.includes('POOL_TENANT_UNKNOWN') ? true : undefined;
      }, 'acme gone');
      expect((await metadata(`localhost:${port}`)).status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      const { code, stderr } = await done;
      expect(code, stderr).to.equal(0);
    }
  });

  it('serves, on every replica and after a restart, the tenant whose projection claimed a host first; the later claim waits for the host (ADR 0193)', async () => {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const impostorPki = createPki();
    // Listed in name order, the later claim comes first to a replica that starts after both.
    const [first, later] = ['zz-umbrella', 'aa-hijack'];
    const claim = async (name: string, keys: Pki) => {
      const made = await env.client.create(
        collectionPath(KINDS.secret, pools),
        brokerProjection({
          namespace: pools,
          pool: 'shared',
          name,
          url: `http://${host}`,
          pki: keys,
        }),
      );
      return Date.parse(String(made.metadata.creationTimestamp));
    };
    const start = async () => {
      const pool = startPoolProcess(
        'broker',
        ['--pool', 'shared', '--pool-namespace', pools],
        await freePort(),
        {
          KUBECONFIG: env.kubeconfigPath,
        },
      );
      const metadata = async () =>
        (await withHost((await pool.urls)['broker']!, host, '/saml/metadata')).body;
      return { ...pool, metadata };
    };
    const certificate = (keys: Pki) => keys.brokerCert.replace(/-----[A-Z ]+-----|\s/g, '');
    const serves = async (replica: { metadata: () => Promise<string> }, keys: Pki) =>
      (await replica.metadata()).replace(/\s/g, '').includes(certificate(keys)) ? true : undefined;
    const replicas: Array<Awaited<ReturnType<typeof start>>> = [];
    try {
      const firstAt = await claim(first, pki);
      replicas.push(await start());
      await eventually(() => serves(replicas[0]!, pki), 'the first claim served');
      // creationTimestamp counts whole seconds: the later claim is made in a later one.
      await eventually(async () => Date.now() >= firstAt + 1000, 'a second passed');
      expect(await claim(later, impostorPki)).to.be.above(firstAt);
      await eventually(
        async () =>
          replicas[0]!.logs.find(
            (l) => l['event'] === 'pool.tenant_invalid' && l['bundle'] === `${TENANTS_NAMESPACE}/${later}`,
          ),
        'the later claim refused',
      );
      // A second replica (or the first restarted) lists the later claim first.
      replicas.push(await start());
      for (const [i, replica] of replicas.entries())
        expect(await serves(replica, pki), `replica ${i + 1}`).to.equal(true);
      const refused = replicas[1]!.logs.find((l) => l['event'] === 'pool.tenant_invalid');
      expect(refused).to.include({ reason: 'POOL_TENANT_CONFLICT', tenant: `${TENANTS_NAMESPACE}/${later}` });

      // The first claim gone, the one waiting is served by every replica.
      await env.client.delete(objectPath(KINDS.secret, pools, projectionName(first)));
      for (const replica of replicas)
        await eventually(() => serves(replica, impostorPki), 'the later claim served');
    } finally {
      for (const replica of replicas) replica.child.kill('SIGTERM');
      for (const replica of replicas) {
        const { code, stderr } = await replica.done;
        expect(code, stderr).to.equal(0);
      }
      for (const name of [first, later])
        await env.client
          .delete(objectPath(KINDS.secret, pools, projectionName(name)))
          .catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
      impostorPki.cleanup();
    }
  });

  it('reads its tenants with its own Kubernetes client, never loading @kubernetes/client-node (ADR 0136)', async () => {
    const port = await freePort();
    await env.client.create(
      collectionPath(KINDS.secret, pools),
      projection('initrode', `http://127.0.0.1:${port}`),
    );
    /** Whether a pool process reading `kubeconfig` loaded client-node before serving initrode. */
    const loadsClientNode = async (kubeconfig: string) => {
      const pool = startPoolProcess(
        'broker',
        ['--pool', 'shared', '--pool-namespace', pools],
        port,
        { KUBECONFIG: kubeconfig, JSM_SSO_PROBE_PACKAGE: '@kubernetes/client-node' },
        probed(SOURCE_ENTRY),
      );
      try {
        const urls = await pool.urls;
        expect((await withHost(urls['broker']!, `127.0.0.1:${port}`, '/saml/metadata')).status).to.equal(200);
      } finally {
        pool.child.kill('SIGTERM');
      }
      const { code, stderr } = await pool.done;
      expect(code, stderr).to.equal(0);
      return stderr.includes(`${PACKAGE_LOADED} @kubernetes/client-node`);
    };
    try {
      expect(await loadsClientNode(env.kubeconfigPath), 'client-node loaded').to.equal(false);
      // The probe's own check: several kubeconfig files are merged by client-node, which it then reports.
      const empty = join(mkdtempSync(join(tmpdir(), 'jsm-sso-kubeconfig-')), 'empty');
      writeFileSync(
        empty,
        stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }),
      );
      expect(await loadsClientNode(`${env.kubeconfigPath}${delimiter}${empty}`)).to.equal(true);
    } finally {
      await env.client.delete(objectPath(KINDS.secret, pools, projectionName('initrode')));
    }
  });
});
