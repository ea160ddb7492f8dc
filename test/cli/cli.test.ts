import { expect } from 'chai';
import { runCli } from '../../testkit/cli.js';

describe('jsm-sso command line', function () {
  // Each case starts the CLI from source; see runCli's deadline.
  this.timeout(60_000);
  it('lists its commands with --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).to.equal(0);
    for (const command of ['operator', 'broker', 'portal', 'dev']) expect(result.stdout).to.include(command);
  });

  it('exits 2 with a clear message on an unknown command', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('unknown command "frobnicate"');
  });

  for (const part of ['broker', 'portal']) {
    it(`${part}: exits 2 on an unknown flag`, async () => {
      const result = await runCli([part, '--config', 'x.yaml', '--colour', 'blue']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/--colour/);
    });

    it(`${part}: exits 2 on a bad port value`, async () => {
      const result = await runCli([part, '--config', 'test/fixtures/tenant-valid.yaml', '--port', 'eighty']);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('--port must be a port number');
    });

    it(`${part}: exits 2 on a bad proxy hop count`, async () => {
      const result = await runCli([
        part,
        '--config',
        'test/fixtures/tenant-valid.yaml',
        '--trusted-proxy-hops',
        'many',
      ]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include('--trusted-proxy-hops must be a whole number');
    });

    it(`${part}: shows its options with --help`, async () => {
      const result = await runCli([part, '--help']);
      expect(result.code).to.equal(0);
      for (const flag of ['--config', '--secrets-dir', '--port', '--management-port'])
        expect(result.stdout).to.include(flag);
    });

    it(`${part}: refuses an invalid tenant file naming each bad field, and starts nothing`, async () => {
      const result = await runCli([part, '--config', 'test/fixtures/tenant-invalid.yaml', '--port', '0']);
      expect(result.code).to.equal(1);
      for (const field of [
        'spec.portal.colour: unknown field',
        'spec.portal.url:',
        'spec.broker.url: must not end with a slash',
        'spec.broker.assertionLifetimeSeconds: must be >= 30',
        'spec.identityProviders[0].name:',
        'spec.identityProviders[0]: exactly one of oidc, oauth2 or saml',
        'spec.identityProviders[0].attributeMapping.email: invalid CEL',
        'spec.atlassian.credentialsSecretRef: required',
        'spec.redis:',
      ]) {
        expect(result.stderr).to.include(field);
      }
      expect(result.stdout).not.to.include('listening');
    });
  }
});
