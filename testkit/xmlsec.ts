// The xmlsec1 command-line tool as an independent XML Signature implementation: it signs fixtures
// our code must accept and verifies what our code signs. A missing xmlsec1 fails the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function inTempDir<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'jsm-sso-xmlsec-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node` is `<namespace>:<localName>` of the elements whose ID attribute is `ID`. */
export function xmlsecVerify(xml: string, certPem: string, node: string): { ok: boolean; output: string } {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'doc.xml'), xml);
    writeFileSync(join(dir, 'cert.pem'), certPem);
    try {
      const output = execFileSync(
        'xmlsec1',
        [
          '--verify',
          '--enabled-key-data',
          'key-name',
          '--pubkey-cert-pem',
          join(dir, 'cert.pem'),
          '--id-attr:ID',
          node,
          join(dir, 'doc.xml'),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      return { ok: true, output };
    } catch (err) {
      const e = err as { stderr?: string; status?: number };
      if (e.status === undefined || e.status === null) throw err;
      return { ok: false, output: e.stderr ?? '' };
    }
  });
}

/** An empty enveloped-signature template (rsa-sha256, exc-c14n) for xmlsec1 --sign to fill. */
export function signatureTemplate(id: string): string {
  return (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' +
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' +
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' +
    `<ds:Reference URI="#${id}"><ds:Transforms>` +
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>' +
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>' +
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>' +
    '</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>'
  );
}

/**
 * Runs xmlsec1 on `files` written to a temporary folder (`path` names each there) and returns the
 * document it writes to `path('out.xml')`.
 */
function xmlsecOutput(
  files: Record<string, string>,
  args: (path: (file: string) => string) => string[],
): string {
  return inTempDir((dir) => {
    const path = (file: string) => join(dir, file);
    for (const [file, content] of Object.entries(files)) writeFileSync(path(file), content);
    execFileSync('xmlsec1', args(path), { stdio: ['ignore', 'pipe', 'pipe'] });
    return readFileSync(path('out.xml'), 'utf8');
  });
}

/** Signs every signature template in `xml` with xmlsec1. */
export function xmlsecSign(xml: string, keyPem: string, certPem: string, node: string): string {
  return xmlsecOutput({ 'doc.xml': xml, 'key.pem': keyPem, 'cert.pem': certPem }, (path) => [
    '--sign',
    '--privkey-pem',
    `${path('key.pem')},${path('cert.pem')}`,
    '--id-attr:ID',
    node,
    '--output',
    path('out.xml'),
    path('doc.xml'),
  ]);
}

export interface XmlsecEncryption {
  /** The content algorithm's URI, e.g. http://www.w3.org/2009/xmlenc11#aes128-gcm. */
  content: string;
  /** xmlsec1's name of the session key the content algorithm needs, e.g. aes-128. */
  sessionKey: string;
  /** The key transport's URI, e.g. http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p. */
  transport: string;
}

/**
 * A Response whose Assertion xmlsec1 encrypted for `certPem` into an EncryptedAssertion (EncryptedKey
 * inline in the EncryptedData's KeyInfo), as an IdP encrypting for the broker sends it.
 */
export function xmlsecEncryptAssertion(xml: string, certPem: string, encryption: XmlsecEncryption): string {
  // The outermost Assertion: from its start tag to the last end tag (it may wrap another).
  const start = xml.indexOf('<saml:Assertion ');
  const end = xml.lastIndexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
  return xmlsecEncryptElement(xml, { start, end }, 'Assertion', 'EncryptedAssertion', certPem, encryption);
}

/** A document whose (first) NameID xmlsec1 encrypted for `certPem` into an EncryptedID (core 2.2.4). */
export function xmlsecEncryptNameId(xml: string, certPem: string, encryption: XmlsecEncryption): string {
  const start = xml.indexOf('<saml:NameID');
  const end = xml.indexOf('</saml:NameID>', start) + '</saml:NameID>'.length;
  return xmlsecEncryptElement(xml, { start, end }, 'NameID', 'EncryptedID', certPem, encryption);
}

/**
 * A document whose (first) Attribute xmlsec1 encrypted for `certPem` into an EncryptedAttribute
 * (core 2.7.3.2), as Shibboleth IdP's `encryptAttributes` sends it.
 */
export function xmlsecEncryptAttribute(xml: string, certPem: string, encryption: XmlsecEncryption): string {
  const start = xml.indexOf('<saml:Attribute ');
  const end = xml.indexOf('</saml:Attribute>', start) + '</saml:Attribute>'.length;
  return xmlsecEncryptElement(xml, { start, end }, 'Attribute', 'EncryptedAttribute', certPem, encryption);
}

/** `xml` with the element at `at` wrapped in `wrapper` and encrypted there by xmlsec1. */
function xmlsecEncryptElement(
  xml: string,
  at: { start: number; end: number },
  element: string,
  wrapper: string,
  certPem: string,
  encryption: XmlsecEncryption,
): string {
  const assertionNs = 'urn:oasis:names:tc:SAML:2.0:assertion';
  const wrapped =
    `${xml.slice(0, at.start)}<saml:${wrapper} xmlns:saml="${assertionNs}">` +
    `${xml.slice(at.start, at.end)}</saml:${wrapper}>${xml.slice(at.end)}`;
  const template =
    '<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">' +
    `<xenc:EncryptionMethod Algorithm="${encryption.content}"/>` +
    '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>' +
    `<xenc:EncryptionMethod Algorithm="${encryption.transport}"/>` +
    '<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>' +
    '<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>';
  return xmlsecOutput({ 'doc.xml': wrapped, 'template.xml': template, 'cert.pem': certPem }, (path) => [
    '--encrypt',
    '--pubkey-cert-pem',
    path('cert.pem'),
    '--session-key',
    encryption.sessionKey,
    '--xml-data',
    path('doc.xml'),
    '--node-name',
    `${assertionNs}:${element}`,
    '--output',
    path('out.xml'),
    path('template.xml'),
  ]);
}
