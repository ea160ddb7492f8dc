// The broker recognises a person again without naming them (the audit line's subjectHash, the
// store's key for an upstream SAML session) by a hash keyed from the tenant's signing key (ADR 0143).
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { subjectHasher, subjectHashes } from '../../broker/subject.js';

describe('broker: keyed subject hashes', () => {
  const hash = subjectHasher('signing key material', 'upstream-session-key');

  it('gives the same person at the same IdP the same hash, and another IdP another', () => {
    expect(hash('corp', 'carol@example.test')).to.equal(hash('corp', 'carol@example.test'));
    expect(hash('corp', 'carol@example.test')).to.not.equal(hash('partner', 'carol@example.test'));
  });

  it('is not the plain hash a staff list confirms, and differs by key and by purpose', () => {
    const subject = 'carol@example.test';
    const plain = createHash('sha256').update(`corp\0${subject}`);
    expect(hash('corp', subject)).to.not.equal(plain.copy().digest('hex'));
    expect(hash('corp', subject)).to.not.include(plain.digest('base64url').slice(0, 16));
    expect(subjectHasher('another key', 'upstream-session-key')('corp', subject)).to.not.equal(
      hash('corp', subject),
    );
    expect(subjectHasher('signing key material', 'audit-subject-hash')('corp', subject)).to.not.equal(
      hash('corp', subject),
    );
  });

  it('writes under the sealing material and finds under each one held, the sealing one first (ADR 0304)', () => {
    const material = ['new key', 'old key'] as const;
    expect(subjectHasher(material, 'upstream-session-key')('corp', 'carol')).to.equal(
      subjectHasher('new key', 'upstream-session-key')('corp', 'carol'),
    );
    expect(subjectHashes(material, 'upstream-session-key')('corp', 'carol')).to.deep.equal([
      subjectHasher('new key', 'upstream-session-key')('corp', 'carol'),
      subjectHasher('old key', 'upstream-session-key')('corp', 'carol'),
    ]);
  });
});
