import { expect } from 'chai';
import { authorityFor, emailDomain, homeRealmFor, normalizeEmail } from '../../broker/authority.js';

describe('broker: e-mail authority rules', () => {
  const acme = { name: 'acme', emailDomains: ['acme.test', '*.corp.acme.test'] };
  const partner = { name: 'partner', emailDomains: ['partner.test'] };
  const social = { name: 'social', authority: 'catchAll' as const };

  it('normalises case, a trailing dot and IDNs (UTS #46, punycode) before comparing', () => {
    expect(normalizeEmail('Alice@ACME.Test.')).to.equal('alice@acme.test');
    expect(normalizeEmail('x@BÜCHER.example')).to.equal('x@xn--bcher-kva.example');
    expect(normalizeEmail('x@xn--bcher-kva.example')).to.equal('x@xn--bcher-kva.example');
    expect(emailDomain('x@münchen.test')).to.equal('xn--mnchen-3ya.test');
    // Case is the one fold UTS #46 may make (ADR 0224); a numeric label that is not the last is a label.
    expect(emailDomain('x@straße.test')).to.equal('xn--strae-oqa.test');
    expect(emailDomain('x@İstanbul.test')).to.equal('xn--istanbul-o0e.test');
    expect(emailDomain('x@XN--BCHER-KVA.example')).to.equal('xn--bcher-kva.example');
    expect(emailDomain('x@163.example')).to.equal('163.example');
  });

  it('takes an address as written: whitespace around it is no padding (ADR 0186)', () => {
    for (const padded of [' alice@acme.test', 'alice@acme.test ', '\talice@acme.test', 'alice@acme.test\r\n'])
      expect(normalizeEmail(padded), JSON.stringify(padded)).to.equal(undefined);
  });

  it('finds no domain in what is not an address', () => {
    for (const bad of [
      'no-at-sign',
      '@acme.test',
      'x@',
      'x@.',
      'x@acme..test.',
      'x@exa mple.test',
      'x@@acme.test',
      '"x@y"@acme.test',
      // What the URL host parser behind domainToASCII would cut, decode or map (ADR 0172).
      'x@acme.test/y',
      'x@acme.test\\y',
      'x@ac%6De.test',
      'x@\uFF41cme.test',
      'x@acme\u3002test',
      'x@127.1',
      // What UTS #46 itself deletes or maps beyond case (ADR 0224).
      'x@ac\u034Fme.test',
      'x@acme\uFE0F.test',
      'x@ac\u{E0100}me.test',
      'x@\u1820\u180B\u1821.test',
      'x@stra\u1E9Ee.test',
      // Quoted strings and comments, which RFC 5322 reads as the bare local part.
      '"x"@acme.test',
      'x(y)@acme.test',
    ]) {
      expect(normalizeEmail(bad), bad).to.equal(undefined);
    }
  });

  it('refuses every default-ignorable code point in the local part, drawn as nothing whatever its category (ADR 0366)', () => {
    const ignorable = /^\p{Default_Ignorable_Code_Point}$/u;
    let tried = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (!ignorable.test(ch)) continue;
      tried++;
      expect(normalizeEmail(`al${ch}ice@acme.test`), `U+${cp.toString(16).toUpperCase()}`).to.equal(
        undefined,
      );
    }
    // Unicode 15 and 16 list some four thousand, most unassigned (U+E0000-E0FFF).
    expect(tried).to.be.greaterThan(400);
  });

  it('matches an entry exactly, and *.domain only for subdomains', () => {
    expect(authorityFor([acme, partner], 'acme.test')?.name).to.equal('acme');
    expect(authorityFor([acme, partner], 'eu.acme.test')).to.equal(undefined);
    expect(authorityFor([acme, partner], 'hr.corp.acme.test')?.name).to.equal('acme');
    expect(authorityFor([acme, partner], 'corp.acme.test')).to.equal(undefined);
    // A look-alike suffix is not a subdomain.
    expect(authorityFor([acme, partner], 'evilcorp.acme.test')).to.equal(undefined);
  });

  it('gives the catchAll only the domains no other IdP lists', () => {
    expect(authorityFor([acme, partner, social], 'gmail.test')?.name).to.equal('social');
    expect(authorityFor([acme, partner, social], 'partner.test')?.name).to.equal('partner');
    // Below a listed domain the catchAll has no say (ADR 0173); a look-alike suffix is not below it.
    expect(authorityFor([acme, partner, social], 'eu.acme.test')).to.equal(undefined);
    expect(authorityFor([acme, partner, social], 'a.b.partner.test')).to.equal(undefined);
    expect(authorityFor([acme, partner, social], 'evilpartner.test')?.name).to.equal('social');
    expect(authorityFor([acme, partner, social], 'corp.acme.test')).to.equal(undefined);
  });

  it("makes a tenant's only IdP without domains authoritative for all, and one with domains for those only", () => {
    expect(authorityFor([{ name: 'only' }], 'anything.test')?.name).to.equal('only');
    expect(authorityFor([{ name: 'only', emailDomains: ['acme.test'] }], 'other.test')).to.equal(undefined);
  });

  it('routes the chooser by the same rule (home-realm discovery)', () => {
    expect(homeRealmFor([acme, partner, social], 'Carol@Partner.test')?.name).to.equal('partner');
    expect(homeRealmFor([acme, partner], 'zoe@gmail.test')).to.equal(undefined);
  });
});
