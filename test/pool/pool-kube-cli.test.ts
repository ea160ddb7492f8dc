import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { freePort } from '../../common/net.js';
import {
  POOL_LABEL,
  TENANT_DOCUMENT_KEY,
  TENANT_NAME_LABEL,
  TENANT_NAMESPACE_LABEL,
} from '../../common/pool/kube-source.js';
import { collectionPath, KINDS, objectPath } from '../../operator/kube/kinds.js';
import { createPki, oidcIdp, type Pki, tenantFor } from '../../testkit/broker-harness.js';
import { type Envtest, envtest, eventually, freshNamespace } from '../../testkit/envtest.js';
import { makeTestCa } from '../../testkit/pki.js';
import { startPoolProcess, tenantAt, withHost } from '../../testkit/pool.js';
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

  /** A projection Secret as the operator writes it (POOL.md): the tenant document and its keys. */
  function projection(name: string, url: string, tls?: { certPem: string; keyPem: string }) {
    const tenant = tenantAt(
      tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:9')]),
      'broker',
      name,
      url,
    );
    tenant.metadata = { name, namespace: 'tenants' };
    if (tls) tenant.spec.broker.tlsSecretRef = { name: 'broker-tls' };
    const file = (secret: string, key: string) => readFileSync(join(pki.dir, secret, key)).toString('base64');
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `jsmsso-tenants-${name}`,
        namespace: pools,
        labels: { [POOL_LABEL]: 'shared', [TENANT_NAMESPACE_LABEL]: 'tenants', [TENANT_NAME_LABEL]: name },
      },
      data: {
        [TENANT_DOCUMENT_KEY]: Buffer.from(stringify(tenant)).toString('base64'),
        'broker-signing_tls.key': file('broker-signing', 'tls.key'),
        'broker-signing_tls.crt': file('broker-signing', 'tls.crt'),
        'portal-saml_tls.crt': file('portal-saml', 'tls.crt'),
        'idp-client_clientSecret': file('idp-client', 'clientSecret'),
        ...(tls ? tlsKeys(tls) : {}),
      },
    };
  }

  /** A tenant's listener certificate as the projection holds it (`<secretName>_<key>`). */
  const tlsKeys = (pair: { certPem: string; keyPem: string }) => ({
    'broker-tls_tls.crt': Buffer.from(pair.certPem).toString('base64'),
    'broker-tls_tls.key': Buffer.from(pair.keyPem).toString('base64'),
  });

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
      await env.client.request('PATCH', objectPath(KINDS.secret, pools, 'jsmsso-tenants-initech'), {
        body: { data: tlsKeys(rotated) },
        contentType: 'application/merge-patch+json',
      });
      await eventually(async () => (await served()) === rotated.serial, 'the rotated certificate served');
    } finally {
      pool.child.kill('SIGTERM');
      const { code, stderr } = await pool.done;
      expect(code, stderr).to.equal(0);
      await env.client.delete(objectPath(KINDS.secret, pools, 'jsmsso-tenants-initech'));
      ca.cleanup();
    }
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

      await env.client.delete(objectPath(KINDS.secret, pools, 'jsmsso-tenants-acme'));
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
});
