import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { resolveBrokerSettings } from '../../broker/settings.js';
import { loadTenantFile } from '../../common/config/load.js';
import { SecretDirectory } from '../../common/config/secrets.js';
import { ConfigError } from '../../common/errors.js';
import { brokerCommand } from '../../testkit/broker-process.js';
import { type KeyPair, makeKeyPair } from '../../testkit/keys.js';
import { exited, jsmSso, listening } from '../../testkit/part-process.js';
import { portalArgs, writePortalFiles } from '../../testkit/portal-process.js';

/**
 * A signing Secret whose `tls.key` is not the key of its `tls.crt` (a certificate renewed beside the
 * old key), or whose `next.key` and `next.crt` are both there and of two keys: the other side verifies
 * with the certificate, so every sign-in would fail. The parts refuse to start on it (ADR 0354).
 */
describe("a signing Secret whose key is not its certificate's", () => {
  const renewed = () => makeKeyPair('signing-renewed-beside-the-old-key');

  /** Starts `jsm-sso <args>`: how it exited, or `served` when it came up (then stopped). */
  async function start(args: string[]): Promise<{ served: true } | { code: number | null; stderr: string }> {
    const child = jsmSso(args);
    const done = exited(child);
    const up = await listening(child, [args[0]!]).then(
      () => true,
      () => false,
    );
    if (up) {
      child.kill('SIGKILL');
      await done;
      return { served: true };
    }
    return done;
  }

  function expectRefusal(outcome: Awaited<ReturnType<typeof start>>, field: string, message: string): void {
    expect(outcome, 'the part started with the mismatched pair').not.to.have.property('served');
    const { code, stderr } = outcome as { code: number | null; stderr: string };
    expect(code).to.equal(1);
    expect(stderr).to.contain('the tenant configuration is invalid');
    expect(stderr).to.contain(`${field}: ${message}`);
    expect(stderr).not.to.contain('BEGIN');
  }

  it('the broker refuses to start with CONFIG_INVALID, naming the Secret and its keys', async () => {
    const command = await brokerCommand({ drainSeconds: 0 });
    try {
      writeFileSync(join(command.pki.dir, 'broker-signing', 'tls.crt'), renewed().certPem);
      expectRefusal(
        await start(command.args),
        'spec.broker.signingSecretRef',
        'broker-signing/tls.key is not the key of broker-signing/tls.crt',
      );
    } finally {
      await command.cleanup();
    }
  });

  it('the portal refuses to start with CONFIG_INVALID, naming the Secret and its keys', async () => {
    const files = writePortalFiles({
      name: 'pairs',
      portalUrl: 'http://127.0.0.1:1',
      siteUrl: 'http://127.0.0.1:2',
    });
    try {
      writeFileSync(join(files.dir, 'pairs-portal-signing', 'tls.crt'), renewed().certPem);
      expectRefusal(
        await start(portalArgs(files, 0, 0)),
        'spec.portal.samlSigningSecretRef',
        'pairs-portal-signing/tls.key is not the key of pairs-portal-signing/tls.crt',
      );
    } finally {
      files.cleanup();
    }
  });

  describe('the next pair, judged only when both halves are there (the runbook reads them apart: ADR 0298)', () => {
    let root: string;
    const active = () => makeKeyPair('signing-pair-active');
    const next = () => makeKeyPair('signing-pair-next');
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'jsm-sso-signing-pair-'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    /** The broker's settings with its signing Secret holding `files`; the refusal's message, if any. */
    function brokerWith(files: Record<string, string>): string | undefined {
      const secrets: Record<string, Record<string, string>> = {
        'acme-broker-signing': files,
        'acme-portal-signing': { 'tls.crt': makeKeyPair('signing-pair-portal').certPem },
      };
      for (const [name, keys] of Object.entries(secrets)) {
        rmSync(join(root, name), { recursive: true, force: true });
        mkdirSync(join(root, name));
        for (const [key, value] of Object.entries(keys)) writeFileSync(join(root, name, key), value);
      }
      try {
        resolveBrokerSettings(loadTenantFile('test/fixtures/tenant-valid.yaml'), new SecretDirectory(root));
        return undefined;
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        const [problem] = (err as ConfigError).problems;
        expect(problem!.path).to.equal('spec.broker.signingSecretRef');
        return problem!.message;
      }
    }
    const pair = (p: KeyPair, prefix: string) => ({
      [`${prefix}.key`]: p.keyPem,
      [`${prefix}.crt`]: p.certPem,
    });

    it("starts at each of the runbook's steps: tls alone, the new pair published as next, swapped, and either half of next alone", () => {
      expect(brokerWith(pair(active(), 'tls'))).to.equal(undefined);
      expect(brokerWith({ ...pair(active(), 'tls'), ...pair(next(), 'next') })).to.equal(undefined);
      expect(brokerWith({ ...pair(next(), 'tls'), ...pair(active(), 'next') })).to.equal(undefined);
      expect(brokerWith({ ...pair(active(), 'tls'), 'next.crt': next().certPem })).to.equal(undefined);
      expect(brokerWith({ ...pair(active(), 'tls'), 'next.key': next().keyPem })).to.equal(undefined);
    });

    it('refuses next.key and next.crt of two keys, and a tls.key that is no PEM key, in the words the operator says', () => {
      expect(
        brokerWith({ ...pair(active(), 'tls'), 'next.key': next().keyPem, 'next.crt': renewed().certPem }),
      ).to.equal('acme-broker-signing/next.key is not the key of acme-broker-signing/next.crt');
      expect(brokerWith({ ...pair(active(), 'tls'), 'tls.key': 'not a key' })).to.equal(
        'acme-broker-signing/tls.key is not a PEM private key',
      );
      // A certificate renewed beside the old key, during a rotation too.
      expect(
        brokerWith({ ...pair(active(), 'tls'), 'tls.crt': renewed().certPem, ...pair(next(), 'next') }),
      ).to.equal('acme-broker-signing/tls.key is not the key of acme-broker-signing/tls.crt');
    });
  });
});
