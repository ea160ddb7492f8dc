import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { tenantId } from '../../common/config/load.js';
import { certificateNotAfter } from '../../common/pki.js';
import {
  createPki,
  listenPlaceholder,
  oidcIdp,
  type Pki,
  portalSp,
  tenantFor,
} from '../../testkit/broker-harness.js';
import { exited, jsmSso, listening } from '../../testkit/part-process.js';

describe('jsm-sso broker and jsm-sso dev idp (command line)', () => {
  let pki: Pki;
  before(() => {
    pki = createPki();
  });
  after(() => pki.cleanup());

  it('serves a tenant from its YAML and secrets, is ready on the management port, and exits 0 on SIGTERM', async () => {
    // The public URL the tenant names; the process listens on a free port of its own.
    const { server, url } = await listenPlaceholder();
    server.close();
    const tenant = tenantFor(url, [oidcIdp('corporate', 'http://127.0.0.1:9')]);
    const config = join(pki.dir, 'tenant.yaml');
    writeFileSync(config, stringify(tenant));
    const child = jsmSso([
      'broker',
      '--config',
      config,
      '--secrets-dir',
      pki.dir,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--management-port',
      '0',
      '--drain-seconds',
      '0.2',
    ]);
    const done = exited(child);
    try {
      const urls = await listening(child, ['broker', 'management']);
      expect((await fetch(`${urls['management']}/readyz`)).status).to.equal(200);
      // Its own signing certificate's notAfter, and standard process metric names.
      const metrics = await (await fetch(`${urls['management']}/metrics`)).text();
      const notAfter = certificateNotAfter(pki.brokerCert)!.getTime() / 1000;
      expect(metrics).to.include(
        `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant="${tenantId(tenant)}",part="broker",slot="current"} ${notAfter}`,
      );
      expect(metrics).to.match(/^process_cpu_seconds_total /m);
      const metadata = await fetch(`${urls['broker']}/saml/metadata`);
      expect(await metadata.text()).to.contain(`entityID="${url}/saml/metadata"`);
      // A real signed AuthnRequest is accepted by the process (it then needs the IdP: 502 here).
      const authorize = new URL(await portalSp(url, pki).getAuthorizeUrlAsync('rs', undefined, {}));
      const sso = await fetch(`${urls['broker']}/saml/sso${authorize.search}`, { redirect: 'manual' });
      expect(await sso.text()).to.contain('OIDC_DISCOVERY_FAILED');
    } finally {
      const stopped = Date.now();
      child.kill('SIGTERM');
      const { code, stderr } = await done;
      expect(code, stderr).to.equal(0);
      expect(Date.now() - stopped).to.be.lessThan(5000);
    }
  });

  it('refuses to run the development IdP on a non-loopback address without the explicit flag', async () => {
    const child = jsmSso(['dev', 'idp', '--host', '0.0.0.0', '--port', '0']);
    const { code, stderr } = await exited(child);
    expect(code).to.not.equal(0);
    expect(stderr).to.contain('--i-know-this-is-not-production');
  });
});
