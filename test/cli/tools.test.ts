import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { loadTenantFile } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { packageRoot } from '../../common/paths.js';
import { runCli } from '../../testkit/cli.js';

const VALID = 'test/fixtures/tenant-valid.yaml';
const INVALID = 'test/fixtures/tenant-invalid.yaml';

/** jsm-sso from source; generous: a busy machine takes seconds to start each process. */
const cli = (args: string[]) => runCli(args, { timeoutMs: 45_000 });

/** No line of a Node stack trace (`    at fn (file:line:col)`). */
const STACK_LINE = /^\s+at /m;

describe('jsm-sso --version, validate and keys', function () {
  // Each case starts one to three jsm-sso processes from source (tsx), seconds each on a busy machine.
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jsm-sso-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the package version with --version and version, and lists the commands in --help', async () => {
    const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const args of [['--version'], ['version']]) {
      const result = await cli(args);
      expect(result.code, args[0]).to.equal(0);
      expect(result.stdout).to.match(
        new RegExp(`^jsm-sso ${version.replace(/\./g, '\\.')} \\(revision \\S+, Node\\.js \\d+`),
      );
    }
    const help = await cli(['--help']);
    for (const command of ['validate', 'keys', 'version']) expect(help.stdout).to.include(command);
  });

  it('validate: accepts a valid tenant, lists every problem of an invalid one, and names an unreadable file', async () => {
    expect(await cli(['validate', VALID])).to.include({ code: 0 });
    const result = await cli(['validate', VALID, INVALID, join(dir, 'absent.yaml')]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include(`${VALID}: valid JsmSsoTenant acme`);
    expect(result.stderr).to.include(`${INVALID}: invalid`);
    expect(result.stderr).to.include('spec.identityProviders[0].attributeMapping.email: invalid CEL');
    expect(result.stderr).to.include('spec.broker.url: must not end with a slash');
    expect(result.stderr).to.include(`${join(dir, 'absent.yaml')}: cannot read the tenant file`);
    expect(result.stderr).to.not.match(STACK_LINE);
  });

  it('validate: exits 2 without a FILE', async () => {
    const result = await cli(['validate']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('name at least one FILE');
  });

  it('keys: writes both signing pairs where the parts look, private keys readable by the owner only', async () => {
    const result = await cli(['keys', '--config', VALID, '--secrets-dir', dir]);
    expect(result.code, result.stderr).to.equal(0);
    for (const secret of ['acme-broker-signing', 'acme-portal-signing']) {
      const keyFile = join(dir, secret, 'tls.key');
      expect(statSync(keyFile).mode & 0o777).to.equal(0o600);
      const cert = new X509Certificate(readFileSync(join(dir, secret, 'tls.crt')));
      expect(cert.subject).to.equal(`CN=acme ${secret.split('-')[1]} SAML signing`);
      expect(cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))).to.equal(true);
    }
    // The broker starts its signing on them (the portal's certificate is the broker's peer).
    const settings = resolveBrokerSettings(loadTenantFile(VALID), new SecretDirectory(dir));
    expect(settings.signingCertPem).to.equal(readFileSync(join(dir, 'acme-broker-signing/tls.crt'), 'utf8'));
  });

  it('keys: writes P-256 pairs for a tenant whose spec.signatureAlgorithm is ecdsa-sha256, and the parts start on them', async () => {
    const config = join(dir, 'ecdsa-tenant.yaml');
    const tenant = parse(readFileSync(VALID, 'utf8'));
    tenant.spec.signatureAlgorithm = 'ecdsa-sha256';
    writeFileSync(config, stringify(tenant));
    const result = await cli(['keys', '--config', config, '--secrets-dir', dir]);
    expect(result.code, result.stderr).to.equal(0);
    for (const secret of ['acme-broker-signing', 'acme-portal-signing']) {
      const key = createPrivateKey(readFileSync(join(dir, secret, 'tls.key')));
      expect(key.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
      expect(new X509Certificate(readFileSync(join(dir, secret, 'tls.crt'))).checkPrivateKey(key)).to.equal(
        true,
      );
    }
    const settings = resolveBrokerSettings(loadTenantFile(config), new SecretDirectory(dir));
    expect(settings.signing.algorithm).to.equal('http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256');
  });

  it('keys: keeps a pair that exists, and adds only the broker’s next pair with --next', async () => {
    mkdirSync(join(dir, 'acme-broker-signing'));
    writeFileSync(join(dir, 'acme-broker-signing/tls.crt'), 'theirs');
    const result = await cli(['keys', '--config', VALID, '--secrets-dir', dir]);
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('kept');
    expect(readFileSync(join(dir, 'acme-broker-signing/tls.crt'), 'utf8')).to.equal('theirs');
    expect(readFileSync(join(dir, 'acme-portal-signing/tls.crt'), 'utf8')).to.include('BEGIN CERTIFICATE');
    const next = await cli(['keys', '--config', VALID, '--secrets-dir', dir, '--next', '--days', '400']);
    expect(next.code, next.stderr).to.equal(0);
    const cert = new X509Certificate(readFileSync(join(dir, 'acme-broker-signing/next.crt')));
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).to.be.within(399, 400);
    expect(() => statSync(join(dir, 'acme-portal-signing/next.crt'))).to.throw();
  });

  it('keys: exits 2 on a bad lifetime or without --secrets-dir', async () => {
    expect((await cli(['keys', '--config', VALID, '--secrets-dir', dir, '--days', '0'])).code).to.equal(2);
    const missing = await cli(['keys', '--config', VALID]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('--secrets-dir is required');
  });

  for (const part of ['portal', 'broker']) {
    it(`${part}: a missing signing key stops it with one line naming the file, never a stack trace`, async () => {
      const result = await cli([
        part,
        '--config',
        VALID,
        '--secrets-dir',
        dir,
        '--port',
        '0',
        '--management-port',
        '0',
      ]);
      expect(result.code).to.equal(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(
        new RegExp(`^jsm-sso: cannot read ${dir}/acme-(portal|broker)-signing/tls\\.(key|crt) `),
      );
      expect(lines[0]).to.include('[SECRET_MISSING]');
    });
  }

  it('a missing tenant file is one line naming it', async () => {
    const config = await cli(['broker', '--config', join(dir, 'tenant.yaml')]);
    expect(config.code).to.equal(1);
    expect(config.stderr.trim()).to.equal(
      `jsm-sso: cannot read the tenant file ${join(dir, 'tenant.yaml')} (ENOENT) [CONFIG_FILE_UNREADABLE]`,
    );
  });

  it('a missing TLS file is one line naming it', async () => {
    const tls = await cli([
      'portal',
      '--config',
      VALID,
      '--secrets-dir',
      dir,
      '--tls-cert',
      join(dir, 'absent.crt'),
      '--tls-key',
      join(dir, 'absent.key'),
    ]);
    expect(tls.code).to.equal(1);
    expect(tls.stderr.trim().split('\n'), tls.stderr).to.have.length(1);
    expect(tls.stderr).to.include(join(dir, 'absent.'));
    expect(tls.stderr).to.include('[TLS_FILE_UNREADABLE]');
  });
});
