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

/** Signs every signature template in `xml` with xmlsec1. */
export function xmlsecSign(xml: string, keyPem: string, certPem: string, node: string): string {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'doc.xml'), xml);
    writeFileSync(join(dir, 'key.pem'), keyPem);
    writeFileSync(join(dir, 'cert.pem'), certPem);
    execFileSync(
      'xmlsec1',
      [
        '--sign',
        '--privkey-pem',
        `${join(dir, 'key.pem')},${join(dir, 'cert.pem')}`,
        '--id-attr:ID',
        node,
        '--output',
        join(dir, 'out.xml'),
        join(dir, 'doc.xml'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return readFileSync(join(dir, 'out.xml'), 'utf8');
  });
}
