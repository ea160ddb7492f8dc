import { deflateRawSync } from 'node:zlib';
import { expect } from 'chai';
import {
  deflateRedirectPayload,
  inflateRedirectPayload,
  MAX_ELEMENT_DEPTH,
  MAX_MESSAGE_ELEMENTS_PER_BYTE,
  parseSamlXml,
  SamlError,
} from '../../common/saml/index.js';

function refusal(fn: () => unknown): SamlError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(SamlError);
    expect((err as SamlError).status).to.equal(400);
    return err as SamlError;
  }
  throw new Error('expected a refusal');
}

describe('parseSamlXml', () => {
  it('parses a plain SAML message', () => {
    const doc = parseSamlXml(
      '<?xml version="1.0"?><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>',
    );
    expect(doc.documentElement?.localName).to.equal('Response');
  });

  it('refuses an external entity (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>';
    expect(refusal(() => parseSamlXml(xxe)).code).to.equal('SAML_DOCTYPE_FORBIDDEN');
  });

  it('refuses entity expansion (billion laughs)', () => {
    const lol =
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>';
    expect(refusal(() => parseSamlXml(lol)).code).to.equal('SAML_DOCTYPE_FORBIDDEN');
  });

  it('refuses a DOCTYPE written with unusual spacing and case', () => {
    expect(refusal(() => parseSamlXml('<! doctype r><r/>')).code).to.equal('SAML_DOCTYPE_FORBIDDEN');
  });

  it('refuses a message larger than the limit', () => {
    const big = `<r>${'a'.repeat(300 * 1024)}</r>`;
    expect(refusal(() => parseSamlXml(big)).code).to.equal('SAML_MESSAGE_TOO_LARGE');
    expect(refusal(() => parseSamlXml('<r>0123456789</r>', { maxBytes: 10 })).code).to.equal(
      'SAML_MESSAGE_TOO_LARGE',
    );
  });

  it('refuses malformed XML', () => {
    expect(refusal(() => parseSamlXml('<r><a></r>')).code).to.equal('SAML_XML_INVALID');
    expect(refusal(() => parseSamlXml('not xml')).code).to.equal('SAML_XML_INVALID');
    expect(refusal(() => parseSamlXml('')).code).to.equal('SAML_XML_INVALID');
  });

  it('refuses a document with two root elements', () => {
    expect(refusal(() => parseSamlXml('<a/><b/>')).code).to.equal('SAML_XML_INVALID');
  });

  it('refuses elements nested beyond the depth limit instead of overflowing the stack (a 500)', () => {
    // 256 KiB of <a> is some 36,000 levels; every walk over the tree recursed once per level. So
    // many elements are now refused by their number (ADR 0238); the depth limit stays the tighter one.
    const deepest = `<r>${'<a>'.repeat(36_000)}${'</a>'.repeat(36_000)}</r>`;
    expect(refusal(() => parseSamlXml(deepest)).code).to.equal('SAML_MESSAGE_TOO_LARGE');
    const deep = `<r>${'<a>'.repeat(2_000)}${'</a>'.repeat(2_000)}</r>`;
    const refused = refusal(() => parseSamlXml(deep));
    expect(refused.code).to.equal('SAML_XML_INVALID');
    expect(refused.message).to.contain('deeper than');
  });

  it(`accepts nesting up to ${MAX_ELEMENT_DEPTH} levels`, () => {
    const levels = MAX_ELEMENT_DEPTH - 1;
    const xml = `<r>${'<a>'.repeat(levels)}text${'</a>'.repeat(levels)}</r>`;
    expect(parseSamlXml(xml).documentElement?.localName).to.equal('r');
  });

  it('refuses more elements than one per 64 bytes of the size limit, whether counted in its markup or parsed (ADR 0238)', () => {
    // Each element costs the signature check a walk of xml-crypto's XPath: 64,000 empty elements fit
    // 256 KiB and held the process a second under a signature that never verified.
    const limit = MAX_MESSAGE_ELEMENTS_PER_BYTE * 256 * 1024;
    expect(limit).to.equal(4096);
    // More than two tags per element allowed: refused from its markup, before parsing.
    const tags = refusal(() => parseSamlXml(`<r>${'<x></x>'.repeat(limit)}</r>`));
    expect(tags.code).to.equal('SAML_MESSAGE_TOO_LARGE');
    // Within two tags per element, but one element too many once parsed.
    const parsed = refusal(() => parseSamlXml(`<r>${'<x/>'.repeat(limit)}</r>`));
    expect(parsed.code).to.equal('SAML_MESSAGE_TOO_LARGE');
    expect(parsed.message).to.contain('4096 elements');
    expect(parseSamlXml(`<r>${'<x/>'.repeat(limit - 1)}</r>`).documentElement?.localName).to.equal('r');
    // The limit follows the size limit: a request's 64 KiB hold 1,024.
    expect(
      refusal(() => parseSamlXml(`<r>${'<x/>'.repeat(1024)}</r>`, { maxBytes: 64 * 1024 })).code,
    ).to.equal('SAML_MESSAGE_TOO_LARGE');
    expect(parseSamlXml(`<r>${'<x/>'.repeat(1023)}</r>`, { maxBytes: 64 * 1024 })).to.not.equal(undefined);
  });

  it('refuses an undeclared namespace prefix', () => {
    expect(refusal(() => parseSamlXml('<samlp:Response/>')).code).to.equal('SAML_XML_INVALID');
  });
});

describe('inflateRedirectPayload', () => {
  it('round-trips a deflated message', () => {
    expect(inflateRedirectPayload(deflateRedirectPayload('<r>é</r>'))).to.equal('<r>é</r>');
  });

  it('refuses a deflate bomb beyond the output limit', () => {
    const bomb = deflateRawSync(Buffer.alloc(10 * 1024 * 1024, 0x20)).toString('base64');
    expect(bomb.length).to.be.below(20 * 1024);
    expect(refusal(() => inflateRedirectPayload(bomb)).code).to.equal('SAML_DEFLATE_LIMIT');
    expect(
      refusal(() =>
        inflateRedirectPayload(deflateRedirectPayload('x'.repeat(2000)), { maxInflatedBytes: 1000 }),
      ).code,
    ).to.equal('SAML_DEFLATE_LIMIT');
  });

  it('refuses text that is not base64 or not DEFLATE', () => {
    expect(refusal(() => inflateRedirectPayload('%%%')).code).to.equal('SAML_ENCODING_INVALID');
    expect(refusal(() => inflateRedirectPayload(Buffer.from('plain text').toString('base64'))).code).to.equal(
      'SAML_ENCODING_INVALID',
    );
  });
});

describe('parseSamlXml and processing instructions', () => {
  it('refuses a processing instruction anywhere (canonicalization renders it as text)', () => {
    expect(() => parseSamlXml('<r>a<?p b?>c</r>')).to.throw(SamlError, /processing instruction/);
  });

  it('keeps accepting the XML declaration', () => {
    expect(parseSamlXml('<?xml version="1.0" encoding="UTF-8"?><r/>').documentElement?.localName).to.equal(
      'r',
    );
  });
});
