import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { JsmSsoTenant } from '../../common/config/load.js';
import { freePort } from '../../common/net.js';
import { createPki, type Pki } from '../../testkit/broker-harness.js';
import { checkMetricsAt } from '../../testkit/metrics-scan.js';
import { exited, jsmSso } from '../../testkit/part-process.js';
import { startPoolProcess, withHost, within } from '../../testkit/pool.js';
import { writeBrokerBundle } from '../../testkit/pool-bundle.js';

describe('jsm-sso broker --pool-dir (a pool process from a folder of tenant bundles)', function () {
  // Each test starts processes from source: its seven usage starts at once took 29.8 s in CI at
  // load 16, half the minute this used to allow (pool-kube-cli, which starts the same, allows two).
  this.timeout(120_000);
  let dir: string;
  const pkis: Pki[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-pool-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const pki of pkis) pki.cleanup();
  });

  /** Writes DIR/<bundle>/tenant.yaml and DIR/<bundle>/secrets/... for a broker tenant at `url`. */
  function writeBundle(bundle: string, name: string, url: string): JsmSsoTenant {
    const written = writeBrokerBundle(dir, bundle, { name, url });
    pkis.push(written.pki);
    return written.tenant;
  }

  it("refuses --config together with --pool-dir, a pool flag without a pool, a bad part limit and the portal's spool flag (usage, exit 2)", async () => {
    // Eleven process starts, at once: one after another they took past the test's minute on a
    // loaded machine.
    const cases = [
      ['--config', 'x.yaml', '--pool-dir', dir],
      ['--config', 'x.yaml', '--redis-url-file', 'url'],
      ['--config', 'x.yaml', '--max-built-tenants', '10'],
      ['--pool-dir', dir, '--secrets-dir', dir],
      ['--pool-dir', dir, '--max-built-tenants', '0'],
      ['--pool-dir', dir, '--tenant-idle-seconds', '1.5'],
      // The pool's upload spool is the portal's (ADR 0165).
      ['--pool-dir', dir, '--upload-spool-mib', '1024'],
      ['--config', 'x.yaml', '--upload-spool-mib', '1024'],
      // A tenant's share of sign-in starts is the portal's too (ADR 0215).
      ['--pool-dir', dir, '--sign-in-starts-per-tenant', '100'],
      ['--pool-dir', dir, '--sessions-per-tenant', '100'],
      [],
    ].map((args) => ['broker', ...args]);
    // The portal's, below the CRD's least (ADR 0215).
    cases.push(['portal', '--pool-dir', dir, '--sign-in-starts-per-tenant', '99']);
    cases.push(['portal', '--pool-dir', dir, '--sessions-per-tenant', '99']);
    const results = await Promise.all(cases.map((args) => exited(jsmSso(args))));
    results.forEach(({ code, stderr }, i) => {
      expect(code, cases[i]!.join(' ')).to.equal(2);
      expect(stderr).to.match(
        /exactly one of --config, --pool-dir|does not go with|must be a whole number|is the portal's/,
      );
    });
  });

  it('serves the bundles of the folder by Host; added, changed, broken and removed bundles take effect without restart', async () => {
    const port = await freePort();
    const first = writeBundle('first', 'dir-first', `http://127.0.0.1:${port}`);
    const { child, logs, done, urls: listeningAt } = startPoolProcess('broker', ['--pool-dir', dir], port);
    try {
      const urls = await listeningAt;
      const base = urls['broker']!;
      const metadata = (host: string) => withHost(base, host, '/saml/metadata');
      expect((await metadata(`127.0.0.1:${port}`)).body).to.contain(
        `entityID="${first.spec.broker.url}/saml/metadata"`,
      );
      expect((await metadata(`localhost:${port}`)).body).to.contain('POOL_TENANT_UNKNOWN');

      // Added: served once the folder holds its tenant.yaml.
      const second = writeBundle('second', 'dir-second', `http://localhost:${port}`);
      const added = Date.now();
      const served = await within(20_000, async () => {
        const answer = await metadata(`localhost:${port}`);
        return answer.status === 200 ? answer.body : undefined;
      });
      console.log(`      tenant added -> served in ${Date.now() - added} ms`);
      expect(served).to.contain(`entityID="${second.spec.broker.url}/saml/metadata"`);

      // Broken: refused with the loader's reason; the previous version keeps serving.
      writeFileSync(
        join(dir, 'second', 'tenant.yaml'),
        'apiVersion: jsm-sso.io/v1alpha1\nkind: JsmSsoTenant\nspec: {}\n',
      );
      const refused = await within(20_000, async () =>
        logs.find((l) => l['event'] === 'pool.tenant_invalid' && l['bundle'] === 'second'),
      );
      expect(refused).to.include({ reason: 'CONFIG_INVALID', kept: true, tenant: 'dir-second' });
      expect((await metadata(`localhost:${port}`)).status).to.equal(200);

      // Changed: mended, and with a rotated signing key (secret files), it serves the new key at once.
      const rotated = createPki();
      pkis.push(rotated);
      writeFileSync(join(dir, 'second', 'tenant.yaml'), stringify(second));
      cpSync(join(rotated.dir, 'broker-signing'), join(dir, 'second', 'secrets', 'broker-signing'), {
        recursive: true,
      });
      const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
      await within(20_000, async () => {
        const answer = await metadata(`localhost:${port}`);
        return answer.body.replace(/\s/g, '').includes(der(rotated.brokerCert)) ? true : undefined;
      });

      // Metrics: one registry for the pool, each tenant's signing certificate under its name; nothing
      // of a person or a secret in any series.
      const metrics = await checkMetricsAt(urls['management']!, 'broker pool process');
      for (const name of ['dir-first', 'dir-second'])
        expect(metrics).to.contain(
          `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant="${name}",part="broker"`,
        );

      // Removed: 404 as soon as the source has seen it.
      rmSync(join(dir, 'first'), { recursive: true, force: true });
      await within(20_000, async () => {
        const answer = await metadata(`127.0.0.1:${port}`);
        return answer.status === 404 && answer.body.includes('POOL_TENANT_UNKNOWN') ? true : undefined;
      });
      // The log line travels through the child's stdout pipe, which may lag the 404 on a busy machine.
      await within(20_000, async () =>
        logs.find((l) => l['event'] === 'pool.tenant_removed' && l['tenant'] === 'dir-first'),
      );
      expect((await metadata(`localhost:${port}`)).status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      const { code, stderr } = await done;
      expect(code, stderr).to.equal(0);
    }
  });
});
