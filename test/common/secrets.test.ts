import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SecretDirectory } from '../../common/config/secrets.js';
import { JsmSsoError } from '../../common/errors.js';

describe('secret directory', () => {
  // A file beside the secrets root that a traversing reference would reach.
  const parent = mkdtempSync(join(tmpdir(), 'jsm-sso-secrets-'));
  const root = join(parent, 'secrets');
  mkdirSync(join(root, 'acme-redis'), { recursive: true });
  writeFileSync(join(root, 'acme-redis', 'url'), 'redis://redis:6379');
  writeFileSync(join(parent, 'outside'), 'not a secret of this tenant');
  const secrets = new SecretDirectory(root);

  it('reads a well-formed reference', () => {
    expect(secrets.read('acme-redis', 'url')).to.equal('redis://redis:6379');
  });

  for (const [name, key] of [
    ['..', 'outside'],
    ['acme-redis', '../../outside'],
    ['acme-redis', '..outside'],
    ['../secrets/acme-redis', 'url'],
    ['Acme-Redis', 'url'],
    ['acme-redis', 'url/../../outside'],
  ] as const) {
    it(`refuses the reference ${name}/${key} with SECRET_REF_INVALID, also where the key is optional`, () => {
      for (const read of [() => secrets.read(name, key), () => secrets.readOptional(name, key)]) {
        let refused: unknown;
        try {
          read();
        } catch (err) {
          refused = err;
        }
        expect(refused).to.be.instanceOf(JsmSsoError);
        expect((refused as JsmSsoError).code).to.equal('SECRET_REF_INVALID');
        expect((refused as JsmSsoError).message).to.equal(`invalid secret reference ${name}/${key}`);
      }
    });
  }
});
