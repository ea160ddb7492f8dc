import { expect } from 'chai';
import { tenantId } from '../../common/config/load.js';
import { IN_FLIGHT_GRACE_SECONDS } from '../../common/http/shutdown.js';
import { certificateNotAfter } from '../../common/pki.js';
import { brokerCommand, startBrokerProcess } from '../../testkit/broker-process.js';
import { exited, jsmSso } from '../../testkit/part-process.js';

describe('jsm-sso broker and jsm-sso dev idp (command line)', () => {
  it('serves a tenant from its YAML and secrets, is ready on the management port, and exits 0 on SIGTERM', async function () {
    // The IdP is unreachable on purpose: the process must still start and refuse sign-ins clearly.
    const broker = await startBrokerProcess({ drainSeconds: 0.2, idpIssuer: 'http://127.0.0.1:9' });
    const { pki, tenant, urls } = broker;
    try {
      expect((await fetch(`${urls.management}/readyz`)).status).to.equal(200);
      // Its own signing certificate's notAfter, and standard process metric names.
      const metrics = await (await fetch(`${urls.management}/metrics`)).text();
      const notAfter = certificateNotAfter(pki.brokerCert)!.getTime() / 1000;
      expect(metrics).to.include(
        `jsm_sso_signing_certificate_expiry_timestamp_seconds{tenant="${tenantId(tenant)}",part="broker",slot="current"} ${notAfter}`,
      );
      expect(metrics).to.match(/^process_cpu_seconds_total /m);
      const metadata = await fetch(`${urls.broker}/saml/metadata`);
      expect(await metadata.text()).to.contain(`entityID="${tenant.spec.broker.url}/saml/metadata"`);
      // A real signed AuthnRequest is accepted by the process (it then needs the IdP: 502 here).
      const sso = await broker.signIn();
      expect(await sso.text()).to.contain('OIDC_DISCOVERY_FAILED');
    } finally {
      broker.child.kill('SIGTERM');
      const { code, stderr } = await broker.done;
      // 0: the stop ran to its end. A connection it had to wait for would have held it for the
      // in-flight grace (IN_FLIGHT_GRACE_SECONDS, past mocha's timeout); the drain was the 0.2 s asked
      // for, not the default 5 s. What bounded the stop, not how many ms a loaded machine took.
      expect(code, stderr).to.equal(0);
      expect(IN_FLIGHT_GRACE_SECONDS * 1000).to.be.above(this.timeout());
      const draining = broker.logs.filter((l) => l['event'] === 'process.draining');
      expect(draining.map((l) => l['drainSeconds'])).to.deep.equal([0.2]);
      await broker.stop();
    }
  });

  it('stops on a Redis URL whose password is not percent-encoded without printing any of it', async () => {
    const command = await brokerCommand({
      redisUrl: 'redis://default:Pa55wordHead?Pa55wordTail@127.0.0.1:6379',
      drainSeconds: 0,
    });
    try {
      const child = jsmSso(command.args);
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const { code, stderr } = await exited(child);
      expect(code).to.equal(1);
      expect(stderr).to.include('REDIS_URL_INVALID');
      expect(stderr + stdout).not.to.include('Pa55word');
    } finally {
      await command.cleanup();
    }
  });

  it('refuses to run the development IdP on a non-loopback address without the explicit flag', async () => {
    const child = jsmSso(['dev', 'idp', '--host', '0.0.0.0', '--port', '0']);
    const { code, stderr } = await exited(child);
    expect(code).to.not.equal(0);
    expect(stderr).to.contain('--i-know-this-is-not-production');
  });
});
